#include "spec/codec/yaml_fast.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace cdi::codec {

namespace {

// libyaml forgets a simple key that started more than 1024 characters before
// its ':'. Bytes are never fewer than characters, so this bound is safe.
constexpr std::ptrdiff_t kMaxKeyBytes = 1000;
// Recursion bound of this reader, whatever Limits allows.
constexpr size_t kMaxDepth = 256;
// Larger inputs go to libyaml: positions must fit an int.
constexpr size_t kMaxInputBytes = size_t{1} << 30;

unsigned char byte(char c) { return static_cast<unsigned char>(c); }

// Eight bytes at a time where the byte order allows (SWAR): the scans below
// are most of the work.
constexpr bool kSwar = std::endian::native == std::endian::little;
constexpr uint64_t kOnes = 0x0101010101010101u;
constexpr uint64_t kHigh = kOnes * 0x80;
constexpr uint64_t kLow7 = kOnes * 0x7F;

uint64_t load8(const char* p) {
  uint64_t w = 0;
  std::memcpy(&w, p, sizeof w);
  return w;
}

// The high bit of every byte of w that equals c, and no other bit.
constexpr uint64_t bytes_equal(uint64_t w, unsigned char c) {
  uint64_t x = w ^ (kOnes * c);
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// The first position in [p, end) holding a, b or c; end if none.
template <unsigned char A, unsigned char B, unsigned char C>
const char* find_any(const char* p, const char* end) {
  if constexpr (kSwar) {
    while (end - p >= 8) {
      uint64_t w = load8(p);
      uint64_t m = bytes_equal(w, A) | bytes_equal(w, B) | bytes_equal(w, C);
      if (m) return p + std::countr_zero(m) / 8;
      p += 8;
    }
  }
  while (p < end && byte(*p) != A && byte(*p) != B && byte(*p) != C) ++p;
  return p;
}

// Width of the UTF-8 character at p when libyaml's reader accepts it and its
// scanner treats it as an ordinary character (not a line break, not a BOM);
// 0 otherwise.
size_t utf8_width(const unsigned char* p, const unsigned char* end) {
  unsigned c = p[0];
  size_t n = 0;
  uint32_t v = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    v = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    v = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    v = c & 0x07u;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((p[k] & 0xC0u) != 0x80u) return 0;
    v = (v << 6) | (p[k] & 0x3Fu);
  }
  if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF))) return 0;  // overlong, too large
  if (v < 0xA0) return 0;                                                            // C1 controls, NEL (a line break)
  if (v >= 0xD800 && v <= 0xDFFF) return 0;                                          // surrogates
  if (v == 0x2028 || v == 0x2029 || v == 0xFEFF || v == 0xFFFE || v == 0xFFFF) return 0;  // LS, PS, BOM, non-characters
  return n;
}

struct InputShape {
  bool ok = true;          // every byte is one the reader below handles
  bool non_ascii = false;  // columns then need counting in characters
};

// One pass over the whole input, the part after the first document included:
// libyaml's reader decodes ahead and would report a bad byte there too.
InputShape inspect(std::string_view bytes) {
  InputShape shape;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* end = p + bytes.size();
  while (p < end) {
    if constexpr (kSwar) {  // a word of printable ASCII and LF passes whole
      if (end - p >= 8) {
        uint64_t w = load8(reinterpret_cast<const char*>(p));
        uint64_t lf = bytes_equal(w, '\n');
        uint64_t control = ~((w & kLow7) + kOnes * 0x60) & kHigh;  // bytes below 0x20 (if ASCII)
        uint64_t del = ((w & kLow7) + kOnes) & kHigh;              // 0x7F (if ASCII)
        if (((w & kHigh) | (control & ~lf) | del) == 0) {
          p += 8;
          continue;
        }
      }
    }
    unsigned c = *p;
    if (c - 0x20u < 0x5Fu) {  // printable ASCII
      ++p;
    } else if (c == '\n') {
      ++p;
    } else if (c < 0x80) {  // controls, tab, CR, DEL
      shape.ok = false;
      return shape;
    } else {
      size_t n = utf8_width(p, end);
      if (n == 0) {
        shape.ok = false;
        return shape;
      }
      shape.non_ascii = true;
      p += n;
    }
  }
  return shape;
}

