#include "edits/container_edits.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"
#include "support/spec_builders.h"

// Designated initializers leave the other members at their defaults on
// purpose; GCC 12 warns about that under -Wextra.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cdi {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::device;
using testing::FakeFs;
using testing::make_spec;
using testing::node;

// A spec of kind vendor.com/dev whose devices are given.

// Applies every device of `spec`, in order, to `config`; returns the compact
// result or "error: <to_string>".
std::string apply(std::string_view config, const Spec& spec, Fs& fs, std::vector<AppliedEdit>* explain = nullptr) {
  auto doc = OciDocument::parse(config);
  if (!doc.ok()) return "bad test config: " + doc.error().to_string();
  std::vector<std::pair<const Spec*, const Device*>> pairs;
  for (const auto& d : spec.devices) pairs.emplace_back(&spec, &d);
  Status st = apply_edits(*doc, merge_order(pairs), fs, explain);
  if (!st.ok()) return "error: " + st.error().to_string();
  std::string out = doc->serialize(false);
  out.pop_back();  // the newline
  return out;
}

std::string apply_edits_of(std::string_view config, ContainerEdits edits, Fs& fs) {
  return apply(config, make_spec({device("d", std::move(edits))}), fs);
}

// ---- env --------------------------------------------------------------------

TEST(ContainerEdits, EnvReplacedAtTheLastSlotOrAppended) {
  FakeFs fs;
  ContainerEdits e;
  e.env = {"A=x", "C=y", "C=z", "EMPTY="};
  EXPECT_EQ(apply_edits_of(R"({"process":{"env":["A=1","B=2","A=3","PATH=/bin"]}})", e, fs),
            R"({"process":{"env":["A=1","B=2","A=x","PATH=/bin","C=z","EMPTY="]}})");
}

TEST(ContainerEdits, EnvAcrossDevicesLastValueWins) {
  FakeFs fs;
  Spec s = make_spec({device("a", {.env = {"K=a", "ONLY_A=1"}}), device("b", {.env = {"K=b"}})});
  EXPECT_EQ(apply(R"({"process":{"env":["K=0"]}})", s, fs), R"({"process":{"env":["K=b","ONLY_A=1"]}})");
}

TEST(ContainerEdits, EnvCreatesProcessAndEnv) {
  FakeFs fs;
  EXPECT_EQ(apply_edits_of(R"({"ociVersion":"1.0.2"})", {.env = {"A=1"}}, fs),
            R"({"ociVersion":"1.0.2","process":{"env":["A=1"]}})");
  EXPECT_EQ(apply_edits_of(R"({"process":{"env":null,"cwd":"/"}})", {.env = {"A=1"}}, fs),
            R"({"process":{"env":["A=1"],"cwd":"/"}})");
}

TEST(ContainerEdits, EnvWithoutEqualsInConfigIsAKey) {
  FakeFs fs;
  EXPECT_EQ(apply_edits_of(R"({"process":{"env":["A","B=1"]}})", {.env = {"A=2"}}, fs),
            R"({"process":{"env":["A=2","B=1"]}})");
}

// ---- device nodes -------------------------------------------------------------

TEST(ContainerEdits, DeviceNodeFilledFromHost) {
  FakeFs fs;
  fs.add_char_device("/dev/nvidia0", 195, 0, 0666);
  EXPECT_EQ(apply_edits_of("{}", {.device_nodes = {node("/dev/nvidia0")}}, fs),
            R"({"linux":{"devices":[{"path":"/dev/nvidia0","type":"c","major":195,"minor":0,"fileMode":438}],)"
            R"("resources":{"devices":[{"allow":true,"type":"c","major":195,"minor":0,"access":"rwm"}]}}})");
}

struct NodeCase {
  const char* name;
  DeviceNode node;
  std::string device;  // the linux.devices entry, or "error: ..." part
  std::string rule;    // the cgroup rule, "" for none
};

void PrintTo(const NodeCase& c, std::ostream* os) { *os << c.name; }

class DeviceNodeTest : public ::testing::TestWithParam<NodeCase> {};

