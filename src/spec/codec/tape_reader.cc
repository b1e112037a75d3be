#include "spec/codec/tape_reader.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace cdi::codec {

namespace {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";

bool is_yaml_null(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

enum class IntParse { ok, not_int, out_of_range };

IntParse parse_digits(std::string_view digits, int base, bool negative, Integer& out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return IntParse::out_of_range;
  out = {negative && v != 0, v};
  return IntParse::ok;
}

// YAML 1.2 core integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. A decimal
// with a leading zero is read as the Go reference reads it (go-yaml, YAML 1.1):
// octal when every digit is octal (0640 is 416), else decimal (09 is 9).
// `octal_by_zero` tells when the leading zero made it octal.
IntParse parse_yaml_int(std::string_view s, Integer& out, bool& octal_by_zero) {
  octal_by_zero = false;
  if (s.starts_with("0o")) {
    std::string_view digits = s.substr(2);
    if (!all_of(digits, is_octal)) return IntParse::not_int;
    return parse_digits(digits, 8, false, out);
  }
  if (s.starts_with("0x")) {
    std::string_view digits = s.substr(2);
    if (!all_of(digits, is_hex)) return IntParse::not_int;
    return parse_digits(digits, 16, false, out);
  }
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
    negative = digits.front() == '-';
    digits.remove_prefix(1);
  }
  if (!all_of(digits, is_digit)) return IntParse::not_int;
  int base = 10;
  if (digits.size() > 1 && digits.front() == '0' && all_of(digits, is_octal)) {
    base = 8;
    octal_by_zero = true;
  }
  return parse_digits(digits, base, negative, out);
}

// JSON integers: -?(0|[1-9][0-9]*), no fraction or exponent.
IntParse parse_json_int(std::string_view s, Integer& out) {
  std::string_view digits = s;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (!all_of(digits, is_digit)) return IntParse::not_int;
  return parse_digits(digits, 10, negative, out);
}

}  // namespace

int64_t Integer::as_int64() const {
  if (!negative) return static_cast<int64_t>(magnitude);
  if (magnitude == (uint64_t{1} << 63)) return std::numeric_limits<int64_t>::min();
  return -static_cast<int64_t>(magnitude);
}

std::string IntegerRange::describe() const {
  return (max_negative ? "-" + std::to_string(max_negative) : std::string("0")) + " to " + std::to_string(max_positive);
}

TapeReader::TapeReader(const Tape& tape, const Dialect& dialect, const ReaderOptions& options)
    : tape_(tape),
      events_(tape.events),
      dialect_(dialect),
      collect_(options.collect),
      positions_(options.positions),
      only_(options.only),
      warnings_(options.warnings) {}

bool TapeReader::is_null(const Event& e) const {
  if (e.type != EventType::scalar) return false;
  if (e.style == ScalarStyle::json_null) return true;
  if (!e.tagged) return e.style == ScalarStyle::yaml_plain && is_yaml_null(text(e));
  return tape_.tag(e) == kNullTag;
}

std::string TapeReader::describe(const Event& e) const {
  switch (e.type) {
    case EventType::map_start:
      return std::string(dialect_.mapping);
    case EventType::seq_start:
      return std::string(dialect_.sequence);
    case EventType::map_end:
    case EventType::seq_end:
      return "the end of a collection";
    case EventType::scalar:
      break;
  }
  switch (e.style) {
    case ScalarStyle::json_null:
      return "null";
    case ScalarStyle::json_bool:
      return "the boolean " + std::string(text(e));
    case ScalarStyle::json_number:
      return "the number " + std::string(text(e));
    case ScalarStyle::json_string:
    case ScalarStyle::yaml_quoted:
      return "the string " + quote(text(e));
    case ScalarStyle::yaml_plain:
      return "the scalar " + quote(text(e));
  }
  return "a value";
}

