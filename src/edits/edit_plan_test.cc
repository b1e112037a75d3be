#include "edits/edit_plan.h"

#include <memory>
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

using testing::device;
using ::testing::ElementsAre;
using testing::FakeFs;
using ::testing::HasSubstr;
using testing::make_spec;
using testing::node;

// Plans every device of `spec` in order.
Result<EditPlan> plan(const Spec& spec, Fs& fs, const ContainerView& view = {}) {
  std::vector<std::pair<const Spec*, const Device*>> pairs;
  for (const auto& d : spec.devices) pairs.emplace_back(&spec, &d);
  return plan_edits(merge_order(pairs), fs, view);
}

// ---- origins ------------------------------------------------------------------------

TEST(EditPlan, EveryEntryKnowsItsOrigin) {
  FakeFs fs;
  fs.add_char_device("/dev/a", 1, 1);
  Spec s = make_spec(
      {device("x", {.env = {"X=1"}}), device("y", {.env = {"Y=1"},
                                                   .device_nodes = {node("/dev/a")},
                                                   .hooks = {Hook{"prestart", "/h", {}, {}, {}}},
                                                   .mounts = {Mount{"/h", "/c", {}, ""}, Mount{"/h2", "/c2", {}, ""}},
                                                   .intel_rdt = IntelRdt{.clos_id = "c"},
                                                   .additional_gids = {0, 7},
                                                   .net_devices = {{"eth0", "n0"}}})});
  s.edits.env = {"S=1", "T=1"};
  auto p = plan(s, fs);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  ASSERT_EQ(p->env.size(), 4u);
  EXPECT_EQ(p->env[1].origin.field(), "containerEdits.env[1]");
  EXPECT_EQ(p->env[1].origin.device(), "");
  EXPECT_EQ(p->env[1].origin.requesting_device(), "vendor.com/dev=x");
  EXPECT_EQ(p->env[1].origin.describe(), "spec-level edits of /etc/cdi/vendor.yaml");
  EXPECT_EQ(p->env[3].origin.field(), "devices[1].containerEdits.env[0]");
  EXPECT_EQ(p->env[3].origin.describe(), "device vendor.com/dev=y of /etc/cdi/vendor.yaml");
  EXPECT_EQ(p->device_nodes[0].origin.field(), "devices[1].containerEdits.deviceNodes[0]");
  EXPECT_EQ(p->cgroup_rules[0].origin.field(), "devices[1].containerEdits.deviceNodes[0]");
  EXPECT_EQ(p->mounts[1].origin.field(), "devices[1].containerEdits.mounts[1]");
  EXPECT_EQ(p->hooks[0].origin.field(), "devices[1].containerEdits.hooks[0]");
  EXPECT_EQ(p->intel_rdt[0].origin.field(), "devices[1].containerEdits.intelRdt");
  EXPECT_EQ(p->net_devices[0].origin.field(), "devices[1].containerEdits.netDevices[0]");
  // GID 0 is skipped, but the index is the spec's own.
  ASSERT_EQ(p->additional_gids.size(), 1u);
  EXPECT_EQ(p->additional_gids[0].origin.field(), "devices[1].containerEdits.additionalGids[1]");
  EXPECT_EQ(p->env[2].origin.spec_file(), "/etc/cdi/vendor.yaml");
}

TEST(EditPlan, LocateNamesFileFieldAndRequestingDevice) {
  Spec s = make_spec({device("x", {})});
  EditOrigin spec_level{{&s, nullptr, &s.devices[0]}, "mounts", 2};
  Error e = spec_level.locate(Error("cannot").at_field("hostPath"));
  EXPECT_EQ(e.to_string(),
            "device \"vendor.com/dev=x\": /etc/cdi/vendor.yaml: containerEdits.mounts[2].hostPath: cannot");
  EditOrigin own{{&s, &s.devices[0], nullptr}, "env", 0};
  EXPECT_EQ(own.locate(Error("bad")).to_string(),
            "device \"vendor.com/dev=x\": /etc/cdi/vendor.yaml: devices[0].containerEdits.env[0]: bad");
}

TEST(EditPlan, EnvKeyAndValue) {
  std::string kv = "A=b=c";
  std::string bare = "NOVALUE";
  PlannedEnv e{{}, kv};
  EXPECT_EQ(e.key(), "A");
  EXPECT_EQ(e.value(), "b=c");
  PlannedEnv b{{}, bare};
  EXPECT_EQ(b.key(), "NOVALUE");
  EXPECT_EQ(b.value(), "");
}

// ---- device nodes and their rules ------------------------------------------------------

