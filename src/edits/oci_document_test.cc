#include "edits/oci_document.h"

#include <string>

#include <gtest/gtest.h>

namespace cdi {
namespace {

TEST(OciDocument, RoundTripKeepsKeyOrderAndUnknownFields) {
  std::string in =
      R"({"ociVersion":"1.0.2","zeta":{"b":1,"a":[true,null,"x"]},"process":{"env":["A=1"],"x-unknown":{}},)"
      R"("alpha":"last"})";
  auto doc = OciDocument::parse(in);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->serialize(false), in + "\n");
  // Pretty output re-parses to the same compact text.
  auto again = OciDocument::parse(doc->serialize(true));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->serialize(false), in + "\n");
}

// A lone low surrogate escape is accepted by the reader; it is written back as
// that escape, not as bytes that are not UTF-8 (found by fuzz/oci_config).
TEST(OciDocument, LoneSurrogateEscapeIsWrittenBackAsAnEscape) {
  std::string in = R"({"a":"x\uDE20y","b":"\uD7FF\uE000\uD83D\uDE00"})";
  auto doc = OciDocument::parse(in);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  std::string out = doc->serialize(false);
  EXPECT_EQ(out, "{\"a\":\"x\\uDE20y\",\"b\":\"\xED\x9F\xBF\xEE\x80\x80\xF0\x9F\x98\x80\"}\n");
  auto again = OciDocument::parse(out);
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(again->serialize(false), out);
}

TEST(OciDocument, PrettyFormat) {
  auto doc = OciDocument::parse(R"({"a":[1,2],"b":{}})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->serialize(), "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {}\n}\n");
}

struct NumberCase {
  const char* name;
  const char* json;  // the value as written
  const char* out;   // as written back
};

void PrintTo(const NumberCase& c, std::ostream* os) { *os << c.name; }

class OciNumberTest : public ::testing::TestWithParam<NumberCase> {};

TEST_P(OciNumberTest, KeepsValue) {
  auto doc = OciDocument::parse(std::string("{\"n\":") + GetParam().json + "}");
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->serialize(false), std::string("{\"n\":") + GetParam().out + "}\n");
}

INSTANTIATE_TEST_SUITE_P(
    Table, OciNumberTest,
    ::testing::Values(NumberCase{"zero", "0", "0"},
                      NumberCase{"int64_min", "-9223372036854775808", "-9223372036854775808"},
                      NumberCase{"int64_max", "9223372036854775807", "9223372036854775807"},
                      NumberCase{"uint64_max", "18446744073709551615", "18446744073709551615"},
                      NumberCase{"uint32_max", "4294967295", "4294967295"}, NumberCase{"negative", "-1", "-1"},
                      NumberCase{"fraction", "1.5", "1.5"}, NumberCase{"exponent", "1e3", "1000.0"},
                      NumberCase{"longest_exponent_kept", "1e-00000099999", "0.0"},
                      NumberCase{"zero_significand_with_exponent", "0e40", "0.0"},
                      NumberCase{"negative_zero", "-0", "0"}, NumberCase{"negative_zero_double", "-0.0", "-0.0"},
                      NumberCase{"beyond_int64_is_a_double", "-9223372036854775809", "-9223372036854776000.0"},
                      NumberCase{"beyond_uint64_is_a_double", "18446744073709551616", "18446744073709553000.0"},
                      NumberCase{"nearest_double", "0.30000000000000004441", "0.30000000000000007"},
                      NumberCase{"underflow_is_zero", "1e-400", "0.0"},
                      NumberCase{"smallest_denormal", "5e-324", "5e-324"},
                      NumberCase{"largest_double", "1.7976931348623157e308", "1.7976931348623157e308"},
                      NumberCase{"tiny", "0.1", "0.1"}),
    [](const ::testing::TestParamInfo<NumberCase>& i) { return i.param.name; });

TEST(OciDocument, NumbersHaveTheirTypes) {
  auto doc = OciDocument::parse(R"({"a":-9223372036854775808,"b":18446744073709551615,"c":1.5,"d":438})");
  ASSERT_TRUE(doc.ok());
  const auto& j = doc->json();
  EXPECT_TRUE(j["a"].IsInt64());
  EXPECT_EQ(j["a"].GetInt64(), INT64_MIN);
  EXPECT_TRUE(j["b"].IsUint64());
  EXPECT_EQ(j["b"].GetUint64(), UINT64_MAX);
  EXPECT_TRUE(j["c"].IsDouble());
  EXPECT_EQ(j["c"].GetDouble(), 1.5);
  EXPECT_TRUE(j["d"].IsUint());
}