void TapeReader::skip_value() {
  const Event& e = take();
  if (e.opens()) pos_ += e.size + 1;
}

size_t TapeReader::sequence_length() const {
  const Event& start = peek();
  if (start.type != EventType::seq_start) return 0;
  size_t n = 0;
  size_t end = pos_ + start.size + 1;
  for (size_t i = pos_ + 1; i < end; ++n) i += events_[i].opens() ? events_[i].size + 2 : 1;
  return n;
}

std::string TapeReader::path() const {
  std::string out;
  for (const auto& f : frames_) {
    if (f.is_index) {
      out += "[" + std::to_string(f.index) + "]";
    } else {
      if (!out.empty()) out += '.';
      out += f.key;
    }
  }
  return out;
}

Error TapeReader::fail(const Event& at, std::string message) const {
  Error e(std::move(message));
  e.field = path();
  e.at(at.line, static_cast<int>(at.column));
  return e;
}

Status TapeReader::recover(Error e) {
  if (!collect_) return e;
  collect_->push_back(std::move(e));
  return {};
}

void TapeReader::warn(const Event& at, std::string message) {
  if (warnings_) warnings_->push_back(fail(at, std::move(message)));
}

void TapeReader::record(const Event& at) {
  if (!positions_) return;
  std::string p = path();
  if (only_ && !only_->contains(p)) return;
  (*positions_)[std::move(p)] = {at.line, static_cast<int>(at.column)};
}

std::string TapeReader::unknown_key_message(std::string_view key, const std::vector<std::string_view>& known) const {
  std::string message = unknown_field_message(key, known);
  return dialect_.unknown_key ? dialect_.unknown_key(key, std::move(message)) : message;
}

int TapeReader::first_line_of_key(size_t map_start, std::string_view key) const {
  size_t end = map_start + events_[map_start].size + 1;
  for (size_t i = map_start + 1; i < end;) {
    const Event& k = events_[i];
    if (k.type == EventType::scalar && text(k) == key) return k.line;
    i += k.opens() ? k.size + 2 : 1;                                 // the key
    if (i < end) i += events_[i].opens() ? events_[i].size + 2 : 1;  // its value
  }
  return 0;
}

Status TapeReader::string_map(std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  const Event& start = take();
  if (dialect_.null_is_absent && is_null(start)) return {};
  if (start.type != EventType::map_start) {
    return fail(start, "expected " + std::string(dialect_.mapping) + ", got " + describe(start));
  }
  // Repeated keys: a set once the map is large, so a huge map stays linear.
  // The keys are views of the tape's text, which stays put while decoding.
  constexpr size_t kLinear = 16;
  std::vector<std::string_view> names;
  std::unordered_set<std::string_view> name_set;
  while (peek().type != EventType::map_end) {
    const Event& key = take();
    if (key.type != EventType::scalar) return fail(key, "mapping keys must be strings, got " + describe(key));
    std::string_view name = text(key);
    bool repeated = false;
    if (names.size() < kLinear) {
      for (auto n : names) repeated = repeated || n == name;
      names.push_back(name);
      if (names.size() == kLinear) name_set.insert(names.begin(), names.end());
    } else {
      repeated = !name_set.insert(name).second;
    }
    if (repeated) return fail(key, "duplicate key " + quote(name));
    frames_.push_back({name, 0, false});
    record(peek());
    std::string value;
    CDI_TRY(string(value));
    frames_.pop_back();
    out.emplace_back(std::string(name), std::move(value));
  }
  take();
  return {};
}

Status TapeReader::string(std::string& out) {
  const Event& e = take();
  if (dialect_.null_is_absent && is_null(e)) {
    out.clear();
    return {};
  }
  bool ok =
      e.type == EventType::scalar && (e.style == ScalarStyle::json_string || e.style == ScalarStyle::yaml_quoted ||
                                      (e.style == ScalarStyle::yaml_plain && (!e.tagged || tape_.tag(e) == kStrTag)));
  if (!ok) return fail(e, "expected a string, got " + describe(e));
  out.assign(text(e));
  return {};
}