TEST(EditPlan, NodeErrorIsLocatedAndStopsThePlan) {
  FakeFs fs;
  Spec s = make_spec({device("d", {.device_nodes = {node("/dev/missing")}})});
  auto p = plan(s, fs);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().field, "devices[0].containerEdits.deviceNodes[0]");
  EXPECT_EQ(p.error().device, "vendor.com/dev=d");
  EXPECT_EQ(p.error().file, "/etc/cdi/vendor.yaml");
  EXPECT_THAT(p.error().message, HasSubstr("host device"));
}

TEST(EditPlan, HostNodesAreStatedOncePerPlan) {
  FakeFs fs;
  fs.add_char_device("/dev/gpu0", 195, 0);
  fs.add_char_device("/dev/ctl", 195, 255);
  Spec s = make_spec({device("all", {.device_nodes = {node("/dev/gpu0"), node("/dev/ctl")}}),
                      device("0", {.device_nodes = {node("/dev/gpu0"), node("/dev/ctl")}})});
  int before = fs.stat_count;
  auto p = plan(s, fs);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(fs.stat_count - before, 2);
  EXPECT_EQ(p->device_nodes.size(), 4u);
  // Within one injection a shared node brings its rule each time (as the reference does).
  EXPECT_EQ(p->cgroup_rules.size(), 4u);
}

// An Fs that says it keeps its stat answers, counting the stats that reach it.
class KeepingFs final : public ForwardingFs {
 public:
  using ForwardingFs::ForwardingFs;
  bool keeps_stats() const override { return true; }
};

TEST(EditPlan, AnFsThatKeepsStatsIsAskedDirectly) {
  FakeFs fs;
  fs.add_char_device("/dev/gpu0", 195, 0);
  fs.add_char_device("/dev/ctl", 195, 255);
  KeepingFs keeping(fs);
  Spec s = make_spec({device("all", {.device_nodes = {node("/dev/gpu0"), node("/dev/ctl")}}),
                      device("0", {.device_nodes = {node("/dev/gpu0"), node("/dev/ctl")}})});
  int before = fs.stat_count;
  auto p = plan(s, keeping);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(fs.stat_count - before, 4);  // no second cache in front of it
  ASSERT_EQ(p->device_nodes.size(), 4u);
  EXPECT_EQ(p->device_nodes[2].node.major, 195);
  EXPECT_EQ(p->device_nodes[3].node.minor, 255);
}

struct OwnerCase {
  const char* name;
  std::optional<uint32_t> view_uid, view_gid;
  std::optional<uint32_t> node_uid;
  std::optional<uint32_t> want_uid, want_gid;
};

void PrintTo(const OwnerCase& c, std::ostream* os) { *os << c.name; }

class NodeOwnerTest : public ::testing::TestWithParam<OwnerCase> {};

TEST_P(NodeOwnerTest, DefaultsFromTheContainerUser) {
  const OwnerCase& c = GetParam();
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3);
  DeviceNode n = node("/dev/null");
  n.uid = c.node_uid;
  Spec s = make_spec({device("d", {.device_nodes = {n}})});
  ContainerView view;
  view.uid = c.view_uid;
  view.gid = c.view_gid;
  auto p = plan(s, fs, view);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->device_nodes[0].node.uid, c.want_uid);
  EXPECT_EQ(p->device_nodes[0].node.gid, c.want_gid);
}

INSTANTIATE_TEST_SUITE_P(Table, NodeOwnerTest,
                         ::testing::Values(OwnerCase{"user", 1000, 1001, {}, 1000, 1001},
                                           OwnerCase{"root_is_the_default", 0, 0, {}, {}, {}},
                                           OwnerCase{"none", {}, {}, {}, {}, {}},
                                           OwnerCase{"gid_only", {}, 7, {}, {}, 7},
                                           OwnerCase{"node_owner_wins", 1000, 1000, 0, 0, 1000}),
                         [](const ::testing::TestParamInfo<OwnerCase>& i) { return i.param.name; });

TEST(EditPlan, CgroupRulesFollowTheNodeType) {
  FakeFs fs;
  fs.add_char_device("/dev/c", 1, 3);
  fs.add_block_device("/dev/b", 8, 0);
  fs.add_fifo("/dev/p");
  DeviceNode none = node("/dev/c");
  none.permissions = "none";
  DeviceNode r = node("/dev/b");
  r.permissions = "r";
  Spec s = make_spec({device("d", {.device_nodes = {node("/dev/p"), none, r}})});
  auto p = plan(s, fs);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->cgroup_rules.size(), 2u);
  EXPECT_EQ(p->cgroup_rules[0].after_nodes, 2u);  // after its node; the FIFO has none
  EXPECT_EQ(p->cgroup_rules[0].rule, (DeviceCgroupRule{true, "c", 1, 3, ""}));
  EXPECT_EQ(p->cgroup_rules[1].after_nodes, 3u);
  EXPECT_EQ(p->cgroup_rules[1].rule, (DeviceCgroupRule{true, "b", 8, 0, "r"}));
}

