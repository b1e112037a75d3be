#include "base/json_writer.h"

#include <gtest/gtest.h>

namespace cdi {
namespace {

std::string rapidjson_text(const rapidjson::Value& v, bool pretty) {
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    v.Accept(writer);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
  }
  return {buffer.GetString(), buffer.GetSize()};
}

struct Case {
  const char* name;
  const char* json;
};

class JsonWriterTest : public ::testing::TestWithParam<Case> {};

// The writer lays out every value exactly as RapidJSON's own writers do.
TEST_P(JsonWriterTest, MatchesRapidJsonWriters) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(GetParam().json);
  ASSERT_FALSE(doc.HasParseError()) << GetParam().json;
  for (bool pretty : {false, true}) {
    std::string out;
    write_json(doc, pretty, out);
    EXPECT_EQ(out, rapidjson_text(doc, pretty)) << (pretty ? "pretty" : "compact");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, JsonWriterTest,
    ::testing::Values(Case{"scalars", R"([null, true, false, 0, -1, 18446744073709551615, -9223372036854775808])"},
                      Case{"doubles", R"([0.5, 1e300, -2.5e-300, 3.14159265358979, 1.0, 100000000000000000000.0])"},
                      Case{"empty_containers", R"({"a": [], "b": {}, "c": [[], {}]})"},
                      Case{"nested", R"({"process": {"env": ["A=1", "B=2"], "user": {"uid": 0}}, "x": [1, [2, [3]]]})"},
                      Case{"escapes",
                           R"(["quote \" backslash \\ slash / tab \t nl \n cr \r bs \b ff \f", "\u0001\u001f\u007f"])"},
                      Case{"utf8", R"({"ключ": "значение ✓ 🙂"})"}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(JsonWriter, StringLiteral) {
  std::string out;
  write_json_string(std::string_view("a\x01\"b\\c\n", 7), out);
  EXPECT_EQ(out, R"("a\u0001\"b\\c\n")");
}

// What RapidJSON's reader makes of a lone surrogate escape goes back out as the
// escape; other code points with the same lead byte stay as they are.
TEST(JsonWriter, LoneSurrogateIsWrittenAsItsEscape) {
  std::string out;
  write_json_string("x\xED\xB8\xA0y\xED\x9F\xBF", out);
  EXPECT_EQ(out, "\"x\\uDE20y\xED\x9F\xBF\"");
}

TEST(JsonWriter, AppendsToWhatIsThere) {
  rapidjson::Document doc;
  doc.Parse("[1]");
  std::string out = "x=";
  write_json(doc, false, out);
  EXPECT_EQ(out, "x=[1]");
}

}  // namespace
}  // namespace cdi
