#include "spec/codec/yaml_fast.h"

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "spec/codec/yaml_tape.h"

namespace cdi::codec {
namespace {

const char* type_name(EventType t) {
  switch (t) {
    case EventType::map_start:
      return "map_start";
    case EventType::map_end:
      return "map_end";
    case EventType::seq_start:
      return "seq_start";
    case EventType::seq_end:
      return "seq_end";
    case EventType::scalar:
      return "scalar";
  }
  return "?";
}

std::string show(const Tape& t, const Event& e) {
  std::string s = std::string(type_name(e.type)) + "@" + std::to_string(e.line) + ":" + std::to_string(e.column);
  if (e.type == EventType::scalar) {
    s += e.style == ScalarStyle::yaml_plain ? " plain " : " quoted ";
    s += "[" + std::string(t.text(e)) + "]";
  }
  if (e.opens()) s += " size=" + std::to_string(e.size);
  if (!t.tag(e).empty()) s += " tag=" + std::string(t.tag(e));
  return s;
}

bool is_end(EventType t) { return t == EventType::map_end || t == EventType::seq_end; }

// The first difference between two tapes under the fast path's contract
// (every field equal, except the positions of end events); empty if none.
// With exact_ends, end events' positions must match too.
std::string difference(const Tape& got, const Tape& want, bool exact_ends = false) {
  size_t n = std::max(got.events.size(), want.events.size());
  for (size_t i = 0; i < n; ++i) {
    if (i >= got.events.size()) return "event " + std::to_string(i) + ": missing, want " + show(want, want.events[i]);
    if (i >= want.events.size()) return "event " + std::to_string(i) + ": extra " + show(got, got.events[i]);
    const Event& g = got.events[i];
    const Event& w = want.events[i];
    bool same = g.type == w.type && g.style == w.style && got.text(g) == want.text(w) && got.tag(g) == want.tag(w) &&
                (!g.opens() || g.size == w.size);
    if (same && (exact_ends || !is_end(g.type))) same = g.line == w.line && g.column == w.column;
    if (!same) return "event " + std::to_string(i) + ": got " + show(got, g) + ", want " + show(want, w);
  }
  return {};
}

// Where the fast path and libyaml part ways on `yaml`; empty when the fast
// path declined or produced libyaml's tape, and yaml_to_tape agrees with
// libyaml. Sets *accepted to whether the fast path took the input.
std::string disagreement(std::string_view yaml, bool* accepted, const Limits& limits = {}) {
  // An exact-size copy, so that a sanitizer build catches a read past the end.
  std::unique_ptr<char[]> exact(new char[std::max<size_t>(yaml.size(), 1)]);
  std::copy(yaml.begin(), yaml.end(), exact.get());
  std::optional<Tape> fast = yaml_to_tape_fast(std::string_view(exact.get(), yaml.size()), limits);
  Result<Tape> ref = yaml_to_tape_libyaml(yaml, limits);
  Result<Tape> wired = yaml_to_tape(yaml, limits);
  *accepted = fast.has_value();
  if (fast) {
    if (!ref.ok()) return "fast path accepted what libyaml rejects: " + ref.error().to_string();
    if (std::string d = difference(*fast, *ref); !d.empty()) return d;
  }
  if (ref.ok() != wired.ok()) return "yaml_to_tape and libyaml differ in success";
  if (!ref.ok()) {
    return ref.error().to_string() == wired.error().to_string() ? std::string()
                                                                : "yaml_to_tape error: " + wired.error().to_string();
  }
  return difference(*wired, *ref, /*exact_ends=*/!fast.has_value());
}

std::string dump(std::string_view yaml) {
  Result<Tape> ref = yaml_to_tape_libyaml(yaml);
  if (!ref.ok()) return "libyaml: " + ref.error().to_string();
  std::string s;
  for (const Event& e : ref->events) s += "  " + show(*ref, e) + "\n";
  return s;
}

struct DocCase {
  const char* name;
  const char* yaml;
};

std::string case_name(const ::testing::TestParamInfo<DocCase>& i) { return i.param.name; }

// Documents inside the subset: the fast path must take them and match libyaml.
const DocCase kAccepted[] = {
    DocCase{"flat_map", "a: b\nc: d\n"},
    DocCase{"no_final_newline", "a: b\nc: d"},
    DocCase{"nested_maps", "a:\n  b:\n    c: d\n  e: f\ng: h\n"},
    DocCase{"four_space_indent", "a:\n    b: c\n    d:\n        - x\n"},
    DocCase{"root_sequence", "- a\n- b\n"},
    DocCase{"indented_sequence", "k:\n  - a\n  - b\nz: 1\n"},
    DocCase{"indentless_sequence", "k:\n- a\n- b\nz: 1\n"},
    DocCase{"indentless_at_end", "a:\n  k:\n  - a\n  - b\n"},
    DocCase{"indentless_then_outer_key", "a:\n  k:\n  - a\nb: c\n"},
    DocCase{"compact_maps_in_sequence", "- a: 1\n  b: 2\n- c: 3\n"},
    DocCase{"compact_map_wide_dash", "-   a: 1\n    b: 2\n"},
    DocCase{"nested_compact_sequences", "- - a\n  - b\n- - - c\n"},
    DocCase{"compact_map_with_nested", "- a:\n  - x\n  b:\n    c: d\n  e:\n- f\n"},
    DocCase{"sequence_of_maps_indentless", "items:\n- name: x\n  v: [a, b]\n- name: y\nend: 1\n"},
    DocCase{"plain_scalar_rules",
            "a: b:c\nd: -x\ne: :x\nf: ?x\ng: a#b\nh: x,y[z]{w}\ni: http://h:80/p\nj: a  b\n"
            "k: a 'b'\nl: a -b\n"},
    DocCase{"plain_keys", "-x: 1\n?y: 2\n:z: 3\na b: 4\nk#: 5\nx:y: 6\n"},
    DocCase{"colon_in_key", "a:: b\n"},
    DocCase{"space_before_colon", "a : b\n'q' : c\n\"d\"  : e\n"},
    DocCase{"trailing_spaces", "a: b   \nc:    d  \ne:   \n"},
    DocCase{"single_quoted", "a: 'it''s'\nb: ''\nc: ' x '\n'k''ey': 'v'\n"},
    DocCase{"double_quoted", "a: \"x\"\nb: \"\"\nc: \" x \"\n\"k\": \"v\"\n"},
    DocCase{"double_escapes",
            "a: \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\\"\\/\\\\\"\nb: \"\\N\\_\\L\\P\"\n"
            "c: \"\\x41\\u00e9\\u65e5\\U0001F600\\x00\"\nd: \"tab\\there\"\n"},
    DocCase{"hash_inside_quotes", "a: \"# x\"\nb: 'x # y'\n"},
    DocCase{"comments_everywhere",
            "# head\n\n  # indented\na: b # tail\n# between\nc: # after key\n  # inside\n  d: e\n"
            "f:\n# col 0 comment\n- x # c\n  # more\n- y\n# end\n"},
    DocCase{"blank_lines", "\n\na: b\n\n\nc:\n\n  d: e\n   \n"},
    DocCase{"empty_values", "a:\nb:\n  c:\n  d: 1\ne:\n"},
    DocCase{"empty_value_then_dedent", "a:\n  b:\n    c:\nd: 1\n"},
    DocCase{"empty_value_in_compact", "- a:\n  b:\n- c:\n"},
    DocCase{"flow_empty", "a: []\nb: {}\nc: [ ]\nd: {  }\n"},
    DocCase{"flow_scalars", "a: [x, y, \"z\", 'w']\nb: [ 1 , 2 ]\nc: [a b, c]\nd: [-1, \xc3\xa9]\n"},
    DocCase{"flow_in_sequence", "- [a, b]\n- []\n- {}\n"},
    DocCase{"document_start", "---\na: b\n"},
    DocCase{"document_start_comment", "# c\n--- # x\na: b\n"},
    DocCase{"second_document", "a: b\n---\nc: d\n"},
    DocCase{"second_document_garbage", "a: b\n--- [unclosed\n\"x\n"},
    DocCase{"second_document_after_empty", "a:\n---\n"},
    DocCase{"dashes_in_scalars", "a: ---\nb: --- x\n---x: 1\n"},
    DocCase{"unicode",
            "name: caf\xc3\xa9\n\xe6\x97\xa5\xe6\x9c\xac: \"\xc3\xa9\" # \xe2\x9c\x93\n"
            "x: [\xc3\xa9, b]\ny:\nz: \xc2\xa0v\n"},
    DocCase{"unicode_columns", "- \xc3\xa9\xc3\xa9: \"\xf0\x9f\x98\x80\"\n  k: a\n  \xe6\x97\xa5:\n"},
    DocCase{"tricky_scalar_values",
            "a: yes\nb: 0666\nc: ~\nd: null\ne: \"\"\nf: 'a: b'\ng: \"- x\"\nh: '# x'\ni: \"'\"\nj: '\"'\n"
            "k: \\\nl: \"\\\\\"\n"},
    DocCase{"long_key",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n"},
    DocCase{"go_emitter_style",
            "cdiVersion: 0.5.0\ncontainerEdits:\n  deviceNodes:\n  - path: /dev/nvidiactl\n  env:\n"
            "  - NVIDIA_VISIBLE_DEVICES=void\n  hooks:\n  - args:\n    - nvidia-ctk\n    - hook\n"
            "    hookName: createContainer\n    path: /usr/bin/nvidia-ctk\n  mounts:\n"
            "  - containerPath: /lib/libcuda.so.1\n    hostPath: /lib/libcuda.so.1\n    options:\n"
            "    - ro\n    - nosuid\ndevices:\n- containerEdits:\n    deviceNodes:\n    - path: /dev/nvidia0\n"
            "  name: \"0\"\nkind: nvidia.com/gpu\n"},
    DocCase{"nvidia_ctk_style",
            "---\ncdiVersion: 0.5.0\ndevices:\n  - name: \"0\"\n    containerEdits:\n      deviceNodes:\n"
            "        - path: \"/dev/nvidia0\"\n          hostPath: \"/dev/nvidia0\"\n      hooks:\n"
            "        - hookName: \"createContainer\"\n          path: \"/usr/bin/nvidia-cdi-hook\"\n"
            "          args: [\"nvidia-cdi-hook\", \"create-symlinks\", \"--link\", \"../card1::/dev/dri/by-path/"
            "pci-0000:10:00.0-card\"]\nkind: \"nvidia.com/gpu\"\ncontainerEdits:\n  env: [\"A=1\"]\n"
            "  mounts: []\n"},
};

class FastAccepts : public ::testing::TestWithParam<DocCase> {};

TEST_P(FastAccepts, SameTapeAsLibyaml) {
  const DocCase& c = GetParam();
  ASSERT_TRUE(yaml_to_tape_fast(c.yaml).has_value()) << "declined:\n" << c.yaml;
  bool accepted = false;
  EXPECT_EQ(disagreement(c.yaml, &accepted), "") << c.yaml << "\nlibyaml:\n" << dump(c.yaml);
}

INSTANTIATE_TEST_SUITE_P(Table, FastAccepts, ::testing::ValuesIn(kAccepted), case_name);

// Documents the fast path must leave to libyaml; yaml_to_tape must still give
// libyaml's tape or error.
class FastDeclines : public ::testing::TestWithParam<DocCase> {};

TEST_P(FastDeclines, LibyamlDecides) {
  const DocCase& c = GetParam();
  EXPECT_FALSE(yaml_to_tape_fast(c.yaml).has_value()) << "accepted:\n" << c.yaml;
  bool accepted = false;
  EXPECT_EQ(disagreement(c.yaml, &accepted), "") << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(
    Table, FastDeclines,
    ::testing::Values(
        DocCase{"empty", ""}, DocCase{"only_comments", "# a\n\n# b\n"}, DocCase{"only_document_start", "---\n"},
        DocCase{"root_scalar", "hello\n"}, DocCase{"root_flow", "{a: b}\n"}, DocCase{"indented_root", "  a: b\n"},
        DocCase{"anchor_alias", "a: &x 1\nb: *x\n"}, DocCase{"tag", "a: !!str 1\n"},
        DocCase{"literal_block", "a: |\n  x\n"}, DocCase{"folded_block", "a: >\n  x\n"},
        DocCase{"multiline_plain", "a: b\n  c\n"}, DocCase{"multiline_plain_in_sequence", "- a\n  b\n"},
        DocCase{"multiline_single", "a: 'b\n  c'\n"}, DocCase{"multiline_double", "a: \"b\n  c\"\n"},
        DocCase{"escaped_line_break", "a: \"b\\\n  c\"\n"}, DocCase{"tab_indent", "a:\n\tb: c\n"},
        DocCase{"tab_in_value", "a: b\tc\n"}, DocCase{"crlf", "a: b\r\nc: d\r\n"},
        DocCase{"bom",
                "\xef\xbb\xbf"
                "a: b\n"},
        DocCase{"directive", "%YAML 1.1\n---\na: b\n"}, DocCase{"document_end", "a: b\n...\n"},
        DocCase{"explicit_key", "? a\n: b\n"}, DocCase{"flow_map_content", "a: {b: c}\n"},
        DocCase{"nested_flow", "a: [[b]]\n"}, DocCase{"multiline_flow", "a: [b,\n  c]\n"},
        DocCase{"flow_trailing_comma", "a: [b, ]\n"}, DocCase{"flow_plain_colon", "a: [b:c]\n"},
        DocCase{"empty_entry", "-\n- a\n"}, DocCase{"entry_on_next_line", "-\n  a: b\n"},
        DocCase{"scalar_value_below_key", "a:\n  b\n"}, DocCase{"bad_indentation", "a:\n    b: c\n  d: e\n"},
        DocCase{"more_indented_key", "a: b\n  c: d\n"}, DocCase{"value_after_sequence", "a:\n  - b\n  c: d\n"},
        DocCase{"two_values", "a: b: c\n"}, DocCase{"missing_colon", "a: b\nc\n"},
        DocCase{"quoted_then_text", "a: \"b\" c\n"}, DocCase{"entry_after_value", "a: b\n- c\n"},
        DocCase{"sequence_in_value", "a: - b\n"}, DocCase{"unterminated_quote", "a: \"b\n"},
        DocCase{"bad_escape", "a: \"\\q\"\n"}, DocCase{"bad_hex_escape", "a: \"\\x4\"\n"},
        DocCase{"surrogate_escape", "a: \"\\ud800\"\n"}, DocCase{"comment_without_space", "a: \"b\"#c\n"},
        DocCase{"control_char", "a: b\x01\n"}, DocCase{"invalid_utf8", "a: \xff\n"},
        DocCase{"overlong_utf8", "a: \xc0\xaf\n"},
        DocCase{"nel",
                "a: b\xc2\x85"
                "c\n"},
        DocCase{"line_separator",
                "a: b\xe2\x80\xa8"
                "c\n"},
        DocCase{"invalid_utf8_in_second_document", "a: b\n---\n\xff\n"},
        DocCase{"key_too_long",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                ": 1\n"}),
    case_name);

TEST(YamlFast, DeclinesBeyondLimits) {
  const char* yaml = "a:\n  b:\n    c: [d]\ne: f\n";
  ASSERT_TRUE(yaml_to_tape_fast(yaml).has_value());
  EXPECT_FALSE(yaml_to_tape_fast(yaml, Limits{.max_depth = 3}).has_value());
  EXPECT_TRUE(yaml_to_tape_fast(yaml, Limits{.max_depth = 4}).has_value());
  EXPECT_FALSE(yaml_to_tape_fast(yaml, Limits{.max_events = 5}).has_value());
  for (size_t depth : {size_t{3}, size_t{4}}) {
    bool accepted = false;
    EXPECT_EQ(disagreement(yaml, &accepted, Limits{.max_depth = depth}), "") << depth;
  }
  Result<Tape> r = yaml_to_tape(yaml, Limits{.max_events = 5});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("too large"), std::string::npos) << r.error().message;
}

// --- Generated documents -----------------------------------------------------

struct Node {
  enum Kind { scalar, map, seq } kind = scalar;
  std::string text;
  std::vector<std::string> keys;  // a mapping's keys, beside their values in items
  std::vector<Node> items;
};

// Strings that sit on the edges of YAML's plain-scalar rules, quoting and
// typing, plus ordinary spec values.
const std::vector<std::string> kTricky = {"a: b",
                                          "# x",
                                          "-x",
                                          "- x",
                                          ":x",
                                          "x:",
                                          "'",
                                          "\"",
                                          "\\",
                                          "yes",
                                          "0666",
                                          "~",
                                          "null",
                                          "",
                                          " ",
                                          "  lead",
                                          "trail ",
                                          "a  b",
                                          "a #b",
                                          "a#b",
                                          "caf\xc3\xa9",
                                          "\xe6\x97\xa5\xe6\x9c\xac",
                                          "\xc2\xa0",
                                          "[x]",
                                          "{x}",
                                          "x,y",
                                          "*a",
                                          "&a",
                                          "!t",
                                          "|",
                                          ">",
                                          "%p",
                                          "@x",
                                          "`x",
                                          "---",
                                          "...",
                                          "--- x",
                                          "?x",
                                          "? x",
                                          "-",
                                          ":",
                                          "?",
                                          "a:b",
                                          "http://h:8080/p",
                                          "/dev/nvidia0",
                                          "--link",
                                          "../card1::/dev/dri/by-path/pci-0000:10:00.0-card",
                                          "NVIDIA_VISIBLE_DEVICES=void",
                                          "1.0",
                                          "0x1F",
                                          "true",
                                          "it's",
                                          "say \"hi\"",
                                          "tab\there",
                                          "line\nbreak",
                                          "nul\x01",
                                          "x'y",
                                          "\"q\"",
                                          "'s'",
                                          "a\\b",
                                          "\xf0\x9f\x98\x80",
                                          "k: v: w"};
const std::vector<std::string> kKeys = {
    "name", "path", "hostPath", "containerEdits",    "env", "options", "a b", "x:y",
    "-k",   "k#",   "yes",      "\xc3\xa9t\xc3\xa9", "0",   "",        "'",   "? q"};

class DocGen {
 public:
  explicit DocGen(uint32_t seed) : rng_(seed) {}

  std::string document() {
    indent_ = pick(3) == 0 ? 4 : 2;
    indentless_ = pick(2) == 0;
    plain_share_ = pick(3);
    std::string out;
    if (pick(4) == 0) out += "# generated\n";
    if (pick(2) == 0) out += pick(3) == 0 ? "--- # start\n" : "---\n";
    Node root = pick(6) == 0 ? seq_node(0) : map_node(0);
    if (root.kind == Node::map)
      emit_map(root, 0, false, out);
    else
      emit_seq(root, 0, false, out);
    if (pick(8) == 0) out += "---\n" + scalar_text(true) + ": [\n";
    if (pick(10) == 0) mutate(out);
    return out;
  }

 private:
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  Node scalar_node() {
    Node n;
    n.text = kTricky[pick(kTricky.size())];
    return n;
  }
  Node map_node(int depth) {
    Node n;
    n.kind = Node::map;
    size_t count = 1 + pick(4);
    for (size_t i = 0; i < count; ++i) {
      n.keys.push_back(kKeys[pick(kKeys.size())]);
      n.items.push_back(child(depth + 1));
    }
    return n;
  }
  Node seq_node(int depth) {
    Node n;
    n.kind = Node::seq;
    size_t count = 1 + pick(4);
    for (size_t i = 0; i < count; ++i) n.items.push_back(child(depth + 1));
    return n;
  }
  Node child(int depth) {
    size_t r = depth > 3 ? 0 : pick(10);
    if (r < 6) return scalar_node();
    if (r < 8) return map_node(depth);
    if (pick(4) == 0) return Node{Node::seq, {}, {}, {}};
    return seq_node(depth);
  }

  // Plain (in plain_share_ of 4 cases, whether or not plain suits s), else
  // single- or double-quoted.
  std::string render(const std::string& s) {
    if (pick(4) < plain_share_) return s;
    if (pick(2) == 0) return double_quoted(s);
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q + "'";
  }
  std::string double_quoted(const std::string& s) {
    std::string q = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') {
        q += '\\';
        q += c;
      } else if (c == '\n') {
        q += "\\n";
      } else if (c == '\t') {
        q += pick(2) ? "\\t" : "\\x09";
      } else if (static_cast<unsigned char>(c) < 0x20) {
        q += "\\x0" + std::string(1, static_cast<char>('0' + c));
      } else if (c == 'a' && pick(3) == 0) {
        q += pick(2) ? "\\x61" : "\\u0061";
      } else {
        q += c;
      }
    }
    if (pick(10) == 0) q += pick(2) ? "\\N\\_" : "\\U0001F600\\/";
    return q + "\"";
  }
  std::string scalar_text(bool key) { return render(key ? kKeys[pick(kKeys.size())] : kTricky[pick(kTricky.size())]); }

