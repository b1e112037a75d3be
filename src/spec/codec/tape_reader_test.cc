// The tape reader on its own: a small made-up schema decoded from YAML and
// JSON tapes, in both dialects (the spec decoder and the guest map are its
// real users; their tests cover the CDI and guest-map schemas).
#include "spec/codec/tape_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spec/codec/json_tape.h"
#include "spec/codec/yaml_tape.h"

namespace cdi::codec {
namespace {

using ::testing::HasSubstr;

struct Port {
  std::string name;
  int64_t number = 0;
  bool open = false;
};

struct Host {
  std::string address;
  std::vector<std::string> aliases;
  std::vector<Port> ports;
  std::vector<std::pair<std::string, std::string>> labels;
};

Status port_number(TapeReader& r, Port& p) {
  Integer v;
  bool present = false;
  CDI_TRY(r.integer(IntegerRange{0, 65535}, v, present));
  p.number = v.as_int64();
  return {};
}

constexpr Field<Port> kPortFields[] = {
    {"name", [](TapeReader& r, Port& p) { return r.string(p.name); }},
    {"number", port_number},
    {"open", [](TapeReader& r, Port& p) { return r.boolean(p.open); }},
};

constexpr Field<Host> kHostFields[] = {
    {"address", [](TapeReader& r, Host& h) { return r.string(h.address); }},
    {"aliases", [](TapeReader& r, Host& h) { return r.strings(h.aliases); }},
    {"ports",
     [](TapeReader& r, Host& h) {
       h.ports.reserve(r.sequence_length());
       return r.sequence([&] { return r.object(kPortFields, h.ports.emplace_back()); });
     }},
    {"labels", [](TapeReader& r, Host& h) { return r.string_map(h.labels); }},
};

constexpr Dialect kYamlish{"a mapping", "a sequence", true, true, nullptr};

Tape yaml_tape(std::string_view text) {
  auto t = yaml_to_tape(text);
  EXPECT_TRUE(t.ok()) << t.error().located();
  return std::move(*t);
}

Tape json_tape(std::string_view text) {
  auto t = json_to_tape(text);
  EXPECT_TRUE(t.ok()) << t.error().located();
  return std::move(*t);
}

Result<Host> decode_host(const Tape& tape, const Dialect& dialect = kYamlish, const ReaderOptions& options = {}) {
  Host h;
  TapeReader r(tape, dialect, options);
  CDI_TRY(r.object(kHostFields, h));
  return h;
}

TEST(TapeReader, DecodesFromTheFieldTable) {
  Tape t = yaml_tape(
      "address: 10.0.0.1\n"
      "aliases: [a, 'b']\n"
      "ports:\n"
      "- {name: ssh, number: 22, open: true}\n"
      "- name: http\n"
      "  number: 0x50\n"
      "labels: {zone: x, rack: '7'}\n");
  auto h = decode_host(t);
  ASSERT_TRUE(h.ok()) << h.error().located();
  EXPECT_EQ(h->address, "10.0.0.1");
  EXPECT_EQ(h->aliases, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(h->ports.size(), 2u);
  EXPECT_EQ(h->ports[0].name, "ssh");
  EXPECT_EQ(h->ports[0].number, 22);
  EXPECT_TRUE(h->ports[0].open);
  EXPECT_EQ(h->ports[1].number, 80);
  EXPECT_FALSE(h->ports[1].open);
  EXPECT_EQ(h->labels, (std::vector<std::pair<std::string, std::string>>{{"zone", "x"}, {"rack", "7"}}));
}

TEST(TapeReader, SeenTellsWhichFieldsWerePresent) {
  Tape t = yaml_tape("name: a\nopen: false\n");
  Port p;
  FieldSet seen = 0;
  TapeReader r(t, kYamlish);
  ASSERT_TRUE(r.object(kPortFields, p, &seen).ok());
  EXPECT_TRUE(has_field(seen, 0));
  EXPECT_FALSE(has_field(seen, 1));
  EXPECT_TRUE(has_field(seen, 2));
}

struct KeyCase {
  const char* name;
  const char* yaml;
  const char* message;
  const char* field;
  int line;
  int column;
};
void PrintTo(const KeyCase& c, std::ostream* os) { *os << c.name; }

class TapeReaderKeys : public ::testing::TestWithParam<KeyCase> {};

TEST_P(TapeReaderKeys, RefusedAtTheKey) {
  const KeyCase& c = GetParam();
  Tape t = yaml_tape(c.yaml);
  auto h = decode_host(t);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message, c.message);
  EXPECT_EQ(h.error().field, c.field);
  EXPECT_EQ(h.error().line, c.line);
  EXPECT_EQ(h.error().column, c.column);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TapeReaderKeys,
    ::testing::Values(KeyCase{"unknown", "address: a\nmtu: 1500\n", "unknown field \"mtu\"", "mtu", 2, 1},
                      KeyCase{"case_hint", "Address: a\n",
                              "unknown field \"Address\" (did you mean \"address\"? field names are case-sensitive)",
                              "Address", 1, 1},
                      KeyCase{"near_miss_missing_letter", "alias: [a]\n",
                              "unknown field \"alias\" (did you mean \"aliases\"?)", "alias", 1, 1},
                      KeyCase{"near_miss_extra_letter", "portss: []\n",
                              "unknown field \"portss\" (did you mean \"ports\"?)", "portss", 1, 1},
                      KeyCase{"near_miss_and_case", "adress: a\n",
                              "unknown field \"adress\" (did you mean \"address\"?)", "adress", 1, 1},
                      KeyCase{"nested_near_miss", "ports:\n- nmae: x\n",
                              "unknown field \"nmae\" (did you mean \"name\"?)", "ports[0].nmae", 2, 3},
                      KeyCase{"too_far_for_a_hint", "colour: red\n", "unknown field \"colour\"", "colour", 1, 1},
                      KeyCase{"duplicate", "address: a\naliases: []\naddress: b\n",
                              "duplicate field \"address\" (first at line 1)", "address", 3, 1},
                      KeyCase{"duplicate_nested", "ports:\n- name: a\n  open: true\n  name: b\n",
                              "duplicate field \"name\" (first at line 2)", "ports[0].name", 4, 3},
                      KeyCase{"duplicate_label", "labels: {a: x, a: y}\n", "duplicate key \"a\"", "labels", 1, 16},
                      KeyCase{"key_not_a_scalar", "? [a]\n: b\n", "mapping keys must be strings, got a sequence", "", 1,
                              3}),
    [](const ::testing::TestParamInfo<KeyCase>& i) { return i.param.name; });

TEST(TapeReader, JsonDialectReportsKeyProblemsAtTheObject) {
  Tape t = json_tape(R"({"ports": [{"name": "a", "nmae": "b"}]})");
  auto h = decode_host(t, kJsonConfig);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().field, "ports[0]");
  EXPECT_EQ(h.error().message, "unknown field \"nmae\" (did you mean \"name\"?)");
}

TEST(TapeReader, JsonDialectRefusesNull) {
  Tape t = json_tape(R"({"address": null})");
  auto h = decode_host(t, kJsonConfig);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().located(), "address: expected a string, got null");
  Tape u = json_tape(R"({"ports": {}})");
  auto g = decode_host(u, kJsonConfig);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().located(), "ports: expected an array, got an object");
}

