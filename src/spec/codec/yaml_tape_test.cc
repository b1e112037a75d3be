#include "spec/codec/yaml_tape.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdi::codec {
namespace {

// The tape in a compact form: { } [ ] for collections, scalars as text, with
// ' for quoted scalars and !tag for tagged ones.
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
        if (!t.tag(e).empty()) out += "!" + std::string(t.tag(e)) + " ";
        if (e.style == ScalarStyle::yaml_quoted) out += '\'';
        out += t.text(e);
        break;
    }
  }
  return out;
}

std::string render_yaml(std::string_view text) {
  auto t = yaml_to_tape(text);
  if (!t.ok()) return "error: " + t.error().message;
  return render(*t);
}

struct TapeCase {
  const char* name;
  std::string yaml;
  std::string tape;
};

void PrintTo(const TapeCase& c, std::ostream* os) { *os << c.name; }

class YamlTapeTest : public ::testing::TestWithParam<TapeCase> {};

TEST_P(YamlTapeTest, Reads) { EXPECT_EQ(render_yaml(GetParam().yaml), GetParam().tape) << GetParam().yaml; }

INSTANTIATE_TEST_SUITE_P(
    Table, YamlTapeTest,
    ::testing::Values(
        TapeCase{"block_mapping", "a: 1\nb: x y\n", "{ a 1 b x y }"},
        TapeCase{"quoted_styles", "a: 'x'\nb: \"y\\tz\"\n", "{ a 'x b 'y\tz }"},
        TapeCase{"flow", "{a: [1, 2], b: {}}", "{ a [ 1 2 ] b { } }"},
        TapeCase{"tags_expanded", "a: !!str 5\nb: !!int 7\n",
                 "{ a !tag:yaml.org,2002:str 5 b !tag:yaml.org,2002:int 7 }"},
        TapeCase{"alias_of_sequence", "a: &x [1, 2]\nb: *x\n", "{ a [ 1 2 ] b [ 1 2 ] }"},
        TapeCase{"alias_of_mapping", "a: &m {k: v}\nb: [*m, *m]\n", "{ a { k v } b [ { k v } { k v } ] }"},
        TapeCase{"alias_of_scalar", "a: &s 'v'\nb: *s\n", "{ a 'v b 'v }"},
        TapeCase{"alias_as_key", "a: &k key\n*k : 1\n", "{ a key key 1 }"},
        TapeCase{"anchor_redefined", "a: &x 1\nb: &x 2\nc: *x\n", "{ a 1 b 2 c 2 }"},
        TapeCase{"nested_anchor", "a: &o [&i [1], 2]\nb: *i\nc: *o\n", "{ a [ [ 1 ] 2 ] b [ 1 ] c [ [ 1 ] 2 ] }"},
        TapeCase{"first_document_only", "a: 1\n---\nb: 2\n", "{ a 1 }"},
        TapeCase{"explicit_end", "a: 1\n...\n--- [\n", "{ a 1 }"}, TapeCase{"empty", "", ""},
        TapeCase{"comment_only", "# c\n", ""}, TapeCase{"null_document", "~\n", "~"},
        TapeCase{"unknown_anchor", "a: *nope\n", "error: alias *nope refers to an unknown anchor"},
        TapeCase{"alias_before_anchor", "a: *x\nb: &x 1\n", "error: alias *x refers to an unknown anchor"},
        TapeCase{"recursive_alias", "a: &r [1, *r]\n", "error: alias *r refers to the node that contains it"},
        TapeCase{"recursive_alias_deep", "a: &r {b: {c: [*r]}}\n",
                 "error: alias *r refers to the node that contains it"}),
    [](const ::testing::TestParamInfo<TapeCase>& i) { return i.param.name; });

// An empty view may have a null data pointer (found by fuzz/yaml_scanner); libyaml asserts a non-null input.
TEST(YamlTape, EmptyViewWithoutDataIsAnEmptyStream) {
  Result<Tape> tape = yaml_to_tape(std::string_view());
  ASSERT_TRUE(tape.ok()) << tape.error().to_string();
  EXPECT_TRUE(tape->events.empty());
  EXPECT_TRUE(yaml_to_tape_libyaml(std::string_view()).ok());
}

TEST(YamlTape, Positions) {
  auto t = yaml_to_tape("a: 1\nlist:\n  - x\n  - 'y'\n");
  ASSERT_TRUE(t.ok());
  std::vector<std::pair<int, int>> at;
  for (const auto& e : t->events) {
    if (e.type == EventType::scalar) at.emplace_back(e.line, static_cast<int>(e.column));
  }
  EXPECT_EQ(at, (std::vector<std::pair<int, int>>{{1, 1}, {1, 4}, {2, 1}, {3, 5}, {4, 5}}));
}

TEST(YamlTape, AliasedEventsKeepTheirOriginalPositions) {
  auto t = yaml_to_tape("a: &x v\nb: *x\n");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->events.size(), 6u);
  EXPECT_EQ(t->text(t->events[4]), "v");
  EXPECT_EQ(t->events[4].line, 1);
}

