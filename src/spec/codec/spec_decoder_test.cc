// The spec decoder, driven through codec::parse_spec for both formats.
#include "spec/codec/spec_decoder.h"

#include <functional>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spec/codec/spec_codec.h"

namespace cdi::codec {
namespace {

using ::testing::HasSubstr;

Result<Spec> yaml(std::string_view text, const DecodeOptions& options = {}) {
  return parse_spec(text, SpecFormat::yaml, options);
}
Result<Spec> json(std::string_view text, const DecodeOptions& options = {}) {
  return parse_spec(text, SpecFormat::json, options);
}

// A spec whose only device node carries `field` (line 8, column 7).
std::string yaml_node(const std::string& field) {
  return "cdiVersion: 1.1.0\n"
         "kind: vendor.com/gpu\n"
         "devices:\n"
         "- name: gpu0\n"
         "  containerEdits:\n"
         "    deviceNodes:\n"
         "    - path: /dev/gpu0\n"
         "      " +
         field + "\n";
}

std::string json_node(const std::string& field) {
  return R"({"cdiVersion": "1.1.0", "kind": "vendor.com/gpu", "devices": [{"name": "gpu0", )"
         R"("containerEdits": {"deviceNodes": [{"path": "/dev/gpu0", )" +
         field + "}]}}]}";
}

// A spec whose device edits are `edits` (a YAML flow mapping's members).
std::string yaml_edits(const std::string& edits) {
  return "cdiVersion: 1.1.0\nkind: vendor.com/gpu\ndevices:\n- name: gpu0\n  containerEdits: {" + edits + "}\n";
}
std::string json_edits(const std::string& edits) {
  return R"({"cdiVersion": "1.1.0", "kind": "vendor.com/gpu", "devices": [{"name": "gpu0", "containerEdits": {)" +
         edits + "}}]}";
}

const DeviceNode& node_of(const Spec& s) { return s.devices.at(0).edits.device_nodes.at(0); }
const ContainerEdits& edits_of(const Spec& s) { return s.devices.at(0).edits; }

// ---- a whole spec -----------------------------------------------------

TEST(SpecDecoder, FullYamlSpec) {
  auto r = yaml(R"(cdiVersion: "0.7.0"
kind: vendor.com/gpu
annotations:
  owner: team-a
  b: "2"
containerEdits:
  env: [SPEC=1]
  additionalGids: [44, 45]
devices:
- name: gpu0
  annotations: {model: x}
  containerEdits:
    env: ["A=1", B=2]
    deviceNodes:
    - path: /dev/gpu0
      hostPath: /dev/nvidia0
      type: c
      major: 195
      minor: 0
      fileMode: 0o660
      permissions: rw
      uid: 1000
      gid: 0
    mounts:
    - hostPath: /usr/lib/libx.so
      containerPath: /usr/lib/libx.so
      options: [ro, bind]
      type: bind
    hooks:
    - hookName: createContainer
      path: /usr/bin/hook
      args: [hook, --flag]
      env: [X=1]
      timeout: 5
    intelRdt:
      closID: group1
      l3CacheSchema: "L3:0=ff"
      memBwSchema: "MB:0=50"
)");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const Spec& s = *r;
  EXPECT_EQ(s.version, "0.7.0");
  EXPECT_EQ(s.kind, "vendor.com/gpu");
  EXPECT_EQ(s.annotations, (AnnotationList{{"owner", "team-a"}, {"b", "2"}}));
  EXPECT_EQ(s.edits.env, (std::vector<std::string>{"SPEC=1"}));
  EXPECT_EQ(s.edits.additional_gids, (std::vector<uint32_t>{44, 45}));
  ASSERT_EQ(s.devices.size(), 1u);
  const Device& d = s.devices[0];
  EXPECT_EQ(d.name, "gpu0");
  EXPECT_EQ(d.annotations, (AnnotationList{{"model", "x"}}));
  EXPECT_EQ(d.edits.env, (std::vector<std::string>{"A=1", "B=2"}));
  const DeviceNode& n = node_of(s);
  EXPECT_EQ(n.path, "/dev/gpu0");
  EXPECT_EQ(n.host_path, "/dev/nvidia0");
  EXPECT_EQ(n.type, "c");
  EXPECT_EQ(n.major, 195);
  EXPECT_EQ(n.minor, 0);
  EXPECT_EQ(n.file_mode, std::optional<uint32_t>(0660));
  EXPECT_EQ(n.permissions, "rw");
  EXPECT_EQ(n.uid, std::optional<uint32_t>(1000));
  EXPECT_EQ(n.gid, std::optional<uint32_t>(0));
  ASSERT_EQ(d.edits.mounts.size(), 1u);
  EXPECT_EQ(d.edits.mounts[0].host_path, "/usr/lib/libx.so");
  EXPECT_EQ(d.edits.mounts[0].options, (std::vector<std::string>{"ro", "bind"}));
  EXPECT_EQ(d.edits.mounts[0].type, "bind");
  ASSERT_EQ(d.edits.hooks.size(), 1u);
  EXPECT_EQ(d.edits.hooks[0].hook_name, "createContainer");
  EXPECT_EQ(d.edits.hooks[0].args, (std::vector<std::string>{"hook", "--flag"}));
  EXPECT_EQ(d.edits.hooks[0].env, (std::vector<std::string>{"X=1"}));
  EXPECT_EQ(d.edits.hooks[0].timeout, std::optional<int64_t>(5));
  ASSERT_TRUE(d.edits.intel_rdt.has_value());
  EXPECT_EQ(d.edits.intel_rdt->clos_id, "group1");
  EXPECT_EQ(d.edits.intel_rdt->l3_cache_schema, "L3:0=ff");
  EXPECT_EQ(d.edits.intel_rdt->mem_bw_schema, "MB:0=50");
  EXPECT_FALSE(d.edits.intel_rdt->schemata.has_value());
  EXPECT_FALSE(d.edits.intel_rdt->enable_monitoring);
  EXPECT_TRUE(validate_spec(s).empty());
}

TEST(SpecDecoder, FullJsonSpec) {
  auto r = json(R"({"cdiVersion": "1.1.0", "kind": "vendor.com/net",
    "devices": [{"name": "eth", "containerEdits": {
      "netDevices": [{"hostInterfaceName": "eth0", "name": "net0"}],
      "intelRdt": {"schemata": ["L3:0=f"], "enableMonitoring": true},
      "deviceNodes": [{"path": "/dev/x", "major": 9223372036854775807, "minor": 0, "fileMode": 438}]}}]})");
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  const ContainerEdits& e = edits_of(*r);
  ASSERT_EQ(e.net_devices.size(), 1u);
  EXPECT_EQ(e.net_devices[0].host_interface_name, "eth0");
  EXPECT_EQ(e.net_devices[0].name, "net0");
  ASSERT_TRUE(e.intel_rdt.has_value());
  EXPECT_EQ(e.intel_rdt->schemata, std::optional<std::vector<std::string>>(std::vector<std::string>{"L3:0=f"}));
  EXPECT_TRUE(e.intel_rdt->enable_monitoring);
  EXPECT_EQ(node_of(*r).major, std::numeric_limits<int64_t>::max());
  EXPECT_EQ(node_of(*r).file_mode, std::optional<uint32_t>(438));
}

// ---- keys ---------------------------------------------------------------

struct KeyCase {
  const char* name;
  SpecFormat format;
  std::string text;
  const char* message;  // a piece of the error
  int line;
  int column;
  const char* field;
};

class KeyErrorTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(KeyErrorTest, Refused) {
  const KeyCase& c = GetParam();
  auto r = parse_spec(c.text, c.format);
  ASSERT_FALSE(r.ok());
  const Error& e = r.error();
  EXPECT_THAT(e.message, HasSubstr(c.message)) << e.located();
  EXPECT_EQ(e.line, c.line) << e.located();
  EXPECT_EQ(e.column, c.column) << e.located();
  EXPECT_EQ(e.field, c.field) << e.located();
}

void PrintTo(const KeyCase& c, std::ostream* os) { *os << c.name; }

INSTANTIATE_TEST_SUITE_P(
    Table, KeyErrorTest,
    ::testing::Values(
        KeyCase{"yaml_unknown_root", SpecFormat::yaml, "cdiVersion: 1.0.0\nkindd: v/c\n", "unknown field \"kindd\"", 2,
                1, "kindd"},
        KeyCase{"yaml_case_hint", SpecFormat::yaml, "CDIVERSION: 1.0.0\n",
                "unknown field \"CDIVERSION\" (did you mean \"cdiVersion\"? field names are case-sensitive)", 1, 1,
                "CDIVERSION"},
        KeyCase{"yaml_case_hint_nested", SpecFormat::yaml, yaml_node("HostPath: /dev/x"), "(did you mean \"hostPath\"?",
                8, 7, "devices[0].containerEdits.deviceNodes[0].HostPath"},
        KeyCase{"yaml_enable_cmt", SpecFormat::yaml, yaml_edits("intelRdt: {enableCMT: true}"),
                "unknown field \"enableCMT\" (removed in CDI v1.1.0)", 5, 31,
                "devices[0].containerEdits.intelRdt.enableCMT"},
        KeyCase{"yaml_enable_mbm", SpecFormat::yaml, yaml_edits("intelRdt: {enableMBM: false}"),
                "unknown field \"enableMBM\" (removed in CDI v1.1.0)", 5, 31,
                "devices[0].containerEdits.intelRdt.enableMBM"},
        KeyCase{"yaml_duplicate_root", SpecFormat::yaml, "kind: a/b\ncdiVersion: 1.0.0\nkind: c/d\n",
                "duplicate field \"kind\" (first at line 1)", 3, 1, "kind"},
        KeyCase{"yaml_duplicate_nested", SpecFormat::yaml, yaml_node("type: c\n      type: b"),
                "duplicate field \"type\" (first at line 8)", 9, 7, "devices[0].containerEdits.deviceNodes[0].type"},
        KeyCase{"yaml_duplicate_annotation", SpecFormat::yaml, "annotations:\n  a: x\n  a: y\n", "duplicate key \"a\"",
                3, 3, "annotations"},
        KeyCase{"yaml_key_not_scalar", SpecFormat::yaml, "? [a]\n: b\n", "mapping keys must be strings", 1, 3, ""},
        KeyCase{"json_unknown", SpecFormat::json, "{\"cdiVersion\": \"1.0.0\", \"Kind\": \"v/c\"}",
                "unknown field \"Kind\" (did you mean \"kind\"?", 1, 25, "Kind"},
        KeyCase{"json_duplicate", SpecFormat::json, "{\"kind\": \"a/b\",\n \"kind\": \"a/b\"}",
                "duplicate field \"kind\" (first at line 1)", 2, 2, "kind"},
        KeyCase{"json_enable_cmt", SpecFormat::json, json_edits("\"intelRdt\": {\"enableCMT\": true}"),
                "unknown field \"enableCMT\" (removed in CDI v1.1.0)", 1, 112,
                "devices[0].containerEdits.intelRdt.enableCMT"}),
    [](const ::testing::TestParamInfo<KeyCase>& i) { return i.param.name; });

// ---- scalar typing (YAML 1.2 core schema; docs/decisions.md) -----------

struct ScalarCase {
  const char* name;
  std::string text;                        // the whole spec
  std::function<void(const Spec&)> check;  // when it decodes
  const char* error = nullptr;             // else: a piece of the message
};

void PrintTo(const ScalarCase& c, std::ostream* os) { *os << c.name; }

class ScalarTest : public ::testing::TestWithParam<ScalarCase> {};

TEST_P(ScalarTest, Types) {
  const ScalarCase& c = GetParam();
  auto r = c.text.starts_with('{') ? json(c.text) : yaml(c.text);
  if (c.error) {
    ASSERT_FALSE(r.ok()) << "decoded, expected an error with " << c.error;
    EXPECT_THAT(r.error().message, HasSubstr(c.error)) << r.error().located();
    return;
  }
  ASSERT_TRUE(r.ok()) << r.error().located();
  c.check(*r);
}

std::function<void(const Spec&)> host_path_is(std::string want) {
  return [want](const Spec& s) { EXPECT_EQ(node_of(s).host_path, want); };
}
std::function<void(const Spec&)> major_is(int64_t want) {
  return [want](const Spec& s) { EXPECT_EQ(node_of(s).major, want); };
}
std::function<void(const Spec&)> file_mode_is(std::optional<uint32_t> want) {
  return [want](const Spec& s) { EXPECT_EQ(node_of(s).file_mode, want); };
}
std::function<void(const Spec&)> uid_is(std::optional<uint32_t> want) {
  return [want](const Spec& s) { EXPECT_EQ(node_of(s).uid, want); };
}

INSTANTIATE_TEST_SUITE_P(
    Yaml, ScalarTest,
    ::testing::Values(
        // Plain scalars bound to strings keep their source text (where Go's YAML 1.1 reader coerces: `007` to "7",
        // `yes` to "true").
        ScalarCase{"str_leading_zero", yaml_node("hostPath: 007"), host_path_is("007")},
        ScalarCase{"str_yes", yaml_node("hostPath: yes"), host_path_is("yes")},
        ScalarCase{"str_on", yaml_node("hostPath: on"), host_path_is("on")},
        ScalarCase{"str_n", yaml_node("hostPath: n"), host_path_is("n")},
        ScalarCase{"str_hex", yaml_node("hostPath: 0x10"), host_path_is("0x10")},
        ScalarCase{"str_exponent", yaml_node("hostPath: 1e3"), host_path_is("1e3")},
        ScalarCase{"str_trailing_zero", yaml_node("hostPath: 1.50"), host_path_is("1.50")},
        ScalarCase{"str_underscore", yaml_node("hostPath: 1_000"), host_path_is("1_000")},
        ScalarCase{"str_true", yaml_node("hostPath: true"), host_path_is("true")},
        ScalarCase{"str_tilde_is_null", yaml_node("hostPath: ~"), host_path_is("")},
        ScalarCase{"str_null_word", yaml_node("hostPath: null"), host_path_is("")},
        ScalarCase{"str_quoted_null", yaml_node("hostPath: 'null'"), host_path_is("null")},
        ScalarCase{"str_quoted_digits", yaml_node("hostPath: \"007\""), host_path_is("007")},
        ScalarCase{"str_explicit_tag", yaml_node("hostPath: !!str 12"), host_path_is("12")},
        ScalarCase{"str_int_tag_refused", yaml_node("hostPath: !!int 12"), nullptr, "expected a string"},
        ScalarCase{"str_mapping_refused", yaml_node("hostPath: {a: b}"), nullptr, "expected a string, got a mapping"},
        ScalarCase{"version_one_point_oh", "cdiVersion: 1.0\nkind: v/c\ndevices: []\n",
                   [](const Spec& s) { EXPECT_EQ(s.version, "1.0"); }},
        // Integers.
        ScalarCase{"int_decimal", yaml_node("major: 10"), major_is(10)},
        ScalarCase{"int_zero", yaml_node("major: 0"), major_is(0)},
        ScalarCase{"int_plus", yaml_node("major: +7"), major_is(7)},
        ScalarCase{"int_negative", yaml_node("major: -7"), major_is(-7)},
        ScalarCase{"int_hex", yaml_node("major: 0x10"), major_is(16)},
        ScalarCase{"int_hex_0a", yaml_node("major: 0x0a"), major_is(10)},
        ScalarCase{"int_octal_0o", yaml_node("fileMode: 0o666"), file_mode_is(438)},
        ScalarCase{"int_null", yaml_node("fileMode: ~"), file_mode_is(std::nullopt)},
        // A leading zero, as the Go reference's YAML 1.1 reader reads it: octal when every digit is.
        ScalarCase{"int_leading_zero", yaml_node("major: 007"), major_is(7)},
        ScalarCase{"int_leading_zero_octal", yaml_node("major: 010"), major_is(8)},
        ScalarCase{"int_leading_zero_negative", yaml_node("major: -010"), major_is(-8)},
        ScalarCase{"int_leading_zero_not_octal", yaml_node("major: 09"), major_is(9)},
        ScalarCase{"int_leading_zeros_only", yaml_node("major: 000"), major_is(0)},
        ScalarCase{"file_mode_0666", yaml_node("fileMode: 0666"), file_mode_is(0666)},
        ScalarCase{"file_mode_0640", yaml_node("fileMode: 0640"), file_mode_is(0640)},
        ScalarCase{"file_mode_0999_decimal", yaml_node("fileMode: 0999"), file_mode_is(999)},
        ScalarCase{"int_leading_zero_quoted", yaml_node("fileMode: '0640'"), nullptr, "expected an integer"},
        ScalarCase{"int_exponent", yaml_node("major: 1e3"), nullptr, "expected an integer"},
        ScalarCase{"int_fraction", yaml_node("major: 1.0"), nullptr, "expected an integer"},
        ScalarCase{"int_underscore", yaml_node("major: 1_000"), nullptr, "expected an integer"},
        ScalarCase{"int_yes", yaml_node("major: yes"), nullptr, "expected an integer"},
        ScalarCase{"int_single_quoted", yaml_node("major: '10'"), nullptr,
                   "expected an integer, got the string \"10\""},
        ScalarCase{"int_double_quoted", yaml_node("major: \"10\""), nullptr, "expected an integer"},
        ScalarCase{"int_str_tag", yaml_node("major: !!str 10"), nullptr, "expected an integer"},
        ScalarCase{"int_sequence", yaml_node("major: [1]"), nullptr, "expected an integer, got a sequence"},
        ScalarCase{"int64_max", yaml_node("major: 9223372036854775807"), major_is(std::numeric_limits<int64_t>::max())},
        ScalarCase{"int64_min", yaml_node("major: -9223372036854775808"),
                   major_is(std::numeric_limits<int64_t>::min())},
        ScalarCase{"int64_over", yaml_node("major: 9223372036854775808"), nullptr, "out of range"},
        ScalarCase{"int64_under", yaml_node("major: -9223372036854775809"), nullptr, "out of range"},
        ScalarCase{"int_huge", yaml_node("major: 99999999999999999999999"), nullptr, "out of range"},
        ScalarCase{"uid_max", yaml_node("uid: 4294967295"), uid_is(4294967295u)},
        ScalarCase{"uid_over", yaml_node("uid: 4294967296"), nullptr, "out of range (0 to 4294967295)"},
        ScalarCase{"uid_negative", yaml_node("uid: -1"), nullptr, "out of range (0 to 4294967295)"},
        ScalarCase{"uid_minus_zero", yaml_node("uid: -0"), uid_is(0u)},
        // Booleans: only true/false (and their capitalised forms).
        ScalarCase{"bool_true", yaml_edits("intelRdt: {enableMonitoring: true}"),
                   [](const Spec& s) { EXPECT_TRUE(edits_of(s).intel_rdt->enable_monitoring); }},
        ScalarCase{"bool_True", yaml_edits("intelRdt: {enableMonitoring: True}"),
                   [](const Spec& s) { EXPECT_TRUE(edits_of(s).intel_rdt->enable_monitoring); }},
        ScalarCase{"bool_false", yaml_edits("intelRdt: {enableMonitoring: false}"),
                   [](const Spec& s) { EXPECT_FALSE(edits_of(s).intel_rdt->enable_monitoring); }},
        ScalarCase{"bool_yes", yaml_edits("intelRdt: {enableMonitoring: yes}"), nullptr, "expected true or false"},
        ScalarCase{"bool_on", yaml_edits("intelRdt: {enableMonitoring: on}"), nullptr, "expected true or false"},
        ScalarCase{"bool_one", yaml_edits("intelRdt: {enableMonitoring: 1}"), nullptr, "expected true or false"},
        ScalarCase{"bool_quoted", yaml_edits("intelRdt: {enableMonitoring: 'true'}"), nullptr,
                   "expected true or false"},
        // Nulls and empties.
        ScalarCase{"rdt_null_is_absent", yaml_edits("env: [A=1], intelRdt: ~"),
                   [](const Spec& s) { EXPECT_FALSE(edits_of(s).intel_rdt.has_value()); }},
        ScalarCase{"rdt_empty_is_present", yaml_edits("intelRdt: {}"),
                   [](const Spec& s) {
                     ASSERT_TRUE(edits_of(s).intel_rdt.has_value());
                     EXPECT_FALSE(edits_of(s).intel_rdt->schemata.has_value());
                   }},
        ScalarCase{"schemata_empty_is_present", yaml_edits("intelRdt: {schemata: []}"),
                   [](const Spec& s) {
                     ASSERT_TRUE(edits_of(s).intel_rdt->schemata.has_value());
                     EXPECT_TRUE(edits_of(s).intel_rdt->schemata->empty());
                     EXPECT_EQ(minimum_version(s), (Version{1, 1, 0}));
                   }},
        ScalarCase{"schemata_null_is_absent", yaml_edits("intelRdt: {schemata: ~}"),
                   [](const Spec& s) {
                     EXPECT_FALSE(edits_of(s).intel_rdt->schemata.has_value());
                     EXPECT_EQ(minimum_version(s), (Version{0, 7, 0}));
                   }},
        ScalarCase{"list_null_is_empty", yaml_edits("env: ~, mounts: null"),
                   [](const Spec& s) { EXPECT_TRUE(edits_of(s).empty()); }},
        ScalarCase{"list_item_null", yaml_edits("env: [A=1, ~]"),
                   [](const Spec& s) {
                     EXPECT_EQ(edits_of(s).env, (std::vector<std::string>{"A=1", ""}));
                   }},
        ScalarCase{"gid_list", yaml_edits("additionalGids: [0x10, 0o10, 10]"),
                   [](const Spec& s) {
                     EXPECT_EQ(edits_of(s).additional_gids, (std::vector<uint32_t>{16, 8, 10}));
                   }},
        ScalarCase{"gid_negative", yaml_edits("additionalGids: [-1]"), nullptr, "out of range"},
        ScalarCase{"env_not_a_list", yaml_edits("env: A=1"), nullptr, "expected a sequence, got the scalar \"A=1\""},
        ScalarCase{"edits_not_a_mapping", "cdiVersion: 1.1.0\nkind: v/c\ndevices:\n- name: d\n  containerEdits: []\n",
                   nullptr, "expected a mapping, got a sequence"},
        ScalarCase{"device_null", "cdiVersion: 1.1.0\nkind: v/c\ndevices:\n- ~\n", nullptr,
                   "expected a device mapping, got null"},
        ScalarCase{"device_without_name", "cdiVersion: 1.1.0\nkind: v/c\ndevices:\n- containerEdits: {env: [A=1]}\n",
                   nullptr, "missing required field \"name\""},
        ScalarCase{"missing_version", "kind: v/c\ndevices: []\n", nullptr, "missing required field \"cdiVersion\""},
        ScalarCase{"missing_kind", "cdiVersion: 1.0.0\ndevices: []\n", nullptr, "missing required field \"kind\""},
        ScalarCase{"missing_devices", "cdiVersion: 1.0.0\nkind: v/c\n", nullptr, "missing required field \"devices\""},
        ScalarCase{"root_sequence", "- a\n- b\n", nullptr, "a spec must be a mapping, got a sequence"},
        ScalarCase{"root_scalar", "hello\n", nullptr, "a spec must be a mapping, got the scalar \"hello\""}),
    [](const ::testing::TestParamInfo<ScalarCase>& i) { return i.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Json, ScalarTest,
    ::testing::Values(
        ScalarCase{"int", json_node(R"("major": 10)"), major_is(10)},
        ScalarCase{"file_mode", json_node(R"("fileMode": 438)"), file_mode_is(438)},
        ScalarCase{"null_int", json_node(R"("fileMode": null)"), file_mode_is(std::nullopt)},
        ScalarCase{"null_string", json_node(R"("hostPath": null)"), host_path_is("")},
        ScalarCase{"fraction", json_node(R"("major": 1.5)"), nullptr, "expected an integer, got the number 1.5"},
        ScalarCase{"fraction_zero", json_node(R"("major": 1.0)"), nullptr, "expected an integer"},
        ScalarCase{"exponent", json_node(R"("major": 1e3)"), nullptr, "expected an integer"},
        ScalarCase{"string_in_int", json_node(R"("major": "10")"), nullptr, "expected an integer, got the string"},
        ScalarCase{"bool_in_int", json_node(R"("major": true)"), nullptr, "expected an integer, got the boolean true"},
        ScalarCase{"int64_min", json_node(R"("major": -9223372036854775808)"),
                   major_is(std::numeric_limits<int64_t>::min())},
        ScalarCase{"int64_over", json_node(R"("major": 9223372036854775808)"), nullptr, "out of range"},
        ScalarCase{"uid_negative", json_node(R"("uid": -1)"), nullptr, "out of range"},
        ScalarCase{"number_in_string", json_node(R"("hostPath": 7)"), nullptr, "expected a string, got the number 7"},
        ScalarCase{"bool_in_string", json_node(R"("hostPath": false)"), nullptr, "expected a string"},
        ScalarCase{"string_in_bool", json_edits(R"("intelRdt": {"enableMonitoring": "true"})"), nullptr,
                   "expected true or false"},
        ScalarCase{"rdt_null", json_edits(R"("env": ["A=1"], "intelRdt": null)"),
                   [](const Spec& s) { EXPECT_FALSE(edits_of(s).intel_rdt.has_value()); }},
        ScalarCase{"rdt_empty", json_edits(R"("intelRdt": {})"),
                   [](const Spec& s) { EXPECT_TRUE(edits_of(s).intel_rdt.has_value()); }},
        ScalarCase{"schemata_empty", json_edits(R"("intelRdt": {"schemata": []})"),
                   [](const Spec& s) { EXPECT_TRUE(edits_of(s).intel_rdt->schemata.has_value()); }},
        ScalarCase{"annotation_number",
                   R"({"cdiVersion": "1.0.0", "kind": "v/c", "annotations": {"a": 1}, "devices": []})", nullptr,
                   "expected a string, got the number 1"},
        ScalarCase{"version_number", R"({"cdiVersion": 1.0, "kind": "v/c", "devices": []})", nullptr,
                   "expected a string, got the number 1.0"}),
    [](const ::testing::TestParamInfo<ScalarCase>& i) { return i.param.name; });

// ---- empty documents ----------------------------------------------------

struct EmptyCase {
  const char* name;
  SpecFormat format;
  std::string text;
};

void PrintTo(const EmptyCase& c, std::ostream* os) { *os << c.name; }

class EmptyDocumentTest : public ::testing::TestWithParam<EmptyCase> {};

TEST_P(EmptyDocumentTest, HoldsNoSpec) {
  auto r = parse_spec(GetParam().text, GetParam().format);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("holds no spec")) << r.error().located();
}

INSTANTIATE_TEST_SUITE_P(Table, EmptyDocumentTest,
                         ::testing::Values(EmptyCase{"yaml_empty", SpecFormat::yaml, ""},
                                           EmptyCase{"yaml_blank", SpecFormat::yaml, "\n  \n"},
                                           EmptyCase{"yaml_comment", SpecFormat::yaml, "# nothing here\n"},
                                           EmptyCase{"yaml_null", SpecFormat::yaml, "null\n"},
                                           EmptyCase{"yaml_tilde", SpecFormat::yaml, "~"},
                                           EmptyCase{"yaml_empty_document", SpecFormat::yaml, "---\n...\n"},
                                           EmptyCase{"json_empty", SpecFormat::json, ""},
                                           EmptyCase{"json_blank", SpecFormat::json, " \n\t\n"},
                                           EmptyCase{"json_null", SpecFormat::json, "null"},
                                           EmptyCase{"json_null_spaced", SpecFormat::json, "\n null \n"}),
                         [](const ::testing::TestParamInfo<EmptyCase>& i) { return i.param.name; });

// A null kind or version decodes as empty; validation then refuses it.
TEST(SpecDecoder, NullRequiredStringsAreRefusedByValidation) {
  for (const char* text : {"cdiVersion: 1.0.0\nkind: ~\ndevices: [{name: d, containerEdits: {env: [A=1]}}]\n",
                           "cdiVersion: null\nkind: v/c\ndevices: [{name: d, containerEdits: {env: [A=1]}}]\n"}) {
    auto r = yaml(text);
    if (!r.ok()) {
      EXPECT_THAT(r.error().message, HasSubstr("missing required field")) << r.error().located();
      continue;
    }
    auto errors = validate_spec(*r);
    ASSERT_EQ(errors.size(), 1u) << text;
    EXPECT_TRUE(errors[0].field == "kind" || errors[0].field == "cdiVersion") << errors[0].located();
  }
}

TEST(SpecDecoder, OnlyTheFirstYamlDocument) {
  auto r = yaml("cdiVersion: 1.0.0\nkind: v/c\ndevices: []\n---\nthis: [is, not, read\n---\n- nor: this\n");
  ASSERT_TRUE(r.ok()) << r.error().located();
  EXPECT_EQ(r->kind, "v/c");
}

TEST(SpecDecoder, ExplicitDocumentStart) {
  auto r = yaml("---\ncdiVersion: 1.0.0\nkind: v/c\ndevices: []\n");
  ASSERT_TRUE(r.ok()) << r.error().located();
  EXPECT_EQ(r->version, "1.0.0");
}

TEST(SpecDecoder, AliasesExpandIntoFields) {
  auto r = yaml(
      "cdiVersion: 1.0.0\nkind: v/c\ndevices:\n"
      "- name: a\n  containerEdits: &e {env: [X=1]}\n"
      "- name: b\n  containerEdits: *e\n");
  ASSERT_TRUE(r.ok()) << r.error().located();
  ASSERT_EQ(r->devices.size(), 2u);
  EXPECT_EQ(r->devices[1].edits.env, (std::vector<std::string>{"X=1"}));
}

TEST(SpecDecoder, MergeKeysAreRefused) {
  auto r = yaml(
      "cdiVersion: 1.0.0\nkind: v/c\ndevices:\n"
      "- name: a\n  containerEdits: &e {env: [X=1]}\n"
      "- name: b\n  containerEdits:\n    <<: *e\n");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("merge keys")) << r.error().located();
  EXPECT_EQ(r.error().line, 8);
  EXPECT_EQ(r.error().field, "devices[1].containerEdits.<<");
}