// Host nodes: /dev/card0 c 226:1 0660, /dev/sda b 8:0 0640, /dev/fifo p 0600,
// /dev/null c 1:3 0666, /dev/dri/by-path/x -> ../../card0, /dev/file (regular),
// /dev/dir (directory), /dev/dangling -> /dev/none.
void add_host_nodes(FakeFs& fs) {
  fs.add_char_device("/dev/card0", 226, 1, 0660);
  fs.add_block_device("/dev/sda", 8, 0, 0640);
  fs.add_fifo("/dev/fifo", 0600);
  fs.add_char_device("/dev/null", 1, 3, 0666);
  fs.add_symlink("/dev/dri/by-path/x", "../../card0");
  fs.add_file("/dev/file", "x");
  fs.add_dir("/dev/dir");
  fs.add_symlink("/dev/dangling", "/dev/none");
}

TEST_P(DeviceNodeTest, Resolves) {
  const NodeCase& c = GetParam();
  FakeFs fs;
  add_host_nodes(fs);
  std::string out = apply_edits_of("{}", {.device_nodes = {c.node}}, fs);
  if (c.device.starts_with("error: ")) {
    ASSERT_TRUE(out.starts_with("error: ")) << out;
    EXPECT_THAT(out, HasSubstr(c.device.substr(7)));
    return;
  }
  std::string want = R"({"linux":{"devices":[)" + c.device + "]";
  if (!c.rule.empty()) want += R"(,"resources":{"devices":[)" + c.rule + "]}";
  want += "}}";
  EXPECT_EQ(out, want);
}

DeviceNode with(DeviceNode n, const std::function<void(DeviceNode&)>& f) {
  f(n);
  return n;
}

INSTANTIATE_TEST_SUITE_P(
    Table, DeviceNodeTest,
    ::testing::Values(
        NodeCase{"host_path", with(node("/dev/gpu"), [](auto& n) { n.host_path = "/dev/card0"; }),
                 R"({"path":"/dev/gpu","type":"c","major":226,"minor":1,"fileMode":432})",
                 R"({"allow":true,"type":"c","major":226,"minor":1,"access":"rwm"})"},
        NodeCase{"block", node("/dev/sda"), R"({"path":"/dev/sda","type":"b","major":8,"minor":0,"fileMode":416})",
                 R"({"allow":true,"type":"b","major":8,"minor":0,"access":"rwm"})"},
        NodeCase{"symlinked_host_followed",
                 with(node("/dev/dri/card"), [](auto& n) { n.host_path = "/dev/dri/by-path/x"; }),
                 R"({"path":"/dev/dri/card","type":"c","major":226,"minor":1,"fileMode":432})",
                 R"({"allow":true,"type":"c","major":226,"minor":1,"access":"rwm"})"},
        NodeCase{"explicit_mode_kept", with(node("/dev/null"), [](auto& n) { n.file_mode = 0600; }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":384})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"})"},
        NodeCase{"explicit_zero_mode_kept", with(node("/dev/null"), [](auto& n) { n.file_mode = 0; }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":0})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"})"},
        NodeCase{"type_given_matches", with(node("/dev/null"), [](auto& n) { n.type = "c"; }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"})"},
        NodeCase{"numbers_given_kept",
                 with(node("/dev/null"),
                      [](auto& n) {
                        n.type = "c";
                        n.major = 7;
                        n.minor = 9;
                      }),
                 R"({"path":"/dev/null","type":"c","major":7,"minor":9,"fileMode":438})",
                 R"({"allow":true,"type":"c","major":7,"minor":9,"access":"rwm"})"},
        NodeCase{"minor_only_replaced_with_host", with(node("/dev/null"), [](auto& n) { n.minor = 9; }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"})"},
        NodeCase{"minimal_missing_host",
                 with(node("/dev/absent"),
                      [](auto& n) {
                        n.type = "c";
                        n.major = 10;
                        n.minor = 200;
                      }),
                 R"({"path":"/dev/absent","type":"c","major":10,"minor":200})",
                 R"({"allow":true,"type":"c","major":10,"minor":200,"access":"rwm"})"},
        NodeCase{"minimal_fifo_missing_host", with(node("/dev/absent"), [](auto& n) { n.type = "p"; }),
                 R"({"path":"/dev/absent","type":"p","major":0,"minor":0})", ""},
        NodeCase{"fifo_from_host_keeps_numbers", with(node("/dev/fifo"), [](auto& n) { n.minor = 7; }),
                 R"({"path":"/dev/fifo","type":"p","major":0,"minor":7,"fileMode":384})", ""},
        NodeCase{"minimal_with_host_takes_mode",
                 with(node("/dev/null"),
                      [](auto& n) {
                        n.type = "c";
                        n.major = 1;
                        n.minor = 3;
                      }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"})"},
        NodeCase{"uid_gid_given",
                 with(node("/dev/null"),
                      [](auto& n) {
                        n.uid = 5;
                        n.gid = 0;
                      }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438,"uid":5,"gid":0})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"})"},
        NodeCase{"permissions_rw", with(node("/dev/null"), [](auto& n) { n.permissions = "rw"; }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438})",
                 R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rw"})"},
        NodeCase{"permissions_none", with(node("/dev/null"), [](auto& n) { n.permissions = "none"; }),
                 R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438})",
                 R"({"allow":true,"type":"c","major":1,"minor":3})"},
        NodeCase{"type_mismatch", with(node("/dev/null"), [](auto& n) { n.type = "b"; }),
                 "error: host type mismatch for \"/dev/null\": the spec says \"b\", the host node is \"c\"", ""},
        NodeCase{"type_u_on_real_node", with(node("/dev/null"), [](auto& n) { n.type = "u"; }),
                 "error: host type mismatch", ""},
        NodeCase{"regular_file", node("/dev/file"),
                 "error: host path \"/dev/file\" is a regular file, not a device node", ""},
        NodeCase{"directory", node("/dev/dir"), "error: host path \"/dev/dir\" is a directory", ""},
        NodeCase{"missing_host", node("/dev/absent"), "error: ", ""},
        NodeCase{"dangling_link", with(node("/dev/x"), [](auto& n) { n.host_path = "/dev/dangling"; }), "error: ", ""},
        NodeCase{"type_without_major_needs_host", with(node("/dev/absent"), [](auto& n) { n.type = "c"; }),
                 "error: ", ""}),
    [](const ::testing::TestParamInfo<NodeCase>& i) { return i.param.name; });