struct BadCase {
  const char* name;
  std::string json;
  const char* message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class OciBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(OciBadTest, Refused) {
  auto doc = OciDocument::parse(GetParam().json);
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.error().to_string().find(GetParam().message), std::string::npos) << doc.error().to_string();
}

std::string nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

INSTANTIATE_TEST_SUITE_P(
    Table, OciBadTest,
    ::testing::Values(BadCase{"empty", "", "empty input"}, BadCase{"blank", " \n\t ", "empty input"},
                      BadCase{"array_root", "[]", "expected a JSON object, got an array"},
                      BadCase{"string_root", "\"x\"", "expected a JSON object, got a string"},
                      BadCase{"null_root", "null", "expected a JSON object, got null"},
                      BadCase{"number_root", "5", "expected a JSON object, got a number"},
                      BadCase{"truncated", "{\"a\":", "invalid JSON"}, BadCase{"trailing", "{} x", "invalid JSON"},
                      BadCase{"nul", std::string("{\"a\":\"\0\"}", 9), "NUL byte"},
                      BadCase{"invalid_utf8", "{\"a\":\"\xc3\x28\"}", "invalid JSON"},
                      BadCase{"exponent_overflowing_with_fraction", "{\"a\":0.000000000000e-2147483639}",
                              "invalid JSON: number exponent longer than 5 digits"},
                      BadCase{"beyond_a_double", "{\"a\":1.8e308}", "Number too big"},
                      BadCase{"far_beyond_a_double", "{\"a\":1e400}", "Number too big"},
                      BadCase{"long_positive_exponent", "{\"a\":1E+123456}", "number exponent longer than 5 digits"},
                      BadCase{"duplicate_root", "{\"process\":{},\"process\":{}}", "(root): duplicate key \"process\""},
                      BadCase{"too_deep_arrays", "{\"a\":" + nested(100'000) + "}", "nested deeper than 256 levels"},
                      BadCase{"too_deep_objects",
                              [] {
                                std::string s;
                                for (int i = 0; i < 100'000; ++i) s += "{\"a\":";
                                return s;
                              }(),
                              "nested deeper than 256 levels"}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return i.param.name; });

TEST(OciDocument, DepthLimitBoundary) {
  // The root object is level 1: 255 arrays inside it make 256 levels.
  EXPECT_TRUE(OciDocument::parse("{\"a\":" + nested(255) + "}").ok());
  auto deeper = OciDocument::parse("{\"a\":" + nested(256) + "}");
  ASSERT_FALSE(deeper.ok());
  EXPECT_EQ(deeper.error().line, 1);
  EXPECT_GT(deeper.error().column, 256);
}

TEST(OciDocument, ParseErrorsAreLocated) {
  auto doc = OciDocument::parse("{\n  \"a\": 1,\n  \"b\" 2\n}");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.error().line, 3);
  EXPECT_EQ(doc.error().column, 7);
}

TEST(OciDocument, FindMemberRefusesDuplicates) {
  auto doc = OciDocument::parse(R"({"linux":{"devices":[],"devices":[{"path":"/dev/x"}]},"process":{"env":[]}})");
  ASSERT_TRUE(doc.ok()) << "duplicates below the root are found when read";
  auto& root = doc->json();
  auto linux_section = find_member(root, "linux", "");
  ASSERT_TRUE(linux_section.ok());
  ASSERT_NE(*linux_section, nullptr);
  auto devices = find_member(**linux_section, "devices", "linux");
  ASSERT_FALSE(devices.ok());
  EXPECT_EQ(devices.error().field, "linux");
  EXPECT_EQ(devices.error().message, "duplicate key \"devices\"");
  // Any member of an object with duplicates is refused: the object is ambiguous.
  EXPECT_FALSE(find_member(**linux_section, "other", "linux").ok());
  auto missing = find_member(root, "hooks", "");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(*missing, nullptr);
}

TEST(OciDocument, EnsureObjectAndArray) {
  auto doc = OciDocument::parse(R"({"process":null,"mounts":{},"linux":{"x":1}})");
  ASSERT_TRUE(doc.ok());
  auto& root = doc->json();
  auto& a = doc->allocator();
  auto proc = ensure_object(root, "process", "", a);
  ASSERT_TRUE(proc.ok());
  EXPECT_TRUE((*proc)->IsObject());
  auto hooks = ensure_object(root, "hooks", "", a);
  ASSERT_TRUE(hooks.ok());
  auto mounts = ensure_array(root, "mounts", "", a);
  ASSERT_FALSE(mounts.ok());
  EXPECT_EQ(mounts.error().field, "mounts");
  EXPECT_EQ(mounts.error().message, "expected an array, got an object");
  auto lin = ensure_object(root, "linux", "", a);
  ASSERT_TRUE(lin.ok());
  auto x = ensure_object(**lin, "x", "linux", a);
  ASSERT_FALSE(x.ok());
  EXPECT_EQ(x.error().field, "linux.x");
  EXPECT_EQ(doc->serialize(false), R"({"process":{},"mounts":{},"linux":{"x":1},"hooks":{}})"
                                   "\n");
}

TEST(OciDocument, CloneIsIndependent) {
  auto doc = OciDocument::parse(R"({"a":[1]})");
  ASSERT_TRUE(doc.ok());
  OciDocument copy = doc->clone();
  copy.json()["a"].PushBack(2, copy.allocator());
  EXPECT_EQ(doc->serialize(false), "{\"a\":[1]}\n");
  EXPECT_EQ(copy.serialize(false), "{\"a\":[1,2]}\n");
}

TEST(OciDocument, IsState) {
  auto state = OciDocument::parse(R"({"ociVersion":"1.0.2","id":"c1","status":"creating","pid":5,"bundle":"/b"})");
  ASSERT_TRUE(state.ok());
  EXPECT_TRUE(state->is_state());
  auto config = OciDocument::parse(R"({"ociVersion":"1.0.2","process":{},"root":{"path":"rootfs"}})");
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->is_state());
  // Either "bundle" or "status" makes a state (a config has neither), so a
  // state missing a member is refused later rather than taken for a config.
  for (const char* json : {R"({"id":"c1","bundle":"/b"})", R"({"status":"created"})"}) {
    auto partial = OciDocument::parse(json);
    ASSERT_TRUE(partial.ok());
    EXPECT_TRUE(partial->is_state()) << json;
  }
  auto id_only = OciDocument::parse(R"({"id":"c1","process":{}})");
  ASSERT_TRUE(id_only.ok());
  EXPECT_FALSE(id_only->is_state());
}

TEST(OciDocument, Annotations) {
  auto doc = OciDocument::parse(R"({"annotations":{"z":"1","cdi.k8s.io/a":"v/c=d","n":5,"o":{},"a":"2"}})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->annotations(), (AnnotationList{{"z", "1"}, {"cdi.k8s.io/a", "v/c=d"}, {"a", "2"}}));
  auto none = OciDocument::parse(R"({"annotations":"x"})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->annotations().empty());
  auto absent = OciDocument::parse(R"({})");
  ASSERT_TRUE(absent.ok());
  EXPECT_TRUE(absent->annotations().empty());
}

TEST(OciDocument, StringMember) {
  auto doc = OciDocument::parse(R"({"id":"c1","pid":5})");
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->string_member("id"), "c1");
  EXPECT_EQ(doc->string_member("pid"), "");
  EXPECT_EQ(doc->string_member("nope"), "");
  EXPECT_TRUE(doc->has_member("pid"));
  EXPECT_FALSE(doc->has_member("nope"));
}

TEST(OciDocument, StringsWithEscapesAndNulRoundTrip) {
  std::string in = R"({"a":"x\u0000y","b":"\u00e9\n\t\"","c":"\ud83d\ude00"})";
  auto doc = OciDocument::parse(in);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(json_view(doc->json()["a"]), std::string_view("x\0y", 3));
  auto again = OciDocument::parse(doc->serialize(false));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(json_view(again->json()["a"]), std::string_view("x\0y", 3));
  EXPECT_EQ(json_view(again->json()["b"]), "\xc3\xa9\n\t\"");
  EXPECT_EQ(json_view(again->json()["c"]), "\xf0\x9f\x98\x80");
}

TEST(JsonHelpers, TypeNames) {
  rapidjson::Document d;
  d.Parse(R"([null,true,false,{},[],"s",1])");
  const char* want[] = {"null", "a boolean", "a boolean", "an object", "an array", "a string", "a number"};
  for (rapidjson::SizeType i = 0; i < d.Size(); ++i) EXPECT_EQ(json_type_name(d[i]), want[i]);
  EXPECT_EQ(json_view(d[6]), "");
}

}  // namespace
}  // namespace cdi
