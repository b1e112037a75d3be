// The NRI sink on plans made by the library: what each planned edit becomes
// in a ContainerAdjustment, what the runtime's NRI version lets through, and
// the errors that name the device and field of an edit NRI cannot carry.
#include "nri/adjustment_sink.h"

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"
#include "support/spec_builders.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cdi::nri {
namespace {

using cdi::testing::device;
using cdi::testing::FakeFs;
using cdi::testing::make_spec;
using cdi::testing::node;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

NriCapabilities caps(int minor) {
  NriCapabilities c;
  c.nri = {0, minor, 0};
  c.cgroup_rules = minor >= 10;
  c.net_devices = c.rdt = minor >= 11;
  return c;
}

class Sink : public ::testing::Test {
 protected:
  Sink() {
    fs.add_char_device("/dev/null", 1, 3, 0666);
    fs.add_char_device("/dev/zero", 1, 5, 0640);
    fs.add_block_device("/dev/sda", 8, 0, 0640);
    fs.add_fifo("/dev/fifo", 0600);
  }

  // Plans every device of `spec` against `container` and runs the plan through
  // an AdjustmentSink; a second sink, with the spec's mounts and hooks
  // encoded beforehand (EncodedEdits, as the plugin runs), must write the
  // same bytes.
  Status adjust(const Spec& spec_value, NriCapabilities c, pb::ContainerAdjustment& out,
                const pb::Container& container = pb::Container()) {
    auto spec = std::make_shared<const Spec>(spec_value);
    std::vector<std::pair<const Spec*, const Device*>> devices;
    for (const auto& d : spec->devices) devices.emplace_back(spec.get(), &d);
    auto plan = plan_edits(merge_order(devices), fs, nri_container_view(container));
    if (!plan.ok()) return std::move(plan).error();
    plan->specs.push_back(spec);
    AdjustmentSink sink(c);
    CDI_TRY(apply_plan(*plan, sink));
    std::string bytes;
    sink.finish(bytes);
    EncodedEdits encoded;
    encoded.use(plan->specs);
    AdjustmentSink from_encoded(std::move(c), &encoded);
    EXPECT_TRUE(apply_plan(*plan, from_encoded).ok());
    std::string encoded_bytes;
    from_encoded.finish(encoded_bytes);
    EXPECT_EQ(encoded_bytes, bytes) << "mounts and hooks from their encoding";
    EXPECT_TRUE(out.ParseFromString(bytes));
    if (out.linux().net_devices().empty()) {  // a map's entries have no order
      EXPECT_EQ(out.SerializeAsString(), bytes) << "written as protobuf writes it";
    }
    not_carried = sink.not_carried();
    return {};
  }

  FakeFs fs;
  std::vector<std::string> not_carried;
};

std::vector<std::string> env_of(const pb::ContainerAdjustment& a) {
  std::vector<std::string> out;
  for (const auto& kv : a.env()) out.push_back(kv.key() + "=" + kv.value());
  return out;
}

std::vector<std::string> devices_of(const pb::ContainerAdjustment& a) {
  std::vector<std::string> out;
  for (const auto& d : a.linux().devices()) {
    out.push_back(d.path() + " " + d.type() + " " + std::to_string(d.major()) + ":" + std::to_string(d.minor()) +
                  " mode " + (d.has_file_mode() ? std::to_string(d.file_mode().value()) : "-") + " uid " +
                  (d.has_uid() ? std::to_string(d.uid().value()) : "-") + " gid " +
                  (d.has_gid() ? std::to_string(d.gid().value()) : "-"));
  }
  return out;
}

std::vector<std::string> rules_of(const pb::ContainerAdjustment& a) {
  std::vector<std::string> out;
  for (const auto& r : a.linux().resources().devices()) {
    out.push_back(std::string(r.allow() ? "allow " : "deny ") + r.type() + " " + std::to_string(r.major().value()) +
                  ":" + std::to_string(r.minor().value()) + " " + r.access());
  }
  return out;
}

std::vector<std::string> mounts_of(const pb::ContainerAdjustment& a) {
  std::vector<std::string> out;
  for (const auto& m : a.mounts()) {
    std::string o;
    for (const auto& x : m.options()) o += (o.empty() ? "" : ",") + x;
    out.push_back(m.destination() + " <- " + m.source() + " " + m.type() + " [" + o + "]");
  }
  return out;
}

TEST_F(Sink, EnvEachKeyOnceWithItsLastValueInItsFirstPlace) {
  Spec s = make_spec({device("a", {.env = {"A=1", "NEW=a", "B=2"}}), device("b", {.env = {"NEW=b", "C=3"}})});
  s.edits.env = {"SPEC=1"};
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(8), a).ok());
  EXPECT_THAT(env_of(a), ElementsAre("SPEC=1", "A=1", "NEW=b", "B=2", "C=3"));
}

