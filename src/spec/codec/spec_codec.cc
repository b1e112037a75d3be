#include "spec/codec/spec_codec.h"

#include "spec/codec/json_tape.h"
#include "spec/codec/yaml_tape.h"

namespace cdi::codec {

std::optional<SpecFormat> spec_format_for(std::string_view file_name) {
  if (file_name.size() > 5 && file_name.ends_with(".json")) return SpecFormat::json;
  if (file_name.size() > 5 && file_name.ends_with(".yaml")) return SpecFormat::yaml;
  return std::nullopt;
}

Result<Tape> spec_tape(std::string_view bytes, SpecFormat format) {
  if (bytes.size() > kMaxSpecFileBytes) return Error("spec file is larger than 16 MiB");
  // A blank file holds no spec in either format (the reference reads JSON as YAML).
  if (format == SpecFormat::json && bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) return Tape();
  return format == SpecFormat::json ? json_to_tape(bytes) : yaml_to_tape(bytes);
}

Result<Spec> parse_spec(std::string_view bytes, SpecFormat format, const DecodeOptions& options) {
  Result<Tape> tape = spec_tape(bytes, format);
  if (!tape.ok()) return std::move(tape).error();
  return decode_spec(*tape, options);
}

PeekedKind kind_from_tape(const Tape& tape) {
  const auto& ev = tape.events;
  if (ev.empty() || ev[0].type != EventType::map_start) return {};
  size_t depth = 0;
  bool at_key = true;
  bool want = false;
  for (size_t i = 1; i < ev.size(); ++i) {
    const Event& e = ev[i];
    bool opens = e.type == EventType::map_start || e.type == EventType::seq_start;
    bool closes = e.type == EventType::map_end || e.type == EventType::seq_end;
    if (depth == 0) {
      if (closes) return {KindPeek::absent, {}};
      if (at_key) {
        if (opens) return {};  // a collection as a key: let the decoder judge
        want = e.text == "kind";
        at_key = false;
        continue;
      }
      if (want) {
        if (e.type != EventType::scalar || e.text.empty()) return {};
        return {KindPeek::found, std::string(e.text)};
      }
      at_key = !opens;
    }
    if (opens) ++depth;
    if (closes && --depth == 0) at_key = true;
  }
  return {};
}

PeekedKind peek_spec_kind(std::string_view bytes, SpecFormat format) {
  return format == SpecFormat::json ? peek_json_kind(bytes) : peek_yaml_kind(bytes);
}

}  // namespace cdi::codec
