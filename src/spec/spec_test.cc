#include "spec/spec.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/text.h"

// Designated initializers leave the other members at their defaults on
// purpose; GCC 12 warns about that under -Wextra.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cdi {
namespace {

// A valid 0.3.0 spec with one device; cases change what they test.
Spec base_spec(std::string version = "0.3.0") {
  Spec s;
  s.version = std::move(version);
  s.kind = "vendor.com/gpu";
  Device d;
  d.name = "gpu0";
  d.edits.env = {"A=1"};
  s.devices.push_back(d);
  return s;
}

std::string all_messages(const std::vector<Error>& errors) {
  std::vector<std::string> lines;
  for (const auto& e : errors) lines.push_back(e.located());
  return join(lines, "\n");
}

// ---- versions ---------------------------------------------------------

struct VersionCase {
  const char* name;
  const char* text;
  bool ok;
  Version version;
};

void PrintTo(const VersionCase& c, std::ostream* os) { *os << c.name; }

class ParseVersionTest : public ::testing::TestWithParam<VersionCase> {};

TEST_P(ParseVersionTest, Parses) {
  const VersionCase& c = GetParam();
  auto v = parse_spec_version(c.text);
  ASSERT_EQ(v.ok(), c.ok) << c.text;
  if (c.ok) {
    EXPECT_EQ(*v, c.version);
  } else {
    EXPECT_NE(v.error().message.find(quote(c.text)), std::string::npos) << v.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseVersionTest,
    ::testing::Values(
        VersionCase{"v0_1_0", "0.1.0", true, {0, 1, 0}}, VersionCase{"v0_3_0", "0.3.0", true, {0, 3, 0}},
        VersionCase{"v0_8_0", "0.8.0", true, {0, 8, 0}}, VersionCase{"v1_0_0", "1.0.0", true, {1, 0, 0}},
        VersionCase{"v1_1_0", "1.1.0", true, {1, 1, 0}}, VersionCase{"v_prefix", "v1.0.0", true, {1, 0, 0}},
        VersionCase{"v_prefix_old", "v0.5.0", true, {0, 5, 0}}, VersionCase{"two_parts", "1.0", false, {}},
        VersionCase{"upper_v", "V1.0.0", false, {}}, VersionCase{"unreleased_patch", "1.1.1", false, {}},
        VersionCase{"unreleased_minor", "0.9.0", false, {}}, VersionCase{"double_v", "vv1.0.0", false, {}},
        VersionCase{"empty", "", false, {}}, VersionCase{"just_v", "v", false, {}},
        VersionCase{"leading_zero", "01.0.0", false, {}}, VersionCase{"space", " 1.0.0", false, {}},
        VersionCase{"suffix", "1.0.0-rc1", false, {}}, VersionCase{"one", "1", false, {}}),
    [](const ::testing::TestParamInfo<VersionCase>& i) { return i.param.name; });

TEST(Version, OrdersAndPrints) {
  EXPECT_LT((Version{0, 8, 0}), (Version{1, 0, 0}));
  EXPECT_LT((Version{0, 3, 0}), (Version{0, 10, 0}));
  EXPECT_EQ((Version{1, 1, 0}).str(), "1.1.0");
  EXPECT_EQ(kNewestVersion, (Version{1, 1, 0}));
}

struct MinimumCase {
  std::string name;
  std::function<void(Spec&)> change;
  Version minimum;
};

void PrintTo(const MinimumCase& c, std::ostream* os) { *os << c.name; }

class MinimumVersionTest : public ::testing::TestWithParam<MinimumCase> {};

TEST_P(MinimumVersionTest, Gates) {
  Spec s = base_spec();
  GetParam().change(s);
  EXPECT_EQ(minimum_version(s), GetParam().minimum) << minimum_version(s).str();
}

ContainerEdits& spec_edits(Spec& s) { return s.edits; }
ContainerEdits& device_edits(Spec& s) { return s.devices[0].edits; }

// Every predicate of the minimum-version rule, on spec-level and on device edits.
std::vector<MinimumCase> minimum_cases() {
  using Where = ContainerEdits& (*)(Spec&);
  std::vector<MinimumCase> out = {
      {"nothing_gated", [](Spec&) {}, {0, 3, 0}},
      {"spec_annotations",
       [](Spec& s) {
         s.annotations = {{"a", "b"}};
       },
       {0, 6, 0}},
      {"device_annotations",
       [](Spec& s) {
         s.devices[0].annotations = {{"a", "b"}};
       },
       {0, 6, 0}},
      {"dot_in_class", [](Spec& s) { s.kind = "vendor.com/gpu.x"; }, {0, 6, 0}},
      {"dot_in_vendor_only", [](Spec& s) { s.kind = "vendor.example.com/gpu"; }, {0, 3, 0}},
      {"device_name_leading_digit", [](Spec& s) { s.devices[0].name = "0"; }, {0, 5, 0}},
      {"device_name_inner_digit", [](Spec& s) { s.devices[0].name = "gpu0x"; }, {0, 3, 0}},
      {"newest_wins",
       [](Spec& s) {
         s.devices[0].name = "0";
         s.devices[0].edits.net_devices = {{"eth0", "net0"}};
       },
       {1, 1, 0}},
  };
  struct Pred {
    const char* name;
    std::function<void(ContainerEdits&)> change;
    Version minimum;
  };
  std::vector<Pred> preds = {
      {"rdt_schemata",
       [](ContainerEdits& e) { e.intel_rdt = IntelRdt{.schemata = std::vector<std::string>{"L3:0=f"}}; },
       {1, 1, 0}},
      {"rdt_schemata_empty",
       [](ContainerEdits& e) { e.intel_rdt = IntelRdt{.schemata = std::vector<std::string>{}}; },
       {1, 1, 0}},
      {"rdt_monitoring", [](ContainerEdits& e) { e.intel_rdt = IntelRdt{.enable_monitoring = true}; }, {1, 1, 0}},
      {"net_devices",
       [](ContainerEdits& e) {
         e.net_devices = {{"eth0", "net0"}};
       },
       {1, 1, 0}},
      {"rdt_empty", [](ContainerEdits& e) { e.intel_rdt = IntelRdt{}; }, {0, 7, 0}},
      {"rdt_closid", [](ContainerEdits& e) { e.intel_rdt = IntelRdt{.clos_id = "c"}; }, {0, 7, 0}},
      {"additional_gids", [](ContainerEdits& e) { e.additional_gids = {5}; }, {0, 7, 0}},
      {"host_path",
       [](ContainerEdits& e) { e.device_nodes = {DeviceNode{.path = "/dev/x", .host_path = "/dev/y"}}; },
       {0, 5, 0}},
      {"no_host_path", [](ContainerEdits& e) { e.device_nodes = {DeviceNode{.path = "/dev/x"}}; }, {0, 3, 0}},
      {"mount_type",
       [](ContainerEdits& e) {
         e.mounts = {Mount{"/a", "/b", {}, "bind"}};
       },
       {0, 4, 0}},
      {"mount_untyped",
       [](ContainerEdits& e) {
         e.mounts = {Mount{"/a", "/b", {"ro"}, ""}};
       },
       {0, 3, 0}},
      {"hooks_ungated",
       [](ContainerEdits& e) {
         e.hooks = {Hook{"prestart", "/bin/x", {}, {}, 5}};
       },
       {0, 3, 0}},
  };
  for (const auto& p : preds) {
    for (auto [where_name, where] : {std::pair<const char*, Where>{"spec", spec_edits}, {"device", device_edits}}) {
      auto change = p.change;
      auto w = where;
      out.push_back({std::string(where_name) + "_" + p.name, [change, w](Spec& s) { change(w(s)); }, p.minimum});
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Table, MinimumVersionTest, ::testing::ValuesIn(minimum_cases()),
                         [](const ::testing::TestParamInfo<MinimumCase>& i) { return i.param.name; });

TEST(MinimumVersion, EnforcedByValidation) {
  Spec s = base_spec("0.6.0");
  s.devices[0].edits.additional_gids = {44};
  auto errors = validate_spec(s);
  ASSERT_EQ(errors.size(), 1u) << all_messages(errors);
  EXPECT_EQ(errors[0].field, "cdiVersion");
  EXPECT_NE(errors[0].message.find("must be at least v0.7.0"), std::string::npos) << errors[0].message;
  s.version = "0.7.0";
  EXPECT_TRUE(validate_spec(s).empty());
  s.version = "v1.1.0";
  EXPECT_TRUE(validate_spec(s).empty());
}

TEST(MinimumVersion, OldVersionsAlwaysFail) {
  for (const char* v : {"0.1.0", "0.2.0", "v0.2.0"}) {
    auto errors = validate_spec(base_spec(v));
    ASSERT_EQ(errors.size(), 1u) << v << all_messages(errors);
    EXPECT_NE(errors[0].message.find("at least v0.3.0"), std::string::npos) << errors[0].message;
  }
  EXPECT_TRUE(validate_spec(base_spec("0.3.0")).empty());
}

// ---- validation -------------------------------------------------------

struct ValidateCase {
  const char* name;
  std::function<void(Spec&)> change;
  const char* field;      // nullptr: valid
  const char* message{};  // a piece of the message
  bool strict = false;
};

void PrintTo(const ValidateCase& c, std::ostream* os) { *os << c.name; }

class ValidateTest : public ::testing::TestWithParam<ValidateCase> {};

TEST_P(ValidateTest, Checks) {
  const ValidateCase& c = GetParam();
  Spec s = base_spec("1.1.0");
  c.change(s);
  auto errors = validate_spec(s, ValidateOptions{.strict = c.strict});
  if (c.field == nullptr) {
    EXPECT_TRUE(errors.empty()) << all_messages(errors);
    return;
  }
  ASSERT_EQ(errors.size(), 1u) << all_messages(errors);
  EXPECT_EQ(errors[0].field, c.field);
  EXPECT_NE(errors[0].message.find(c.message), std::string::npos) << errors[0].message;
}

DeviceNode node(std::string path) { return DeviceNode{.path = std::move(path)}; }
ContainerEdits& dev0(Spec& s) { return s.devices[0].edits; }

INSTANTIATE_TEST_SUITE_P(
    Reference, ValidateTest,
    ::testing::Values(
        ValidateCase{"base_is_valid", [](Spec&) {}, nullptr},
        // env
        ValidateCase{"env_empty_value", [](Spec& s) { dev0(s).env = {"A="}; }, nullptr},
        ValidateCase{"env_value_with_equals", [](Spec& s) { dev0(s).env = {"A=b=c"}; }, nullptr},
        ValidateCase{"env_no_equals", [](Spec& s) { dev0(s).env = {"A=1", "A"}; }, "devices[0].containerEdits.env[1]",
                     "\"A\""},
        ValidateCase{"env_leading_equals", [](Spec& s) { dev0(s).env = {"=A"}; }, "devices[0].containerEdits.env[0]",
                     "\"=A\""},
        ValidateCase{"env_empty", [](Spec& s) { dev0(s).env = {""}; }, "devices[0].containerEdits.env[0]", "KEY=VALUE"},
        ValidateCase{"spec_env", [](Spec& s) { s.edits.env = {"B"}; }, "containerEdits.env[0]", "\"B\""},
        ValidateCase{"hook_env", [](Spec& s) { dev0(s).hooks = {Hook{"prestart", "/bin/h", {}, {"X=1", "Y"}, {}}}; },
                     "devices[0].containerEdits.hooks[0].env[1]", "\"Y\""},
        // device nodes
        ValidateCase{"node_types_ok",
                     [](Spec& s) {
                       for (const char* type : {"", "b", "c", "u", "p"}) {
                         DeviceNode n = node("/dev/x");
                         n.type = type;
                         dev0(s).device_nodes.push_back(n);
                       }
                     },
                     nullptr},
        ValidateCase{"node_type_bad",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.type = "block";
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].type", "\"block\""},
        ValidateCase{"node_type_upper",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.type = "C";
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].type", "\"C\""},
        ValidateCase{"node_path_empty", [](Spec& s) { dev0(s).device_nodes = {node("")}; },
                     "devices[0].containerEdits.deviceNodes[0].path", "empty"},
        ValidateCase{"node_relative_path_ok", [](Spec& s) { dev0(s).device_nodes = {node("dev/x")}; }, nullptr},
        ValidateCase{"node_negative_major",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.major = -1;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].major", "-1"},
        ValidateCase{"node_negative_minor",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.major = 1;
                       n.minor = -3;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].minor", "-3"},
        ValidateCase{"node_permissions_ok",
                     [](Spec& s) {
                       for (const char* p : {"", "r", "rw", "rwm", "mwr", "rrw", "none"}) {
                         DeviceNode n = node("/dev/x");
                         n.permissions = p;
                         dev0(s).device_nodes.push_back(n);
                       }
                     },
                     nullptr},
        ValidateCase{"node_permissions_bad",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.permissions = "rwx";
                       dev0(s).device_nodes = {node("/dev/ok"), n};
                     },
                     "devices[0].containerEdits.deviceNodes[1].permissions", "\"rwx\""},
        ValidateCase{"node_permissions_upper",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.permissions = "RW";
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].permissions", "\"RW\""},
        // values no kernel or runtime can honour (refused although the reference takes them)
        ValidateCase{"node_numbers_at_the_limits_ok",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.type = "c";
                       n.major = 4095;
                       n.minor = 1048575;
                       n.file_mode = 07777;
                       n.uid = 4294967294u;
                       n.gid = 0;
                       dev0(s).device_nodes = {n};
                     },
                     nullptr},
        ValidateCase{"node_major_4096",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.major = 4096;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].major", "device major 4096 is above 4095"},
        ValidateCase{"node_major_wraps_32_bits",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.major = (int64_t{1} << 32) + 1;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].major", "device major 4294967297 is above 4095"},
        ValidateCase{"node_minor_2_20",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.major = 1;
                       n.minor = 1 << 20;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].minor", "device minor 1048576 is above 1048575"},
        ValidateCase{"node_file_mode_type_bits",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.file_mode = 020666;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].fileMode", "fileMode 0o20666 has bits beyond 0o7777"},
        ValidateCase{"node_uid_minus_one",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.uid = 4294967295u;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].uid", "uid 4294967295 is not a valid uid"},
        ValidateCase{"node_gid_minus_one",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.gid = 4294967295u;
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].gid", "gid 4294967295 is not a valid gid"},
        ValidateCase{"additional_gid_minus_one", [](Spec& s) { dev0(s).additional_gids = {5, 4294967295u}; },
                     "devices[0].containerEdits.additionalGids[1]", "gid 4294967295"},
        ValidateCase{"nul_in_env", [](Spec& s) { dev0(s).env = {std::string("A=b\0c", 5)}; },
                     "devices[0].containerEdits.env[0]", "\"A=b\\x00c\" contains a NUL byte"},
        ValidateCase{"nul_in_node_path", [](Spec& s) { dev0(s).device_nodes = {node(std::string("/dev/a\0b", 8))}; },
                     "devices[0].containerEdits.deviceNodes[0].path", "contains a NUL byte"},
        ValidateCase{"nul_in_node_host_path",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.host_path = std::string("/dev/\0", 6);
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].hostPath", "contains a NUL byte"},
        ValidateCase{"nul_in_hook_path",
                     [](Spec& s) { dev0(s).hooks = {Hook{"poststop", std::string("/h\0", 3), {}, {}, {}}}; },
                     "devices[0].containerEdits.hooks[0].path", "contains a NUL byte"},
        ValidateCase{"nul_in_hook_arg",
                     [](Spec& s) { dev0(s).hooks = {Hook{"poststop", "/h", {"h", std::string("-\0x", 3)}, {}, {}}}; },
                     "devices[0].containerEdits.hooks[0].args[1]", "contains a NUL byte"},
        ValidateCase{"nul_in_hook_env",
                     [](Spec& s) { dev0(s).hooks = {Hook{"poststop", "/h", {}, {std::string("A=\0", 3)}, {}}}; },
                     "devices[0].containerEdits.hooks[0].env[0]", "contains a NUL byte"},
        ValidateCase{"nul_in_mount_source",
                     [](Spec& s) { dev0(s).mounts = {Mount{std::string("/a\0", 3), "/b", {}, ""}}; },
                     "devices[0].containerEdits.mounts[0].hostPath", "contains a NUL byte"},
        ValidateCase{"nul_in_mount_option",
                     [](Spec& s) { dev0(s).mounts = {Mount{"/a", "/b", {"ro", std::string("x\0", 2)}, ""}}; },
                     "devices[0].containerEdits.mounts[0].options[1]", "contains a NUL byte"},
        ValidateCase{"nul_in_closid", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = std::string("a\0", 2)}; },
                     "devices[0].containerEdits.intelRdt.closID", "invalid closID"},
        ValidateCase{"nul_in_net_device", [](Spec& s) { dev0(s).net_devices = {{std::string("eth\0", 4), "n"}}; },
                     "devices[0].containerEdits.netDevices[0].hostInterfaceName", "contains a NUL byte"},
        // hooks
        ValidateCase{"hook_names_ok",
                     [](Spec& s) {
                       for (const char* h : {"prestart", "createRuntime", "createContainer", "startContainer",
                                             "poststart", "poststop"}) {
                         dev0(s).hooks.push_back(Hook{h, "/bin/h", {}, {}, {}});
                       }
                     },
                     nullptr},
        ValidateCase{"hook_name_case", [](Spec& s) { dev0(s).hooks = {Hook{"preStart", "/bin/h", {}, {}, {}}}; },
                     "devices[0].containerEdits.hooks[0].hookName", "\"preStart\""},
        ValidateCase{"hook_name_empty", [](Spec& s) { s.edits.hooks = {Hook{"", "/bin/h", {}, {}, {}}}; },
                     "containerEdits.hooks[0].hookName", "invalid hook name"},
        ValidateCase{"hook_path_empty", [](Spec& s) { dev0(s).hooks = {Hook{"poststop", "", {}, {}, {}}}; },
                     "devices[0].containerEdits.hooks[0].path", "empty"},
        ValidateCase{"hook_relative_path_ok", [](Spec& s) { dev0(s).hooks = {Hook{"poststop", "h", {}, {}, {}}}; },
                     nullptr},
        ValidateCase{"hook_negative_timeout_ok", [](Spec& s) { dev0(s).hooks = {Hook{"poststop", "/h", {}, {}, -5}}; },
                     nullptr},
        // mounts
        ValidateCase{"mount_ok", [](Spec& s) { dev0(s).mounts = {Mount{"/a", "/b", {"ro"}, "bind"}}; }, nullptr},
        ValidateCase{"mount_relative_ok", [](Spec& s) { dev0(s).mounts = {Mount{"a", "b", {}, ""}}; }, nullptr},
        ValidateCase{"mount_host_empty", [](Spec& s) { dev0(s).mounts = {Mount{"", "/b", {}, ""}}; },
                     "devices[0].containerEdits.mounts[0].hostPath", "empty"},
        ValidateCase{"mount_container_empty", [](Spec& s) { s.edits.mounts = {Mount{"/a", "", {}, ""}}; },
                     "containerEdits.mounts[0].containerPath", "empty"},
        // intelRdt closID
        ValidateCase{"closid_empty_ok", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{}; }, nullptr},
        ValidateCase{"closid_name_ok", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = "group-1"}; }, nullptr},
        ValidateCase{"closid_root_ok", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = "/"}; }, nullptr},
        ValidateCase{"closid_4095_ok", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = std::string(4095, 'c')}; },
                     nullptr},
        ValidateCase{"closid_4096", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = std::string(4096, 'c')}; },
                     "devices[0].containerEdits.intelRdt.closID", "invalid closID"},
        ValidateCase{"closid_dot", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = "."}; },
                     "devices[0].containerEdits.intelRdt.closID", "\".\""},
        ValidateCase{"closid_dotdot", [](Spec& s) { s.edits.intel_rdt = IntelRdt{.clos_id = ".."}; },
                     "containerEdits.intelRdt.closID", "\"..\""},
        ValidateCase{"closid_slash", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = "a/b"}; },
                     "devices[0].containerEdits.intelRdt.closID", "\"a/b\""},
        ValidateCase{"closid_newline", [](Spec& s) { dev0(s).intel_rdt = IntelRdt{.clos_id = "a\nb"}; },
                     "devices[0].containerEdits.intelRdt.closID", "\"a\\nb\""},
        // netDevices
        ValidateCase{"net_ok", [](Spec& s) { dev0(s).net_devices = {{"eth0", "net0"}, {"eth1", "net1"}}; }, nullptr},
        ValidateCase{"net_host_empty", [](Spec& s) { dev0(s).net_devices = {{"", "net0"}}; },
                     "devices[0].containerEdits.netDevices[0].hostInterfaceName", "empty"},
        ValidateCase{"net_name_empty", [](Spec& s) { s.edits.net_devices = {{"eth0", ""}}; },
                     "containerEdits.netDevices[0].name", "empty"},
        ValidateCase{"net_host_twice_in_block", [](Spec& s) { dev0(s).net_devices = {{"eth0", "a"}, {"eth0", "b"}}; },
                     "devices[0].containerEdits.netDevices[1].hostInterfaceName", "\"eth0\""},
        ValidateCase{"net_name_twice_in_block", [](Spec& s) { dev0(s).net_devices = {{"eth0", "a"}, {"eth1", "a"}}; },
                     "devices[0].containerEdits.netDevices[1].name", "\"a\""},
        ValidateCase{"net_same_across_devices_ok",
                     [](Spec& s) {
                       dev0(s).net_devices = {{"eth0", "net0"}};
                       Device d2 = s.devices[0];
                       d2.name = "gpu1";
                       s.devices.push_back(d2);
                       s.edits.net_devices = {{"eth0", "net0"}};
                     },
                     nullptr},
        // devices
        ValidateCase{"no_devices", [](Spec& s) { s.devices.clear(); }, "devices", "no devices"},
        ValidateCase{"device_twice",
                     [](Spec& s) {
                       s.devices.push_back(s.devices[0]);
                       s.devices.push_back(s.devices[0]);
                       s.devices[1].name = "other";
                     },
                     "devices[2].name", "\"gpu0\""},
        ValidateCase{"device_empty_edits", [](Spec& s) { dev0(s) = ContainerEdits{}; }, "devices[0].containerEdits",
                     "no container edits"},
        ValidateCase{"device_bad_name", [](Spec& s) { s.devices[0].name = "gpu_"; }, "devices[0].name", "gpu_"},
        ValidateCase{"device_one_char_name", [](Spec& s) { s.devices[0].name = "x"; }, nullptr},
        ValidateCase{"device_colon_name", [](Spec& s) { s.devices[0].name = "pci:0000:01:00.0"; }, nullptr},
        ValidateCase{"spec_edits_may_be_empty", [](Spec& s) { s.edits = ContainerEdits{}; }, nullptr},
        // kind and annotations
        ValidateCase{"kind_bad", [](Spec& s) { s.kind = "vendor.com"; }, "kind", ""},
        ValidateCase{"kind_vendor_leading_digit", [](Spec& s) { s.kind = "1vendor/gpu"; }, "kind", ""},
        ValidateCase{"kind_loose_vendor_ok", [](Spec& s) { s.kind = "Ven_dor..com/gpu"; }, nullptr},
        ValidateCase{"annotation_keys_unchecked", [](Spec& s) { s.annotations = {{"not a valid key!", "v"}}; },
                     nullptr},
        ValidateCase{"version_bad", [](Spec& s) { s.version = "1.0"; }, "cdiVersion", "\"1.0\""}),
    [](const ::testing::TestParamInfo<ValidateCase>& i) { return i.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Strict, ValidateTest,
    ::testing::Values(
        ValidateCase{"base_is_valid", [](Spec&) {}, nullptr, "", true},
        ValidateCase{"annotation_key_ok",
                     [](Spec& s) {
                       s.annotations = {{"example.com/some-key_1.x", "v"}, {"plain", "v"}};
                     },
                     nullptr, "", true},
        ValidateCase{"annotation_key_space",
                     [](Spec& s) {
                       s.annotations = {{"a b", "v"}};
                     },
                     "annotations.a b", "\"a b\"", true},
        ValidateCase{"annotation_key_prefix_upper",
                     [](Spec& s) {
                       s.devices[0].annotations = {{"Example.com/k", "v"}};
                     },
                     "devices[0].annotations.Example.com/k", "DNS subdomain", true},
        ValidateCase{"annotations_over_256k",
                     [](Spec& s) {
                       s.annotations = {{"big", std::string(256 * 1024, 'x')}};
                     },
                     "annotations", "256 KiB", true},
        ValidateCase{"node_path_relative", [](Spec& s) { dev0(s).device_nodes = {node("dev/x")}; },
                     "devices[0].containerEdits.deviceNodes[0].path", "not absolute", true},
        ValidateCase{"node_host_path_relative",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.host_path = "x";
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].hostPath", "not absolute", true},
        ValidateCase{"mount_relative",
                     [](Spec& s) {
                       dev0(s).mounts = {Mount{"/a", "b", {}, ""}};
                     },
                     "devices[0].containerEdits.mounts[0].containerPath", "not absolute", true},
        ValidateCase{"mount_relative_source",
                     [](Spec& s) {
                       dev0(s).mounts = {Mount{"a", "/b", {"ro"}, ""}};
                     },
                     "devices[0].containerEdits.mounts[0].hostPath", "not absolute", true},
        ValidateCase{"mount_relative_bind_source",
                     [](Spec& s) {
                       dev0(s).mounts = {Mount{"a", "/b", {"rbind"}, "none"}};
                     },
                     "devices[0].containerEdits.mounts[0].hostPath", "not absolute", true},
        // The source of a tmpfs (or proc, or any non-bind) mount names a filesystem, not a path.
        ValidateCase{"mount_tmpfs_source_ok",
                     [](Spec& s) {
                       dev0(s).mounts = {Mount{"tmpfs", "/tmp/data", {"nosuid", "size=65536k"}, "tmpfs"}};
                     },
                     nullptr, "", true},
        ValidateCase{"mount_proc_source_ok",
                     [](Spec& s) {
                       dev0(s).mounts = {Mount{"proc", "/proc2", {}, "proc"}};
                     },
                     nullptr, "", true},
        ValidateCase{"hook_relative",
                     [](Spec& s) {
                       s.edits.hooks = {Hook{"prestart", "h", {}, {}, {}}};
                     },
                     "containerEdits.hooks[0].path", "not absolute", true},
        ValidateCase{"hook_negative_timeout",
                     [](Spec& s) {
                       s.edits.hooks = {Hook{"prestart", "/h", {}, {}, -1}};
                     },
                     "containerEdits.hooks[0].timeout", "-1", true},
        ValidateCase{"permissions_repeated",
                     [](Spec& s) {
                       DeviceNode n = node("/dev/x");
                       n.permissions = "rrw";
                       dev0(s).device_nodes = {n};
                     },
                     "devices[0].containerEdits.deviceNodes[0].permissions", "at most once", true},
        ValidateCase{"vendor_upper", [](Spec& s) { s.kind = "Vendor.com/gpu"; }, "kind", "DNS subdomain", true},
        ValidateCase{"vendor_double_dot", [](Spec& s) { s.kind = "vendor..com/gpu"; }, "kind", "DNS subdomain", true},
        ValidateCase{"vendor_underscore", [](Spec& s) { s.kind = "ven_dor.com/gpu"; }, "kind", "DNS subdomain", true},
        ValidateCase{"vendor_label_64", [](Spec& s) { s.kind = std::string(64, 'v') + ".com/gpu"; }, "kind",
                     "DNS subdomain", true},
        ValidateCase{"vendor_label_63_ok", [](Spec& s) { s.kind = std::string(63, 'v') + ".com/gpu"; }, nullptr, "",
                     true},
        ValidateCase{"class_63_ok", [](Spec& s) { s.kind = "vendor.com/" + std::string(63, 'c'); }, nullptr, "", true},
        ValidateCase{"class_64", [](Spec& s) { s.kind = "vendor.com/" + std::string(64, 'c'); }, "kind",
                     "longer than 63", true}),
    [](const ::testing::TestParamInfo<ValidateCase>& i) { return i.param.name; });

