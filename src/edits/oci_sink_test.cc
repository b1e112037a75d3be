#include "edits/oci_sink.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace cdi {
namespace {

using ::testing::ElementsAre;
using testing::FakeFs;

OciDocument parse(std::string_view json) {
  auto doc = OciDocument::parse(json);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().to_string());
  return doc.ok() ? std::move(*doc) : OciDocument();
}

// ---- the view ---------------------------------------------------------------------

TEST(OciContainerView, ReadsWhatThePlanNeeds) {
  auto view = oci_container_view(parse(
      R"({"process":{"user":{"uid":1000,"gid":0,"additionalGids":[5,"x",6]}},)"
      R"("linux":{"devices":[{"path":"/dev/a","type":"c","major":1,"minor":2,"fileMode":438,"uid":3},"junk"],)"
      R"("resources":{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":2}]}},)"
      R"("mounts":[{"destination":"/m","source":"/s","options":["ro"]},{"destination":"/t","type":"tmpfs"}],)"
      R"("hooks":{"prestart":[{"path":"/h","args":["h"],"timeout":3},{"args":[]}],"poststop":{}}})"));
  EXPECT_EQ(view.uid, 1000u);
  EXPECT_EQ(view.gid, 0u);
  EXPECT_THAT(view.additional_gids, ElementsAre(5u, 6u));
  ASSERT_EQ(view.device_nodes.size(), 1u);
  EXPECT_EQ(view.device_nodes[0].path, "/dev/a");
  EXPECT_EQ(view.device_nodes[0].minor, 2);
  EXPECT_EQ(view.device_nodes[0].file_mode, 0666u);
  EXPECT_EQ(view.device_nodes[0].uid, 3u);
  EXPECT_FALSE(view.device_nodes[0].gid.has_value());
  EXPECT_THAT(view.cgroup_rules, ElementsAre(DeviceCgroupRule{false, "", std::nullopt, std::nullopt, "rwm"},
                                             DeviceCgroupRule{true, "c", 1, 2, ""}));
  ASSERT_EQ(view.mounts.size(), 2u);
  EXPECT_EQ(view.mounts[0].host_path, "/s");
  EXPECT_THAT(view.mounts[0].options, ElementsAre("ro"));
  EXPECT_EQ(view.mounts[1].type, "tmpfs");
  ASSERT_EQ(view.hooks["prestart"].size(), 1u);  // a hook without a path is none
  EXPECT_EQ(view.hooks["prestart"][0].timeout, 3);
  EXPECT_EQ(view.hooks.count("poststop"), 0u);
}

TEST(OciContainerView, ToleratesAnyShape) {
  for (const char* json :
       {"{}", R"({"process":"x","linux":[],"mounts":{},"hooks":[]})",
        R"({"process":{"user":{"uid":-1,"additionalGids":{}}},"linux":{"resources":{"devices":5}}})"}) {
    auto view = oci_container_view(parse(json));
    EXPECT_FALSE(view.uid.has_value()) << json;
    EXPECT_TRUE(view.cgroup_rules.empty()) << json;
    EXPECT_TRUE(view.mounts.empty()) << json;
    EXPECT_TRUE(view.hooks.empty()) << json;
  }
}

// ---- injecting twice gives what injecting once gave -----------------------------------

Spec every_kind() {
  Spec s;
  s.version = "1.1.0";
  s.kind = "vendor.com/dev";
  s.path = "/etc/cdi/vendor.yaml";
  DeviceNode null_node{.path = "/dev/null"};
  DeviceNode fifo{.path = "/dev/fifo"};
  DeviceNode absent{.path = "/dev/absent", .type = "c", .major = 10, .minor = 200, .permissions = "rw"};
  s.devices = {
      Device{"a",
             {},
             {.env = {"A=1", "PATH=/cdi"},
              .device_nodes = {null_node, fifo, absent},
              .hooks = {Hook{"prestart", "/h1", {"h1"}, {"E=1"}, 5}, Hook{"createRuntime", "/h2", {}, {}, {}}},
              .mounts = {Mount{"/lib", "/usr/lib/x", {"ro", "bind"}, ""}, Mount{"/t", "/m", {}, "tmpfs"}},
              .intel_rdt = IntelRdt{.clos_id = "a"},
              .additional_gids = {0, 44},
              .net_devices = {{"eth0", "net0"}}}},
      Device{"b",
             {},
             {.env = {"B=1"},
              .device_nodes = {null_node},
              .hooks = {Hook{"prestart", "/h1", {"h1"}, {"E=1"}, 5}},
              .mounts = {Mount{"/other", "/m", {}, ""}, Mount{"/d", "/a/b/c", {}, ""}},
              .additional_gids = {45}}},
  };
  s.edits.env = {"SPEC=1"};
  s.edits.hooks = {Hook{"poststop", "/spec-hook", {}, {}, {}}};
  s.edits.mounts = {Mount{"/s", "/s", {}, ""}};
  return s;
}

