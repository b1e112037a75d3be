#include "base/text.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdi {
namespace {

struct QuoteCase {
  const char* name;
  std::string input;
  std::string quoted;
};

void PrintTo(const QuoteCase& c, std::ostream* os) { *os << c.name; }

class QuoteTest : public ::testing::TestWithParam<QuoteCase> {};

TEST_P(QuoteTest, Escapes) {
  const QuoteCase& c = GetParam();
  EXPECT_EQ(quote(c.input), c.quoted);
}

INSTANTIATE_TEST_SUITE_P(
    Table, QuoteTest,
    ::testing::Values(QuoteCase{"empty", "", "\"\""}, QuoteCase{"plain", "nvidia.com/gpu=0", "\"nvidia.com/gpu=0\""},
                      QuoteCase{"double_quote", "a\"b", "\"a\\\"b\""}, QuoteCase{"single_quote_kept", "a'b", "\"a'b\""},
                      QuoteCase{"backslash", "a\\b", "\"a\\\\b\""},
                      QuoteCase{"newline_tab_cr", "a\nb\tc\rd", "\"a\\nb\\tc\\rd\""},
                      QuoteCase{"escape_char", "\x1b[31mred", "\"\\x1b[31mred\""},
                      QuoteCase{"nul", std::string("a\0b", 3), "\"a\\x00b\""},
                      QuoteCase{"bell_and_unit_sep", "\x07\x1f", "\"\\x07\\x1f\""},
                      QuoteCase{"del", "\x7f", "\"\\x7f\""}, QuoteCase{"space_and_tilde_kept", " ~", "\" ~\""},
                      QuoteCase{"utf8_two_bytes", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
                      QuoteCase{"utf8_three_bytes", "\xe2\x82\xac", "\"\xe2\x82\xac\""},
                      QuoteCase{"utf8_four_bytes", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
                      QuoteCase{"lone_continuation", "\x80", "\"\\x80\""},
                      QuoteCase{"overlong_c0", "\xc0\xaf", "\"\\xc0\\xaf\""},
                      QuoteCase{"truncated_sequence_at_end", "a\xe2\x82", "\"a\\xe2\\x82\""},
                      QuoteCase{"bad_continuation", "\xc3(", "\"\\xc3(\""},
                      QuoteCase{"beyond_unicode_f5", "\xf5\x80\x80\x80", "\"\\xf5\\x80\\x80\\x80\""},
                      QuoteCase{"latin1_byte", "\xff", "\"\\xff\""},
                      // A C1 control (U+009B, CSI) would act on some terminals even as valid UTF-8.
                      QuoteCase{"c1_control_csi", "\xc2\x9b", "\"\\xc2\\x9b\""},
                      QuoteCase{"nbsp_is_not_c1", "\xc2\xa0", "\"\xc2\xa0\""},
                      QuoteCase{"surrogate", "\xed\xa0\x80", "\"\\xed\\xa0\\x80\""},
                      QuoteCase{"overlong_e0", "\xe0\x80\xaf", "\"\\xe0\\x80\\xaf\""},
                      QuoteCase{"above_u10ffff", "\xf4\x90\x80\x80", "\"\\xf4\\x90\\x80\\x80\""},
                      QuoteCase{"max_code_point", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""}),
    [](const ::testing::TestParamInfo<QuoteCase>& i) { return i.param.name; });

class QuoteIfNeededTest : public ::testing::TestWithParam<QuoteCase> {};

TEST_P(QuoteIfNeededTest, QuotesOnlyWhatNeedsEscaping) {
  const QuoteCase& c = GetParam();
  EXPECT_EQ(quote_if_needed(c.input), c.quoted);
}

INSTANTIATE_TEST_SUITE_P(
    Table, QuoteIfNeededTest,
    ::testing::Values(QuoteCase{"plain_path", "/etc/cdi/nvidia.yaml", "/etc/cdi/nvidia.yaml"},
                      QuoteCase{"spaces_and_utf8", "/etc/cdi/caf\xc3\xa9 x.yaml", "/etc/cdi/caf\xc3\xa9 x.yaml"},
                      QuoteCase{"terminal_escape", "/etc/cdi/\x1b[31mred.yaml", "\"/etc/cdi/\\x1b[31mred.yaml\""},
                      QuoteCase{"newline", "a\nb.yaml", "\"a\\nb.yaml\""},
                      QuoteCase{"c1_csi", "a\xc2\x9b.yaml", "\"a\\xc2\\x9b.yaml\""},
                      QuoteCase{"invalid_utf8", "a\xff.yaml", "\"a\\xff.yaml\""},
                      QuoteCase{"double_quote", "a\"b", "\"a\\\"b\""}, QuoteCase{"backslash", "a\\b", "\"a\\\\b\""},
                      QuoteCase{"empty", "", ""}),
    [](const ::testing::TestParamInfo<QuoteCase>& i) { return i.param.name; });

TEST(Split, KeepsEmptyFields) {
  EXPECT_EQ(split("a,b", ','), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(split("", ','), (std::vector<std::string_view>{""}));
  EXPECT_EQ(split(",", ','), (std::vector<std::string_view>{"", ""}));
  EXPECT_EQ(split("a,,b,", ','), (std::vector<std::string_view>{"a", "", "b", ""}));
  EXPECT_EQ(split("a, b", ','), (std::vector<std::string_view>{"a", " b"}));
  EXPECT_EQ(split("abc", ','), (std::vector<std::string_view>{"abc"}));
}

TEST(Join, WithSeparator) {
  EXPECT_EQ(join({}, ", "), "");
  EXPECT_EQ(join({"a"}, ", "), "a");
  EXPECT_EQ(join({"a", "", "c"}, ","), "a,,c");
  EXPECT_EQ(join({"x", "y"}, " and "), "x and y");
}

TEST(CharClasses, AsciiOnly) {
  EXPECT_TRUE(is_alpha('a'));
  EXPECT_TRUE(is_alpha('Z'));
  EXPECT_FALSE(is_alpha('0'));
  EXPECT_FALSE(is_alpha('\xc3'));
  EXPECT_TRUE(is_digit('9'));
  EXPECT_FALSE(is_digit('a'));
  EXPECT_TRUE(is_alnum('q'));
  EXPECT_TRUE(is_alnum('5'));
  EXPECT_FALSE(is_alnum('_'));
  EXPECT_FALSE(is_alnum('-'));
}

struct CleanCase {
  const char* input;
  const char* cleaned;
};
// Failures show the path, not the struct's bytes.
void PrintTo(const CleanCase& c, std::ostream* os) { *os << '"' << c.input << '"'; }

class CleanPathTest : public ::testing::TestWithParam<CleanCase> {};

TEST_P(CleanPathTest, MatchesGoFilepathClean) {
  EXPECT_EQ(clean_path(GetParam().input), GetParam().cleaned) << quote(GetParam().input);
}

// The cases of Go's path/filepath Clean tests.
INSTANTIATE_TEST_SUITE_P(
    Go, CleanPathTest,
    ::testing::Values(
        // Already clean.
        CleanCase{"abc", "abc"}, CleanCase{"abc/def", "abc/def"}, CleanCase{"a/b/c", "a/b/c"}, CleanCase{".", "."},
        CleanCase{"..", ".."}, CleanCase{"../..", "../.."}, CleanCase{"../../abc", "../../abc"},
        CleanCase{"/abc", "/abc"}, CleanCase{"/", "/"},
        // Empty is the current dir.
        CleanCase{"", "."},
        // Trailing slashes.
        CleanCase{"abc/", "abc"}, CleanCase{"abc/def/", "abc/def"}, CleanCase{"a/b/c/", "a/b/c"}, CleanCase{"./", "."},
        CleanCase{"../", ".."}, CleanCase{"../../", "../.."}, CleanCase{"/abc/", "/abc"},
        // Doubled slashes.
        CleanCase{"abc//def//ghi", "abc/def/ghi"}, CleanCase{"//abc", "/abc"}, CleanCase{"///abc", "/abc"},
        CleanCase{"//abc//", "/abc"}, CleanCase{"abc//", "abc"},
        // Dot elements.
        CleanCase{"abc/./def", "abc/def"}, CleanCase{"/./abc/def", "/abc/def"}, CleanCase{"abc/.", "abc"},
        // Dot-dot elements.
        CleanCase{"abc/def/ghi/../jkl", "abc/def/jkl"}, CleanCase{"abc/def/../ghi/../jkl", "abc/jkl"},
        CleanCase{"abc/def/..", "abc"}, CleanCase{"abc/def/../..", "."}, CleanCase{"/abc/def/../..", "/"},
        CleanCase{"abc/def/../../..", ".."}, CleanCase{"/abc/def/../../..", "/"},
        CleanCase{"abc/def/../../../ghi/jkl/../../../mno", "../../mno"}, CleanCase{"/../abc", "/abc"},
        // Combinations.
        CleanCase{"abc/./../def", "def"}, CleanCase{"abc//./../def", "def"},
        CleanCase{"abc/../../././../def", "../../def"}));

}  // namespace
}  // namespace cdi
