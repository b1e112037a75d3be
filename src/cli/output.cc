#include "cli/output.h"

#include <map>

namespace cdi::cli {

void add_output_option(CLI::App& cmd, OutputFormat& format) {
  static const std::map<std::string, OutputFormat> names{{"text", OutputFormat::text}, {"json", OutputFormat::json}};
  cmd.add_option("--output,-o", format, "Output format: text or json")
      ->transform(CLI::CheckedTransformer(names, CLI::ignore_case));
}

std::string json_text(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

rapidjson::Value json_str(std::string_view s, rapidjson::Document::AllocatorType& a) {
  return rapidjson::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

rapidjson::Value error_json(const Error& e, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kObjectType);
  if (!e.file.empty()) v.AddMember("file", json_str(e.file, a), a);
  if (e.line > 0) v.AddMember("line", e.line, a);
  if (e.column > 0) v.AddMember("column", e.column, a);
  if (!e.field.empty()) v.AddMember("field", json_str(e.field, a), a);
  if (!e.device.empty()) v.AddMember("device", json_str(e.device, a), a);
  v.AddMember("message", json_str(e.message, a), a);
  v.AddMember("text", json_str(e.to_string(), a), a);
  return v;
}

}  // namespace cdi::cli
