#include "spec/codec/spec_codec.h"

#include <algorithm>

#include "spec/codec/json_tape.h"
#include "spec/codec/yaml_tape.h"

namespace cdi::codec {

std::optional<SpecFormat> spec_format_for(std::string_view file_name) {
  if (file_name.size() > 5 && file_name.ends_with(".json")) return SpecFormat::json;
  if (file_name.size() > 5 && file_name.ends_with(".yaml")) return SpecFormat::yaml;
  return std::nullopt;
}

namespace {

std::pair<int, int> position(const Error& e) { return {e.line, e.column}; }

// The reference reads every spec, .json or not, with its YAML reader, so a
// .json file is JSON read fast or, failing that, YAML: a UTF-8 BOM, a trailing
// comma, or YAML itself in a .json file load as they do there. When both
// fail, the error of the reader that got further is the better one; on a tie
// (both at the end of the input, however each counts it), the JSON reader's.
Result<Tape> json_or_yaml_tape(std::string_view bytes) {
  auto json = json_to_tape(bytes);
  if (json.ok()) return json;
  auto yaml = yaml_to_tape(bytes);
  if (yaml.ok()) return yaml;
  LineColumn end = line_column_at(bytes, bytes.size());
  auto yaml_at = std::min(position(yaml.error()), std::pair(end.line, end.column));
  return position(json.error()) < yaml_at ? std::move(yaml).error() : std::move(json).error();
}

}  // namespace

Result<Tape> spec_tape(std::string_view bytes, SpecFormat format) {
  if (bytes.size() > kMaxSpecFileBytes) return Error("spec file is larger than 16 MiB");
  // A blank file holds no spec in either format (the reference reads JSON as YAML).
  if (format == SpecFormat::json && bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) return Tape();
  return format == SpecFormat::json ? json_or_yaml_tape(bytes) : yaml_to_tape(bytes);
}

Result<Spec> parse_spec(std::string_view bytes, SpecFormat format, const DecodeOptions& options) {
  Result<Tape> tape = spec_tape(bytes, format);
  if (!tape.ok()) return std::move(tape).error();
  return decode_spec(*tape, options);
}

PeekedKind kind_from_tape(const Tape& tape) {
  const auto& ev = tape.events;
  if (ev.empty() || ev[0].type != EventType::map_start) return {};
  size_t end = ev[0].size + 1;  // the root's map_end
  for (size_t i = 1; i + 1 < end;) {
    const Event& key = ev[i];
    if (key.opens()) return {};  // a collection as a key: let the decoder judge
    const Event& value = ev[i + 1];
    if (tape.text(key) == "kind") {
      if (value.type != EventType::scalar || tape.text(value).empty()) return {};
      return {KindPeek::found, std::string(tape.text(value))};
    }
    i += 1 + (value.opens() ? value.size + 2 : 1);
  }
  return {KindPeek::absent, {}};
}

PeekedKind peek_spec_kind(std::string_view bytes, SpecFormat format) {
  if (format == SpecFormat::yaml) return peek_yaml_kind(bytes);
  PeekedKind json = peek_json_kind(bytes);
  if (json.result != KindPeek::unsure) return json;
  // A .json file may hold YAML; one that starts as JSON is judged as JSON.
  std::string_view rest = bytes.substr(std::min(bytes.find_first_not_of(" \t\r\n"), bytes.size()));
  if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);
  return rest.starts_with('{') || rest.starts_with('[') ? json : peek_yaml_kind(bytes);
}

}  // namespace cdi::codec
