// What every fuzz target shares: an invariant check that prints what broke and
// aborts (libFuzzer and the replay driver both report the input), and the
// splitting of one input into several strings.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace cdi::fuzz {

[[noreturn]] inline void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Checks an invariant of the code under test (not an input condition).
#define FUZZ_CHECK(cond, detail)                                \
  do {                                                          \
    if (!(cond)) ::cdi::fuzz::fail(#cond, std::string(detail)); \
  } while (0)

inline std::string_view as_view(const uint8_t* data, size_t size) {
  return size == 0 ? std::string_view() : std::string_view(reinterpret_cast<const char*>(data), size);
}

// The input cut at every `sep` byte (an argument vector, a list of pairs).
inline std::vector<std::string> split(std::string_view bytes, char sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= bytes.size()) {
    size_t end = bytes.find(sep, start);
    if (end == std::string_view::npos) end = bytes.size();
    parts.emplace_back(bytes.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace cdi::fuzz
