// The OCI document (config.json or a state) as one order-preserving JSON DOM:
// unknown fields and key order survive a round trip.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "base/json.h"
#include "spec/annotations.h"

namespace cdi {

using JsonValue = rapidjson::Value;
using JsonAllocator = rapidjson::Document::AllocatorType;

inline constexpr size_t kMaxConfigBytes = 64u << 20;
inline constexpr size_t kMaxConfigDepth = 256;

class OciDocument {
 public:
  OciDocument() = default;
  OciDocument(OciDocument&&) noexcept = default;
  OciDocument& operator=(OciDocument&&) noexcept = default;

  // The root must be an object; nesting is limited to kMaxConfigDepth.
  static Result<OciDocument> parse(std::string_view bytes);
  std::string serialize(bool pretty = true) const;
  OciDocument clone() const;

  rapidjson::Document& json() { return doc_; }
  const rapidjson::Document& json() const { return doc_; }
  JsonAllocator& allocator() { return doc_.GetAllocator(); }

  // String-valued "annotations" in document order; other values are skipped.
  AnnotationList annotations() const;
  // Top-level string member, or empty.
  std::string string_member(std::string_view key) const;
  bool has_member(std::string_view key) const;

  // An OCI state has "status" and "bundle"; a config has neither.
  bool is_state() const;

 private:
  rapidjson::Document doc_;
};

// Member lookup that also refuses duplicate keys (Go keeps the last, RapidJSON
// finds the first: refusing is the only answer that cannot be misread).
// Returns nullptr when absent.
Result<JsonValue*> find_member(JsonValue& object, std::string_view key, std::string_view path);
Status check_unique_keys(const JsonValue& object, std::string_view path);

// The object at object[key], created (or replacing null) when absent.
Result<JsonValue*> ensure_object(JsonValue& object, std::string_view key, std::string_view path, JsonAllocator& a);
Result<JsonValue*> ensure_array(JsonValue& object, std::string_view key, std::string_view path, JsonAllocator& a);

JsonValue json_string(std::string_view s, JsonAllocator& a);
std::string_view json_view(const JsonValue& v);  // string value, or empty
std::string json_type_name(const JsonValue& v);

}  // namespace cdi
