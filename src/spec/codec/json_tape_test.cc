#include "spec/codec/json_tape.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdi::codec {
namespace {

std::string style_name(ScalarStyle s) {
  switch (s) {
    case ScalarStyle::json_string:
      return "s";
    case ScalarStyle::json_number:
      return "n";
    case ScalarStyle::json_bool:
      return "b";
    case ScalarStyle::json_null:
      return "z";
    default:
      return "?";
  }
}

// { } [ ] for collections; scalars as style:text.
std::string render(const Tape& t) {
  std::string out;
  for (const auto& e : t.events) {
    if (!out.empty()) out += ' ';
    switch (e.type) {
      case EventType::map_start:
        out += '{';
        break;
      case EventType::map_end:
        out += '}';
        break;
      case EventType::seq_start:
        out += '[';
        break;
      case EventType::seq_end:
        out += ']';
        break;
      case EventType::scalar:
        out += style_name(e.style) + ":" + std::string(t.text(e));
        break;
    }
  }
  return out;
}

// An empty view may have a null data pointer (found by fuzz/guest_map); memchr of it is undefined.
TEST(JsonTape, EmptyViewWithoutDataIsRefusedCleanly) {
  Result<Tape> tape = json_to_tape(std::string_view());
  ASSERT_FALSE(tape.ok());
  EXPECT_EQ(tape.error().to_string(), json_to_tape("").error().to_string());
  EXPECT_EQ(peek_json_kind(std::string_view()).result, KindPeek::unsure);
}

TEST(JsonTape, ScalarsKeepTheirJsonType) {
  auto t = json_to_tape(R"({"a": "x", "b": 1.50, "c": true, "d": null, "e": [1, -2e3, 18446744073709551616]})");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(render(*t), "{ s:a s:x s:b n:1.50 s:c b:true s:d z:null s:e [ n:1 n:-2e3 n:18446744073709551616 ] }");
}

TEST(JsonTape, EscapesAreDecoded) {
  auto t = json_to_tape(R"(["\u00e9\n\"\\", "\ud83d\ude00"])");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->events.size(), 4u);
  EXPECT_EQ(t->text(t->events[1]), "\xc3\xa9\n\"\\");
  EXPECT_EQ(t->text(t->events[2]), "\xf0\x9f\x98\x80");
}

TEST(JsonTape, EscapedNulInsideAStringIsKept) {
  // Only raw NUL bytes are refused; \u0000 is a character of the string.
  auto t = json_to_tape(R"(["a\u0000b"])");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->text(t->events[1]), std::string_view("a\0b", 3));
}

TEST(JsonTape, PositionsAreTokenStarts) {
  std::string text = "{\n  \"a\" : [ 10 ,\n\t\"x\" ],\n  \"b\":{}}";
  auto t = json_to_tape(text);
  ASSERT_TRUE(t.ok()) << t.error().message;
  std::vector<std::string> at;
  for (const auto& e : t->events) at.push_back(std::to_string(e.line) + ":" + std::to_string(e.column));
  // {  "a"  [  10  "x"  ]  "b"  {  }  }
  EXPECT_EQ(at, (std::vector<std::string>{"1:1", "2:3", "2:9", "2:11", "3:2", "3:6", "4:3", "4:7", "4:8", "4:9"}));
}

struct ErrorCase {
  const char* name;
  std::string json;
  const char* message;
  int line;
  int column;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class JsonErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(JsonErrorTest, Located) {
  const ErrorCase& c = GetParam();
  auto t = json_to_tape(c.json);
  ASSERT_FALSE(t.ok()) << render(*t);
  EXPECT_NE(t.error().message.find(c.message), std::string::npos) << t.error().message;
  EXPECT_EQ(t.error().line, c.line) << t.error().message;
  EXPECT_EQ(t.error().column, c.column) << t.error().message;
}

INSTANTIATE_TEST_SUITE_P(Table, JsonErrorTest,
                         ::testing::Values(ErrorCase{"nul_in_string", std::string("{\"a\": \"x\0\"}", 11),
                                                     "invalid JSON: NUL byte in the input", 1, 9},
                                           ErrorCase{"nul_after_document", std::string("{}\n\0", 4), "NUL byte", 2, 1},
                                           ErrorCase{"nul_on_line_three", std::string("{\n\"a\":\n 1\0}", 11),
                                                     "NUL byte", 3, 3},
                                           ErrorCase{"truncated_array", "{\"a\": [1, 2", "invalid JSON", 1, 12},
                                           ErrorCase{"truncated_string", "{\"a\": \"xy", "invalid JSON", 1, 10},
                                           ErrorCase{"truncated_after_key", "{\n  \"a\"", "invalid JSON", 2, 6},
                                           ErrorCase{"missing_colon", "{\"a\" 1}", "invalid JSON", 1, 6},
                                           ErrorCase{"trailing_comma", "[1,\n 2,\n]", "invalid JSON", 3, 1},
                                           ErrorCase{"two_roots", "{} {}", "invalid JSON", 1, 4},
                                           ErrorCase{"single_quotes", "{'a': 1}", "invalid JSON", 1, 2},
                                           ErrorCase{"comment", "{} // x", "invalid JSON", 1, 4},
                                           ErrorCase{"bare_word", "[yes]", "invalid JSON", 1, 2},
                                           ErrorCase{"leading_zero", "[01]", "invalid JSON", 1, 3},
                                           ErrorCase{"invalid_utf8", "[\"\xff\"]", "invalid JSON", 1, 3},
                                           ErrorCase{"lone_surrogate_escape", R"(["\ud800"])", "invalid JSON", 1, 3},
                                           ErrorCase{"empty", "", "invalid JSON", 1, 1}),
                         [](const ::testing::TestParamInfo<ErrorCase>& i) { return i.param.name; });

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(JsonTape, HundredThousandNestedArrays) {
  auto t = json_to_tape(repeat("[", 100'000) + repeat("]", 100'000));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "nesting deeper than 64 levels");
  EXPECT_EQ(t.error().line, 1);
  EXPECT_EQ(t.error().column, 65);
}