// ---- positions ------------------------------------------------------------

TEST(SpecDecoder, YamlErrorPosition) {
  auto r = yaml(yaml_node("major: 1e3"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 8);
  EXPECT_EQ(r.error().column, 14);
  EXPECT_EQ(r.error().field, "devices[0].containerEdits.deviceNodes[0].major");
  EXPECT_EQ(r.error().located(),
            "devices[0].containerEdits.deviceNodes[0].major: expected an integer, got the scalar \"1e3\"");
  r.error().in_file("/etc/cdi/vendor.yaml");
  EXPECT_TRUE(r.error().located().starts_with("/etc/cdi/vendor.yaml:8:14: devices[0]")) << r.error().located();
}

TEST(SpecDecoder, LeadingZeroOctalIsNotedWhenAsked) {
  std::string text = yaml_node("fileMode: 0640\n      major: 007\n      minor: 09\n      uid: 0o17");
  auto quiet = yaml(text);
  ASSERT_TRUE(quiet.ok()) << quiet.error().located();
  EXPECT_EQ(node_of(*quiet).file_mode, 0640u);
  std::vector<Error> warnings;
  auto r = yaml(text, {.warnings = &warnings});
  ASSERT_TRUE(r.ok()) << r.error().located();
  ASSERT_EQ(warnings.size(), 1u);  // 007 and 09 read the same either way; 0o17 says what it means
  EXPECT_EQ(warnings[0].located(),
            "devices[0].containerEdits.deviceNodes[0].fileMode: ambiguous number 0640: read as octal (416) as the Go "
            "reference reads it (YAML 1.1); YAML 1.2 reads it as decimal 640; write 0o640 to say octal");
  EXPECT_EQ(warnings[0].line, 8);
  EXPECT_EQ(warnings[0].column, 17);
}

TEST(SpecDecoder, JsonErrorPositionIsTheStartOfTheValue) {
  std::string text =
      "{\n"
      "  \"cdiVersion\": \"1.1.0\",\n"
      "  \"kind\": \"vendor.com/gpu\",\n"
      "  \"devices\": [\n"
      "    {\n"
      "      \"name\": \"gpu0\",\n"
      "      \"containerEdits\": {\"env\": [\"A=1\", 5]}\n"
      "    }\n"
      "  ]\n"
      "}\n";
  auto r = json(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "devices[0].containerEdits.env[1]");
  EXPECT_EQ(r.error().line, 7);
  EXPECT_EQ(r.error().column, 41);
  EXPECT_THAT(r.error().message, HasSubstr("expected a string, got the number 5")) << r.error().located();
}

TEST(SpecDecoder, JsonPositionsOfStringsAndContainers) {
  std::string text = "{\"cdiVersion\": \"1.0.0\", \"kind\": \"v/c\",\n  \"devices\": {}}";
  auto r = json(text);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "devices");
  EXPECT_EQ(r.error().line, 2);
  EXPECT_EQ(r.error().column, 14);
  auto s =
      json("{\"cdiVersion\": \"1.0.0\",\n \"kind\": \"v/c\", \"devices\": [{\"name\": \"x\", \"annotations\": [] }]}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().field, "devices[0].annotations");
  EXPECT_EQ(s.error().line, 2);
  EXPECT_EQ(s.error().column, 58);
}

TEST(SpecDecoder, ValidationErrorAfterDecodeNamesTheField) {
  auto r = yaml(yaml_node("type: x"), {.record_positions = true});
  ASSERT_TRUE(r.ok()) << r.error().located();
  auto errors = validate_spec(*r);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].located(),
            "devices[0].containerEdits.deviceNodes[0].type: invalid device type \"x\": "
            "expected b, c, u or p");
  EXPECT_EQ(errors[0].line, 8);
  EXPECT_EQ(errors[0].column, 13);
}

