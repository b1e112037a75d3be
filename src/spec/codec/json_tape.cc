#include "spec/codec/json_tape.h"

#include <algorithm>
#include <cstring>

#include "base/json.h"

namespace cdi::codec {

namespace {

constexpr unsigned kFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag | rapidjson::kParseNumbersAsStringsFlag;

// Tracks line and column as offsets grow, so positions cost one pass in total.
class Positions {
 public:
  explicit Positions(std::string_view bytes) : bytes_(bytes) {}
  LineColumn at(size_t offset) {
    if (offset > bytes_.size()) offset = bytes_.size();
    if (offset < scanned_) {
      scanned_ = 0;
      pos_ = {};
      line_start_ = 0;
    }
    while (scanned_ < offset) {
      const void* nl = std::memchr(bytes_.data() + scanned_, '\n', offset - scanned_);
      if (!nl) {
        scanned_ = offset;
        break;
      }
      size_t at = static_cast<size_t>(static_cast<const char*>(nl) - bytes_.data());
      ++pos_.line;
      line_start_ = at + 1;
      scanned_ = at + 1;
    }
    pos_.column = static_cast<int>(offset - line_start_ + 1);
    return pos_;
  }

 private:
  std::string_view bytes_;
  size_t scanned_ = 0;
  size_t line_start_ = 0;
  LineColumn pos_;
};

class TapeHandler {
 public:
  TapeHandler(std::string_view bytes, rapidjson::MemoryStream& stream, const Limits& limits)
      : tape(bytes.size() + 64, std::min(bytes.size() / 4 + 16, limits.max_events)),
        bytes_(bytes),
        positions_(bytes),
        stream_(stream),
        limits_(limits) {}

  bool Null() { return scalar(ScalarStyle::json_null, "null"); }
  bool Bool(bool b) { return scalar(ScalarStyle::json_bool, b ? "true" : "false"); }
  bool Int(int) { return false; }  // numbers arrive as RawNumber (kParseNumbersAsStringsFlag)
  bool Uint(unsigned) { return false; }
  bool Int64(int64_t) { return false; }
  bool Uint64(uint64_t) { return false; }
  bool Double(double) { return false; }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) {
    return scalar(ScalarStyle::json_number, std::string_view(s, n));
  }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    return scalar(ScalarStyle::json_string, std::string_view(s, n));
  }
  bool Key(const char* s, rapidjson::SizeType n, bool c) { return String(s, n, c); }
  bool StartObject() { return open(EventType::map_start); }
  bool EndObject(rapidjson::SizeType) { return close(EventType::map_end); }
  bool StartArray() { return open(EventType::seq_start); }
  bool EndArray(rapidjson::SizeType) { return close(EventType::seq_end); }

  Tape tape;
  std::string abort_reason;
  LineColumn abort_at;

 private:
  // Where the current token starts: the first byte after the previous token
  // that is not whitespace, ',' or ':'. A scalar is reported once the reader is
  // past it; a bracket is one byte long.
  size_t token_start(bool bracket) {
    size_t start = previous_end_;
    size_t end = std::max(stream_.Tell(), start);
    while (start < end && std::string_view(" \t\r\n,:").find(bytes_[start]) != std::string_view::npos) ++start;
    previous_end_ = bracket ? start + 1 : end;
    return start;
  }

  LineColumn where(bool bracket) { return positions_.at(token_start(bracket)); }

  bool room(LineColumn lc) {
    if (tape.events.size() < limits_.max_events && tape.text_bytes() < kMaxTapeText) return true;
    abort_reason = "document too large: more than " + std::to_string(limits_.max_events) + " nodes";
    abort_at = lc;
    return false;
  }
  bool scalar(ScalarStyle style, std::string_view text) {
    LineColumn lc = where(false);
    if (!room(lc)) return false;
    tape.scalar(style, lc.line, lc.column, text);
    return true;
  }
  bool open(EventType type) {
    LineColumn lc = where(true);
    if (++depth_ > limits_.max_depth) {
      abort_reason = "nesting deeper than " + std::to_string(limits_.max_depth) + " levels";
      abort_at = lc;
      return false;
    }
    if (!room(lc)) return false;
    tape.open(type, lc.line, lc.column);
    return true;
  }
  bool close(EventType type) {
    --depth_;
    LineColumn lc = where(true);
    if (!room(lc)) return false;
    tape.close(type, lc.line, lc.column);
    return true;
  }

  std::string_view bytes_;
  size_t previous_end_ = 0;
  Positions positions_;
  rapidjson::MemoryStream& stream_;
  Limits limits_;
  size_t depth_ = 0;
};

Status reject_nul(std::string_view bytes) {
  if (bytes.empty()) return {};  // memchr of an empty view's null data is undefined
  if (const void* nul = std::memchr(bytes.data(), 0, bytes.size())) {
    size_t at = static_cast<size_t>(static_cast<const char*>(nul) - bytes.data());
    LineColumn lc = line_column_at(bytes, at);
    return Error("invalid JSON: NUL byte in the input").at(lc.line, lc.column);
  }
  return {};
}

// Stops the reader once the top-level "kind" value is seen.
struct KindHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, KindHandler> {
  size_t depth = 0;
  bool want_kind = false;
  PeekedKind result;

  bool Default() {
    if (depth == 1 && want_kind) return false;  // kind is not a string: unsure
    return true;
  }
  bool RawNumber(const char*, rapidjson::SizeType, bool) { return Default(); }
  bool String(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 1 && want_kind) {
      result = {KindPeek::found, std::string(s, n)};
      return false;
    }
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    if (depth == 1) want_kind = std::string_view(s, n) == "kind";
    return true;
  }
  bool StartObject() {
    if (depth == 1 && want_kind) return false;
    ++depth;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    if (--depth == 0) result = {KindPeek::absent, {}};
    return true;
  }
  bool StartArray() {
    if (depth == 0 || (depth == 1 && want_kind)) return false;
    ++depth;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth;
    return true;
  }
};

}  // namespace

LineColumn line_column_at(std::string_view bytes, size_t offset) {
  Positions p(bytes);
  return p.at(offset);
}

Result<Tape> json_to_tape(std::string_view bytes, const Limits& limits) {
  CDI_TRY(reject_nul(bytes));
  rapidjson::MemoryStream stream(bytes.data(), bytes.size());
  TapeHandler handler(bytes, stream, limits);
  rapidjson::Reader reader;
  rapidjson::ParseResult r = reader.Parse<kFlags>(stream, handler);
  if (r.IsError()) {
    if (!handler.abort_reason.empty()) {
      return Error(handler.abort_reason).at(handler.abort_at.line, handler.abort_at.column);
    }
    LineColumn lc = line_column_at(bytes, r.Offset());
    return Error(std::string("invalid JSON: ") + rapidjson::GetParseError_En(r.Code())).at(lc.line, lc.column);
  }
  return std::move(handler.tape);
}

PeekedKind peek_json_kind(std::string_view bytes) {
  if (bytes.find('\0') != std::string_view::npos) return {};
  rapidjson::MemoryStream stream(bytes.data(), bytes.size());
  KindHandler handler;
  rapidjson::Reader reader;
  rapidjson::ParseResult r = reader.Parse<kFlags>(stream, handler);
  if (r.IsError() && handler.result.result != KindPeek::found) return {};
  return handler.result;
}

}  // namespace cdi::codec
