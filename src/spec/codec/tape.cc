#include "spec/codec/tape.h"

#include "base/text.h"

namespace cdi::codec {

std::string_view Tape::store(std::string_view text) {
  if (text.empty()) return {};
  if (arena_.size() + text.size() <= arena_.capacity()) {
    size_t at = arena_.size();
    arena_.append(text);
    return std::string_view(arena_).substr(at, text.size());
  }
  overflow_.emplace_back(text);
  return overflow_.back();
}

namespace {
bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}
}  // namespace

std::string unknown_field_message(std::string_view key, std::initializer_list<std::string_view> known) {
  std::string msg = "unknown field " + quote(key);
  for (auto k : known) {
    if (ascii_iequal(k, key)) return msg + " (did you mean " + quote(k) + "? field names are case-sensitive)";
  }
  return msg;
}

std::string describe(const Event& e) {
  switch (e.type) {
    case EventType::map_start:
      return "a mapping";
    case EventType::seq_start:
      return "a sequence";
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
      return "the boolean " + std::string(e.text);
    case ScalarStyle::json_number:
      return "the number " + std::string(e.text);
    case ScalarStyle::json_string:
    case ScalarStyle::yaml_quoted:
      return "the string " + quote(e.text);
    case ScalarStyle::yaml_plain:
      return "the scalar " + quote(e.text);
  }
  return "a value";
}

}  // namespace cdi::codec
