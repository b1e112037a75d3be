#include "base/hash.h"

#include <cstdio>

namespace cdi {

uint64_t fnv1a64(std::string_view data) {
  uint64_t h = 14695981039346656037ull;
  for (char c : data) {
    h ^= static_cast<uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string fnv1a64_hex(std::string_view data) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(data)));
  return hex;
}

}  // namespace cdi
