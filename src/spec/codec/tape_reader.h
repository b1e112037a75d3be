// The one way to decode a tape into typed values: a cursor over the events,
// the field path of the value under it (built into text only when a problem is
// reported or a position recorded), typed scalars, and objects decoded from
// one field table each, so that the keys a decoder knows and the code that
// decodes them cannot drift apart. Unknown and repeated keys are refused
// (with a "did you mean" hint); in collect mode every problem is noted and
// decoding goes on past the value that had it.
//
// A decoder is a set of free functions `Status f(TapeReader&, T&)`:
//
//   constexpr Field<Mount> kMountFields[] = {
//       {"hostPath", [](TapeReader& r, Mount& m) { return r.string(m.host_path); }},
//       {"options", [](TapeReader& r, Mount& m) { return r.strings(m.options); }}};
//   Status mount(TapeReader& r, Mount& m) { return r.object(kMountFields, m); }
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/text.h"
#include "spec/codec/tape.h"

namespace cdi::codec {

// How a kind of document names its collections in messages and treats null.
struct Dialect {
  std::string_view mapping;   // "a mapping", "an object"
  std::string_view sequence;  // "a sequence", "an array"
  // A null collection or scalar means "absent" (YAML specs); otherwise it is an error.
  bool null_is_absent = false;
  // Unknown and repeated keys are reported at the key's own path (else at the object's).
  bool key_errors_at_key = false;
  // Adds to the message for an unknown key; may be null.
  std::string (*unknown_key)(std::string_view key, std::string message) = nullptr;
};

// JSON configuration files (the guest map): "an object", "an array", null refused.
inline constexpr Dialect kJsonConfig{"an object", "an array", false, false, nullptr};

class TapeReader;

// One key of an object and the function that decodes its value into T.
template <class T>
struct Field {
  std::string_view key;
  Status (*decode)(TapeReader&, T&);
};

// Which keys of an object were present: bit i for the table's field i.
using FieldSet = uint64_t;
inline constexpr bool has_field(FieldSet set, size_t index) { return (set >> index) & 1u; }

// An integer as sign and magnitude (every field fits in 64 bits of magnitude).
struct Integer {
  bool negative = false;
  uint64_t magnitude = 0;
  int64_t as_int64() const;
};

// The range an integer field accepts.
struct IntegerRange {
  uint64_t max_negative;  // largest magnitude allowed below zero
  uint64_t max_positive;
  bool contains(const Integer& v) const { return v.magnitude <= (v.negative ? max_negative : max_positive); }
  std::string describe() const;
};
inline constexpr IntegerRange kInt64Range{uint64_t{1} << 63, (uint64_t{1} << 63) - 1};
inline constexpr IntegerRange kUint32Range{0, 0xFFFFFFFFu};

struct ReaderOptions {
  // Collect every problem here and decode on, skipping the value that had it.
  std::vector<Error>* collect = nullptr;
  // Record the position of each field's value (and each sequence item) by path.
  std::map<std::string, SourcePos>* positions = nullptr;
  // With positions: record only these paths.
  const std::set<std::string>* only = nullptr;
  // Forms that are read as the Go reference reads them but that are ambiguous
  // (a leading-zero integer) are noted here.
  std::vector<Error>* warnings = nullptr;
};

class TapeReader {
 public:
  TapeReader(const Tape& tape, const Dialect& dialect, const ReaderOptions& options = {});

  // ---- the cursor -------------------------------------------------------
  bool at_end() const { return pos_ >= events_.size(); }
  const Event& peek() const { return events_[pos_]; }
  const Event& take() { return events_[pos_++]; }
  std::string_view text(const Event& e) const { return tape_.text(e); }
  // null, ~, an empty plain scalar (and !!null): the absent value.
  bool is_null(const Event& e) const;
  // "a mapping", "the string \"x\"", "the number 5": an event in a message.
  std::string describe(const Event& e) const;
  // Moves past one whole value (a scalar or a collection) at the cursor.
  void skip_value();
  // The number of items of the sequence at the cursor (0 if it is not one).
  size_t sequence_length() const;

  // ---- paths and problems -----------------------------------------------
  std::string path() const;
  // An error at `at`, naming the current field path.
  Error fail(const Event& at, std::string message) const;
  // In collect mode the error is noted and decoding goes on; otherwise it stops.
  Status recover(Error e);
  void warn(const Event& at, std::string message);
  bool collecting() const { return collect_ != nullptr; }

  // ---- collections ------------------------------------------------------
  // Decodes a mapping whose keys are the table's: each value by its field's
  // function. `seen` (optional) tells which keys were present. With the
  // dialect's null_is_absent, null is an absent (empty) mapping.
  template <class T>
  Status object(std::span<const Field<T>> fields, T& target, FieldSet* seen = nullptr) {
    auto call = [&](size_t i) { return fields[i].decode(*this, target); };
    return object_impl(
        fields.size(), [&](size_t i) { return fields[i].key; }, [&](size_t i) -> Status { return guarded(call, i); },
        seen);
  }
  template <class T, size_t N>
  Status object(const Field<T> (&fields)[N], T& target, FieldSet* seen = nullptr) {
    static_assert(N <= 64, "a FieldSet holds 64 fields");
    return object(std::span<const Field<T>>(fields, N), target, seen);
  }

