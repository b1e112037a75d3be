// The one hash of the project: 64-bit FNV-1a. Used where a short, stable name
// is derived from a string (kind-index file names, annotation keys); never for
// anything an attacker could exploit by colliding.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cdi {

uint64_t fnv1a64(std::string_view data);
// fnv1a64 as 16 lower-case hex digits.
std::string fnv1a64_hex(std::string_view data);

}  // namespace cdi