TEST_F(Sink, DeviceNodesFromTheHostWithOwnersFromTheContainerUser) {
  DeviceNode owned = node("/dev/zero");
  owned.uid = 5;
  owned.file_mode = 0600;
  Spec s = make_spec({device("a", {.device_nodes = {node("/dev/null"), owned, node("/dev/fifo")}})});
  pb::Container c;
  c.mutable_user()->set_uid(1000);
  c.mutable_user()->set_gid(2000);
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(10), a, c).ok());
  EXPECT_THAT(devices_of(a),
              ElementsAre("/dev/null c 1:3 mode 438 uid 1000 gid 2000", "/dev/zero c 1:5 mode 384 uid 5 gid 2000",
                          "/dev/fifo p 0:0 mode 384 uid 1000 gid 2000"));
}

TEST_F(Sink, APathTwiceIsSentOnceTheLastWay) {
  DeviceNode again = node("/dev/null");
  again.host_path = "/dev/zero";
  Spec s = make_spec({device("a", {.device_nodes = {node("/dev/null")}}), device("b", {.device_nodes = {again}})});
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(8), a).ok());
  EXPECT_THAT(devices_of(a), ElementsAre("/dev/null c 1:5 mode 416 uid - gid -"));
}

// What the runtime grants a node by itself (rw for c, rwm for b) needs no rule;
// anything else needs explicit rules, which the runtime applies from NRI v0.10.
struct RuleCase {
  const char* name;
  const char* path;
  const char* permissions;
  int nri_minor;
  std::vector<std::string> rules;  // explicit rules sent
  const char* not_carried;         // noted in the log
  const char* error;               // empty: accepted
};

void PrintTo(const RuleCase& c, std::ostream* os) { *os << c.name; }

class RuleTest : public Sink, public ::testing::WithParamInterface<RuleCase> {};

TEST_P(RuleTest, ExplicitRulesOnlyWhereNeeded) {
  const RuleCase& c = GetParam();
  Spec s = make_spec({device("a", {.device_nodes = {node(c.path, c.permissions)}})});
  pb::ContainerAdjustment a;
  auto st = adjust(s, caps(c.nri_minor), a);
  if (*c.error) {
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().to_string(), c.error);
    return;
  }
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(rules_of(a), c.rules);
  EXPECT_EQ(not_carried.empty() ? "" : not_carried.front(), c.not_carried);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RuleTest,
    ::testing::Values(
        RuleCase{"char_rw_is_the_runtimes_own", "/dev/null", "rw", 8, {}, "", ""},
        RuleCase{"block_rwm_is_the_runtimes_own", "/dev/sda", "rwm", 3, {}, "", ""},
        RuleCase{"fifo_has_no_rule", "/dev/fifo", "", 3, {}, "", ""},
        RuleCase{"char_default_rwm_on_v10", "/dev/null", "", 10, {"allow c 1:3 rwm"}, "", ""},
        RuleCase{"char_default_rwm_before_v10", "/dev/null", "", 8, {}, "mknod access to c 1:3", ""},
        RuleCase{"char_read_only_on_v10", "/dev/null", "r", 10, {"deny c 1:3 w"}, "", ""},
        RuleCase{"block_read_only_on_v10", "/dev/sda", "r", 11, {"deny b 8:0 wm"}, "", ""},
        RuleCase{"char_rm_on_v10", "/dev/null", "rm", 10, {"allow c 1:3 rm", "deny c 1:3 w"}, "", ""},
        RuleCase{"char_read_only_before_v10",
                 "/dev/null",
                 "r",
                 8,
                 {},
                 "",
                 "device \"vendor.com/dev=a\": /etc/cdi/vendor.yaml: devices[0].containerEdits.deviceNodes[0]: the "
                 "runtime (NRI v0.8) cannot carry the device cgroup rule \"allow c 1:3 r\" (it gives the node \"rw\"; "
                 "explicit rules need NRI v0.10)"},
        RuleCase{"block_read_only_before_v10",
                 "/dev/sda",
                 "r",
                 6,
                 {},
                 "",
                 "device \"vendor.com/dev=a\": /etc/cdi/vendor.yaml: devices[0].containerEdits.deviceNodes[0]: the "
                 "runtime (NRI v0.6) cannot carry the device cgroup rule \"allow b 8:0 r\" (it gives the node "
                 "\"rwm\"; explicit rules need NRI v0.10)"}),
    [](const ::testing::TestParamInfo<RuleCase>& i) { return i.param.name; });