TEST(ContainerEdits, DeviceNodeErrorIsLocated) {
  FakeFs fs;
  fs.add_char_device("/dev/ok", 1, 1);
  Spec s = make_spec(
      {device("first", {.env = {"A=1"}}), device("second", {.device_nodes = {node("/dev/ok"), node("/dev/missing")}})});
  auto doc = OciDocument::parse("{}");
  ASSERT_TRUE(doc.ok());
  Status st = apply_edits(*doc, merge_order({{&s, &s.devices[0]}, {&s, &s.devices[1]}}), fs);
  ASSERT_FALSE(st.ok());
  const Error& e = st.error();
  EXPECT_EQ(e.device, "vendor.com/dev=second");
  EXPECT_EQ(e.file, "/etc/cdi/vendor.yaml");
  EXPECT_EQ(e.field, "devices[1].containerEdits.deviceNodes[1]");
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_THAT(e.to_string(), HasSubstr("\"/dev/missing\""));
  EXPECT_TRUE(
      e.to_string().starts_with("device \"vendor.com/dev=second\": /etc/cdi/vendor.yaml: "
                                "devices[1].containerEdits.deviceNodes[1]: "))
      << e.to_string();
}

TEST(ContainerEdits, DeviceNodeReplacesExistingEntryWithThatPath) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  EXPECT_EQ(apply_edits_of(R"({"linux":{"devices":[{"path":"/dev/a"},{"path":"/dev/null","type":"b"},)"
                           R"({"path":"/dev/b"}]}})",
                           {.device_nodes = {node("/dev/null")}}, fs),
            R"({"linux":{"devices":[{"path":"/dev/a"},{"path":"/dev/b"},)"
            R"({"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438}],)"
            R"("resources":{"devices":[{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]}}})");
}

TEST(ContainerEdits, CgroupRulesAppendedToExistingOnes) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  EXPECT_EQ(apply_edits_of(R"({"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}],"memory":{}}}})",
                           {.device_nodes = {node("/dev/null")}}, fs),
            R"({"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"},)"
            R"({"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}],"memory":{}},)"
            R"("devices":[{"path":"/dev/null","type":"c","major":1,"minor":3,"fileMode":438}]}})");
}

