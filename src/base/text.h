// Small string helpers shared by all modules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cdi {

// Double-quoted, with control characters, quotes, backslashes and bytes that are
// not valid UTF-8 escaped, so hostile input never reaches a terminal raw.
std::string quote(std::string_view s);

// A path (or name) as messages show it where it stands unquoted (a file:line:
// prefix, a table column): as it is when quote() would only add the quotes,
// else quote()d, so a file name holding terminal escapes never reaches a
// terminal raw.
std::string quote_if_needed(std::string_view s);

std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::vector<std::string_view> split(std::string_view s, char sep);
// ASCII classes (no locale), inline: name checks call them for every character.
inline bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }

// Go's filepath.Clean for '/'-separated paths.
std::string clean_path(std::string_view path);

}  // namespace cdi
