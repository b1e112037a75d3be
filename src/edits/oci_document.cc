#include "edits/oci_document.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "base/json_writer.h"
#include "base/text.h"
#include "spec/codec/json_tape.h"

namespace cdi {

namespace {

// A number as RapidJSON's own conversion would type it: an integer that fits
// in 64 bits as Int64 or Uint64 (the document then sets the narrower flags
// too), anything else as the nearest double. std::from_chars rounds exactly,
// as RapidJSON's full-precision mode means to; unlike it, it has no exponent
// arithmetic to overflow and no zero significand to take the leading zeros
// of. False for a value beyond a double's range.
bool convert_number(const char* s, size_t n, rapidjson::Document& d) {
  const char* end = s + n;
  bool integer = std::find_if(s, end, [](char c) { return c == '.' || c == 'e' || c == 'E'; }) == end;
  if (integer) {
    if (*s == '-') {
      int64_t i = 0;
      auto r = std::from_chars(s, end, i);
      if (r.ec == std::errc() && r.ptr == end) return d.Int64(i);
    } else {
      uint64_t u = 0;
      auto r = std::from_chars(s, end, u);
      if (r.ec == std::errc() && r.ptr == end) return d.Uint64(u);
    }
  }
  double x = 0;
  auto r = std::from_chars(s, end, x);
  if (r.ec == std::errc::result_out_of_range) {
    // Overflow or underflow: strtod tells them apart (s is NUL-terminated).
    x = std::strtod(s, nullptr);
    if (std::isinf(x)) return false;
  } else if (r.ec != std::errc() || r.ptr != end) {
    return false;
  }
  return d.Double(x);
}

// Forwards SAX events to the document while bounding the nesting depth;
// numbers arrive as text (kParseNumbersAsStringsFlag) and are converted here.
class DepthLimited {
 public:
  explicit DepthLimited(rapidjson::Document& d) : d_(d) {}
  bool Null() { return d_.Null(); }
  bool Bool(bool b) { return d_.Bool(b); }
  bool Int(int i) { return d_.Int(i); }
  bool Uint(unsigned u) { return d_.Uint(u); }
  bool Int64(int64_t i) { return d_.Int64(i); }
  bool Uint64(uint64_t u) { return d_.Uint64(u); }
  bool Double(double x) { return d_.Double(x); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    if (convert_number(s, n, d_)) return true;
    number_too_big_ = true;
    return false;
  }
  bool String(const char* s, rapidjson::SizeType n, bool c) { return d_.String(s, n, c); }
  bool Key(const char* s, rapidjson::SizeType n, bool c) { return d_.Key(s, n, c); }
  bool StartObject() { return ++depth_ <= kMaxConfigDepth && d_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return d_.EndObject(n);
  }
  bool StartArray() { return ++depth_ <= kMaxConfigDepth && d_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return d_.EndArray(n);
  }
  bool too_deep() const { return depth_ > kMaxConfigDepth; }
  bool number_too_big() const { return number_too_big_; }

 private:
  rapidjson::Document& d_;
  size_t depth_ = 0;
  bool number_too_big_ = false;
};

constexpr unsigned kFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;

}  // namespace

Result<OciDocument> OciDocument::parse(std::string_view bytes) {
  if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) return Error("empty input: expected a JSON object");
  if (bytes.find('\0') != std::string_view::npos) return Error("invalid JSON: NUL byte in the input");
  if (auto at = find_out_of_range_exponent(bytes)) {
    auto lc = codec::line_column_at(bytes, *at);
    return Error("invalid JSON: number exponent longer than " + std::to_string(kMaxJsonExponentDigits) + " digits")
        .at(lc.line, lc.column);
  }
  OciDocument out;
  rapidjson::ParseResult result;
  bool too_deep = false;
  bool too_big = false;
  auto generate = [&](rapidjson::Document& d) {
    DepthLimited handler(d);
    rapidjson::MemoryStream stream(bytes.data(), bytes.size());
    rapidjson::Reader reader;
    result = reader.Parse<kFlags>(stream, handler);
    too_deep = handler.too_deep();
    too_big = handler.number_too_big();
    return !result.IsError();
  };
  out.doc_.Populate(generate);
  if (result.IsError()) {
    auto lc = codec::line_column_at(bytes, result.Offset());
    auto code = too_big ? rapidjson::kParseErrorNumberTooBig : result.Code();
    std::string msg = too_deep ? "JSON nested deeper than " + std::to_string(kMaxConfigDepth) + " levels"
                               : std::string("invalid JSON: ") + rapidjson::GetParseError_En(code);
    return Error(msg).at(lc.line, lc.column);
  }
  if (!out.doc_.IsObject()) return Error("expected a JSON object, got " + json_type_name(out.doc_));
  CDI_TRY(check_unique_keys(out.doc_, ""));
  return out;
}

