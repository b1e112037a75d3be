#include "base/json.h"

namespace cdi {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The exponent of a number starting at `e` (the 'e' or 'E'): the offset just
// after it, and whether its value, leading zeros left out, fits in
// kMaxJsonExponentDigits digits.
size_t skip_exponent(std::string_view bytes, size_t e, bool& in_range) {
  size_t i = e + 1;
  if (i < bytes.size() && (bytes[i] == '+' || bytes[i] == '-')) ++i;
  while (i < bytes.size() && bytes[i] == '0') ++i;
  size_t first = i;
  while (i < bytes.size() && is_digit(bytes[i])) ++i;
  in_range = i - first <= kMaxJsonExponentDigits;
  return i;
}

}  // namespace

std::optional<size_t> find_out_of_range_exponent(std::string_view bytes) {
  bool in_string = false;
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if ((c == 'e' || c == 'E') && i > 0 && (is_digit(bytes[i - 1]) || bytes[i - 1] == '.')) {
      bool in_range = true;
      size_t end = skip_exponent(bytes, i, in_range);
      if (!in_range) {
        size_t start = i;
        while (start > 0 && (is_digit(bytes[start - 1]) || bytes[start - 1] == '.' || bytes[start - 1] == '-')) --start;
        return start;
      }
      i = end - 1;
    }
  }
  return std::nullopt;
}

}  // namespace cdi
