#include "base/text_diff.h"

#include <gtest/gtest.h>

namespace cdi {
namespace {

TEST(UnifiedDiff, EqualTextsGiveNothing) { EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(UnifiedDiff, OneChangedLineWithContext) {
  std::string before = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  std::string after = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  EXPECT_EQ(unified_diff(before, after, "a/c.json", "b/c.json"),
            "--- a/c.json\n+++ b/c.json\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiff, InsertionAtEndAndStart) {
  EXPECT_EQ(unified_diff("a\n", "a\nb\n", "x", "y"), "--- x\n+++ y\n@@ -1 +1,2 @@\n a\n+b\n");
  EXPECT_EQ(unified_diff("a\n", "z\na\n", "x", "y"), "--- x\n+++ y\n@@ -1 +1,2 @@\n+z\n a\n");
  EXPECT_EQ(unified_diff("", "a\n", "x", "y"), "--- x\n+++ y\n@@ -0,0 +1 @@\n+a\n");
}

TEST(UnifiedDiff, DistantChangesMakeTwoHunks) {
  std::string before, after;
  for (int i = 0; i < 20; ++i) {
    before += std::to_string(i) + "\n";
    after += (i == 2 || i == 17 ? "x" : std::to_string(i)) + "\n";
  }
  std::string d = unified_diff(before, after, "a", "b");
  EXPECT_NE(d.find("@@ -1,6 +1,6 @@"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -15,6 +15,6 @@"), std::string::npos) << d;
}

TEST(UnifiedDiff, NearbyChangesShareAHunk) {
  std::string d = unified_diff("1\n2\n3\n4\n5\n6\n", "1\nx\n3\n4\ny\n6\n", "a", "b");
  EXPECT_EQ(d, "--- a\n+++ b\n@@ -1,6 +1,6 @@\n 1\n-2\n+x\n 3\n 4\n-5\n+y\n 6\n");
}

}  // namespace
}  // namespace cdi