TEST(SpecDecoder, RecordPositions) {
  std::string text =
      "cdiVersion: 1.1.0\n"
      "kind: vendor.com/gpu\n"
      "devices:\n"
      "- name: gpu0\n"
      "  containerEdits:\n"
      "    env: [A=1, B=2]\n";
  auto plain = yaml(text);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->positions.empty());
  auto r = yaml(text, {.record_positions = true});
  ASSERT_TRUE(r.ok()) << r.error().located();
  const auto& p = r->positions;
  auto at = [&](const std::string& field) -> std::pair<int, int> {
    auto it = p.find(field);
    if (it == p.end()) return {-1, -1};
    return {it->second.line, it->second.column};
  };
  EXPECT_EQ(at("cdiVersion"), std::make_pair(1, 13));
  EXPECT_EQ(at("kind"), std::make_pair(2, 7));
  EXPECT_EQ(at("devices"), std::make_pair(4, 1));
  EXPECT_EQ(at("devices[0]"), std::make_pair(4, 3));
  EXPECT_EQ(at("devices[0].name"), std::make_pair(4, 9));
  EXPECT_EQ(at("devices[0].containerEdits"), std::make_pair(6, 5));
  EXPECT_EQ(at("devices[0].containerEdits.env"), std::make_pair(6, 10));
  EXPECT_EQ(at("devices[0].containerEdits.env[1]"), std::make_pair(6, 16));
  auto j = json("{\"cdiVersion\": \"1.0.0\",\n\"kind\": \"v/c\", \"devices\": []}", {.record_positions = true});
  ASSERT_TRUE(j.ok()) << j.error().located();
  EXPECT_EQ(j->positions.at("kind").line, 2);
  EXPECT_EQ(j->positions.at("kind").column, 9);
  EXPECT_EQ(j->positions.at("devices").column, 27);
}

