#include "base/hash.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdi {
namespace {

// Reference values of 64-bit FNV-1a (the published test vectors).
TEST(Hash, Fnv1a64KnownVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Hash, HexIsSixteenLowerCaseDigits) {
  EXPECT_EQ(fnv1a64_hex(""), "cbf29ce484222325");
  EXPECT_EQ(fnv1a64_hex("a"), "af63dc4c8601ec8c");
}

// table_hash reads every byte: strings that differ in one byte anywhere (in
// a whole word or in the tail), or only in length, hash apart.
TEST(Hash, TableHashSeesEveryByteAndTheLength) {
  std::string base = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550";  // 46 bytes: 5 words and a tail
  std::set<uint64_t> seen{table_hash(base)};
  for (size_t i = 0; i < base.size(); ++i) {
    std::string changed = base;
    changed[i] ^= 1;
    EXPECT_TRUE(seen.insert(table_hash(changed)).second) << "byte " << i;
  }
  EXPECT_TRUE(seen.insert(table_hash(base + '\0')).second);
  EXPECT_TRUE(seen.insert(table_hash(base.substr(0, 40))).second);
  EXPECT_TRUE(seen.insert(table_hash("")).second);
  EXPECT_EQ(table_hash(base), table_hash(std::string_view(base)));
}

// Paths that differ only in a number, as device nodes and libraries do,
// spread over a power-of-two table (the tables mask the hash's low bits).
TEST(Hash, TableHashSpreadsNumberedPathsOverLowBits) {
  constexpr size_t kSlots = 1024, kPaths = 4096;
  std::vector<size_t> load(kSlots, 0);
  for (size_t i = 0; i < kPaths; ++i) {
    ++load[table_hash("/dev/dri/renderD" + std::to_string(128 + i)) & (kSlots - 1)];
  }
  // 4 per slot on average; a uniform hash puts at most about 14 in one.
  EXPECT_LE(*std::max_element(load.begin(), load.end()), 16u);
}

}  // namespace
}  // namespace cdi
