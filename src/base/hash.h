// The project's two hashes. FNV-1a (64-bit): where a short, stable name is
// derived from a string (kind-index file names, annotation keys). table_hash:
// for in-memory tables of paths on the request path (a word at a time, about
// twice as fast as std::hash on a 40-byte path), whose keys come from root's
// own spec files and host, never from a container. Neither is for anything an
// attacker could exploit by colliding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace cdi {

uint64_t fnv1a64(std::string_view data);
// fnv1a64 as 16 lower-case hex digits.
std::string fnv1a64_hex(std::string_view data);

// A 64-bit hash for hash tables, read 8 bytes at a time (the last word may
// overlap the one before it).
inline uint64_t table_hash(std::string_view data) {
  constexpr uint64_t kMul = 0xbf58476d1ce4e5b9ull;
  uint64_t h = 0x9e3779b97f4a7c15ull ^ data.size();
  auto mix = [&h](uint64_t word) {
    h = (h ^ word) * kMul;
    h ^= h >> 31;
  };
  const char* p = data.data();
  size_t n = data.size();
  uint64_t word = 0;
  if (n < 8) {
    for (size_t i = 0; i < n; ++i) word |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
    mix(word);
  } else {
    for (; n > 8; p += 8, n -= 8) {
      std::memcpy(&word, p, 8);
      mix(word);
    }
    std::memcpy(&word, data.data() + data.size() - 8, 8);
    mix(word);
  }
  h *= kMul;
  return h ^ (h >> 32);
}

// table_hash as a hasher for std::unordered_map and the like.
struct TableHash {
  size_t operator()(std::string_view s) const { return static_cast<size_t>(table_hash(s)); }
};

}  // namespace cdi