  std::string comment() {
    switch (pick(8)) {
      case 0:
        return " # note";
      case 1:
        return "  #: - x";
      default:
        return "";
    }
  }
  std::string spaces(int n) { return std::string(static_cast<size_t>(n), ' '); }
  void filler(int col, std::string& out) {
    if (pick(12) == 0) out += "\n";
    if (pick(12) == 0) out += spaces(static_cast<int>(pick(static_cast<size_t>(col) + 3))) + "# c\n";
  }

  void emit_value(const Node& v, int col, std::string& out) {
    if (v.kind == Node::scalar) {
      out += spaces(1 + static_cast<int>(pick(5) == 0)) + render(v.text) + comment() + "\n";
    } else if (v.kind == Node::seq && v.items.empty()) {
      out += " []\n";
    } else if (v.kind == Node::seq && pick(5) == 0 && flat(v)) {
      out += " [";
      for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + render(v.items[i].text);
      out += "]\n";
    } else if (v.kind == Node::seq) {
      out += comment() + "\n";
      filler(col, out);
      emit_seq(v, indentless_ ? col : col + indent_, false, out);
    } else {
      out += comment() + "\n";
      filler(col, out);
      emit_map(v, col + indent_, false, out);
    }
  }
  static bool flat(const Node& seq) {
    for (const Node& n : seq.items) {
      if (n.kind != Node::scalar) return false;
    }
    return true;
  }