TEST(ValidateWarnings, RelativeContainerPathsWarnWithoutStrict) {
  Spec s = base_spec("1.1.0");
  dev0(s).device_nodes = {node("dev/x")};
  dev0(s).mounts = {Mount{"/a", "mnt/b", {}, ""}, Mount{"rel/source", "/c", {}, ""}};
  std::vector<Error> warnings;
  auto errors = validate_spec(s, {}, &warnings);
  EXPECT_TRUE(errors.empty()) << all_messages(errors);
  ASSERT_EQ(warnings.size(), 2u) << all_messages(warnings);
  EXPECT_EQ(warnings[0].located(),
            "devices[0].containerEdits.deviceNodes[0].path: container path \"dev/x\" is not absolute");
  EXPECT_EQ(warnings[1].located(),
            "devices[0].containerEdits.mounts[0].containerPath: container path \"mnt/b\" is not absolute");
  // With --strict they are errors, and never both.
  warnings.clear();
  errors = validate_spec(s, ValidateOptions{.strict = true}, &warnings);
  EXPECT_EQ(errors.size(), 3u) << all_messages(errors);
  EXPECT_TRUE(warnings.empty()) << all_messages(warnings);
}

TEST(ValidateStrict, AnnotationNameLongerThan63) {
  Spec s = base_spec("1.1.0");
  s.annotations = {{"example.com/" + std::string(64, 'n'), "v"}};
  EXPECT_TRUE(validate_spec(s).empty());
  auto errors = validate_spec(s, ValidateOptions{.strict = true});
  ASSERT_EQ(errors.size(), 1u) << all_messages(errors);
  EXPECT_NE(errors[0].message.find("1 to 63"), std::string::npos) << errors[0].message;
}

