#include "codec/tape.h"

#include "text.h"

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

std::string describe(const Event& e) {
  switch (e.type) {
    case EventType::map_start: return "a mapping";
    case EventType::seq_start: return "a sequence";
    case EventType::map_end:
    case EventType::seq_end: return "the end of a collection";
    case EventType::scalar: break;
  }
  switch (e.style) {
    case ScalarStyle::json_null: return "null";
    case ScalarStyle::json_bool: return "the boolean " + std::string(e.text);
    case ScalarStyle::json_number: return "the number " + std::string(e.text);
    case ScalarStyle::json_string:
    case ScalarStyle::yaml_quoted: return "the string " + quote(e.text);
    case ScalarStyle::yaml_plain: return "the scalar " + quote(e.text);
  }
  return "a value";
}

}  // namespace cdi::codec