struct ErrorCase {
  const char* name;
  std::string yaml;
  const char* message;
  int line;
  int column;
};

void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class YamlErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(YamlErrorTest, Located) {
  const ErrorCase& c = GetParam();
  auto t = yaml_to_tape(c.yaml);
  ASSERT_FALSE(t.ok()) << render(*t);
  EXPECT_NE(t.error().message.find(c.message), std::string::npos) << t.error().message;
  EXPECT_EQ(t.error().line, c.line) << t.error().message;
  EXPECT_EQ(t.error().column, c.column) << t.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, YamlErrorTest,
    ::testing::Values(
        ErrorCase{"unknown_anchor", "a: 1\nb: [x, *nope]\n", "unknown anchor", 2, 8},
        ErrorCase{"recursive", "a:\n  b: &r\n    - *r\n", "contains it", 3, 7},
        ErrorCase{"unclosed_flow", "a: [1, 2\n", "invalid YAML", 2, 1},
        ErrorCase{"unclosed_quote", "a: 'x\n", "invalid YAML: found unexpected end of stream", 2, 1},
        ErrorCase{"bad_indent", "a: 1\n b: 2\n", "invalid YAML", 2, 3},
        ErrorCase{"tab_indent", "a:\n\t- x\n",
                  "invalid YAML: a tab character in the indentation (YAML indents "
                  "with spaces only)",
                  2, 1},
        ErrorCase{"tab_after_spaces", "a:\n  b: 1\n  \t c: 2\n", "a tab character in the indentation", 3, 3},
        ErrorCase{"tab_breaks_a_plain_scalar", "- name: x\n\tkey: y\n", "a tab character in the indentation", 2, 1},
        ErrorCase{"error_after_a_tab_separator", "a:\tb: c\n", "invalid YAML: mapping values are not allowed", 1, 5},
        ErrorCase{"duplicate_anchor_marker", "a: & x\n", "invalid YAML", 1, 5}),
    [](const ::testing::TestParamInfo<ErrorCase>& i) { return i.param.name; });

TEST(YamlTape, InvalidUtf8IsRefused) {
  auto t = yaml_to_tape("a: \xff\xfe\n");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("invalid YAML"), std::string::npos) << t.error().message;
  EXPECT_EQ(t.error().line, 1);
}

// Nine levels of nine aliases: 9^9 scalars if expanded in full.
std::string billion_laughs() {
  std::string doc = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) doc += (k ? ", *a" : "*a") + std::to_string(i - 1);
    doc += "]\n";
  }
  return doc;
}

TEST(YamlTape, BillionLaughsStopsAtTheEventLimit) {
  Limits limits;
  limits.max_events = 10'000;
  auto t = yaml_to_tape(billion_laughs(), limits);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "document too large: more than 10000 nodes after alias expansion");
  // a3 (line 4) ends at 9,229 events; a4's first alias would add 8,201.
  EXPECT_EQ(t.error().line, 5);
  EXPECT_EQ(t.error().column, 10);
}

// Peak memory and time of f() run in a child process.
struct ChildCost {
  bool ok = false;
  long max_rss_kib = 0;
  double seconds = 0;
};

template <class F>
ChildCost run_in_child(F f) {
  auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(f() ? 0 : 1);
  int status = 0;
  struct rusage ru {};
  ChildCost cost;
  if (pid < 0 || ::wait4(pid, &status, 0, &ru) != pid) return cost;
  cost.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cost.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  cost.max_rss_kib = ru.ru_maxrss;
  return cost;
}

TEST(YamlTape, BillionLaughsWithDefaultLimitsIsBounded) {
  std::string doc = billion_laughs();
  long baseline = run_in_child([] { return true; }).max_rss_kib;
  ChildCost cost = run_in_child([&] {
    auto t = yaml_to_tape(doc);
    return !t.ok() && t.error().message.find("document too large") != std::string::npos;
  });
  ASSERT_TRUE(cost.ok) << "the child did not see the expected error";
  // 2,000,000 events of 16 bytes: about 32 MiB at most, whatever the expansion.
  EXPECT_LT(cost.max_rss_kib - baseline, 64L * 1024) << "KiB";
  EXPECT_LT(cost.seconds, 20.0);
}

TEST(YamlTape, ManyAliasesCostLinearTime) {
  // 300,000 aliases of one scalar (1.2 MB): linear work is well under a second
  // even unoptimised; copying the tape per alias would take minutes.
  std::string doc = "a: &a x\nb: [";
  for (int i = 0; i < 300'000; ++i) doc += i ? ", *a" : "*a";
  doc += "]\n";
  auto start = std::chrono::steady_clock::now();
  auto t = yaml_to_tape(doc);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->events.size(), 300'000u + 7u);
  EXPECT_LT(seconds, 5.0);
}

TEST(YamlTape, EventLimitWithoutAliases) {
  Limits limits;
  limits.max_events = 100;
  std::string doc = "[";
  for (int i = 0; i < 200; ++i) doc += "x, ";
  doc += "y]";
  auto t = yaml_to_tape(doc, limits);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("more than 100"), std::string::npos) << t.error().message;
}

struct DeepCase {
  const char* name;
  std::string yaml;
};

