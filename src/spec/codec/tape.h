// A parsed document as a flat list of events (a "tape"): the one representation
// both the JSON and the YAML readers produce and the spec decoder consumes.
// Scalars point into the tape's own storage.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace cdi::codec {

enum class EventType : uint8_t { map_start, map_end, seq_start, seq_end, scalar };

// How a scalar was written. YAML plain scalars are typed by the decoder under
// the YAML 1.2 core schema; JSON scalars carry their JSON type.
enum class ScalarStyle : uint8_t { yaml_plain, yaml_quoted, json_string, json_number, json_bool, json_null };

struct Event {
  EventType type = EventType::scalar;
  ScalarStyle style = ScalarStyle::yaml_plain;
  int line = 0;           // 1-based
  int column = 0;         // 1-based
  std::string_view text;  // scalar text (JSON numbers as written)
  std::string_view tag;   // explicit YAML tag, fully expanded; empty if none
};

struct Limits {
  size_t max_depth = 64;          // nesting of mappings and sequences
  size_t max_events = 4'000'000;  // after alias expansion
};

class Tape {
 public:
  // The arena is always on the heap (never in the string's small buffer), so
  // views into it stay valid when the tape is moved.
  explicit Tape(size_t expected_text_bytes = 0) { arena_.reserve(std::max<size_t>(expected_text_bytes, 64)); }
  Tape(Tape&&) noexcept = default;
  Tape& operator=(Tape&&) noexcept = default;
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;

  // Copies text into storage that stays put for the tape's lifetime.
  std::string_view store(std::string_view text);

  std::vector<Event> events;

 private:
  std::string arena_;                 // reserved once, never reallocated
  std::deque<std::string> overflow_;  // text that did not fit the reservation
};

// "unknown field "x"", with a hint when a known field differs only in case.
std::string unknown_field_message(std::string_view key, std::initializer_list<std::string_view> known);

// Human description of an event for messages: "a mapping", "the string \"x\"".
std::string describe(const Event& e);

}  // namespace cdi::codec