  // A block mapping at column col; with inline, its first key goes on the
  // current line (after `- `).
  void emit_map(const Node& m, int col, bool inline_first, std::string& out) {
    for (size_t i = 0; i < m.keys.size(); ++i) {
      if (i > 0 || !inline_first) out += spaces(col);
      out += render(m.keys[i]) + (pick(12) == 0 ? " :" : ":");
      const Node& v = m.items[i];
      if (v.kind == Node::scalar && v.text.empty() && pick(3) == 0) {
        out += comment() + "\n";  // an empty value
      } else {
        emit_value(v, col, out);
      }
      filler(col, out);
    }
  }
  void emit_seq(const Node& s, int col, bool inline_first, std::string& out) {
    for (size_t i = 0; i < s.items.size(); ++i) {
      if (i > 0 || !inline_first) out += spaces(col);
      const Node& v = s.items[i];
      int gap = 1 + static_cast<int>(pick(6) == 0);
      out += "-" + spaces(gap);
      if (v.kind == Node::map) {
        emit_map(v, col + 1 + gap, true, out);
      } else if (v.kind == Node::seq && !v.items.empty()) {
        emit_seq(v, col + 1 + gap, true, out);
      } else if (v.kind == Node::seq) {
        out += "[]\n";
      } else {
        out += render(v.text) + comment() + "\n";
      }
      filler(col, out);
    }
  }

