#include "spec/qualified_name.h"

#include <gtest/gtest.h>

namespace cdi {
namespace {

struct NameCase {
  const char* name;
  const char* input;
  bool valid;
  const char* vendor;
  const char* device_class;
  const char* device;
};

class QualifiedNameTest : public ::testing::TestWithParam<NameCase> {};

TEST_P(QualifiedNameTest, Parses) {
  const NameCase& c = GetParam();
  auto q = parse_qualified_name(c.input);
  ASSERT_EQ(q.ok(), c.valid) << c.input << (q.ok() ? "" : ": " + q.error().message);
  // validate_qualified_name is the same check, with the same error.
  Status checked = validate_qualified_name(c.input);
  ASSERT_EQ(checked.ok(), c.valid);
  if (!c.valid) {
    EXPECT_EQ(checked.error().message, q.error().message);
    return;
  }
  EXPECT_EQ(q->vendor, c.vendor);
  EXPECT_EQ(q->device_class, c.device_class);
  EXPECT_EQ(q->name, c.device);
  EXPECT_EQ(q->str(), c.input);
}

INSTANTIATE_TEST_SUITE_P(
    Table, QualifiedNameTest,
    ::testing::Values(NameCase{"simple", "vendor.com/gpu=0", true, "vendor.com", "gpu", "0"},
                      NameCase{"uuid", "nvidia.com/gpu=GPU-0a1b-2c", true, "nvidia.com", "gpu", "GPU-0a1b-2c"},
                      NameCase{"colon_in_name", "v.com/c=pci:0000:01:00.0", true, "v.com", "c", "pci:0000:01:00.0"},
                      NameCase{"one_char_name", "v.com/c=x", true, "v.com", "c", "x"},
                      NameCase{"one_char_vendor", "v/c=x", true, "v", "c", "x"},
                      NameCase{"equals_in_name_cut_at_first", "v.com/c=a=b", false, "", "", ""},
                      NameCase{"slash_in_class", "v.com/c/d=x", false, "", "", ""},
                      NameCase{"empty", "", false, "", "", ""},
                      NameCase{"leading_slash", "/dev/null", false, "", "", ""},
                      NameCase{"no_equals", "vendor.com/gpu", false, "", "", ""},
                      NameCase{"empty_name", "vendor.com/gpu=", false, "", "", ""},
                      NameCase{"empty_class", "vendor.com/=0", false, "", "", ""},
                      NameCase{"vendor_leading_digit", "1vendor.com/gpu=0", false, "", "", ""},
                      NameCase{"vendor_trailing_dot", "vendor./gpu=0", false, "", "", ""},
                      NameCase{"class_bad_char", "vendor.com/g+pu=0", false, "", "", ""},
                      NameCase{"name_trailing_dash", "vendor.com/gpu=0-", false, "", "", ""},
                      NameCase{"name_space", "vendor.com/gpu=a b", false, "", "", ""},
                      NameCase{"non_ascii", "vendor.com/gpu=a\xc3\xa9z", false, "", "", ""}),
    [](const ::testing::TestParamInfo<NameCase>& i) { return i.param.name; });

TEST(QualifiedName, ErrorQuotesTheCulprit) {
  auto q = parse_qualified_name("vendor.com/g+pu=0");
  ASSERT_FALSE(q.ok());
  EXPECT_NE(q.error().message.find("\"g+pu\""), std::string::npos) << q.error().message;
  EXPECT_NE(q.error().message.find("\"+\""), std::string::npos) << q.error().message;
}

TEST(QualifiedName, SplitLeavesUnqualifiedNamesWhole) {
  EXPECT_EQ(split_qualified_name("/dev/null").vendor, "");
  EXPECT_EQ(split_qualified_name("/dev/null").name, "/dev/null");
  EXPECT_EQ(split_qualified_name("a/b=c").kind(), "a/b");
}

TEST(Kind, ParsesAndValidates) {
  EXPECT_TRUE(parse_kind("nvidia.com/gpu").ok());
  EXPECT_FALSE(parse_kind("nvidia.com").ok());
  EXPECT_FALSE(parse_kind("/gpu").ok());
  EXPECT_FALSE(parse_kind("nvidia.com/").ok());
  EXPECT_FALSE(parse_kind("9nvidia.com/gpu").ok());
}

}  // namespace
}  // namespace cdi
