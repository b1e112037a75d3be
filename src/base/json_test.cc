#include "base/json.h"

#include <string>

#include <gtest/gtest.h>

namespace cdi {
namespace {

struct ExponentCase {
  const char* name;
  std::string json;
  std::optional<size_t> at;  // offset of the number refused, or nullopt
};

void PrintTo(const ExponentCase& c, std::ostream* os) { *os << c.name; }

class ExponentTest : public ::testing::TestWithParam<ExponentCase> {};

TEST_P(ExponentTest, FindsTheNumber) { EXPECT_EQ(find_out_of_range_exponent(GetParam().json), GetParam().at); }

INSTANTIATE_TEST_SUITE_P(
    Table, ExponentTest,
    ::testing::Values(ExponentCase{"no_numbers", R"({"a":"b"})", std::nullopt},
                      ExponentCase{"plain_exponent", R"({"a":1e308})", std::nullopt},
                      ExponentCase{"five_digits", R"({"a":1.5E-99999})", std::nullopt},
                      ExponentCase{"leading_zeros_do_not_count", R"({"a":1e+0000000000001})", std::nullopt},
                      ExponentCase{"six_digits", R"({"a":1e100000})", 5},
                      ExponentCase{"negative_number", R"([0,-2.5e-2147483639])", 3},
                      ExponentCase{"second_number", R"([1e5,2e123456])", 5},
                      ExponentCase{"inside_a_string", R"({"a":"1e1234567"})", std::nullopt},
                      ExponentCase{"after_an_escaped_quote", R"({"a":"\"1e1234567"})", std::nullopt},
                      ExponentCase{"string_then_number", R"({"a\\":1e1234567})", 7},
                      ExponentCase{"keywords_have_an_e", R"([true,false,1e1])", std::nullopt},
                      ExponentCase{"a_key_with_digits_and_e", R"({"1e1234567":1})", std::nullopt}),
    [](const ::testing::TestParamInfo<ExponentCase>& i) { return i.param.name; });

}  // namespace
}  // namespace cdi
