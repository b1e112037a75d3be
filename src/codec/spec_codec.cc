#include "codec/spec_codec.h"

#include "codec/json_tape.h"
#include "codec/yaml_tape.h"

namespace cdi::codec {

std::optional<SpecFormat> spec_format_for(std::string_view file_name) {
  if (file_name.size() > 5 && file_name.ends_with(".json")) return SpecFormat::json;
  if (file_name.size() > 5 && file_name.ends_with(".yaml")) return SpecFormat::yaml;
  return std::nullopt;
}

Result<Spec> parse_spec(std::string_view bytes, SpecFormat format, const DecodeOptions& options) {
  if (bytes.size() > kMaxSpecFileBytes) return Error("spec file is larger than 16 MiB");
  // A blank file holds no spec in either format (the reference reads JSON as YAML).
  if (format == SpecFormat::json && bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return decode_spec(Tape(), options);
  }
  Result<Tape> tape = format == SpecFormat::json ? json_to_tape(bytes) : yaml_to_tape(bytes);
  if (!tape.ok()) return std::move(tape).error();
  return decode_spec(*tape, options);
}

PeekedKind peek_spec_kind(std::string_view bytes, SpecFormat format) {
  return format == SpecFormat::json ? peek_json_kind(bytes) : peek_yaml_kind(bytes);
}

}  // namespace cdi::codec
