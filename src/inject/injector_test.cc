#include "inject/injector.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"
#include "support/later.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

using ::testing::HasSubstr;

using std::chrono::milliseconds;
using testing::FakeFs;

OciDocument config(std::string_view json) {
  auto doc = OciDocument::parse(json);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().to_string());
  return doc.ok() ? std::move(*doc) : OciDocument();
}

// ---- requested devices ----------------------------------------------------------

TEST(RequestedDevices, FromAnnotationsInOrder) {
  auto doc = config(R"({"annotations":{"cdi.k8s.io/b":"v.com/c=1,v.com/c=0","other":"x","n":5,)"
                    R"("cdi.k8s.io/a":"w.com/d=x"}})");
  auto r = requested_devices(doc);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(*r, (std::vector<std::string>{"v.com/c=1", "v.com/c=0", "w.com/d=x"}));
}

TEST(RequestedDevices, NoneWithoutAnnotations) {
  for (const char* json : {"{}", R"({"annotations":null})", R"({"annotations":{}})", R"({"annotations":{"a":"b"}})"}) {
    auto r = requested_devices(config(json));
    ASSERT_TRUE(r.ok()) << json;
    EXPECT_TRUE(r->empty()) << json;
  }
}

struct BadAnnotationCase {
  const char* name;
  const char* json;
  const char* field;
  const char* message;
};

void PrintTo(const BadAnnotationCase& c, std::ostream* os) { *os << c.name; }

class RequestedDevicesErrorTest : public ::testing::TestWithParam<BadAnnotationCase> {};

TEST_P(RequestedDevicesErrorTest, Refused) {
  auto r = requested_devices(config(GetParam().json));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, GetParam().field) << r.error().to_string();
  EXPECT_THAT(r.error().message, HasSubstr(GetParam().message)) << r.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, RequestedDevicesErrorTest,
    ::testing::Values(BadAnnotationCase{"not_an_object", R"({"annotations":["cdi.k8s.io/a"]})", "annotations",
                                        "expected an object, got an array"},
                      BadAnnotationCase{"value_not_a_string", R"({"annotations":{"cdi.k8s.io/a":["v.com/c=0"]}})",
                                        "annotations.cdi.k8s.io/a", "expected a string value, got an array"},
                      BadAnnotationCase{"duplicate_key",
                                        R"({"annotations":{"cdi.k8s.io/a":"v.com/c=0","cdi.k8s.io/a":"v.com/c=1"}})",
                                        "annotations", "duplicate key \"cdi.k8s.io/a\""},
                      BadAnnotationCase{"bad_name", R"({"annotations":{"cdi.k8s.io/a":"v.com/c=0, v.com/c=1"}})",
                                        "annotations", "annotation \"cdi.k8s.io/a\""},
                      BadAnnotationCase{"empty_value", R"({"annotations":{"cdi.k8s.io/a":""}})", "annotations",
                                        "annotation \"cdi.k8s.io/a\""}),
    [](const ::testing::TestParamInfo<BadAnnotationCase>& i) { return i.param.name; });

TEST(KataPodSandbox, Detected) {
  EXPECT_TRUE(
      is_kata_pod_sandbox(config(R"({"annotations":{"io.katacontainers.pkg.oci.container_type":"pod_sandbox"}})")));
  EXPECT_FALSE(
      is_kata_pod_sandbox(config(R"({"annotations":{"io.katacontainers.pkg.oci.container_type":"pod_container"}})")));
  EXPECT_FALSE(is_kata_pod_sandbox(config(R"({"annotations":{"io.kubernetes.cri.container-type":"sandbox"}})")));
  EXPECT_FALSE(is_kata_pod_sandbox(config("{}")));
}

// ---- injection with FakeFs ------------------------------------------------------

const char* kSpec = R"(cdiVersion: 0.6.0
kind: vendor.com/gpu
containerEdits:
  env: [SPEC=1]
devices:
- name: a
  containerEdits:
    env: [DEV=a]
    hooks: [{hookName: createContainer, path: /bin/hook-a}]
    deviceNodes: [{path: /dev/a}]
- name: b
  containerEdits:
    env: [DEV=b]
- name: broken
  containerEdits:
    env: [DEV=broken]
    deviceNodes: [{path: /dev/not-on-this-host}]
)";

class InjectTest : public ::testing::Test {
 protected:
  InjectTest() {
    fs.add_dir("/etc/cdi");
    fs.add_file("/etc/cdi/vendor.yaml", kSpec);
    fs.add_char_device("/dev/a", 10, 1, 0666);
    options.registry.spec_dirs = {"/etc/cdi", "/var/run/cdi"};
  }
  FakeFs fs;
  MemoryLogger log;
  InjectOptions options;
  std::unique_ptr<Registry> registry;
  // A one-shot registry for one injection, as the hook makes.
  Registry& one_shot() {
    registry = std::make_unique<Registry>(fs, log, options.registry);
    return *registry;
  }
};