std::string OciDocument::serialize(bool pretty) const {
  std::string out;
  out.reserve(8192);
  write_json(doc_, pretty, out);
  out += '\n';
  return out;
}

OciDocument OciDocument::clone() const {
  OciDocument copy;
  copy.doc_.CopyFrom(doc_, copy.doc_.GetAllocator());
  return copy;
}

AnnotationList OciDocument::annotations() const {
  AnnotationList out;
  auto it = doc_.FindMember("annotations");
  if (it == doc_.MemberEnd() || !it->value.IsObject()) return out;
  for (const auto& m : it->value.GetObject()) {
    if (m.value.IsString()) out.emplace_back(std::string(json_view(m.name)), std::string(json_view(m.value)));
  }
  return out;
}

std::string OciDocument::string_member(std::string_view key) const {
  auto it = doc_.FindMember(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  if (it == doc_.MemberEnd() || !it->value.IsString()) return {};
  return std::string(json_view(it->value));
}

bool OciDocument::has_member(std::string_view key) const {
  return doc_.HasMember(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
}

// A config never has "bundle" or "status": either one makes the input a state,
// so a state missing its bundle is refused instead of passed through.
bool OciDocument::is_state() const { return has_member("bundle") || has_member("status"); }

std::string_view json_view(const JsonValue& v) {
  if (!v.IsString()) return {};
  return {v.GetString(), v.GetStringLength()};
}

JsonValue json_string(std::string_view s, JsonAllocator& a) {
  return JsonValue(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

std::string json_type_name(const JsonValue& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "a value";
}

namespace {
std::string child_path(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}
}  // namespace

Status check_unique_keys(const JsonValue& object, std::string_view path) {
  if (!object.IsObject() || object.MemberCount() < 2) return {};
  auto duplicate = [&](std::string_view key) {
    Error e("duplicate key " + quote(key));
    e.field = path.empty() ? "(root)" : std::string(path);
    return e;
  };
  // The objects an injection touches have a handful of keys: compare pairwise
  // without allocating; sort only large objects (annotations).
  if (object.MemberCount() <= 16) {
    for (auto a = object.MemberBegin(); a != object.MemberEnd(); ++a) {
      for (auto b = a + 1; b != object.MemberEnd(); ++b) {
        if (a->name.GetStringLength() == b->name.GetStringLength() && json_view(a->name) == json_view(b->name)) {
          return duplicate(json_view(a->name));
        }
      }
    }
    return {};
  }
  std::vector<std::string_view> keys;
  keys.reserve(object.MemberCount());
  for (const auto& m : object.GetObject()) keys.push_back(json_view(m.name));
  std::sort(keys.begin(), keys.end());
  auto dup = std::adjacent_find(keys.begin(), keys.end());
  if (dup == keys.end()) return {};
  return duplicate(*dup);
}

Result<JsonValue*> find_member(JsonValue& object, std::string_view key, std::string_view path) {
  CDI_TRY(check_unique_keys(object, path));
  auto it = object.FindMember(rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  if (it == object.MemberEnd()) return static_cast<JsonValue*>(nullptr);
  return &it->value;
}

namespace {
Result<JsonValue*> ensure_kind(JsonValue& object, std::string_view key, std::string_view path, JsonAllocator& a,
                               rapidjson::Type type) {
  auto found = find_member(object, key, path);
  if (!found.ok()) return std::move(found).error();
  JsonValue* v = *found;
  if (!v) {
    object.AddMember(json_string(key, a), JsonValue(type), a);
    v = &(object.MemberEnd() - 1)->value;
    return v;
  }
  if (v->IsNull()) {
    v->SetNull();
    *v = JsonValue(type);
    return v;
  }
  if (v->GetType() != type) {
    Error e("expected " + std::string(type == rapidjson::kObjectType ? "an object" : "an array") + ", got " +
            json_type_name(*v));
    e.field = child_path(path, key);
    return e;
  }
  return v;
}
}  // namespace

Result<JsonValue*> ensure_object(JsonValue& object, std::string_view key, std::string_view path, JsonAllocator& a) {
  return ensure_kind(object, key, path, a, rapidjson::kObjectType);
}

Result<JsonValue*> ensure_array(JsonValue& object, std::string_view key, std::string_view path, JsonAllocator& a) {
  return ensure_kind(object, key, path, a, rapidjson::kArrayType);
}

}  // namespace cdi