TEST_F(Sink, ARuleForANodeTheContainerHasComesAlone) {
  // The container has the node already (the runtime injected it) but no rule for it.
  pb::Container c;
  auto* d = c.mutable_linux()->add_devices();
  d->set_path("/dev/null");
  d->set_type("c");
  d->set_major(1);
  d->set_minor(3);
  d->mutable_file_mode()->set_value(0666);
  Spec s = make_spec({device("a", {.device_nodes = {node("/dev/null", "rw")}})});
  pb::ContainerAdjustment on_v10, before;
  ASSERT_TRUE(adjust(s, caps(10), on_v10, c).ok());
  EXPECT_TRUE(on_v10.linux().devices().empty());
  EXPECT_THAT(rules_of(on_v10), ElementsAre("allow c 1:3 rw"));
  auto st = adjust(s, caps(8), before, c);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().to_string(), HasSubstr("explicit rules need NRI v0.10"));
}

TEST_F(Sink, MountsByDestinationOnceTheLastWay) {
  Spec s = make_spec(
      {device("a", {.mounts = {Mount{"/usr/lib/x", "/lib", {"ro", "bind"}, ""}, Mount{"/t", "/m", {}, "tmpfs"}}}),
       device("b", {.mounts = {Mount{"/other", "/m", {"rbind"}, ""}}})});
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(3), a).ok());
  EXPECT_THAT(mounts_of(a), ElementsAre("/lib <- /usr/lib/x  [ro,bind]", "/m <- /other  [rbind]"));
}

TEST_F(Sink, HooksOnEachStage) {
  Spec s = make_spec(
      {device("a", {.hooks = {Hook{"prestart", "/h1", {"h1", "x"}, {"E=1"}, 5},
                              Hook{"createRuntime", "/h2", {}, {}, {}}, Hook{"createContainer", "/h3", {}, {}, {}},
                              Hook{"startContainer", "/h4", {}, {}, {}}, Hook{"poststart", "/h5", {}, {}, {}},
                              Hook{"poststop", "/h6", {}, {}, {}}, Hook{"prestart", "/h7", {}, {}, {}}}})});
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(3), a).ok());
  const auto& h = a.hooks();
  ASSERT_EQ(h.prestart_size(), 2);
  EXPECT_EQ(h.prestart(0).path(), "/h1");
  EXPECT_THAT(std::vector<std::string>(h.prestart(0).args().begin(), h.prestart(0).args().end()),
              ElementsAre("h1", "x"));
  EXPECT_EQ(h.prestart(0).env(0), "E=1");
  EXPECT_EQ(h.prestart(0).timeout().value(), 5);
  EXPECT_FALSE(h.prestart(1).has_timeout());
  EXPECT_EQ(h.create_runtime(0).path(), "/h2");
  EXPECT_EQ(h.create_container(0).path(), "/h3");
  EXPECT_EQ(h.start_container(0).path(), "/h4");
  EXPECT_EQ(h.poststart(0).path(), "/h5");
  EXPECT_EQ(h.poststop(0).path(), "/h6");
}

TEST_F(Sink, NetDevicesAndRdtFromNriV011) {
  Spec s =
      make_spec({device("a", {.intel_rdt = IntelRdt{.clos_id = "a", .schemata = std::vector<std::string>{"L3:0=f"}},
                              .net_devices = {{"eth0", "net0"}, {"eth1", "net1"}}}),
                 device("b", {.intel_rdt = IntelRdt{.clos_id = "b", .enable_monitoring = true},
                              .net_devices = {{"eth0", "x"}}})});
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(11), a).ok());
  EXPECT_EQ(a.linux().net_devices().at("eth0").name(), "x");
  EXPECT_EQ(a.linux().net_devices().at("eth1").name(), "net1");
  EXPECT_EQ(a.linux().rdt().clos_id().value(), "b");
  EXPECT_FALSE(a.linux().rdt().has_schemata());
  EXPECT_TRUE(a.linux().rdt().enable_monitoring().value());

  pb::ContainerAdjustment before;
  auto st = adjust(s, caps(10), before);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().to_string(),
            "device \"vendor.com/dev=a\": /etc/cdi/vendor.yaml: devices[0].containerEdits.netDevices[0]: the runtime "
            "(NRI v0.10) cannot add network devices (NRI v0.11 can)");
}