TEST(TapeReader, YamlDialectReadsNullAsAbsent) {
  Tape t = yaml_tape("address: ~\naliases: null\nports:\nlabels: NULL\n");
  auto h = decode_host(t);
  ASSERT_TRUE(h.ok()) << h.error().located();
  EXPECT_EQ(h->address, "");
  EXPECT_TRUE(h->aliases.empty());
  EXPECT_TRUE(h->ports.empty());
}

TEST(TapeReader, UnknownKeyHookAddsWords) {
  constexpr Dialect kWithHook{"a mapping", "a sequence", true, true, [](std::string_view key, std::string message) {
                                return message + " [" + std::string(key) + "]";
                              }};
  Tape t = yaml_tape("mtu: 1\n");
  auto h = decode_host(t, kWithHook);
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.error().message, "unknown field \"mtu\" [mtu]");
}

TEST(TapeReader, CollectModeReportsEveryProblemAndDecodesTheRest) {
  Tape t = yaml_tape(
      "address: [not, a, string]\n"
      "mtu: 9000\n"
      "ports:\n"
      "- {name: a, number: 70000}\n"
      "- {name: b, number: 2, open: maybe}\n"
      "- {name: c, number: 3}\n"
      "aliases: [x]\n");
  std::vector<Error> problems;
  ReaderOptions o;
  o.collect = &problems;
  auto h = decode_host(t, kYamlish, o);
  ASSERT_TRUE(h.ok());
  std::vector<std::string> lines;
  for (const auto& e : problems) lines.push_back(e.located());
  EXPECT_THAT(lines, ::testing::ElementsAre("address: expected a string, got a sequence",  //
                                            "mtu: unknown field \"mtu\"",
                                            "ports[0].number: number 70000 is out of range (0 to 65535)",
                                            "ports[1].open: expected true or false, got the scalar \"maybe\""));
  ASSERT_EQ(h->ports.size(), 3u);
  EXPECT_EQ(h->ports[2].name, "c");
  EXPECT_EQ(h->ports[2].number, 3);
  EXPECT_EQ(h->aliases, std::vector<std::string>{"x"});
}