TEST(SpecDecoder, SyntaxErrorsCarryPositions) {
  auto y = yaml("cdiVersion: 1.0.0\nkind: [v/c\n");
  ASSERT_FALSE(y.ok());
  EXPECT_THAT(y.error().message, HasSubstr("invalid YAML")) << y.error().located();
  EXPECT_EQ(y.error().line, 3);
  auto j = json("{\"cdiVersion\": \"1.0.0\",\n \"kind\" \"v/c\"}");
  ASSERT_FALSE(j.ok());
  EXPECT_THAT(j.error().message, HasSubstr("invalid JSON")) << j.error().located();
  EXPECT_EQ(j.error().line, 2);
  EXPECT_EQ(j.error().column, 9);
}

TEST(SpecCodec, FormatByExactExtension) {
  EXPECT_EQ(spec_format_for("vendor.json"), SpecFormat::json);
  EXPECT_EQ(spec_format_for("vendor.yaml"), SpecFormat::yaml);
  EXPECT_EQ(spec_format_for("a.b.yaml"), SpecFormat::yaml);
  EXPECT_EQ(spec_format_for("vendor.yml"), std::nullopt);
  EXPECT_EQ(spec_format_for("vendor.JSON"), std::nullopt);
  EXPECT_EQ(spec_format_for("vendor.Yaml"), std::nullopt);
  EXPECT_EQ(spec_format_for("x.yaml.tmp"), std::nullopt);
  EXPECT_EQ(spec_format_for("spec.123.tmp"), std::nullopt);
  EXPECT_EQ(spec_format_for("json"), std::nullopt);
}