  void mutate(std::string& out) {
    if (out.empty()) return;
    static const std::string kNoise = " :-#\t\n'\"[]{}&*!|>?,";
    size_t at = pick(out.size());
    switch (pick(4)) {
      case 0:
        out.erase(at, 1);
        break;
      case 1:
        out.insert(at, 1, kNoise[pick(kNoise.size())]);
        break;
      case 2:
        out.insert(out.rfind('\n', at) == std::string::npos ? 0 : out.rfind('\n', at) + 1, " ");
        break;
      default:
        out.insert(at, "\n");
        break;
    }
  }

  std::mt19937 rng_;
  int indent_ = 2;
  bool indentless_ = true;
  size_t plain_share_ = 2;
};

TEST(YamlFast, GeneratedDocumentsAgreeWithLibyaml) {
  constexpr int kDocs = 4000;
  DocGen gen(20240607);
  int accepted_count = 0;
  int failures = 0;
  for (int i = 0; i < kDocs && failures < 5; ++i) {
    std::string yaml = gen.document();
    bool accepted = false;
    std::string d = disagreement(yaml, &accepted);
    accepted_count += accepted;
    if (!d.empty()) {
      ++failures;
      ADD_FAILURE() << "document " << i << ": " << d << "\n---- yaml ----\n"
                    << yaml << "---- libyaml ----\n"
                    << dump(yaml);
    }
  }
  // Both sides of the fast path must be exercised for the test to mean anything.
  RecordProperty("accepted", accepted_count);
  EXPECT_GT(accepted_count, kDocs / 5);
  EXPECT_LT(accepted_count, kDocs);
}

// Small edits of the accepted documents land on the subset's borders: each
// mutant must be declined or read exactly as libyaml reads it.
TEST(YamlFast, MutatedDocumentsAgreeWithLibyaml) {
  static const std::string kNoise = " :-#'\"[]{},?&*!|>%@`\\\n\tax0\xc3\xa9";
  std::mt19937 rng(7);
  auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  int accepted_count = 0;
  int total = 0;
  int failures = 0;
  for (const DocCase& c : kAccepted) {
    for (int m = 0; m < 60 && failures < 5; ++m) {
      std::string yaml = c.yaml;
      for (size_t edits = 1 + pick(3); edits > 0 && !yaml.empty(); --edits) {
        size_t at = pick(yaml.size());
        size_t line = yaml.rfind('\n', at) == std::string::npos ? 0 : yaml.rfind('\n', at) + 1;
        switch (pick(6)) {
          case 0:
            yaml.erase(at, 1);
            break;
          case 1:
            yaml.insert(at, 1, kNoise[pick(kNoise.size())]);
            break;
          case 2:
            yaml.insert(line, " ");
            break;
          case 3:
            if (yaml[line] == ' ') yaml.erase(line, 1);
            break;
          case 4:
            yaml.insert(at, yaml.substr(line, yaml.find('\n', line) - line + 1));
            break;
          default:
            yaml.insert(at, std::string(1, yaml[at]));
            break;
        }
      }
      bool accepted = false;
      std::string d = disagreement(yaml, &accepted);
      accepted_count += accepted;
      ++total;
      if (!d.empty()) {
        ++failures;
        ADD_FAILURE() << c.name << " mutant: " << d << "\n---- yaml ----\n"
                      << yaml << "\n---- libyaml ----\n"
                      << dump(yaml);
      }
    }
  }
  RecordProperty("accepted", accepted_count);
  EXPECT_GT(accepted_count, total / 10);
  EXPECT_LT(accepted_count, total);
}

// --- The NVIDIA-shaped spec ---------------------------------------------------

// About 30 KB of YAML shaped like a generated 8-GPU spec, in the emitter style
// given: Go's (indentless sequences, plain scalars) or a Python one (indented
// sequences, double-quoted strings, `---`, a flow list).
std::string nvidia_like_spec(bool go_style) {
  auto q = [go_style](const std::string& s) { return go_style ? s : "\"" + s + "\""; };
  auto pad = [](int n) { return std::string(static_cast<size_t>(n), ' '); };
  const int seq_in = go_style ? 0 : 2;  // extra indentation of a sequence under its key
  const std::string hook = "/usr/bin/nvidia-cdi-hook";
  std::string y = go_style ? "" : "---\n";
  y += "cdiVersion: " + q("0.5.0") + "\nkind: " + q("nvidia.com/gpu") + "\ndevices:\n";
  auto list = [&](int col, const std::vector<std::string>& items) {
    for (const std::string& item : items) y += pad(col) + "- " + q(item) + "\n";
  };
  auto nodes = [&](int col, const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      y += pad(col) + "- path: " + q(path) + "\n" + pad(col + 2) + "hostPath: " + q(path) + "\n";
    }
  };
  std::vector<std::string> all_nodes;
  for (int gpu = 0; gpu < 8; ++gpu) {
    char bus[8];
    std::snprintf(bus, sizeof bus, "%02x", 0x10 + gpu);
    std::string card = "card" + std::to_string(gpu + 1);
    std::string render = "renderD" + std::to_string(128 + gpu);
    std::vector<std::string> paths = {"/dev/nvidia" + std::to_string(gpu), "/dev/dri/" + card, "/dev/dri/" + render};
    all_nodes.insert(all_nodes.end(), paths.begin(), paths.end());
    for (const std::string& name : {std::to_string(gpu), "GPU-00abc00" + std::to_string(gpu) + "-1111-2222-3333"}) {
      y += pad(seq_in) + "- name: " + q(name) + "\n" + pad(seq_in + 2) + "containerEdits:\n";
      int e = seq_in + 4;
      y += pad(e) + "deviceNodes:\n";
      nodes(e + seq_in, paths);
      y += pad(e) + "hooks:\n" + pad(e + seq_in) + "- hookName: " + q("createContainer") + "\n";
      y += pad(e + seq_in + 2) + "path: " + q(hook) + "\n" + pad(e + seq_in + 2) + "args:\n";
      std::string by_path = "::/dev/dri/by-path/pci-0000:" + std::string(bus) + ":00.0-";
      list(e + 2 * seq_in + 2, {"nvidia-cdi-hook", "create-symlinks", "--link", "../" + card + by_path + "card",
                                "--link", "../" + render + by_path + "render"});
    }
  }
  y += pad(seq_in) + "- name: all\n" + pad(seq_in + 2) + "containerEdits:\n" + pad(seq_in + 4) + "deviceNodes:\n";
  nodes(2 * seq_in + 4, all_nodes);
  y += "containerEdits:\n  env:\n";
  list(2 + seq_in, {"NVIDIA_VISIBLE_DEVICES=void"});
  y += "  deviceNodes:\n";
  nodes(2 + seq_in, {"/dev/nvidia-modeset", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidiactl"});
  const std::string libdir = "/usr/lib/x86_64-linux-gnu/";
  y += "  hooks:\n";
  for (const char* verb : {"create-symlinks", "update-ldcache"}) {
    y += pad(2 + seq_in) + "- hookName: createContainer\n" + pad(4 + seq_in) + "path: " + q(hook) + "\n";
    y += pad(4 + seq_in) + "args:\n";
    std::vector<std::string> args = {"nvidia-cdi-hook", verb};
    for (int lib = 0; lib < 6; ++lib) {
      std::string name = "libnvidia-lib" + std::to_string(lib) + ".so";
      args.insert(args.end(), {"--link", name + ".550.54.15::" + libdir + name + ".1"});
    }
    list(4 + 2 * seq_in, args);
  }
  y += "  mounts:\n";
  for (int lib = 0; lib < 68; ++lib) {
    std::string path = lib < 60 ? libdir + "libnvidia-lib" + std::to_string(lib) + ".so.550.54.15"
                                : "/usr/bin/nvidia-tool-" + std::to_string(lib);
    int c = 2 + seq_in;
    y += pad(c) + "- hostPath: " + q(path) + "\n" + pad(c + 2) + "containerPath: " + q(path) + "\n";
    if (go_style || lib % 10 != 0) {
      y += pad(c + 2) + "options:\n";
      list(c + 2 + seq_in, {"ro", "nosuid", "nodev", "bind"});
    } else {
      y += pad(c + 2) + "options: [\"ro\", \"nosuid\", \"nodev\", bind]\n";
    }
  }
  return y;
}

TEST(YamlFast, AcceptsNvidiaShapedSpec) {
  for (bool go_style : {true, false}) {
    std::string yaml = nvidia_like_spec(go_style);
    ASSERT_GT(yaml.size(), 20'000u);  // tens of KB, like the real thing
    std::optional<Tape> fast = yaml_to_tape_fast(yaml);
    ASSERT_TRUE(fast.has_value()) << "declined the " << (go_style ? "Go" : "Python") << "-style spec";
    Result<Tape> ref = yaml_to_tape_libyaml(yaml);
    ASSERT_TRUE(ref.ok()) << ref.error().to_string();
    EXPECT_EQ(difference(*fast, *ref), "") << (go_style ? "Go" : "Python");
  }
}

}  // namespace
}  // namespace cdi::codec