TEST(TapeReader, PositionsOfEveryFieldOrOnlyTheOnesAskedFor) {
  Tape t = yaml_tape("address: a\nports:\n- name: x\n  number: 1\n");
  std::map<std::string, SourcePos> all;
  ReaderOptions o;
  o.positions = &all;
  ASSERT_TRUE(decode_host(t, kYamlish, o).ok());
  auto at = [](const std::map<std::string, SourcePos>& m, const std::string& f) {
    auto it = m.find(f);
    return it == m.end() ? std::pair(-1, -1) : std::pair(it->second.line, it->second.column);
  };
  EXPECT_EQ(at(all, "address"), std::pair(1, 10));
  EXPECT_EQ(at(all, "ports"), std::pair(3, 1));
  EXPECT_EQ(at(all, "ports[0]"), std::pair(3, 3));
  EXPECT_EQ(at(all, "ports[0].number"), std::pair(4, 11));
  EXPECT_EQ(all.size(), 5u);

  std::map<std::string, SourcePos> some;
  std::set<std::string> only{"ports[0].number", "nowhere"};
  o.positions = &some;
  o.only = &only;
  ASSERT_TRUE(decode_host(t, kYamlish, o).ok());
  EXPECT_EQ(some.size(), 1u);
  EXPECT_EQ(at(some, "ports[0].number"), std::pair(4, 11));
}

TEST(TapeReader, SkipAndSequenceLengthUseTheTapesSizes) {
  Tape t = yaml_tape("[a, {b: [c, d]}, [e], f]\n");
  ASSERT_EQ(t.events[0].size, t.events.size() - 2);
  TapeReader r(t, kYamlish);
  EXPECT_EQ(r.sequence_length(), 4u);
  r.take();
  r.skip_value();  // a
  EXPECT_EQ(r.peek().type, EventType::map_start);
  r.skip_value();  // {b: [c, d]}
  EXPECT_EQ(r.peek().type, EventType::seq_start);
  EXPECT_EQ(r.sequence_length(), 1u);
  r.skip_value();  // [e]
  EXPECT_EQ(r.text(r.peek()), "f");
}

TEST(TapeReader, JsonIntegers) {
  Tape t = json_tape("[1, 1.0, 1e2, 1.5, -1, 70000, \"3\"]");
  TapeReader r(t, kJsonConfig);
  r.take();
  std::vector<std::string> got;
  for (int i = 0; i < 7; ++i) {
    uint32_t v = 0;
    auto st = r.json_integer(65535, v);
    got.push_back(st.ok() ? std::to_string(v) : st.error().message);
  }
  EXPECT_THAT(got, ::testing::ElementsAre("1", "1", "100", "expected an integer from 0 to 65535, got 1.5",
                                          "expected an integer from 0 to 65535, got -1",
                                          "expected an integer from 0 to 65535, got 70000",
                                          "expected an integer from 0 to 65535, got the string \"3\""));
}

TEST(TapeReader, ManyLabelsStayLinearAndRepeatsAreFound) {
  std::string text = "labels:\n";
  for (int i = 0; i < 20000; ++i) text += "  k" + std::to_string(i) + ": v\n";
  Tape t = yaml_tape(text);
  auto h = decode_host(t);
  ASSERT_TRUE(h.ok()) << h.error().located();
  EXPECT_EQ(h->labels.size(), 20000u);
  Tape u = yaml_tape(text + "  k17: again\n");
  auto g = decode_host(u);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.error().message, "duplicate key \"k17\"");
  EXPECT_EQ(g.error().line, 20002);
}

TEST(UnknownFieldMessage, Hints) {
  std::vector<std::string_view> known{"deviceNodes", "hostPath", "env", "kind"};
  EXPECT_EQ(unknown_field_message("deviceNode", known), "unknown field \"deviceNode\" (did you mean \"deviceNodes\"?)");
  EXPECT_EQ(unknown_field_message("hostpath", known),
            "unknown field \"hostpath\" (did you mean \"hostPath\"? field names are case-sensitive)");
  EXPECT_EQ(unknown_field_message("envs", known), "unknown field \"envs\" (did you mean \"env\"?)");
  EXPECT_EQ(unknown_field_message("e", known), "unknown field \"e\"");  // one letter is not a near miss of "env"
  EXPECT_EQ(unknown_field_message("mounts", known), "unknown field \"mounts\"");
  EXPECT_EQ(unknown_field_message("\x1b[2J", known), "unknown field \"\\x1b[2J\"");
}

TEST(EditDistance, SwapsCountOnce) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("nmae", "name"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
}

}  // namespace
}  // namespace cdi::codec