// ---- what the container already has ----------------------------------------------------

struct PresentRuleCase {
  const char* name;
  std::vector<DeviceCgroupRule> container;
  bool planned;
};

void PrintTo(const PresentRuleCase& c, std::ostream* os) { *os << c.name; }

class PresentRuleTest : public ::testing::TestWithParam<PresentRuleCase> {};

TEST_P(PresentRuleTest, AGrantedRuleIsNotAddedAgain) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3);
  Spec s = make_spec({device("d", {.device_nodes = {node("/dev/null")}})});
  ContainerView view;
  view.cgroup_rules = GetParam().container;
  auto p = plan(s, fs, view);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->cgroup_rules.size(), GetParam().planned ? 1u : 0u);
  EXPECT_EQ(p->device_nodes.size(), 1u);  // the container does not have the node
}

TEST(EditPlan, ANodeTheContainerHasIdenticallyStaysButItsRuleComes) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  fs.add_char_device("/dev/zero", 1, 5, 0666);
  Spec s = make_spec({device("d", {.device_nodes = {node("/dev/null"), node("/dev/zero")}})});
  ContainerView view;
  view.device_nodes = {ResolvedDeviceNode{.path = "/dev/null", .type = "c", .major = 1, .minor = 3, .file_mode = 0666}};
  auto p = plan(s, fs, view);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->device_nodes.size(), 1u);
  EXPECT_EQ(p->device_nodes[0].node.path, "/dev/zero");
  ASSERT_EQ(p->cgroup_rules.size(), 2u);
  EXPECT_EQ(p->cgroup_rules[0].after_nodes, 0u);  // on its own, before /dev/zero
  EXPECT_EQ(p->cgroup_rules[1].after_nodes, 1u);
  // Another mode (or owner, or numbers) is another node: it replaces the container's.
  view.device_nodes[0].file_mode = 0600;
  auto other = plan(s, fs, view);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->device_nodes.size(), 2u);
}

TEST(EditPlan, AMountTheContainerHasIdenticallyIsNotAddedAgain) {
  FakeFs fs;
  Spec s = make_spec({device(
      "d", {.mounts = {Mount{"/h", "/c", {"ro"}, ""}, Mount{"/h", "/d", {"ro"}, ""}, Mount{"/h", "/e", {"ro"}, ""}}})});
  ContainerView view;
  view.mounts = {Mount{"/h", "/c", {"ro"}, ""}, Mount{"/h", "/d", {"rw"}, ""}, Mount{"/x", "/e", {"ro"}, ""}};
  auto p = plan(s, fs, view);
  ASSERT_TRUE(p.ok());
  std::vector<std::string> got;
  for (const auto& m : p->mounts) got.push_back(m.mount->container_path);
  EXPECT_THAT(got, ElementsAre("/d", "/e"));
}

const DeviceCgroupRule kDenyAll{false, "", std::nullopt, std::nullopt, "rwm"};
const DeviceCgroupRule kNull{true, "c", 1, 3, "rwm"};

INSTANTIATE_TEST_SUITE_P(
    Table, PresentRuleTest,
    ::testing::Values(PresentRuleCase{"absent", {kDenyAll}, true}, PresentRuleCase{"last", {kDenyAll, kNull}, false},
                      PresentRuleCase{
                          "followed_by_allows", {kDenyAll, kNull, DeviceCgroupRule{true, "c", 1, 5, "rwm"}}, false},
                      PresentRuleCase{"followed_by_a_deny", {kNull, kDenyAll}, true},
                      PresentRuleCase{"other_access", {kDenyAll, DeviceCgroupRule{true, "c", 1, 3, "rw"}}, true},
                      PresentRuleCase{"a_deny_of_it", {DeviceCgroupRule{false, "c", 1, 3, "rwm"}}, true}),
    [](const ::testing::TestParamInfo<PresentRuleCase>& i) { return i.param.name; });