TEST(ValidateStrict, VendorSubdomainLongerThan253) {
  // Five labels of at most 52 and four dots: 256 characters.
  std::string label(50, 'v');
  std::string vendor = label + "." + label + "." + label + "." + label + "." + label + "ab";
  ASSERT_EQ(vendor.size(), 256u);
  Spec s = base_spec("1.1.0");
  s.kind = vendor + "/gpu";
  EXPECT_TRUE(validate_spec(s).empty());
  auto errors = validate_spec(s, ValidateOptions{.strict = true});
  ASSERT_EQ(errors.size(), 1u) << all_messages(errors);
  EXPECT_EQ(errors[0].field, "kind");
}

TEST(Validate, ReportsEveryProblem) {
  Spec s = base_spec("1.1.0");
  s.devices[0].edits.env = {"A", "=B"};
  s.devices[0].edits.mounts = {Mount{"", "", {}, ""}};
  auto errors = validate_spec(s);
  std::vector<std::string> fields;
  for (const auto& e : errors) fields.push_back(e.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"devices[0].containerEdits.env[0]", "devices[0].containerEdits.env[1]",
                                              "devices[0].containerEdits.mounts[0].hostPath",
                                              "devices[0].containerEdits.mounts[0].containerPath"}));
}

TEST(Validate, UsesRecordedPositions) {
  Spec s = base_spec("1.1.0");
  s.devices[0].name = "-bad";
  s.positions["devices[0].name"] = {7, 11};
  auto errors = validate_spec(s);
  ASSERT_EQ(errors.size(), 1u) << all_messages(errors);
  EXPECT_EQ(errors[0].line, 7);
  EXPECT_EQ(errors[0].column, 11);
}

TEST(Validate, EditsAlone) {
  ContainerEdits e;
  e.env = {"OK=1", "bad"};
  std::vector<Error> out;
  validate_edits(e, "x", {}, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].field, "x.env[1]");
}

TEST(ContainerEdits, Empty) {
  ContainerEdits e;
  EXPECT_TRUE(e.empty());
  e.intel_rdt = IntelRdt{};
  EXPECT_FALSE(e.empty());
  e = {};
  e.additional_gids = {0};
  EXPECT_FALSE(e.empty());
  e = {};
  e.net_devices = {{"a", "b"}};
  EXPECT_FALSE(e.empty());
}

TEST(Spec, FindDevice) {
  Spec s = base_spec();
  ASSERT_NE(s.find_device("gpu0"), nullptr);
  EXPECT_EQ(s.find_device("gpu0")->name, "gpu0");
  EXPECT_EQ(s.find_device("GPU0"), nullptr);
}

TEST(HookNames, Exact) {
  EXPECT_TRUE(is_valid_hook_name("createRuntime"));
  EXPECT_FALSE(is_valid_hook_name("createruntime"));
  EXPECT_FALSE(is_valid_hook_name(""));
}

}  // namespace
}  // namespace cdi