// Characters this reader accepts in a plain scalar inside `[...]`: a safe
// part of what YAML allows there.
constexpr std::array<bool, 256> flow_plain_chars() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[static_cast<size_t>(c)] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[static_cast<size_t>(c)] = true;
  for (char c : std::string_view("-._/=+~()$^;")) t[static_cast<unsigned char>(c)] = true;
  for (size_t c = 0x80; c < 256; ++c) t[c] = true;
  return t;
}
constexpr std::array<bool, 256> kFlowPlain = flow_plain_chars();

bool blankz(char c) { return c == ' ' || c == '\n' || c == '\0'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(uint32_t v, std::string& out) {
  auto put = [&out](uint32_t b) { out.push_back(static_cast<char>(static_cast<unsigned char>(b))); };
  if (v <= 0x7F) {
    put(v);
  } else if (v <= 0x7FF) {
    put(0xC0 | (v >> 6));
    put(0x80 | (v & 0x3F));
  } else if (v <= 0xFFFF) {
    put(0xE0 | (v >> 12));
    put(0x80 | ((v >> 6) & 0x3F));
    put(0x80 | (v & 0x3F));
  } else {
    put(0xF0 | (v >> 18));
    put(0x80 | ((v >> 12) & 0x3F));
    put(0x80 | ((v >> 6) & 0x3F));
    put(0x80 | (v & 0x3F));
  }
}

// A scalar scanned on the current line, not yet on the tape.
struct Scalar {
  const char* start = nullptr;  // first character, or the opening quote
  std::string_view text;        // into the input, or into the reader's scratch
  bool quoted = false;
};

// The reader proper. Every member function returns false to decline. The
// structure is checked line by line: each line's indentation must be exactly
// the column of a collection that can continue there, which is also what
// rules out plain scalars continued on the next line.
class Reader {
 public:
  Reader(std::string_view bytes, const Limits& limits, const InputShape& shape)
      : end_(bytes.data() + bytes.size()),
        line_start_(bytes.data()),
        cur_(bytes.data()),
        non_ascii_(shape.non_ascii),
        max_depth_(std::min(limits.max_depth, kMaxDepth)),
        max_events_(limits.max_events),
        tape_(bytes.size() + 64, std::min(bytes.size() / 4 + 16, max_events_)) {}  // specs run 6-20 bytes an event

  std::optional<Tape> run() {
    if (!seek_content(line_start_) || at_end_ || indent_ != 0 || !block_node() || !at_end_) return std::nullopt;
    return std::move(tape_);
  }

 private:
  char ch(const char* p) const { return p < end_ ? *p : '\0'; }

  const char* skip_spaces(const char* p) const {
    if constexpr (kSwar) {
      while (end_ - p >= 8 && *p == ' ') {
        uint64_t other = ~bytes_equal(load8(p), ' ') & kHigh;
        if (other) return p + std::countr_zero(other) / 8;
        p += 8;
      }
    }
    while (p < end_ && *p == ' ') ++p;
    return p;
  }

  const char* line_end(const char* p) const {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end_ - p));
    return nl ? static_cast<const char*>(nl) : end_;
  }

  // 1-based column of p on the current line, in characters.
  int column(const char* p) const {
    auto n = p - line_start_;
    if (non_ascii_) {
      for (const char* q = line_start_; q < p; ++q) n -= (byte(*q) & 0xC0u) == 0x80u;
    }
    return static_cast<int>(n) + 1;
  }

  // `-` followed by a space or the end of the line: a block sequence entry.
  bool is_entry(const char* p) const { return *p == '-' && blankz(ch(p + 1)); }

  // `---` or `...` followed by a space or the end of the line.
  bool is_marker(const char* p) const {
    return end_ - p >= 3 && (p[0] == '-' || p[0] == '.') && p[1] == p[0] && p[2] == p[0] && blankz(ch(p + 3));
  }

  bool stop(const char* p) {
    at_end_ = true;
    cur_ = p;
    return true;
  }

  // Moves to the first line at or after `p` (the start of line line_) that
  // holds a token, past blank and comment lines. At the end of the input or
  // at a `---` line after the document's start, sets at_end_.
  bool seek_content(const char* p) {
    for (;;) {
      line_start_ = p;
      const char* q = skip_spaces(p);
      if (q == end_) return stop(q);
      if (*q == '\n' || *q == '#') {
        const char* nl = *q == '\n' ? q : line_end(q);
        if (nl == end_) return stop(nl);
        p = nl + 1;
        ++line_;
        continue;
      }
      cur_ = q;
      indent_ = static_cast<int>(q - p);
      if (indent_ == 0 && (*q == '%' || is_marker(q))) {
        if (*q != '-') return false;   // a directive or `...`
        if (started_) return stop(q);  // the next document
        started_ = true;               // `---` opening this one
        return finish_line(q + 3);
      }
      started_ = true;
      return true;
    }
  }

  // After the last token on a line: only spaces and a comment may follow.
  bool finish_line(const char* p) {
    const char* q = skip_spaces(p);
    if (q == end_) return stop(q);
    if (*q == '#') {
      if (q[-1] != ' ') return false;
      q = line_end(q);
      if (q == end_) return stop(q);
    }
    if (*q != '\n') return false;
    ++line_;
    return seek_content(q + 1);
  }

  bool room() const { return tape_.events.size() < max_events_ && tape_.text_bytes() < kMaxTapeText; }

  bool scalar(int line, int col, ScalarStyle style = ScalarStyle::yaml_plain, std::string_view text = {}) {
    if (!room()) return false;
    tape_.scalar(style, line, col, text);
    return true;
  }

  // Collections open and close, and scalars are emitted, on the current line.
  bool open(EventType type, int col) {
    if (++depth_ > max_depth_ || !room()) return false;
    tape_.open(type, line_, col);
    return true;
  }

  bool close(EventType type, int col) {
    --depth_;
    if (!room()) return false;
    tape_.close(type, line_, col);
    return true;
  }

  bool emit(const Scalar& s) {
    return scalar(line_, column(s.start), s.quoted ? ScalarStyle::yaml_quoted : ScalarStyle::yaml_plain, s.text);
  }

  // A block collection starting at cur_, at the start of its line. A scalar
  // alone on its line (which might go on over the next lines) declines.
  bool block_node() {
    if (is_entry(cur_)) return block_sequence(cur_, indent_, false);
    Scalar key;
    const char* after = nullptr;
    if (!scan_scalar(cur_, key, after)) return false;
    const char* colon = colon_after(after);
    return colon && block_mapping(indent_, key, colon);
  }

  // A block mapping whose keys sit at 0-based column col; its first key is
  // scanned already and followed by the ':' at colon.
  bool block_mapping(int col, Scalar key, const char* colon) {
    if (!open(EventType::map_start, column(key.start))) return false;
    for (;;) {
      if (colon - key.start > kMaxKeyBytes || !emit(key) || !mapping_value(col, colon)) return false;
      if (at_end_ || indent_ < col) break;
      if (indent_ > col || is_entry(cur_)) return false;
      const char* after = nullptr;
      if (!scan_scalar(cur_, key, after)) return false;
      colon = colon_after(after);
      if (!colon) return false;
    }
    return close(EventType::map_end, column(cur_));
  }

  // The value after the ':' at colon, of a key in a mapping at column col.
  // Leaves cur_ at the next line with a token.
  bool mapping_value(int col, const char* colon) {
    const char* p = skip_spaces(colon + 1);
    char c = ch(p);
    if (c != '\n' && c != '\0' && c != '#') return inline_value(p);
    int line = line_;
    int empty_column = column(colon) + 1;  // libyaml puts an empty value just after the ':'
    if (!finish_line(p)) return false;
    if (!at_end_ && indent_ > col) return block_node();
    if (!at_end_ && indent_ == col && is_entry(cur_)) return block_sequence(cur_, col, true);
    return scalar(line, empty_column);
  }

  // A scalar or a flow collection after `key: `, then the end of the line.
  bool inline_value(const char* p) {
    const char* after = nullptr;
    if (*p == '[') {
      if (!flow_sequence(p, after)) return false;
    } else if (*p == '{') {
      if (!flow_mapping(p, after)) return false;
    } else {
      Scalar s;
      if (!scan_scalar(p, s, after) || colon_after(after) || !emit(s)) return false;  // `k: a: b` is an error
    }
    return finish_line(after);
  }

  // A block sequence whose entries' `-` sit at 0-based column col, the first
  // at dash. An indentless one (the value of a key at the same column) ends
  // at the next key.
  bool block_sequence(const char* dash, int col, bool indentless) {
    if (!open(EventType::seq_start, column(dash))) return false;
    for (;;) {
      if (!sequence_entry(dash, col)) return false;
      if (at_end_ || indent_ < col) break;
      if (indent_ > col) return false;
      if (!is_entry(cur_)) {
        if (indentless) break;
        return false;
      }
      dash = cur_;
    }
    return close(EventType::seq_end, column(cur_));
  }

  // One entry: the node after `- ` on the same line.
  bool sequence_entry(const char* dash, int col) {
    const char* p = skip_spaces(dash + 1);
    char c = ch(p);
    if (p == dash + 1 || c == '\n' || c == '\0' || c == '#') return false;  // empty, or the node starts below
    int node_col = col + static_cast<int>(p - dash);
    if (is_entry(p)) return block_sequence(p, node_col, false);
    if (c == '[' || c == '{') return inline_value(p);
    Scalar s;
    const char* after = nullptr;
    if (!scan_scalar(p, s, after)) return false;
    if (const char* colon = colon_after(after)) return block_mapping(node_col, s, colon);
    return emit(s) && finish_line(after);
  }

  // `[]` or `[a, "b", 'c']` on one line; after points past the `]`.
  bool flow_sequence(const char* p, const char*& after) {
    if (!open(EventType::seq_start, column(p))) return false;
    p = skip_spaces(p + 1);
    if (ch(p) != ']') {
      for (;;) {
        Scalar s;
        const char* item_end = nullptr;
        char c = ch(p);
        bool ok = c == '"'    ? scan_double(p, s, item_end)
                  : c == '\'' ? scan_single(p, s, item_end)
                              : scan_flow_plain(p, s, item_end);
        if (!ok || !emit(s)) return false;
        p = skip_spaces(item_end);
        if (ch(p) == ']') break;
        if (ch(p) != ',') return false;
        p = skip_spaces(p + 1);
        if (ch(p) == ']') return false;  // a trailing comma
      }
    }
    after = p + 1;
    return close(EventType::seq_end, column(p));
  }

  // `{}` (spaces inside allowed); anything in it declines.
  bool flow_mapping(const char* p, const char*& after) {
    const char* q = skip_spaces(p + 1);
    if (ch(q) != '}' || !open(EventType::map_start, column(p))) return false;
    after = q + 1;
    return close(EventType::map_end, column(q));
  }

  // The ':' of a mapping key right after a scalar that ends at p (spaces
  // between allowed), or nullptr.
  const char* colon_after(const char* p) const {
    p = skip_spaces(p);
    return ch(p) == ':' && blankz(ch(p + 1)) ? p : nullptr;
  }

  bool scan_scalar(const char* p, Scalar& s, const char*& after) {
    if (*p == '"') return scan_double(p, s, after);
    if (*p == '\'') return scan_single(p, s, after);
    return scan_plain(p, s, after);
  }

  // libyaml's rule for the first character of a plain scalar in block context.
  bool plain_start(const char* p) const {
    switch (*p) {
      case '-':
      case '?':
      case ':':
        return !blankz(ch(p + 1));
      case ',':
      case '[':
      case ']':
      case '{':
      case '}':
      case '#':
      case '&':
      case '*':
      case '!':
      case '|':
      case '>':
      case '\'':
      case '"':
      case '%':
      case '@':
      case '`':
      case ' ':
      case '\n':
        return false;
      default:
        return true;
    }
  }

  // A plain scalar in block context, ended on its line by `: `, ` #` or the
  // line's end; trailing spaces are not part of it.
  bool scan_plain(const char* p, Scalar& s, const char*& after) {
    if (!plain_start(p)) return false;
    const char* start = p;
    const char* text_end = p;
    for (;;) {
      const char* run = p;
      for (p = find_any<' ', '\n', ':'>(p, end_); p < end_ && *p == ':' && !blankz(ch(p + 1));) {
        p = find_any<' ', '\n', ':'>(p + 1, end_);
      }
      if (p != run) text_end = p;
      if (p == end_ || *p != ' ') break;  // the ':' indicator or the line's end
      const char* q = skip_spaces(p);
      char c = ch(q);
      if (c == '\n' || c == '\0' || c == '#') break;
      p = q;
    }
    s = Scalar{start, std::string_view(start, static_cast<size_t>(text_end - start)), false};
    after = text_end;
    return true;
  }

  // A plain scalar inside `[...]`, of kFlowPlain characters and inner spaces.
  bool scan_flow_plain(const char* p, Scalar& s, const char*& after) {
    const char* start = p;
    if (!kFlowPlain[byte(ch(p))] || (*p == '-' && !kFlowPlain[byte(ch(p + 1))])) return false;
    const char* text_end = p;
    for (;;) {
      while (kFlowPlain[byte(ch(p))]) ++p;
      text_end = p;
      char c = ch(p);
      if (c == ',' || c == ']') break;
      if (c != ' ') return false;
      const char* q = skip_spaces(p);
      c = ch(q);
      if (c == ',' || c == ']') break;
      if (!kFlowPlain[byte(c)]) return false;
      p = q;
    }
    s = Scalar{start, std::string_view(start, static_cast<size_t>(text_end - start)), false};
    after = text_end;
    return true;
  }

  // 'text' on one line, '' standing for a quote.
  bool scan_single(const char* p, Scalar& s, const char*& after) {
    const char* start = p;
    const char* seg = ++p;
    bool copied = false;
    for (;;) {
      p = find_any<'\'', '\n', '\n'>(p, end_);
      if (p == end_ || *p == '\n') return false;
      if (ch(p + 1) != '\'') break;
      if (!copied) scratch_.clear();
      copied = true;
      scratch_.append(seg, static_cast<size_t>(p + 1 - seg));
      p += 2;
      seg = p;
    }
    std::string_view text(seg, static_cast<size_t>(p - seg));
    if (copied) {
      scratch_.append(text);
      text = scratch_;
    }
    s = Scalar{start, text, true};
    after = p + 1;
    return true;
  }

  // "text" on one line with YAML's escapes.
  bool scan_double(const char* p, Scalar& s, const char*& after) {
    const char* start = p;
    const char* seg = ++p;
    bool copied = false;
    for (;;) {
      p = find_any<'"', '\\', '\n'>(p, end_);
      if (p == end_ || *p == '\n') return false;
      if (*p == '"') break;
      if (!copied) scratch_.clear();
      copied = true;
      scratch_.append(seg, static_cast<size_t>(p - seg));
      p = escape(p);
      if (!p) return false;
      seg = p;
    }
    std::string_view text(seg, static_cast<size_t>(p - seg));
    if (copied) {
      scratch_.append(text);
      text = scratch_;
    }
    s = Scalar{start, text, true};
    after = p + 1;
    return true;
  }

  // Appends what the escape at p (a backslash) stands for to scratch_ and
  // returns the position after it; nullptr for an escape libyaml rejects or
  // one that joins the next line.
  const char* escape(const char* p) {
    char out = 0;
    switch (ch(p + 1)) {
      case '0':
        out = '\0';
        break;
      case 'a':
        out = '\a';
        break;
      case 'b':
        out = '\b';
        break;
      case 't':
        out = '\t';
        break;
      case 'n':
        out = '\n';
        break;
      case 'v':
        out = '\v';
        break;
      case 'f':
        out = '\f';
        break;
      case 'r':
        out = '\r';
        break;
      case 'e':
        out = '\x1B';
        break;
      case ' ':
        out = ' ';
        break;
      case '"':
        out = '"';
        break;
      case '/':
        out = '/';
        break;
      case '\\':
        out = '\\';
        break;
      case 'N':
        scratch_.append("\xC2\x85");
        return p + 2;
      case '_':
        scratch_.append("\xC2\xA0");
        return p + 2;
      case 'L':
        scratch_.append("\xE2\x80\xA8");
        return p + 2;
      case 'P':
        scratch_.append("\xE2\x80\xA9");
        return p + 2;
      case 'x':
        return hex_escape(p + 2, 2);
      case 'u':
        return hex_escape(p + 2, 4);
      case 'U':
        return hex_escape(p + 2, 8);
      default:
        return nullptr;
    }
    scratch_.push_back(out);
    return p + 2;
  }

  const char* hex_escape(const char* p, int digits) {
    uint32_t v = 0;
    for (int k = 0; k < digits; ++k) {
      int d = hex_digit(ch(p + k));
      if (d < 0) return nullptr;
      v = (v << 4) | static_cast<uint32_t>(d);
    }
    if ((v >= 0xD800 && v <= 0xDFFF) || v > 0x10FFFF) return nullptr;
    append_utf8(v, scratch_);
    return p + digits;
  }

  const char* end_;
  const char* line_start_;  // start of the current line
  const char* cur_;         // first token of the current line
  int line_ = 1;            // 1-based number of the current line
  int indent_ = 0;          // 0-based column of cur_
  bool at_end_ = false;     // no token left in this document
  bool started_ = false;    // the document's first line is behind
  bool non_ascii_;
  size_t depth_ = 0;
  size_t max_depth_;
  size_t max_events_;
  Tape tape_;
  std::string scratch_;  // text of a quoted scalar with escapes
};

}  // namespace

std::optional<Tape> yaml_to_tape_fast(std::string_view bytes, const Limits& limits) {
  if (bytes.size() > kMaxInputBytes) return std::nullopt;
  InputShape shape = inspect(bytes);
  if (!shape.ok) return std::nullopt;
  return Reader(bytes, limits, shape).run();
}

}  // namespace cdi::codec
