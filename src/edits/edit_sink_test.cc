// One plan, two sinks: the OCI sink and a plain model of a container kept by
// the test sink below must end in the same state, so the rules live in the
// plan and the sinks only carry them out.
#include "edits/edit_sink.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edits/oci_sink.h"
#include "support/fake_fs.h"
#include "support/spec_builders.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cdi {
namespace {

using testing::device;
using ::testing::ElementsAre;
using testing::FakeFs;
using testing::make_spec;
using testing::node;

// A container reduced to what CDI edits touch, printed one fact a line.
struct Model {
  std::vector<std::string> env;
  std::vector<std::string> nodes;  // "path type major:minor mode uid gid"
  std::vector<std::string> rules;
  std::vector<std::pair<std::string, std::string>> net;                 // host interface -> name
  std::vector<std::pair<std::string, std::string>> mounts;              // destination -> "type source options"
  std::vector<std::pair<std::string, std::vector<std::string>>> hooks;  // stage -> hooks
  std::string rdt;
  std::vector<uint32_t> gids;

  std::string show() const {
    std::string out;
    for (const auto& e : env) out += "env " + e + "\n";
    for (const auto& n : nodes) out += "node " + n + "\n";
    for (const auto& r : rules) out += "rule " + r + "\n";
    for (const auto& [h, n] : net) out += "net " + h + " " + n + "\n";
    for (const auto& [d, m] : mounts) out += "mount " + d + " " + m + "\n";
    for (const auto& [stage, list] : hooks) {
      for (const auto& h : list) out += "hook " + stage + " " + h + "\n";
    }
    if (!rdt.empty()) out += "rdt " + rdt + "\n";
    for (auto g : gids) out += "gid " + std::to_string(g) + "\n";
    return out;
  }
};

std::string opt(const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string opt64(const std::optional<int64_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string words(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const auto& w : v) out += (out.size() > 1 ? "," : "") + w;
  return out + "]";
}

std::string node_text(std::string_view path, std::string_view type, int64_t major, int64_t minor,
                      std::optional<uint32_t> mode, std::optional<uint32_t> uid, std::optional<uint32_t> gid) {
  return std::string(path) + " " + std::string(type) + " " + std::to_string(major) + ":" + std::to_string(minor) + " " +
         opt(mode) + " " + opt(uid) + " " + opt(gid);
}

std::string rule_text(const DeviceCgroupRule& r) {
  return std::string(r.allow ? "allow " : "deny ") + std::string(r.type) + " " + opt64(r.major) + ":" + opt64(r.minor) +
         " " + std::string(r.access);
}

std::string hook_text(const std::string& path, const std::vector<std::string>& args,
                      const std::vector<std::string>& env, std::optional<int64_t> timeout) {
  return path + " " + words(args) + " " + words(env) + " " + opt64(timeout);
}

std::string rdt_text(const IntelRdt& r) {
  return r.clos_id + "|" + r.l3_cache_schema + "|" + r.mem_bw_schema + "|" +
         words(r.schemata.value_or(std::vector<std::string>{})) + "|" + (r.enable_monitoring ? "mon" : "");
}

// The model of an OCI config, read independently of the OCI sink.
Model model_of(const OciDocument& doc) {
  Model m;
  const auto& root = doc.json();
  auto get = [](const JsonValue& v, const char* key) -> const JsonValue* {
    if (!v.IsObject()) return nullptr;
    auto it = v.FindMember(key);
    return it == v.MemberEnd() ? nullptr : &it->value;
  };
  auto strings = [](const JsonValue* v) {
    std::vector<std::string> out;
    if (v) {
      for (const auto& s : v->GetArray()) out.emplace_back(s.GetString());
    }
    return out;
  };
  auto u32 = [](const JsonValue* v) { return v ? std::optional<uint32_t>(v->GetUint()) : std::nullopt; };
  auto i64 = [](const JsonValue* v) { return v ? std::optional<int64_t>(v->GetInt64()) : std::nullopt; };
  auto str = [](const JsonValue* v) { return v ? std::string(v->GetString()) : std::string(); };
  if (auto* p = get(root, "process")) {
    m.env = strings(get(*p, "env"));
    if (auto* u = get(*p, "user")) {
      if (auto* gids = get(*u, "additionalGids")) {
        for (const auto& g : gids->GetArray()) m.gids.push_back(g.GetUint());
      }
    }
  }
  if (auto* l = get(root, "linux")) {
    if (auto* devs = get(*l, "devices")) {
      for (const auto& d : devs->GetArray()) {
        m.nodes.push_back(node_text(str(get(d, "path")), str(get(d, "type")), *i64(get(d, "major")),
                                    *i64(get(d, "minor")), u32(get(d, "fileMode")), u32(get(d, "uid")),
                                    u32(get(d, "gid"))));
      }
    }
    if (auto* res = get(*l, "resources")) {
      if (auto* rules = get(*res, "devices")) {
        for (const auto& r : rules->GetArray()) {
          m.rules.push_back(rule_text({get(r, "allow")->GetBool(), str(get(r, "type")), i64(get(r, "major")),
                                       i64(get(r, "minor")), str(get(r, "access"))}));
        }
      }
    }
    if (auto* net = get(*l, "netDevices")) {
      for (const auto& n : net->GetObject()) m.net.emplace_back(n.name.GetString(), str(get(n.value, "name")));
    }
    if (auto* rdt = get(*l, "intelRdt")) {
      IntelRdt r{str(get(*rdt, "closID")), str(get(*rdt, "l3CacheSchema")), str(get(*rdt, "memBwSchema")),
                 get(*rdt, "schemata") ? std::optional(strings(get(*rdt, "schemata"))) : std::nullopt,
                 get(*rdt, "enableMonitoring") != nullptr};
      m.rdt = rdt_text(r);
    }
  }
  if (auto* mounts = get(root, "mounts")) {
    for (const auto& x : mounts->GetArray()) {
      m.mounts.emplace_back(str(get(x, "destination")), str(get(x, "type")) + " " + str(get(x, "source")) + " " +
                                                            words(strings(get(x, "options"))));
    }
  }
  if (auto* hooks = get(root, "hooks")) {
    for (const auto& stage : hooks->GetObject()) {
      std::vector<std::string> list;
      for (const auto& h : stage.value.GetArray()) {
        list.push_back(
            hook_text(str(get(h, "path")), strings(get(h, "args")), strings(get(h, "env")), i64(get(h, "timeout"))));
      }
      m.hooks.emplace_back(stage.name.GetString(), list);
    }
  }
  return m;
}

// The test sink: the contract of edit_sink.h on the model, and a log of the calls.
class ModelSink final : public EditSink {
 public:
  explicit ModelSink(Model start) : m(std::move(start)) {}
  Model m;
  std::vector<std::string> calls;

  Status set_env(const PlannedEnv& e) override {
    calls.push_back("env");
    for (auto it = m.env.rbegin(); it != m.env.rend(); ++it) {
      if (std::string_view(*it).substr(0, it->find('=')) == e.key()) {
        *it = e.entry;
        return {};
      }
    }
    m.env.emplace_back(e.entry);
    return {};
  }
  Status add_device_node(const PlannedDeviceNode& p) override {
    calls.push_back("node");
    const auto& n = p.node;
    auto same = std::find_if(m.nodes.begin(), m.nodes.end(),
                             [&](const std::string& x) { return x.substr(0, x.find(' ')) == n.path; });
    if (same != m.nodes.end()) m.nodes.erase(same);
    m.nodes.push_back(node_text(n.path, n.type, n.major, n.minor, n.file_mode, n.uid, n.gid));
    return {};
  }
  Status add_cgroup_rule(const PlannedCgroupRule& r) override {
    calls.push_back("rule");
    m.rules.push_back(rule_text(r.rule));
    return {};
  }
  Status add_net_device(const PlannedNetDevice& d) override {
    calls.push_back("net");
    for (auto& [host, name] : m.net) {
      if (host == d.device->host_interface_name) {
        name = d.device->name;
        return {};
      }
    }
    m.net.emplace_back(d.device->host_interface_name, d.device->name);
    return {};
  }
  Status add_mount(const PlannedMount& p) override {
    calls.push_back("mount");
    const Mount& x = *p.mount;
    auto same =
        std::find_if(m.mounts.begin(), m.mounts.end(), [&](const auto& y) { return y.first == x.container_path; });
    if (same != m.mounts.end()) m.mounts.erase(same);
    m.mounts.emplace_back(x.container_path, x.type + " " + x.host_path + " " + words(x.options));
    return {};
  }
  Status order_mounts() override {
    calls.push_back("order_mounts");
    std::vector<std::string_view> destinations;
    for (const auto& x : m.mounts) destinations.push_back(x.first);
    std::vector<std::pair<std::string, std::string>> sorted;
    for (size_t i : mount_order(destinations)) sorted.push_back(m.mounts[i]);
    m.mounts = std::move(sorted);
    return {};
  }
  Status add_hook(const PlannedHook& p) override {
    calls.push_back("hook");
    const Hook& h = *p.hook;
    auto stage = std::find_if(m.hooks.begin(), m.hooks.end(), [&](const auto& s) { return s.first == h.hook_name; });
    if (stage == m.hooks.end()) stage = m.hooks.insert(m.hooks.end(), {h.hook_name, {}});
    stage->second.push_back(hook_text(h.path, h.args, h.env, h.timeout));
    return {};
  }
  Status set_intel_rdt(const PlannedIntelRdt& r) override {
    calls.push_back("rdt");
    m.rdt = rdt_text(*r.rdt);
    return {};
  }
  Status add_additional_gid(const PlannedGid& g) override {
    calls.push_back("gid");
    m.gids.push_back(g.gid);
    return {};
  }
};

void add_host_nodes(FakeFs& fs) {
  fs.add_char_device("/dev/null", 1, 3, 0666);
  fs.add_char_device("/dev/zero", 1, 5, 0666);
  fs.add_block_device("/dev/sda", 8, 0, 0640);
  fs.add_fifo("/dev/fifo", 0600);
}

// A spec that uses every kind of edit, twice where replacement matters.
Spec every_kind() {
  DeviceNode owned = node("/dev/zero");
  owned.uid = 5;
  owned.file_mode = 0600;
  DeviceNode ro = node("/dev/sda");
  ro.permissions = "r";
  Spec s = make_spec(
      {device("a", {.env = {"A=1", "PATH=/cdi", "NEW=a"},
                    .device_nodes = {node("/dev/null"), owned, node("/dev/fifo")},
                    .hooks = {Hook{"prestart", "/h1", {"h1", "x"}, {"E=1"}, 5}, Hook{"poststop", "/h2", {}, {}, {}}},
                    .mounts = {Mount{"/lib", "/usr/lib/x", {"ro", "bind"}, ""}, Mount{"/t", "/m", {}, "tmpfs"}},
                    .intel_rdt = IntelRdt{.clos_id = "a", .schemata = std::vector<std::string>{"L3:0=f"}},
                    .additional_gids = {0, 44, 45},
                    .net_devices = {{"eth0", "net0"}, {"eth1", "net1"}}}),
       device("b", {.env = {"NEW=b"},
                    .device_nodes = {ro, node("/dev/null")},
                    .hooks = {Hook{"prestart", "/h3", {}, {}, {}}, Hook{"createRuntime", "/h4", {}, {}, -1}},
                    .mounts = {Mount{"/other", "/m", {"rbind"}, ""}, Mount{"/d", "/a/b/c/d", {}, ""}},
                    .intel_rdt = IntelRdt{.clos_id = "b", .enable_monitoring = true},
                    .additional_gids = {45, 46},
                    .net_devices = {{"eth0", "renamed"}}})});
  s.edits.env = {"SPEC=1"};
  s.edits.mounts = {Mount{"/s", "/s", {}, ""}};
  return s;
}

struct TwoSinkCase {
  const char* name;
  const char* config;
};

void PrintTo(const TwoSinkCase& c, std::ostream* os) { *os << c.name; }

class TwoSinksTest : public ::testing::TestWithParam<TwoSinkCase> {};

TEST_P(TwoSinksTest, OnePlanTheSameResult) {
  FakeFs fs;
  add_host_nodes(fs);
  Spec s = every_kind();
  auto doc = OciDocument::parse(GetParam().config);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  auto plan = plan_edits(merge_order({{&s, &s.devices[0]}, {&s, &s.devices[1]}}), fs, oci_container_view(*doc));
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();

  ModelSink model(model_of(*doc));
  ASSERT_TRUE(apply_plan(*plan, model).ok());
  OciSink oci(*doc);
  ASSERT_TRUE(apply_plan(*plan, oci).ok());
  EXPECT_EQ(model_of(*doc).show(), model.m.show());
  EXPECT_FALSE(model.m.show().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Table, TwoSinksTest,
    ::testing::Values(
        TwoSinkCase{"empty", "{}"},
        TwoSinkCase{"runtime_defaults",
                    R"({"process":{"env":["PATH=/bin","A=0","A=00"],"user":{"uid":1000,"gid":1000,)"
                    R"("additionalGids":[44]}},"mounts":[{"destination":"/proc","type":"proc","source":"proc"},)"
                    R"({"destination":"/m","source":"rt"},{"destination":"/dev/shm","source":"shm"},)"
                    R"({"destination":"/m","source":"rt2"}],"linux":{"devices":[{"path":"/dev/null","type":"c",)"
                    R"("major":9,"minor":9},{"path":"/dev/keep","type":"c","major":2,"minor":2}],)"
                    R"("resources":{"devices":[{"allow":false,"access":"rwm"}]},)"
                    R"("netDevices":{"eth0":{"name":"old"}},"intelRdt":{"closID":"rt"}},)"
                    R"("hooks":{"prestart":[{"path":"/rt"}],"poststop":[]}})"},
        TwoSinkCase{"already_injected",
                    R"({"hooks":{"prestart":[{"path":"/h1","args":["h1","x"],"env":["E=1"],"timeout":5}]},)"
                    R"("linux":{"resources":{"devices":[{"allow":true,"type":"c","major":1,"minor":3,)"
                    R"("access":"rwm"}]}}})"}),
    [](const ::testing::TestParamInfo<TwoSinkCase>& i) { return i.param.name; });

TEST(ApplyPlan, CallsComeInTheDocumentedOrder) {
  FakeFs fs;
  add_host_nodes(fs);
  Spec s = every_kind();
  auto plan = plan_edits(merge_order({{&s, &s.devices[0]}, {&s, &s.devices[1]}}), fs, {});
  ASSERT_TRUE(plan.ok());
  ModelSink sink({});
  ASSERT_TRUE(apply_plan(*plan, sink).ok());
  std::vector<std::string> runs;  // the calls with repeats collapsed
  for (const auto& c : sink.calls) {
    if (runs.empty() || runs.back() != c) runs.push_back(c);
  }
  // Each b/c node is followed by its rule; the FIFO (third node of "a") has none.
  EXPECT_THAT(runs, ElementsAre("env", "node", "rule", "node", "rule", "node", "rule", "node", "rule", "net", "mount",
                                "order_mounts", "hook", "rdt", "gid"));
  EXPECT_EQ(std::count(sink.calls.begin(), sink.calls.end(), "node"), 5);
  EXPECT_EQ(std::count(sink.calls.begin(), sink.calls.end(), "order_mounts"), 1);
}

TEST(ApplyPlan, NoMountsNoOrdering) {
  FakeFs fs;
  Spec s = make_spec({device("d", {.env = {"A=1"}})});
  auto plan = plan_edits(merge_order({{&s, &s.devices[0]}}), fs, {});
  ASSERT_TRUE(plan.ok());
  ModelSink sink({});
  ASSERT_TRUE(apply_plan(*plan, sink).ok());
  EXPECT_THAT(sink.calls, ElementsAre("env"));
}

// A sink that cannot carry some kind of edit says so; the error names the
// device, the spec file and the field. An error about its own target passes
// unchanged.
class Refusing final : public EditSink {
 public:
  Status set_env(const PlannedEnv&) override { return {}; }
  Status add_device_node(const PlannedDeviceNode&) override { return {}; }
  Status add_cgroup_rule(const PlannedCgroupRule&) override { return {}; }
  Status add_net_device(const PlannedNetDevice&) override { return Error("this sink cannot carry net devices"); }
  Status add_mount(const PlannedMount&) override { return {}; }
  Status order_mounts() override { return {}; }
  Status add_hook(const PlannedHook&) override { return Error("bad target").with_context("target"); }
  Status set_intel_rdt(const PlannedIntelRdt&) override { return {}; }
  Status add_additional_gid(const PlannedGid&) override { return {}; }
};

TEST(ApplyPlan, ASinkRefusalNamesDeviceFileAndField) {
  FakeFs fs;
  Spec s = make_spec({device("x", {.env = {"A=1"}}), device("y", {.net_devices = {{"eth0", "a"}, {"eth1", "b"}}})});
  auto plan = plan_edits(merge_order({{&s, &s.devices[0]}, {&s, &s.devices[1]}}), fs, {});
  ASSERT_TRUE(plan.ok());
  Refusing sink;
  Status st = apply_plan(*plan, sink);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().to_string(),
            "device \"vendor.com/dev=y\": /etc/cdi/vendor.yaml: devices[1].containerEdits.netDevices[0]: "
            "this sink cannot carry net devices");

  Spec h = make_spec({device("h", {.hooks = {Hook{"prestart", "/h", {}, {}, {}}}})});
  auto hook_plan = plan_edits(merge_order({{&h, &h.devices[0]}}), fs, {});
  ASSERT_TRUE(hook_plan.ok());
  Status target = apply_plan(*hook_plan, sink);
  ASSERT_FALSE(target.ok());
  EXPECT_EQ(target.error().to_string(), "target: bad target");
}

}  // namespace
}  // namespace cdi