// The reference reads .json specs with its YAML reader too: what loads there loads here.
TEST(SpecCodec, JsonFilesThatAreNotStrictJsonAreReadAsYaml) {
  const std::string body = R"({"cdiVersion": "0.5.0", "kind": "v.com/c", "devices": [{"name": "d", )"
                           R"("containerEdits": {"env": ["A=1"]}}]})";
  for (const std::string& text : {"\xEF\xBB\xBF" + body,  // a UTF-8 BOM
                                  std::string(R"({"cdiVersion": "0.5.0", "kind": "v.com/c", "devices": [{"name": "d", )"
                                              R"("containerEdits": {"env": ["A=1",],},},],})"),  // trailing commas
                                  std::string("cdiVersion: 0.5.0\nkind: v.com/c\ndevices:\n- name: d\n"
                                              "  containerEdits:\n    env: [A=1]\n")}) {  // YAML in a .json file
    auto r = json(text);
    ASSERT_TRUE(r.ok()) << text << ": " << r.error().located();
    EXPECT_EQ(r->kind, "v.com/c");
    EXPECT_EQ(edits_of(*r).env, std::vector<std::string>{"A=1"});
  }
  // A broken one still tells its kind (the registry files the error under it).
  PeekedKind peek = peek_spec_kind("kind: v.com/c\ncdiVersion: [\n", SpecFormat::json);
  EXPECT_EQ(peek.result, KindPeek::found);
  EXPECT_EQ(peek.kind, "v.com/c");
  // Read as YAML, a leading-zero number is the reference's octal.
  auto octal = json(json_node("\"fileMode\": 0640"));
  ASSERT_TRUE(octal.ok()) << octal.error().located();
  EXPECT_EQ(node_of(*octal).file_mode, 0640u);
}