Status TapeReader::strings(std::vector<std::string>& out) {
  out.clear();
  out.reserve(sequence_length());
  return sequence([&] { return string(out.emplace_back()); });
}

Status TapeReader::integer(const IntegerRange& range, Integer& out, bool& present) {
  const Event& e = take();
  present = false;
  if (dialect_.null_is_absent && is_null(e)) return {};
  if (e.type != EventType::scalar) return fail(e, "expected an integer, got " + describe(e));
  IntParse r = IntParse::not_int;
  bool octal_by_zero = false;
  std::string_view s = text(e);
  if (e.style == ScalarStyle::json_number) {
    r = parse_json_int(s, out);
  } else if ((e.style == ScalarStyle::yaml_plain && !e.tagged) || (e.tagged && tape_.tag(e) == kIntTag)) {
    r = parse_yaml_int(s, out, octal_by_zero);
  }
  switch (r) {
    case IntParse::not_int:
      return fail(e, "expected an integer, got " + describe(e));
    case IntParse::out_of_range:
      return fail(e, "number " + std::string(s) + " is out of range");
    case IntParse::ok:
      break;
  }
  if (!range.contains(out)) {
    return fail(e, "number " + std::string(s) + " is out of range (" + range.describe() + ")");
  }
  if (octal_by_zero && warnings_) warn_octal(e, s, out);
  present = true;
  return {};
}

// 0640 read as octal, where a YAML 1.2 reader sees decimal 640: worth a word
// unless both readings agree (00 to 07).
void TapeReader::warn_octal(const Event& e, std::string_view written, const Integer& value) {
  std::string_view digits = written.substr(written.find('0'));
  Integer decimal;
  if (parse_digits(digits, 10, false, decimal) == IntParse::ok && decimal.magnitude == value.magnitude) return;
  std::string sign = value.negative ? "-" : "";
  size_t first = digits.find_first_not_of('0');
  std::string message = "ambiguous number " + std::string(written) + ": read as octal (" + sign +
                        std::to_string(value.magnitude) + ") as the Go reference reads it (YAML 1.1); YAML 1.2 " +
                        "reads it as decimal " + sign + std::string(digits.substr(first)) + "";
  if (!value.negative) message += "; write 0o" + std::string(digits.substr(1)) + " to say octal";
  warn(e, std::move(message));
}

Status TapeReader::json_integer(uint32_t max, uint32_t& out) {
  const Event& e = take();
  if (e.type != EventType::scalar || e.style != ScalarStyle::json_number) {
    return fail(e, "expected an integer from 0 to " + std::to_string(max) + ", got " + describe(e));
  }
  std::string_view s = text(e);
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  bool parsed = ec == std::errc() && ptr == s.data() + s.size();
  if (!parsed || !std::isfinite(v) || std::floor(v) != v || v < 0 || v > static_cast<double>(max)) {
    return fail(e, "expected an integer from 0 to " + std::to_string(max) + ", got " + std::string(s));
  }
  out = static_cast<uint32_t>(v);
  return {};
}

Status TapeReader::boolean(bool& out) {
  const Event& e = take();
  out = false;
  if (dialect_.null_is_absent && is_null(e)) return {};
  if (e.type == EventType::scalar) {
    bool typed = e.style == ScalarStyle::json_bool || (e.style == ScalarStyle::yaml_plain && !e.tagged) ||
                 (e.tagged && tape_.tag(e) == kBoolTag);
    std::string_view s = text(e);
    if (typed && (s == "true" || s == "True" || s == "TRUE")) {
      out = true;
      return {};
    }
    if (typed && (s == "false" || s == "False" || s == "FALSE")) return {};
  }
  return fail(e, "expected true or false, got " + describe(e));
}

}  // namespace cdi::codec