TEST(EditPlan, AHookTheContainerRunsAtThatStageIsNotAddedAgain) {
  FakeFs fs;
  Spec s = make_spec({device(
      "d", {.hooks = {Hook{"prestart", "/h", {"h", "1"}, {}, 5}, Hook{"poststop", "/h", {"h", "1"}, {}, 5},
                      Hook{"prestart", "/h", {"h", "2"}, {}, 5}, Hook{"prestart", "/h", {"h", "1"}, {}, {}}}})});
  ContainerView view;
  view.hooks["prestart"] = {Hook{"", "/h", {"h", "1"}, {}, 5}};
  auto p = plan(s, fs, view);
  ASSERT_TRUE(p.ok());
  std::vector<std::string> fields;
  for (const auto& h : p->hooks) fields.push_back(h.origin.field());
  // Another stage, other args or another timeout make another hook.
  EXPECT_THAT(fields, ElementsAre("devices[0].containerEdits.hooks[1]", "devices[0].containerEdits.hooks[2]",
                                  "devices[0].containerEdits.hooks[3]"));
}

TEST(EditPlan, UnknownHookStageIsLocated) {
  FakeFs fs;
  Spec s = make_spec({device("d", {.hooks = {Hook{"prestart", "/a", {}, {}, {}}, Hook{"later", "/b", {}, {}, {}}}})});
  auto p = plan(s, fs);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().to_string(),
            "device \"vendor.com/dev=d\": /etc/cdi/vendor.yaml: devices[0].containerEdits.hooks[1].hookName: "
            "unknown hook name \"later\"");
}

TEST(EditPlan, GidsSkipZeroPresentAndRepeated) {
  FakeFs fs;
  Spec s = make_spec({device("a", {.additional_gids = {0, 5, 6, 6}}), device("b", {.additional_gids = {7, 6}})});
  ContainerView view;
  view.additional_gids = {5};
  auto p = plan(s, fs, view);
  ASSERT_TRUE(p.ok());
  std::vector<uint32_t> gids;
  for (const auto& g : p->additional_gids) gids.push_back(g.gid);
  EXPECT_THAT(gids, ElementsAre(6u, 7u));
}

// ---- lifetime, explanation, mount order --------------------------------------------------

TEST(EditPlan, PlanFromDefinitionsKeepsItsSpecsAlive) {
  FakeFs fs;
  auto spec = std::make_shared<Spec>(make_spec({device("d", {.env = {"A=1"}})}));
  std::vector<DeviceDefinition> defs{{spec, &spec->devices[0]}, {spec, &spec->devices[0]}};
  auto p = plan_devices(defs, fs, {});
  ASSERT_TRUE(p.ok());
  defs.clear();
  spec.reset();
  ASSERT_EQ(p->specs.size(), 1u);
  EXPECT_EQ(p->env[0].entry, "A=1");
  EXPECT_EQ(p->env[0].origin.device(), "vendor.com/dev=d");
}

TEST(EditPlan, ExplainFollowsTheSinkOrder) {
  FakeFs fs;
  fs.add_char_device("/dev/a", 1, 1);
  fs.add_fifo("/dev/p");
  Spec s = make_spec({device("d", {.env = {"A=1"},
                                   .device_nodes = {node("/dev/a"), node("/dev/p")},
                                   .hooks = {Hook{"poststop", "/h", {}, {}, {}}},
                                   .mounts = {Mount{"/h", "/c", {}, ""}},
                                   .intel_rdt = IntelRdt{.clos_id = "x"},
                                   .additional_gids = {9},
                                   .net_devices = {{"eth0", "n0"}}})});
  auto p = plan(s, fs);
  ASSERT_TRUE(p.ok());
  std::vector<std::string> got;
  for (const auto& e : explain_plan(*p)) got.push_back(e.category + ": " + e.summary + " @" + e.field);
  EXPECT_THAT(got, ElementsAre("env: set A=1 @devices[0].containerEdits.env[0]",
                               "deviceNode: /dev/a (c 1:1) from /dev/a @devices[0].containerEdits.deviceNodes[0]",
                               "cgroupRule: allow c 1:1 rwm @devices[0].containerEdits.deviceNodes[0]",
                               "deviceNode: /dev/p (p 0:0) from /dev/p @devices[0].containerEdits.deviceNodes[1]",
                               "netDevice: eth0 as n0 @devices[0].containerEdits.netDevices[0]",
                               "mount: /h on /c @devices[0].containerEdits.mounts[0]",
                               "hook: poststop /h @devices[0].containerEdits.hooks[0]",
                               "intelRdt: closID \"x\" @devices[0].containerEdits.intelRdt",
                               "additionalGid: 9 @devices[0].containerEdits.additionalGids[0]"));
}

TEST(MountOrder, StableByDepth) {
  std::vector<std::string_view> d{"/a/b", "/", "/x", "rel", "/a/b/c", "/y/"};
  EXPECT_THAT(mount_order(d), ElementsAre(3u, 1u, 2u, 5u, 0u, 4u));
}

}  // namespace
}  // namespace cdi