TEST(SpecCodec, BrokenJsonGetsTheErrorOfTheReaderThatGotFurther) {
  // Both fail at the same place: the JSON reader's words.
  auto tie = json("{\"cdiVersion\": \"0.5.0\", \"kind\": \"v.com/c\" \"devices\": []}");
  ASSERT_FALSE(tie.ok());
  EXPECT_EQ(tie.error().located(), "invalid JSON: Missing a comma or '}' after an object member.");
  EXPECT_EQ(tie.error().column, 43);
  // Cut short: both stop at the end of the input (YAML counts it a line further on).
  auto cut = json("{\"cdiVersion\": \"0.5.0\", \"devices\": [{\"name\": \"a\", ");
  ASSERT_FALSE(cut.ok());
  EXPECT_TRUE(cut.error().message.starts_with("invalid JSON: ")) << cut.error().located();
  auto cut_line = json("{\"cdiVersion\": \"0.5.0\",\n \"devices\": [\n");
  ASSERT_FALSE(cut_line.ok());
  EXPECT_TRUE(cut_line.error().message.starts_with("invalid JSON: ")) << cut_line.error().located();
  // JSON stops at the first quote; YAML reads on to the real mistake.
  auto further = json("{'cdiVersion': '0.5.0', kind: [}");
  ASSERT_FALSE(further.ok());
  EXPECT_TRUE(further.error().message.starts_with("invalid YAML: ")) << further.error().located();
  EXPECT_GT(further.error().column, 20) << further.error().located();
}

TEST(SpecCodec, RefusesOversizedInput) {
  std::string big(kMaxSpecFileBytes + 1, ' ');
  auto r = yaml(big);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().message, HasSubstr("16 MiB"));
}

}  // namespace
}  // namespace cdi::codec