std::string inject(const std::string& config, const Spec& spec, const std::vector<size_t>& devices, Fs& fs) {
  auto doc = parse(config);
  std::vector<std::pair<const Spec*, const Device*>> pairs;
  for (size_t d : devices) pairs.emplace_back(&spec, &spec.devices[d]);
  auto plan = plan_edits(merge_order(pairs), fs, oci_container_view(doc));
  if (!plan.ok()) return "error: " + plan.error().to_string();
  OciSink sink(doc);
  if (auto st = apply_plan(*plan, sink); !st.ok()) return "error: " + st.error().to_string();
  return doc.serialize(false);
}

struct TwiceCase {
  const char* name;
  const char* config;
  std::vector<size_t> devices;
};

void PrintTo(const TwiceCase& c, std::ostream* os) { *os << c.name; }

class InjectTwiceTest : public ::testing::TestWithParam<TwiceCase> {};

TEST_P(InjectTwiceTest, ChangesNothingTheSecondTime) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  fs.add_fifo("/dev/fifo", 0600);
  Spec spec = every_kind();
  std::string once = inject(GetParam().config, spec, GetParam().devices, fs);
  ASSERT_FALSE(once.starts_with("error")) << once;
  EXPECT_NE(once, parse(GetParam().config).serialize(false));
  EXPECT_EQ(inject(once, spec, GetParam().devices, fs), once);
}

constexpr const char* kRuntimeConfig =
    R"({"process":{"env":["PATH=/bin","TERM=xterm"],"user":{"uid":1000,"gid":1000}},)"
    R"("mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs",)"
    R"("source":"tmpfs"},{"destination":"/m","source":"rt"},{"destination":"/dev/shm","source":"shm"},)"
    R"({"destination":"/m","source":"rt2"}],"linux":{"devices":[{"path":"/dev/null","type":"c","major":9,)"
    R"("minor":9}],"resources":{"devices":[{"allow":false,"access":"rwm"}]}},)"
    R"("hooks":{"prestart":[{"path":"/runtime"}]}})";

INSTANTIATE_TEST_SUITE_P(Table, InjectTwiceTest,
                         ::testing::Values(TwiceCase{"empty_config", "{}", {0, 1}},
                                           TwiceCase{"runtime_config", kRuntimeConfig, {0, 1}},
                                           TwiceCase{"one_device", kRuntimeConfig, {1}},
                                           TwiceCase{"reverse_order", kRuntimeConfig, {1, 0}}),
                         [](const ::testing::TestParamInfo<TwiceCase>& i) { return i.param.name; });

TEST(InjectTwice, ARuleRevokedLaterIsGrantedAgain) {
  FakeFs fs;
  fs.add_char_device("/dev/null", 1, 3, 0666);
  Spec spec = every_kind();
  std::string once = inject("{}", spec, {1}, fs);
  // Someone denies everything after the injection: injecting again must grant the node again.
  auto doc = parse(once);
  auto& rules = doc.json()["linux"]["resources"]["devices"];
  JsonValue deny(rapidjson::kObjectType);
  deny.AddMember("allow", false, doc.allocator());
  deny.AddMember("access", "rwm", doc.allocator());
  rules.PushBack(deny, doc.allocator());
  std::string again = inject(doc.serialize(false), spec, {1}, fs);
  EXPECT_THAT(again,
              ::testing::HasSubstr(
                  R"({"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}])"));
}

}  // namespace
}  // namespace cdi