TEST_F(Sink, RdtWithoutANriField) {
  Spec s = make_spec({device("a", {.intel_rdt = IntelRdt{.clos_id = "a", .l3_cache_schema = "L3:0=f"}})});
  pb::ContainerAdjustment a;
  auto st = adjust(s, caps(12), a);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().to_string(),
              HasSubstr("devices[0].containerEdits.intelRdt: NRI carries intelRdt closID, schemata and "
                        "enableMonitoring, not l3CacheSchema or memBwSchema"));
}

TEST_F(Sink, AdditionalGidsAreNeverCarried) {
  Spec s = make_spec({device("a", {.env = {"A=1"}}), device("b", {.additional_gids = {0, 44}})});
  pb::ContainerAdjustment a;
  auto st = adjust(s, caps(12), a);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().to_string(),
            "device \"vendor.com/dev=b\": /etc/cdi/vendor.yaml: devices[1].containerEdits.additionalGids[1]: NRI "
            "cannot add supplementary groups to a container (an adjustment has no field for them); where the "
            "runtime honours CDI device names, cdi-mode reference or auto lets the runtime add them");
}

TEST_F(Sink, NothingPlannedNothingSent) {
  Spec s = make_spec({device("a", {})});
  pb::ContainerAdjustment a;
  ASSERT_TRUE(adjust(s, caps(3), a).ok());
  EXPECT_EQ(a.ByteSizeLong(), 0u);
}

TEST(ContainerView, FromTheNriContainer) {
  pb::Container c;
  c.mutable_user()->set_uid(7);
  c.mutable_user()->set_gid(8);
  c.mutable_user()->add_additional_gids(9);
  auto* d = c.mutable_linux()->add_devices();
  d->set_path("/dev/x");
  d->set_type("c");
  d->set_major(10);
  d->set_minor(200);
  d->mutable_uid()->set_value(3);
  auto* r = c.mutable_linux()->mutable_resources()->add_devices();
  r->set_allow(true);
  r->set_type("c");
  r->mutable_major()->set_value(10);
  r->set_access("rw");
  auto* m = c.add_mounts();
  m->set_destination("/data");
  m->set_source("/srv");
  m->add_options("ro");
  c.mutable_hooks()->add_poststop()->set_path("/bin/cleanup");
  ContainerView v = nri_container_view(c);
  EXPECT_EQ(v.uid, 7u);
  EXPECT_EQ(v.gid, 8u);
  EXPECT_THAT(v.additional_gids, ElementsAre(9u));
  ASSERT_EQ(v.device_nodes.size(), 1u);
  EXPECT_EQ(v.device_nodes[0].path, "/dev/x");
  EXPECT_EQ(v.device_nodes[0].type, "c");
  EXPECT_EQ(v.device_nodes[0].major, 10);
  EXPECT_EQ(v.device_nodes[0].uid, 3u);
  EXPECT_FALSE(v.device_nodes[0].gid.has_value());
  ASSERT_EQ(v.cgroup_rules.size(), 1u);
  EXPECT_EQ(v.cgroup_rules[0].type, "c");
  EXPECT_EQ(v.cgroup_rules[0].access, "rw");
  EXPECT_EQ(v.cgroup_rules[0].major, 10);
  EXPECT_FALSE(v.cgroup_rules[0].minor.has_value());
  ASSERT_EQ(v.mounts.size(), 1u);
  EXPECT_EQ(v.mounts[0].container_path, "/data");
  EXPECT_EQ(v.mounts[0].host_path, "/srv");
  EXPECT_EQ(v.hooks.at("poststop").at(0).path, "/bin/cleanup");
  EXPECT_FALSE(nri_container_view(pb::Container()).uid.has_value());
}

}  // namespace
}  // namespace cdi::nri
