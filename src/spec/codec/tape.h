// A parsed document as a flat list of events (a "tape"): the one representation
// both the JSON and the YAML readers produce and the decoders (tape_reader.h)
// consume. An event is 16 bytes; scalar text and tags live in the tape's own
// text store, so a tape costs a small multiple of its input.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cdi::codec {

enum class EventType : uint8_t { map_start, map_end, seq_start, seq_end, scalar };

// How a scalar was written. YAML plain scalars are typed by the decoder under
// the YAML 1.2 core schema; JSON scalars carry their JSON type.
enum class ScalarStyle : uint8_t { yaml_plain, yaml_quoted, json_string, json_number, json_bool, json_null };

inline constexpr int kMaxColumn = (1 << 25) - 1;  // columns beyond this are stored as this
// Producers stop (as at their event limit) before the text store outgrows 32-bit offsets.
inline constexpr size_t kMaxTapeText = size_t{3} << 30;

struct Event {
  // Scalars: where their text starts in the tape's text store. Tagged events:
  // just after their tag there.
  uint32_t at = 0;
  // Scalars: bytes of text. map_start and seq_start: the number of events
  // inside the collection (its end event is `size + 1` events further on).
  uint32_t size = 0;
  int32_t line = 0;                                 // 1-based
  uint32_t column : 25 = 0;                         // 1-based
  EventType type : 3 = EventType::scalar;           //
  ScalarStyle style : 3 = ScalarStyle::yaml_plain;  //
  bool tagged : 1 = false;                          // an explicit YAML tag (Tape::tag)

  bool opens() const { return type == EventType::map_start || type == EventType::seq_start; }
  bool closes() const { return type == EventType::map_end || type == EventType::seq_end; }
};
static_assert(sizeof(Event) == 16);

struct Limits {
  size_t max_depth = 64;  // nesting of mappings and sequences
  // After alias expansion. A spec of the usual shape runs 12 to 15 bytes a
  // node, so a 16 MiB one has about 1.3 million; this bounds the memory a
  // denser (or aliased) document can take: 16 bytes a node on the tape, and
  // at most a string (32 bytes) a node in the decoded spec.
  size_t max_events = 2'000'000;
};

class Tape {
 public:
  // Both reservations are hints: virtual memory that is never touched costs nothing.
  explicit Tape(size_t expected_text_bytes = 0, size_t expected_events = 0);
  Tape(Tape&&) noexcept = default;
  Tape& operator=(Tape&&) noexcept = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // A scalar's text (empty for other events) and an event's explicit tag,
  // fully expanded (empty if none).
  std::string_view text(const Event& e) const {
    return e.type == EventType::scalar ? std::string_view(text_.data() + e.at, e.size) : std::string_view();
  }
  std::string_view tag(const Event& e) const;

  // Producing, in document order. open() and close() pair up; close() sets
  // the start event's size.
  void scalar(ScalarStyle style, int line, int column, std::string_view text, std::string_view tag = {});
  void open(EventType type, int line, int column, std::string_view tag = {});
  void close(EventType type, int line, int column);
  // Appends a copy of events [begin, end), a whole node (alias expansion);
  // the event vector never reserves room for more than `max_events`.
  void copy(size_t begin, size_t end, size_t max_events);
  size_t open_depth() const { return open_.size(); }
  size_t text_bytes() const { return text_.size(); }

  std::vector<Event> events;

 private:
  Event& push(EventType type, int line, int column, std::string_view tag);

  std::string text_;            // scalar text and tags, addressed by offset
  std::vector<uint32_t> open_;  // indexes of the collections not yet closed
};

// "unknown field "x"", with a hint when a known field differs only in case or
// is a near miss (a small edit distance away).
std::string unknown_field_message(std::string_view key, const std::vector<std::string_view>& known);

// Edit distance between two short strings, a swap of neighbours counting as one edit.
size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace cdi::codec