TEST_F(InjectTest, AppliesInRequestOrder) {
  OciDocument doc = config(R"({"process":{"env":["PATH=/bin"]}})");
  auto r = inject_devices(doc, {"vendor.com/gpu=b", "vendor.com/gpu=a"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->devices, (std::vector<std::string>{"vendor.com/gpu=b", "vendor.com/gpu=a"}));
  EXPECT_EQ(r->spec_files, (std::vector<std::string>{"/etc/cdi/vendor.yaml"}));
  EXPECT_TRUE(r->edits.empty()) << "explain is off";
  EXPECT_THAT(doc.serialize(false), HasSubstr(R"("env":["PATH=/bin","SPEC=1","DEV=a"])"));
}

TEST_F(InjectTest, RepeatedRequestsAreInjectedOnce) {
  OciDocument doc = config("{}");
  auto r =
      inject_devices(doc, {"vendor.com/gpu=a", "vendor.com/gpu=b", "vendor.com/gpu=a"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->devices, (std::vector<std::string>{"vendor.com/gpu=a", "vendor.com/gpu=b"}));
  const auto& j = doc.json();
  EXPECT_EQ(j["hooks"]["createContainer"].Size(), 1u);
  EXPECT_EQ(j["linux"]["resources"]["devices"].Size(), 1u);
  EXPECT_EQ(j["linux"]["devices"].Size(), 1u);
}

TEST_F(InjectTest, AllOrNothing) {
  std::string text = R"({"ociVersion":"1.0.2","process":{"env":["DEV=orig"]},"linux":{"devices":[]}})";
  OciDocument doc = config(text);
  std::string before = doc.serialize();
  auto r = inject_devices(doc, {"vendor.com/gpu=a", "vendor.com/gpu=broken"}, one_shot(), fs, log, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().device, "vendor.com/gpu=broken");
  EXPECT_THAT(r.error().to_string(), HasSubstr("/dev/not-on-this-host"));
  EXPECT_EQ(doc.serialize(), before);
}

TEST_F(InjectTest, ExplainListsEdits) {
  options.explain = true;
  OciDocument doc = config("{}");
  auto r = inject_devices(doc, {"vendor.com/gpu=b"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->edits.size(), 2u);
  EXPECT_EQ(r->edits[0].device, "");
  EXPECT_EQ(r->edits[1].device, "vendor.com/gpu=b");
}

TEST_F(InjectTest, UnresolvableWithoutWaitFailsAtOnceNamingTheDevice) {
  OciDocument doc = config("{}");
  std::string before = doc.serialize();
  auto start = std::chrono::steady_clock::now();
  auto r = inject_devices(doc, {"vendor.com/gpu=a", "vendor.com/gpu=nope"}, one_shot(), fs, log, options);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().device, "vendor.com/gpu=nope");
  EXPECT_THAT(r.error().to_string(), HasSubstr("unresolvable CDI device \"vendor.com/gpu=nope\""));
  EXPECT_THAT(r.error().to_string(), HasSubstr("it has a, b, broken"));
  EXPECT_LT(took, 0.5);
  EXPECT_EQ(doc.serialize(), before);
}

TEST_F(InjectTest, EveryUnresolvableDeviceIsReported) {
  OciDocument doc = config("{}");
  auto r = inject_devices(doc, {"vendor.com/gpu=x", "other.com/k=y"}, one_shot(), fs, log, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().device, "vendor.com/gpu=x");
  EXPECT_THAT(r.error().to_string(), HasSubstr("; unresolvable CDI device \"other.com/k=y\""))
      << "one error, every device";
  EXPECT_FALSE(log.contains(LogLevel::error, "other.com/k=y")) << "not also a line of its own";
}

TEST_F(InjectTest, InvalidNameRefused) {
  OciDocument doc = config("{}");
  auto r = inject_devices(doc, {"vendor.com/gpu=a", "gpu0"}, one_shot(), fs, log, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().to_string(), HasSubstr("gpu0"));
}

TEST_F(InjectTest, KindsNotRequestedAreNotParsed) {
  fs.add_file("/etc/cdi/other.yaml",
              "cdiVersion: 0.6.0\nkind: other.com/x\ndevices: [{name: bad_, containerEdits: {}}]\n");
  OciDocument doc = config("{}");
  auto r = inject_devices(doc, {"vendor.com/gpu=b"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_FALSE(log.contains(LogLevel::warn, "other.yaml")) << "a broken spec of another kind is not reported";
}

// ---- the wait window (real files, real inotify) ------------------------------------

using TempDir = testing::TempDir;

using Later = testing::Later;

const std::string kLateSpec =
    "cdiVersion: 0.6.0\nkind: late.com/dev\ndevices:\n- name: x\n  containerEdits:\n    env: [LATE=1]\n";

class WaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp.path().empty());
    etc = tmp.path() + "/etc/cdi";
    run = tmp.path() + "/run/cdi";
    std::filesystem::create_directories(etc);
    options.registry.spec_dirs = {etc, run};
    options.wait = milliseconds(5000);
  }
  double seconds_since(std::chrono::steady_clock::time_point start) const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  TempDir tmp;
  std::string etc, run;
  RealFs fs;
  MemoryLogger log;
  InjectOptions options;
  std::unique_ptr<Registry> registry;
  // A one-shot registry for one injection, as the hook makes.
  Registry& one_shot() {
    registry = std::make_unique<Registry>(fs, log, options.registry);
    return *registry;
  }
};

TEST_F(WaitTest, SpecWrittenLaterResolvesWithinTheWindow) {
  OciDocument doc = config("{}");
  auto start = std::chrono::steady_clock::now();
  Later writer(milliseconds(200), [&] { std::ofstream(etc + "/late.yaml") << kLateSpec; });
  auto r = inject_devices(doc, {"late.com/dev=x"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GE(seconds_since(start), 0.19);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_EQ(doc.serialize(false), R"({"process":{"env":["LATE=1"]}})"
                                  "\n");
  // The start of the wait is a notice (a warning to a plain logger): devices, dirs, window.
  EXPECT_TRUE(
      log.contains(LogLevel::warn, "waiting up to 5 s for the spec of \"late.com/dev=x\" to appear in \"" + etc + "\""))
      << "the wait is announced";
}

TEST_F(WaitTest, WithoutInotifyTheWaitRescansOnATimer) {
  // inotify_init1 fails as it does when the user's instances are used up.
  options.cache.watch_factory = [](const std::vector<std::string>&, Logger&) -> Result<std::unique_ptr<SpecWatch>> {
    return system_error("inotify_init1", EMFILE);
  };
  options.cache.rescan_interval = milliseconds(50);
  OciDocument doc = config("{}");
  auto start = std::chrono::steady_clock::now();
  Later writer(milliseconds(200), [&] { std::ofstream(etc + "/late.yaml") << kLateSpec; });
  auto r = inject_devices(doc, {"late.com/dev=x"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_TRUE(log.contains(LogLevel::info, "inotify_init1: Too many open files"));
}

TEST_F(WaitTest, SpecDirCreatedLaterResolves) {
  OciDocument doc = config("{}");
  auto start = std::chrono::steady_clock::now();
  Later writer(milliseconds(200), [&] {
    std::filesystem::create_directories(run);
    std::this_thread::sleep_for(milliseconds(50));
    std::ofstream(run + "/late.json")
        << R"({"cdiVersion":"0.6.0","kind":"late.com/dev","devices":[{"name":"x","containerEdits":{"env":["J=1"]}}]})";
  });
  auto r = inject_devices(doc, {"late.com/dev=x"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_LT(seconds_since(start), 3.0);
}

TEST_F(WaitTest, HalfWrittenSpecCompletedLaterResolves) {
  // The first scan sees invalid YAML; the completed file resolves.
  size_t cut = kLateSpec.find("env:");
  {
    std::ofstream out(etc + "/late.yaml");
    out << kLateSpec.substr(0, cut) << "    env: [LATE";
  }
  OciDocument doc = config("{}");
  auto start = std::chrono::steady_clock::now();
  Later writer(milliseconds(300), [&] {
    std::ofstream out(etc + "/late.yaml", std::ios::app);
    out << "=1]\n";
  });
  auto r = inject_devices(doc, {"late.com/dev=x"}, one_shot(), fs, log, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_GE(seconds_since(start), 0.29);
  EXPECT_LT(seconds_since(start), 3.0);
  EXPECT_EQ(doc.serialize(false), R"({"process":{"env":["LATE=1"]}})"
                                  "\n");
}

TEST_F(WaitTest, WindowEndsWithTheLastError) {
  options.wait = milliseconds(300);
  OciDocument doc = config("{}");
  auto start = std::chrono::steady_clock::now();
  auto r = inject_devices(doc, {"late.com/dev=x"}, one_shot(), fs, log, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().device, "late.com/dev=x");
  EXPECT_THAT(r.error().to_string(), HasSubstr("no spec of kind \"late.com/dev\""));
  EXPECT_GE(seconds_since(start), 0.29);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(WaitTest, ZeroWaitFailsAtOnce) {
  options.wait = milliseconds(0);
  OciDocument doc = config("{}");
  auto start = std::chrono::steady_clock::now();
  Later writer(milliseconds(100), [&] { std::ofstream(etc + "/late.yaml") << kLateSpec; });
  auto r = inject_devices(doc, {"late.com/dev=x"}, one_shot(), fs, log, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().device, "late.com/dev=x");
  EXPECT_LT(seconds_since(start), 0.1);
}

std::string compact(const OciDocument& doc) {
  std::string out = doc.serialize(false);
  out.pop_back();  // the newline
  return out;
}

// ---- injection and guest translation together (adjust_config) -----------------------------------

constexpr const char* kGuestSpec = R"(cdiVersion: 0.5.0
kind: vendor.com/dev
devices:
- name: fake
  containerEdits:
    deviceNodes:
    - path: /dev/fake0
      type: c
      major: 10
      minor: 200
)";

class AdjustConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs.add_file("/etc/cdi/vendor.yaml", kGuestSpec);
    options.registry.spec_dirs = {"/etc/cdi"};
    options.registry.cache_dir = "";
  }
  void use_map(std::string_view json) {
    auto map = parse_guest_map(json, "map.json");
    ASSERT_TRUE(map.ok()) << map.error().to_string();
    options.guest_map = std::make_shared<const GuestMap>(std::move(*map));
  }
  FakeFs fs;
  NullLogger logger;
  InjectOptions options;
  std::unique_ptr<Registry> registry;
  // A one-shot registry for one injection, as the hook makes.
  Registry& one_shot() {
    registry = std::make_unique<Registry>(fs, logger, options.registry);
    return *registry;
  }
};

TEST_F(AdjustConfigTest, InjectsThenTranslates) {
  fs.add_char_device("/dev/guest0", 240, 7);
  use_map(R"({"devices":[{"containerPath":"/dev/fake0","guestPath":"/dev/guest0"}]})");
  auto doc = OciDocument::parse(R"({"process":{"env":[]}})");
  ASSERT_TRUE(doc.ok());
  auto r = adjust_config(*doc, {"vendor.com/dev=fake"}, one_shot(), fs, logger, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->devices, std::vector<std::string>{"vendor.com/dev=fake"});
  ASSERT_TRUE(r->guest.has_value());
  EXPECT_EQ(r->guest->devices, 1u);
  std::string out = compact(*doc);
  EXPECT_THAT(out, HasSubstr(R"({"path":"/dev/fake0","type":"c","major":240,"minor":7)"));
  EXPECT_THAT(out, HasSubstr(R"({"allow":true,"type":"c","major":240,"minor":7,"access":"rwm"})"));
}

TEST_F(AdjustConfigTest, FailedTranslationUndoesTheInjection) {
  use_map(R"({"devices":[{"containerPath":"/dev/other","guestType":"c","guestMajor":1,"guestMinor":1}]})");
  auto doc = OciDocument::parse(R"({"process":{"env":[]}})");
  ASSERT_TRUE(doc.ok());
  auto r = adjust_config(*doc, {"vendor.com/dev=fake"}, one_shot(), fs, logger, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().to_string(), HasSubstr("container path \"/dev/other\""));
  EXPECT_EQ(compact(*doc), R"({"process":{"env":[]}})");
}

TEST_F(AdjustConfigTest, TranslatesWithoutDevices) {
  use_map(R"({"pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"}]})");
  auto doc = OciDocument::parse(R"({"process":{"env":["PCIDEVICE_X=0000:1a:01.0"]}})");
  ASSERT_TRUE(doc.ok());
  auto r = adjust_config(*doc, {}, one_shot(), fs, logger, options);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->devices.empty());
  EXPECT_EQ(compact(*doc), R"({"process":{"env":["PCIDEVICE_X=0000:01:01.0"]}})");
}

TEST_F(AdjustConfigTest, ABadMapFailsBeforeInjection) {
  use_map(R"({"devices":[{"containerPath":"/dev/fake0","guestPath":"/dev/missing"}]})");
  auto doc = OciDocument::parse("{}");
  ASSERT_TRUE(doc.ok());
  // The device does not exist either: the map's error comes first.
  auto r = adjust_config(*doc, {"vendor.com/dev=nonexistent"}, one_shot(), fs, logger, options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.error().to_string(), HasSubstr("guest node \"/dev/missing\""));
}

TEST_F(AdjustConfigTest, NoMapNoDevicesIsANoOp) {
  auto doc = OciDocument::parse(R"({"a":1})");
  ASSERT_TRUE(doc.ok());
  auto r = adjust_config(*doc, {}, one_shot(), fs, logger, options);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->guest.has_value());
  EXPECT_EQ(compact(*doc), R"({"a":1})");
}

}  // namespace
}  // namespace cdi