  // Calls on_item() for each item of a sequence, the cursor on the item.
  template <class F>
  Status sequence(F&& on_item) {
    const Event& start = take();
    if (dialect_.null_is_absent && is_null(start)) return {};
    if (start.type != EventType::seq_start)
      return fail(start, "expected " + std::string(dialect_.sequence) + ", got " + describe(start));
    size_t index = 0;
    while (peek().type != EventType::seq_end) {
      frames_.push_back({{}, index++, true});
      record(peek());
      CDI_TRY(guarded([&](int) { return on_item(); }, 0));
      frames_.pop_back();
    }
    take();
    return {};
  }

  // A mapping of strings to strings, in document order; repeated keys refused.
  Status string_map(std::vector<std::pair<std::string, std::string>>& out);

  // ---- scalars ----------------------------------------------------------
  // A string; with null_is_absent, null gives "".
  Status string(std::string& out);
  Status strings(std::vector<std::string>& out);
  // An integer of a YAML spec or a JSON number without fraction or exponent,
  // in `range`: YAML 1.2 core forms, and a leading zero read as the Go
  // reference's YAML 1.1 reader does (octal when every digit is). `present`
  // is false for null.
  Status integer(const IntegerRange& range, Integer& out, bool& present);
  // A JSON number with an integral value in [0, max] (1.0 and 1e2 count, as in JSON Schema).
  Status json_integer(uint32_t max, uint32_t& out);
  // true or false (YAML 1.2 core spellings); null gives false.
  Status boolean(bool& out);

 private:
  struct Frame {
    std::string_view key;
    size_t index = 0;
    bool is_index = false;
  };

  void record(const Event& at);
  void warn_octal(const Event& e, std::string_view written, const Integer& value);
  std::string unknown_key_message(std::string_view key, const std::vector<std::string_view>& known) const;
  int first_line_of_key(size_t map_start, std::string_view key) const;

  // Runs decode(arg); in collect mode a failure is noted and the value skipped.
  template <class F, class A>
  Status guarded(F&& decode, A arg) {
    if (!collect_) return decode(arg);
    size_t before = pos_;
    size_t frames = frames_.size();
    Status st = decode(arg);
    if (st.ok()) return st;
    frames_.resize(frames);
    CDI_TRY(recover(std::move(st).error()));
    pos_ = before;
    skip_value();
    return {};
  }

  template <class KeyOf, class Decode>
  Status object_impl(size_t count, KeyOf&& key_of, Decode&& decode, FieldSet* seen_out) {
    const Event& start = take();
    size_t start_index = pos_ - 1;
    if (seen_out) *seen_out = 0;
    if (dialect_.null_is_absent && is_null(start)) return {};
    if (start.type != EventType::map_start)
      return fail(start, "expected " + std::string(dialect_.mapping) + ", got " + describe(start));
    FieldSet seen = 0;
    while (peek().type != EventType::map_end) {
      const Event& key = take();
      if (key.type != EventType::scalar) {
        CDI_TRY(recover(fail(key, "mapping keys must be strings, got " + describe(key))));
        --pos_;
        skip_value();
        skip_value();
        continue;
      }
      std::string_view name = text(key);
      size_t index = 0;
      while (index < count && key_of(index) != name) ++index;
      if (index == count || has_field(seen, index)) {
        CDI_TRY(recover(key_error(key, start_index, name, index == count, count, key_of)));
        skip_value();
        continue;
      }
      seen |= FieldSet{1} << index;
      frames_.push_back({name, 0, false});
      record(peek());
      CDI_TRY(decode(index));
      frames_.pop_back();
    }
    take();
    if (seen_out) *seen_out = seen;
    return {};
  }

  template <class KeyOf>
  Error key_error(const Event& key, size_t start_index, std::string_view name, bool unknown, size_t count,
                  KeyOf&& key_of) {
    std::string message;
    if (unknown) {
      std::vector<std::string_view> known;
      for (size_t i = 0; i < count; ++i) known.push_back(key_of(i));
      message = unknown_key_message(name, known);
    } else {
      message = "duplicate field " + quote(name) + " (first at line " +
                std::to_string(first_line_of_key(start_index, name)) + ")";
    }
    if (dialect_.key_errors_at_key) frames_.push_back({name, 0, false});
    Error e = fail(key, std::move(message));
    if (dialect_.key_errors_at_key) frames_.pop_back();
    return e;
  }

  const Tape& tape_;
  const std::vector<Event>& events_;
  const Dialect& dialect_;
  std::vector<Error>* collect_;
  std::map<std::string, SourcePos>* positions_;
  const std::set<std::string>* only_;
  std::vector<Error>* warnings_;
  size_t pos_ = 0;
  std::vector<Frame> frames_;
};

}  // namespace cdi::codec
