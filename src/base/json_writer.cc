#include "base/json_writer.h"

#include <array>
#include <charconv>

namespace cdi {

namespace {

// Bytes a JSON string must escape: control characters, '"' and '\\'.
constexpr auto kEscape = [] {
  std::array<bool, 256> t{};
  for (size_t c = 0; c < 0x20; ++c) t[c] = true;
  t['"'] = true;
  t['\\'] = true;
  t[0xED] = true;  // lead byte of U+D000..U+DFFF: the surrogates among them are written as escapes
  return t;
}();

std::string_view view_of(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

class JsonOut {
 public:
  JsonOut(std::string& out, bool pretty) : out_(out), pretty_(pretty) {}

  void value(const rapidjson::Value& v, size_t depth) {
    switch (v.GetType()) {
      case rapidjson::kNullType:
        out_ += "null";
        break;
      case rapidjson::kFalseType:
        out_ += "false";
        break;
      case rapidjson::kTrueType:
        out_ += "true";
        break;
      case rapidjson::kStringType:
        write_json_string(view_of(v), out_);
        break;
      case rapidjson::kNumberType:
        number(v);
        break;
      case rapidjson::kObjectType:
        object(v, depth);
        break;
      case rapidjson::kArrayType:
        array(v, depth);
        break;
    }
  }

 private:
  void newline(size_t depth) {
    if (!pretty_) return;
    out_ += '\n';
    out_.append(2 * depth, ' ');
  }

  void object(const rapidjson::Value& v, size_t depth) {
    if (v.MemberCount() == 0) {
      out_ += "{}";
      return;
    }
    out_ += '{';
    bool first = true;
    for (const auto& m : v.GetObject()) {
      if (!first) out_ += ',';
      first = false;
      newline(depth + 1);
      write_json_string(view_of(m.name), out_);
      out_ += pretty_ ? ": " : ":";
      value(m.value, depth + 1);
    }
    newline(depth);
    out_ += '}';
  }

  void array(const rapidjson::Value& v, size_t depth) {
    if (v.Size() == 0) {
      out_ += "[]";
      return;
    }
    out_ += '[';
    bool first = true;
    for (const auto& item : v.GetArray()) {
      if (!first) out_ += ',';
      first = false;
      newline(depth + 1);
      value(item, depth + 1);
    }
    newline(depth);
    out_ += ']';
  }

  void number(const rapidjson::Value& v) {
    char buf[32];
    char* end = buf;
    if (v.IsUint64()) {
      end = std::to_chars(buf, buf + sizeof buf, v.GetUint64()).ptr;
    } else if (v.IsInt64()) {
      end = std::to_chars(buf, buf + sizeof buf, v.GetInt64()).ptr;
    } else {
      end = rapidjson::internal::dtoa(v.GetDouble(), buf);
    }
    out_.append(buf, static_cast<size_t>(end - buf));
  }

  std::string& out_;
  bool pretty_;
};

}  // namespace

void write_json_string(std::string_view s, std::string& out) {
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    while (i < s.size() && !kEscape[static_cast<unsigned char>(s[i])]) ++i;
    if (i == s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case 0xED:
        // A surrogate (U+D800..U+DFFF) reaches a DOM only from a lone escaped
        // surrogate, which RapidJSON's reader decodes to bytes that are not
        // UTF-8; written back as that escape, the output parses again and says
        // what the input said. Other code points with this lead byte stay.
        if (i + 2 < s.size() && (static_cast<unsigned char>(s[i + 1]) & 0xE0) == 0xA0) {
          unsigned cp =
              0xD000u | (static_cast<unsigned>(s[i + 1] & 0x3F) << 6) | static_cast<unsigned>(s[i + 2] & 0x3F);
          static constexpr char kHexDigits[] = "0123456789ABCDEF";
          out += "\\u";
          for (int shift = 12; shift >= 0; shift -= 4) out += kHexDigits[(cp >> shift) & 0xF];
          run = i + 3;
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
        break;
      default: {
        static constexpr char kHex[] = "0123456789ABCDEF";
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
      }
    }
  }
  out.append(s.substr(run));
  out += '"';
}

void write_json(const rapidjson::Value& value, bool pretty, std::string& out) { JsonOut(out, pretty).value(value, 0); }

}  // namespace cdi
