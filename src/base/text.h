// Small string helpers shared by all modules.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cdi {

// Double-quoted, with control characters, quotes, backslashes and bytes that are
// not valid UTF-8 escaped, so hostile input never reaches a terminal raw.
std::string quote(std::string_view s);

std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::vector<std::string_view> split(std::string_view s, char sep);
bool is_alpha(char c);
bool is_digit(char c);
bool is_alnum(char c);

// Go's filepath.Clean for '/'-separated paths.
std::string clean_path(std::string_view path);

}  // namespace cdi
