#include "base/hash.h"

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

}  // namespace
}  // namespace cdi