struct UserCase {
  const char* name;
  const char* user;  // process.user
  const char* ids;   // expected uid/gid members of the device entry
};

void PrintTo(const UserCase& c, std::ostream* os) { *os << c.name; }

class ProcessUserTest : public ::testing::TestWithParam<UserCase> {};

TEST_P(ProcessUserTest, FillsNodeOwner) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  std::string config = std::string(R"({"process":{"user":)") + GetParam().user + "}}";
  std::string out = apply_edits_of(config, {.device_nodes = {node("/dev/null")}}, fs);
  std::string want = std::string(R"("fileMode":438)") + GetParam().ids + "}";
  EXPECT_THAT(out, HasSubstr(want));
}

INSTANTIATE_TEST_SUITE_P(Table, ProcessUserTest,
                         ::testing::Values(UserCase{"both", R"({"uid":1000,"gid":1001})", R"(,"uid":1000,"gid":1001)"},
                                           UserCase{"root", R"({"uid":0,"gid":0})", ""},
                                           UserCase{"uid_only", R"({"uid":1000,"gid":0})", R"(,"uid":1000)"},
                                           UserCase{"gid_only", R"({"gid":7})", R"(,"gid":7)"},
                                           UserCase{"not_numbers", R"({"uid":"1000","gid":-1})", ""},
                                           UserCase{"user_not_object", R"("nobody")", ""}),
                         [](const ::testing::TestParamInfo<UserCase>& i) { return i.param.name; });

TEST(ContainerEdits, ExplicitNodeOwnerBeatsProcessUser) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  DeviceNode n = node("/dev/null");
  n.uid = 0;
  std::string out = apply_edits_of(R"({"process":{"user":{"uid":1000,"gid":1000}}})", {.device_nodes = {n}}, fs);
  EXPECT_THAT(out, HasSubstr(R"("fileMode":438,"uid":0,"gid":1000})"));
}

TEST(ContainerEdits, CachedSpecIsNeverMutated) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  Spec s = make_spec({device("d", {.device_nodes = {node("/dev/null")}})});
  EXPECT_THAT(apply("{}", s, fs), HasSubstr(R"("major":1)"));
  const DeviceNode& n = s.devices[0].edits.device_nodes[0];
  EXPECT_EQ(n.type, "");
  EXPECT_EQ(n.major, 0);
  EXPECT_EQ(n.host_path, "");
  EXPECT_FALSE(n.file_mode.has_value());
  // A changed host node is seen on the next injection.
  fs.add_char_device("/dev/null", 1, 5, 0600);
  EXPECT_THAT(apply("{}", s, fs), HasSubstr(R"("major":1,"minor":5,"fileMode":384)"));
}

// ---- mounts -----------------------------------------------------------------

TEST(ContainerEdits, MountReplacesSameDestinationAndSortsByDepth) {
  FakeFs fs;
  ContainerEdits e;
  e.mounts = {Mount{"/host/lib", "/usr/lib/x", {"ro", "bind"}, ""}, Mount{"/h/a", "/a/b/c", {}, "bind"},
              Mount{"/h/x", "/x", {}, ""}};
  std::string config = R"({"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev/pts"},)"
                       R"({"destination":"/dev"},{"destination":"/usr/lib/x","source":"old"},{"destination":"/"},)"
                       R"({"destination":"/sys/"},{"destination":"/dev/shm"}]})";
  EXPECT_EQ(apply_edits_of(config, e, fs),
            R"({"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev"},)"
            R"({"destination":"/"},{"destination":"/sys/"},{"destination":"/x","source":"/h/x"},)"
            R"({"destination":"/dev/pts"},{"destination":"/dev/shm"},)"
            R"({"destination":"/usr/lib/x","source":"/host/lib","options":["ro","bind"]},)"
            R"({"destination":"/a/b/c","type":"bind","source":"/h/a"}]})");
}

TEST(ContainerEdits, MountReplacesOnlyTheFirstExactMatch) {
  FakeFs fs;
  std::string config = R"({"mounts":[{"destination":"/m","source":"1"},{"destination":"/m/","source":"2"},)"
                       R"({"destination":"/m","source":"3"}]})";
  EXPECT_EQ(apply_edits_of(config, {.mounts = {Mount{"new", "/m", {}, ""}}}, fs),
            R"({"mounts":[{"destination":"/m/","source":"2"},{"destination":"/m","source":"3"},)"
            R"({"destination":"/m","source":"new"}]})");
}

