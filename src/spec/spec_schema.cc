#include "spec/spec_schema.h"

#include <memory>

#include <rapidjson/schema.h>

#include "base/text.h"
#include "spec/codec/spec_writer.h"

namespace cdi {

extern const std::string_view kCdiSpecSchemaText;

std::string_view cdi_spec_schema_text() { return kCdiSpecSchemaText; }

namespace {

const rapidjson::SchemaDocument& schema() {
  static const std::unique_ptr<rapidjson::SchemaDocument> doc = [] {
    rapidjson::Document d;
    d.Parse(kCdiSpecSchemaText.data(), kCdiSpecSchemaText.size());
    return std::make_unique<rapidjson::SchemaDocument>(d);
  }();
  return *doc;
}

std::string unescape_token(std::string_view token) {
  std::string out;
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out += token[i + 1] == '0' ? '~' : '/';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

std::string pointer_text(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer b;
  p.StringifyUriFragment(b);
  return std::string(b.GetString(), b.GetSize());
}

}  // namespace

std::string json_pointer_to_field(std::string_view pointer) {
  if (pointer.starts_with('#')) pointer.remove_prefix(1);
  std::string out;
  if (pointer.empty()) return out;
  for (auto token : split(pointer.substr(1), '/')) {
    bool index = !token.empty() && token.find_first_not_of("0123456789") == std::string_view::npos;
    if (index) {
      out += "[" + std::string(token) + "]";
    } else {
      if (!out.empty()) out += '.';
      out += unescape_token(token);
    }
  }
  return out;
}

void check_spec_schema(const Spec& spec, std::vector<Error>& out) {
  rapidjson::SchemaValidator validator(schema());
  if (codec::write_spec(spec, validator) && validator.IsValid()) return;
  std::string field = json_pointer_to_field(pointer_text(validator.GetInvalidDocumentPointer()));
  std::string rule = pointer_text(validator.GetInvalidSchemaPointer());
  Error e("does not match the schema: \"" + std::string(validator.GetInvalidSchemaKeyword()) + "\" rule at " + rule +
          " of cdi-spec.schema.json");
  e.field = field;
  auto it = spec.positions.find(field);
  if (it != spec.positions.end()) e.at(it->second.line, it->second.column);
  out.push_back(std::move(e));
}

}  // namespace cdi