void PrintTo(const DeepCase& c, std::ostream* os) { *os << c.name; }

class YamlDeepTest : public ::testing::TestWithParam<DeepCase> {};

TEST_P(YamlDeepTest, RefusedWithoutCrashing) {
  auto t = yaml_to_tape(GetParam().yaml);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message, "nesting deeper than 64 levels");
  EXPECT_EQ(t.error().line, 1);
}

constexpr size_t kDeep = 100'000;

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

INSTANTIATE_TEST_SUITE_P(Table, YamlDeepTest,
                         ::testing::Values(DeepCase{"flow_sequences", repeat("[", kDeep) + repeat("]", kDeep)},
                                           DeepCase{"flow_sequences_unclosed", repeat("[", kDeep)},
                                           DeepCase{"flow_mappings", repeat("{a: ", kDeep) + "x" + repeat("}", kDeep)},
                                           DeepCase{"block_sequences", repeat("- ", kDeep) + "x\n"}),
                         [](const ::testing::TestParamInfo<DeepCase>& i) { return i.param.name; });

TEST(YamlTape, SixtyFourLevelsAreFine) {
  auto t = yaml_to_tape(repeat("[", 64) + repeat("]", 64));
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->events.size(), 128u);
  auto deeper = yaml_to_tape(repeat("[", 65) + repeat("]", 65));
  EXPECT_FALSE(deeper.ok());
}

// ---- peek_yaml_kind -----------------------------------------------------

struct PeekCase {
  const char* name;
  std::string yaml;
  KindPeek result;
  const char* kind;
};

void PrintTo(const PeekCase& c, std::ostream* os) { *os << c.name; }

class PeekYamlTest : public ::testing::TestWithParam<PeekCase> {};

TEST_P(PeekYamlTest, Peeks) {
  const PeekCase& c = GetParam();
  PeekedKind p = peek_yaml_kind(c.yaml);
  EXPECT_EQ(static_cast<int>(p.result), static_cast<int>(c.result));
  EXPECT_EQ(p.kind, c.kind);
}

std::string big_value() {
  std::string out = "devices:\n";
  for (int i = 0; i < 2000; ++i) {
    out += "- name: d" + std::to_string(i) + "\n  containerEdits:\n    env: [A=1, {kind: nested/x}]\n";
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Table, PeekYamlTest,
    ::testing::Values(PeekCase{"first", "kind: vendor.com/gpu\ncdiVersion: 1.0.0\n", KindPeek::found, "vendor.com/gpu"},
                      PeekCase{"after_scalar", "cdiVersion: 1.0.0\nkind: v/c\n", KindPeek::found, "v/c"},
                      PeekCase{"quoted", "kind: \"v/c\"\n", KindPeek::found, "v/c"},
                      PeekCase{"after_big_value", big_value() + "kind: v/c\n", KindPeek::found, "v/c"},
                      PeekCase{"nested_kind_ignored", "a: {kind: x/y}\nkind: v/c\n", KindPeek::found, "v/c"},
                      PeekCase{"flow_root", "{cdiVersion: 1.0.0, kind: v/c}", KindPeek::found, "v/c"},
                      PeekCase{"explicit_start", "---\nkind: v/c\n", KindPeek::found, "v/c"},
                      PeekCase{"absent", "cdiVersion: 1.0.0\ndevices: []\n", KindPeek::absent, ""},
                      PeekCase{"absent_nested_only", "a: {kind: x/y}\n", KindPeek::absent, ""},
                      PeekCase{"absent_in_first_document", "a: 1\n---\nkind: v/c\n", KindPeek::absent, ""},
                      PeekCase{"kind_is_alias", "x: &k v/c\nkind: *k\n", KindPeek::unsure, ""},
                      PeekCase{"kind_is_mapping", "kind: {a: b}\n", KindPeek::unsure, ""},
                      PeekCase{"kind_is_sequence", "kind: [v/c]\n", KindPeek::unsure, ""},
                      PeekCase{"kind_is_tagged", "kind: !custom v/c\n", KindPeek::unsure, ""},
                      PeekCase{"kind_empty", "kind: ''\n", KindPeek::unsure, ""},
                      PeekCase{"complex_key", "? [a]\n: b\nkind: v/c\n", KindPeek::unsure, ""},
                      PeekCase{"alias_key", "a: &k kind\n*k : v/c\n", KindPeek::unsure, ""},
                      PeekCase{"root_sequence", "- kind: v/c\n", KindPeek::unsure, ""},
                      PeekCase{"root_scalar", "kind\n", KindPeek::unsure, ""},
                      PeekCase{"empty", "", KindPeek::unsure, ""},
                      PeekCase{"syntax_error_before_kind", "a: [\nkind: v/c\n", KindPeek::unsure, ""}),
    [](const ::testing::TestParamInfo<PeekCase>& i) { return i.param.name; });

TEST(PeekYaml, TaggedKindKeyIsNotTrusted) { EXPECT_NE(peek_yaml_kind("!custom kind: v/c\n").result, KindPeek::found); }

}  // namespace
}  // namespace cdi::codec