TEST(ContainerEdits, MountsFromTwoDevicesWithTheSameDestination) {
  FakeFs fs;
  Spec s = make_spec(
      {device("a", {.mounts = {Mount{"/a", "/m", {}, ""}}}), device("b", {.mounts = {Mount{"/b", "/m", {}, ""}}})});
  EXPECT_EQ(apply(R"({"mounts":[{"destination":"/m","source":"rt"}]})", s, fs),
            R"({"mounts":[{"destination":"/m","source":"/b"}]})");
}

TEST(ContainerEdits, RuntimeMountsUntouchedWithoutCdiMounts) {
  FakeFs fs;
  std::string config = R"({"mounts":[{"destination":"/a/b"},{"destination":"/a"}],"process":{"env":[]}})";
  EXPECT_EQ(apply_edits_of(config, {.env = {"A=1"}}, fs),
            R"({"mounts":[{"destination":"/a/b"},{"destination":"/a"}],"process":{"env":["A=1"]}})");
}

struct DepthCase {
  const char* path;
  size_t depth;
};
// Failures show the path, not the struct's bytes.
void PrintTo(const DepthCase& c, std::ostream* os) { *os << '"' << c.path << '"'; }

class MountDepthTest : public ::testing::TestWithParam<DepthCase> {};

TEST_P(MountDepthTest, CountsSlashesOfTheCleanPath) {
  EXPECT_EQ(mount_depth(GetParam().path), GetParam().depth) << GetParam().path;
}

INSTANTIATE_TEST_SUITE_P(Table, MountDepthTest,
                         ::testing::Values(DepthCase{"/", 1}, DepthCase{"/proc", 1}, DepthCase{"/proc/", 1},
                                           DepthCase{"//proc", 1}, DepthCase{"/a/b", 2}, DepthCase{"/a/./b/", 2},
                                           DepthCase{"/a/../b", 1}, DepthCase{"/a/b/c/d", 4}, DepthCase{"rel", 0},
                                           DepthCase{"rel/x", 1}, DepthCase{"", 0}));

// ---- hooks, intelRdt, gids, netDevices ----------------------------------------

TEST(ContainerEdits, HooksAppendedPerStage) {
  FakeFs fs;
  ContainerEdits e;
  e.hooks = {Hook{"prestart", "/a", {"a", "1"}, {"X=1"}, 5}, Hook{"poststop", "/b", {}, {}, {}},
             Hook{"prestart", "/c", {}, {}, {}}, Hook{"createRuntime", "/d", {}, {}, -1}};
  EXPECT_EQ(
      apply_edits_of(R"({"hooks":{"prestart":[{"path":"/old"}],"poststart":[]}})", e, fs),
      R"({"hooks":{"prestart":[{"path":"/old"},{"path":"/a","args":["a","1"],"env":["X=1"],"timeout":5},)"
      R"({"path":"/c"}],"poststart":[],"poststop":[{"path":"/b"}],"createRuntime":[{"path":"/d","timeout":-1}]}})");
}

TEST(ContainerEdits, IntelRdtReplacedWholesale) {
  FakeFs fs;
  Spec s = make_spec({device("a", {.intel_rdt = IntelRdt{.clos_id = "first", .l3_cache_schema = "L3:0=f"}}),
                      device("b", {.intel_rdt = IntelRdt{.clos_id = "second",
                                                         .schemata = std::vector<std::string>{"MB:0=50"},
                                                         .enable_monitoring = true}})});
  EXPECT_EQ(apply(R"({"linux":{"intelRdt":{"closID":"old","memBwSchema":"MB:0=1"},"sysctl":{}}})", s, fs),
            R"({"linux":{"intelRdt":{"closID":"second","schemata":["MB:0=50"],"enableMonitoring":true},)"
            R"("sysctl":{}}})");
  // An empty intelRdt still replaces the runtime's.
  EXPECT_EQ(apply_edits_of(R"({"linux":{"intelRdt":{"closID":"old"}}})", {.intel_rdt = IntelRdt{}}, fs),
            R"({"linux":{"intelRdt":{}}})");
}

