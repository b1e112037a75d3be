#include "cli/output.h"

#include "base/json_writer.h"
#include "base/text.h"
#include "cli/common.h"

namespace cdi::cli {

void add_output_option(CLI::App& cmd, OutputFormat& format) {
  CLI::Option* opt = cmd.add_option("--output,-o")->description("Output format: text or json");
  opt->each([&format](const std::string& value) {
    if (value == "text") {
      format = OutputFormat::text;
    } else if (value == "json") {
      format = OutputFormat::json;
    } else {
      throw CLI::ValidationError("expected text or json, got " + quote(value));
    }
  });
  opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  describe(opt, "text|json", "text");
}

std::string json_text(const rapidjson::Value& value) {
  std::string out;
  write_json(value, true, out);
  out += '\n';
  return out;
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