TEST(JsonTape, HundredThousandNestedObjects) {
  auto t = json_to_tape(repeat("{\"a\":", 100'000) + "1" + repeat("}", 100'000));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "nesting deeper than 64 levels");
}

TEST(JsonTape, DepthLimitIsConfigurable) {
  Limits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(json_to_tape("[[[]]]", limits).ok());
  EXPECT_FALSE(json_to_tape("[[[[]]]]", limits).ok());
}

TEST(JsonTape, EventLimit) {
  Limits limits;
  limits.max_events = 50;
  auto t = json_to_tape("[" + repeat("1,", 100) + "1]", limits);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "document too large: more than 50 nodes");
  EXPECT_EQ(t.error().line, 1);
  EXPECT_EQ(t.error().column, 2 + 2 * 49);
}

TEST(LineColumn, CountsBytesPerLine) {
  std::string_view text = "ab\ncd\n\nx";
  EXPECT_EQ(line_column_at(text, 0).line, 1);
  EXPECT_EQ(line_column_at(text, 0).column, 1);
  EXPECT_EQ(line_column_at(text, 2).column, 3);  // the newline itself
  EXPECT_EQ(line_column_at(text, 3).line, 2);
  EXPECT_EQ(line_column_at(text, 3).column, 1);
  EXPECT_EQ(line_column_at(text, 7).line, 4);
  EXPECT_EQ(line_column_at(text, 100).line, 4);  // clamped to the end
  EXPECT_EQ(line_column_at(text, 100).column, 2);
}

// ---- peek_json_kind -----------------------------------------------------

struct PeekCase {
  const char* name;
  std::string json;
  KindPeek result;
  const char* kind;
};

void PrintTo(const PeekCase& c, std::ostream* os) { *os << c.name; }

class PeekJsonTest : public ::testing::TestWithParam<PeekCase> {};

TEST_P(PeekJsonTest, Peeks) {
  const PeekCase& c = GetParam();
  PeekedKind p = peek_json_kind(c.json);
  EXPECT_EQ(static_cast<int>(p.result), static_cast<int>(c.result));
  EXPECT_EQ(p.kind, c.kind);
}

std::string big_devices() {
  std::string out = "\"devices\": [";
  for (int i = 0; i < 2000; ++i) {
    if (i) out += ",";
    out +=
        "{\"name\": \"d" + std::to_string(i) + "\", \"containerEdits\": {\"kind\": \"nested/x\", \"env\": [\"A=1\"]}}";
  }
  return out + "]";
}

INSTANTIATE_TEST_SUITE_P(
    Table, PeekJsonTest,
    ::testing::Values(PeekCase{"first", R"({"kind": "v/c", "cdiVersion": "1.0.0"})", KindPeek::found, "v/c"},
                      PeekCase{"after_big_value", "{" + big_devices() + ", \"kind\": \"v/c\"}", KindPeek::found, "v/c"},
                      PeekCase{"found_despite_later_error", R"({"kind": "v/c", "devices": [)", KindPeek::found, "v/c"},
                      PeekCase{"escaped", R"({"kind": "v\/c"})", KindPeek::found, "v/c"},
                      PeekCase{"nested_only", R"({"a": {"kind": "x/y"}, "b": [{"kind": "z/w"}]})", KindPeek::absent,
                               ""},
                      PeekCase{"absent", R"({"cdiVersion": "1.0.0", "devices": []})", KindPeek::absent, ""},
                      PeekCase{"empty_object", "{}", KindPeek::absent, ""},
                      PeekCase{"kind_number", R"({"kind": 5})", KindPeek::unsure, ""},
                      PeekCase{"kind_null", R"({"kind": null})", KindPeek::unsure, ""},
                      PeekCase{"kind_bool", R"({"kind": true})", KindPeek::unsure, ""},
                      PeekCase{"kind_object", R"({"kind": {"a": "v/c"}})", KindPeek::unsure, ""},
                      PeekCase{"kind_array", R"({"kind": ["v/c"]})", KindPeek::unsure, ""},
                      PeekCase{"root_array", R"([{"kind": "v/c"}])", KindPeek::unsure, ""},
                      PeekCase{"root_string", R"("kind")", KindPeek::unsure, ""},
                      PeekCase{"absent_then_garbage", R"({"a": 1} x)", KindPeek::unsure, ""},
                      PeekCase{"syntax_error_first", R"({"a" 1, "kind": "v/c"})", KindPeek::unsure, ""},
                      PeekCase{"nul_byte", std::string("{\"kind\": \"v/c\"}\0", 16), KindPeek::unsure, ""},
                      PeekCase{"empty", "", KindPeek::unsure, ""}),
    [](const ::testing::TestParamInfo<PeekCase>& i) { return i.param.name; });

}  // namespace
}  // namespace cdi::codec