TEST(ContainerEdits, AdditionalGidsSkipZeroAndPresent) {
  FakeFs fs;
  Spec s = make_spec({device("a", {.additional_gids = {0, 5, 6, 6}}), device("b", {.additional_gids = {7, 6}})});
  EXPECT_EQ(apply(R"({"process":{"user":{"uid":0,"gid":0,"additionalGids":[5]}}})", s, fs),
            R"({"process":{"user":{"uid":0,"gid":0,"additionalGids":[5,6,7]}}})");
  // Nothing to add: the config is left as it is.
  EXPECT_EQ(apply_edits_of("{}", {.additional_gids = {0, 0}}, fs), "{}");
  EXPECT_EQ(apply_edits_of("{}", {.additional_gids = {9}}, fs), R"({"process":{"user":{"additionalGids":[9]}}})");
}

TEST(ContainerEdits, NetDevices) {
  FakeFs fs;
  ContainerEdits e;
  e.net_devices = {{"eth0", "net0"}, {"eth1", "net1"}};
  EXPECT_EQ(apply_edits_of(R"({"linux":{"netDevices":{"eth0":{"name":"old"},"lo":{"name":"lo"}}}})", e, fs),
            R"({"linux":{"netDevices":{"eth0":{"name":"net0"},"lo":{"name":"lo"},"eth1":{"name":"net1"}}}})");
}

// ---- merge order ----------------------------------------------------------------

TEST(MergeOrder, SpecEditsBeforeTheSpecsFirstDevice) {
  Spec a = make_spec({device("1", {.env = {"A1=1"}}), device("2", {.env = {"A2=1"}})}, "/a.yaml", "a.com/x");
  a.edits.env = {"SPEC_A=1"};
  Spec b = make_spec({device("1", {.env = {"B1=1"}})}, "/b.yaml", "b.com/x");
  b.edits.env = {"SPEC_B=1"};
  auto order = merge_order({{&a, &a.devices[0]}, {&b, &b.devices[0]}, {&a, &a.devices[1]}});
  std::vector<std::string> names;
  for (const auto& s : order) names.push_back(s.device ? s.qualified_name() : "spec " + s.spec->path);
  EXPECT_EQ(names, (std::vector<std::string>{"spec /a.yaml", "a.com/x=1", "spec /b.yaml", "b.com/x=1", "a.com/x=2"}));
  EXPECT_EQ(order[4].field(), "devices[1].containerEdits");
  EXPECT_EQ(order[0].field(), "containerEdits");

  FakeFs fs;
  auto doc = OciDocument::parse("{}");
  ASSERT_TRUE(doc.ok());
  ASSERT_TRUE(apply_edits(*doc, order, fs).ok());
  EXPECT_EQ(doc->serialize(false), R"({"process":{"env":["SPEC_A=1","A1=1","SPEC_B=1","B1=1","A2=1"]}})"
                                   "\n");
}

TEST(MergeOrder, EmptySpecEditsAreLeftOut) {
  Spec a = make_spec({device("1", {.env = {"A=1"}})});
  auto order = merge_order({{&a, &a.devices[0]}});
  ASSERT_EQ(order.size(), 1u);
  EXPECT_NE(order[0].device, nullptr);
}

// ---- the config's own shape ---------------------------------------------------

struct ShapeCase {
  const char* name;
  const char* config;
  ContainerEdits edits;
  const char* field;  // of config.json
  const char* message;
};

void PrintTo(const ShapeCase& c, std::ostream* os) { *os << c.name; }

class ConfigShapeTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ConfigShapeTest, WrongTypeNamesTheConfigField) {
  const ShapeCase& c = GetParam();
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  Spec s = make_spec({device("d", c.edits)});
  auto doc = OciDocument::parse(c.config);
  ASSERT_TRUE(doc.ok());
  std::string before = doc->serialize();
  Status st = apply_edits(*doc, merge_order({{&s, &s.devices[0]}}), fs);
  ASSERT_FALSE(st.ok());
  const Error& e = st.error();
  EXPECT_EQ(e.field, c.field) << e.to_string();
  EXPECT_THAT(e.message, HasSubstr(c.message)) << e.to_string();
  // The problem is in the OCI config, not in the spec file.
  EXPECT_EQ(e.file, "") << e.to_string();
  EXPECT_THAT(e.to_string(), HasSubstr("OCI config"));
  EXPECT_THAT(e.to_string(), Not(HasSubstr("containerEdits")));
}

ContainerEdits env_edit() { return {.env = {"A=1"}}; }
ContainerEdits node_edit() { return {.device_nodes = {node("/dev/null")}}; }

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigShapeTest,
    ::testing::Values(
        ShapeCase{"process_string", R"({"process":"x"})", env_edit(), "process", "expected an object, got a string"},
        ShapeCase{"env_object", R"({"process":{"env":{}}})", env_edit(), "process.env",
                  "expected an array, got an object"},
        ShapeCase{"env_number_item", R"({"process":{"env":["A=0",5]}})", env_edit(), "process.env",
                  "expected strings, got a number"},
        ShapeCase{"linux_array", R"({"linux":[]})", node_edit(), "linux", "expected an object, got an array"},
        ShapeCase{"devices_string", R"({"linux":{"devices":"x"}})", node_edit(), "linux.devices", "expected an array"},
        ShapeCase{"resources_number", R"({"linux":{"resources":1}})", node_edit(), "linux.resources",
                  "expected an object"},
        ShapeCase{"cgroup_devices_object", R"({"linux":{"resources":{"devices":{}}}})", node_edit(),
                  "linux.resources.devices", "expected an array"},
        ShapeCase{"mounts_object",
                  R"({"mounts":{}})",
                  {.mounts = {Mount{"/a", "/b", {}, ""}}},
                  "mounts",
                  "expected an array"},
        ShapeCase{"hooks_array",
                  R"({"hooks":[]})",
                  {.hooks = {Hook{"prestart", "/h", {}, {}, {}}}},
                  "hooks",
                  "expected an object"},
        ShapeCase{"hook_stage_object",
                  R"({"hooks":{"prestart":{}}})",
                  {.hooks = {Hook{"prestart", "/h", {}, {}, {}}}},
                  "hooks.prestart",
                  "expected an array"},
        ShapeCase{"net_devices_array",
                  R"({"linux":{"netDevices":[]}})",
                  {.net_devices = {{"eth0", "n"}}},
                  "linux.netDevices",
                  "expected an object"},
        ShapeCase{"user_string",
                  R"({"process":{"user":"root"}})",
                  {.additional_gids = {5}},
                  "process.user",
                  "expected an object"},
        ShapeCase{"gids_object",
                  R"({"process":{"user":{"additionalGids":{}}}})",
                  {.additional_gids = {5}},
                  "process.user.additionalGids",
                  "expected an array"},
        ShapeCase{"duplicate_in_linux", R"({"linux":{"devices":[],"devices":[]}})", node_edit(), "linux",
                  "duplicate key \"devices\""}),
    [](const ::testing::TestParamInfo<ShapeCase>& i) { return i.param.name; });

// ---- explain ------------------------------------------------------------------

TEST(ContainerEdits, ExplainRecordsEveryEdit) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  Spec s = make_spec({device("d", {.env = {"A=1"},
                                   .device_nodes = {node("/dev/null")},
                                   .mounts = {Mount{"/h", "/c", {}, ""}},
                                   .additional_gids = {5}})});
  s.edits.env = {"S=1"};
  std::vector<AppliedEdit> explain;
  ASSERT_FALSE(apply("{}", s, fs, &explain).starts_with("error"));
  std::vector<std::string> got;
  for (const auto& e : explain) got.push_back(e.category + "|" + e.device + "|" + e.spec_file);
  EXPECT_EQ(got,
            (std::vector<std::string>{
                "env||/etc/cdi/vendor.yaml", "env|vendor.com/dev=d|/etc/cdi/vendor.yaml",
                "deviceNode|vendor.com/dev=d|/etc/cdi/vendor.yaml", "cgroupRule|vendor.com/dev=d|/etc/cdi/vendor.yaml",
                "mount|vendor.com/dev=d|/etc/cdi/vendor.yaml", "additionalGid|vendor.com/dev=d|/etc/cdi/vendor.yaml"}));
}

}  // namespace
}  // namespace cdi
