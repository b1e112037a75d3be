#include "guest/guest_translate.h"

#include <memory>
#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi {
namespace {

using ::testing::HasSubstr;

using testing::FakeFs;

std::string compact(const OciDocument& doc) {
  std::string out = doc.serialize(false);
  out.pop_back();  // the newline
  return out;
}

// Translates `config` with `map`; the compact result or "error: <to_string>".
// On error the config must be unchanged.
std::string translate(std::string_view config, std::string_view map_json, Fs& fs,
                      GuestTranslateReport* report_out = nullptr, bool explain = false) {
  auto map = parse_guest_map(map_json, "map.json");
  if (!map.ok()) return "bad test map: " + map.error().to_string();
  auto doc = OciDocument::parse(config);
  if (!doc.ok()) return "bad test config: " + doc.error().to_string();
  std::string before = compact(*doc);
  NullLogger logger;
  GuestTranslateOptions options;
  options.explain = explain;
  auto report = translate_to_guest(*doc, *map, fs, logger, options);
  if (!report.ok()) {
    if (compact(*doc) != before) return "config changed on error: " + compact(*doc);
    return "error: " + report.error().to_string();
  }
  if (report_out) *report_out = *report;
  return compact(*doc);
}

// A config with one device and its cgroup rule.
std::string one_device(const std::string& path, const std::string& type, int major, int minor) {
  std::string numbers = "\"major\":" + std::to_string(major) + ",\"minor\":" + std::to_string(minor);
  return R"({"linux":{"devices":[{"path":")" + path + R"(","type":")" + type + "\"," + numbers +
         R"(}],"resources":{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":")" + type + "\"," +
         numbers + R"(,"access":"rwm"}]}}})";
}

// ---- devices and cgroup rules ------------------------------------------------------

TEST(GuestTranslate, ContainerPathGetsTheGuestNodesNumbers) {
  FakeFs fs;
  fs.add_char_device("/dev/vfio/3", 511, 3);
  GuestTranslateReport report;
  EXPECT_EQ(translate(one_device("/dev/vfio/12", "c", 241, 12),
                      R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/3"}]})", fs, &report),
            one_device("/dev/vfio/12", "c", 511, 3));
  EXPECT_EQ(report.devices, 1u);
  EXPECT_EQ(report.cgroup_rules, 1u);
  EXPECT_EQ(report.env, 0u);
}

TEST(GuestTranslate, GivenNumbersAndFinalPath) {
  FakeFs fs;
  EXPECT_EQ(translate(one_device("/dev/accel0", "c", 261, 0),
                      R"({"devices":[{"containerPath":"/dev/accel0","guestType":"c","guestMajor":236,"guestMinor":0,
                          "finalPath":"/dev/accel/accel0"}]})",
                      fs),
            one_device("/dev/accel/accel0", "c", 236, 0));
}

TEST(GuestTranslate, HostNumbersSelectEveryDeviceWithThem) {
  FakeFs fs;
  fs.add_char_device("/dev/nvidia0", 236, 4);
  std::string config =
      R"({"linux":{"devices":[{"path":"/dev/nvidia0","type":"c","major":195,"minor":0},)"
      R"({"path":"/dev/gpu0","type":"u","major":195,"minor":0},{"path":"/dev/nvidiactl","type":"c","major":195,"minor":255}],)"
      R"("resources":{"devices":[{"allow":true,"type":"c","major":195,"minor":0,"access":"rw"}]}}})";
  EXPECT_EQ(
      translate(config, R"({"devices":[{"hostType":"c","hostMajor":195,"hostMinor":0,"guestPath":"/dev/nvidia0"}]})",
                fs),
      R"({"linux":{"devices":[{"path":"/dev/nvidia0","type":"c","major":236,"minor":4},)"
      R"({"path":"/dev/gpu0","type":"u","major":236,"minor":4},{"path":"/dev/nvidiactl","type":"c","major":195,"minor":255}],)"
      R"("resources":{"devices":[{"allow":true,"type":"c","major":236,"minor":4,"access":"rw"}]}}})");
}

TEST(GuestTranslate, CharAndBlockWithEqualNumbersStayApart) {
  FakeFs fs;
  std::string config =
      R"({"linux":{"devices":[{"path":"/dev/c","type":"c","major":10,"minor":1},{"path":"/dev/b","type":"b","major":10,"minor":1}],)"
      R"("resources":{"devices":[{"allow":true,"type":"b","major":10,"minor":1},{"allow":true,"type":"c","major":10,"minor":1}]}}})";
  EXPECT_EQ(
      translate(
          config,
          R"({"devices":[{"hostType":"c","hostMajor":10,"hostMinor":1,"guestType":"c","guestMajor":20,"guestMinor":2}]})",
          fs),
      R"({"linux":{"devices":[{"path":"/dev/c","type":"c","major":20,"minor":2},{"path":"/dev/b","type":"b","major":10,"minor":1}],)"
      R"("resources":{"devices":[{"allow":true,"type":"b","major":10,"minor":1},{"allow":true,"type":"c","major":20,"minor":2}]}}})");
}

TEST(GuestTranslate, RulesTranslateOnceByTheirOriginalNumbers) {
  // a -> b and b -> c: the rule for a ends at b, not c.
  FakeFs fs;
  std::string config =
      R"({"linux":{"devices":[{"path":"/dev/a","type":"c","major":1,"minor":1},{"path":"/dev/b","type":"c","major":2,"minor":2}],)"
      R"("resources":{"devices":[{"allow":true,"type":"c","major":1,"minor":1},{"allow":true,"type":"c","major":2,"minor":2}]}}})";
  EXPECT_EQ(
      translate(config, R"({"devices":[
        {"containerPath":"/dev/a","guestType":"c","guestMajor":2,"guestMinor":2},
        {"containerPath":"/dev/b","guestType":"c","guestMajor":3,"guestMinor":3}]})",
                fs),
      R"({"linux":{"devices":[{"path":"/dev/a","type":"c","major":2,"minor":2},{"path":"/dev/b","type":"c","major":3,"minor":3}],)"
      R"("resources":{"devices":[{"allow":true,"type":"c","major":2,"minor":2},{"allow":true,"type":"c","major":3,"minor":3}]}}})");
}

TEST(GuestTranslate, WildcardRulesStay) {
  FakeFs fs;
  std::string rules =
      R"([{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":241,"access":"rw"},)"
      R"({"allow":true,"type":"a","major":241,"minor":12},{"allow":true,"type":"c","major":241,"minor":null},)"
      R"({"allow":true,"type":"c","major":241,"minor":12,"access":"r"}])";
  std::string config =
      R"({"linux":{"devices":[{"path":"/dev/vfio/12","type":"c","major":241,"minor":12}],"resources":{"devices":)" +
      rules + "}}}";
  std::string out = translate(
      config, R"({"devices":[{"containerPath":"/dev/vfio/12","guestType":"c","guestMajor":511,"guestMinor":3}]})", fs);
  std::string expected_rules =
      R"([{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":241,"access":"rw"},)"
      R"({"allow":true,"type":"a","major":241,"minor":12},{"allow":true,"type":"c","major":241,"minor":null},)"
      R"({"allow":true,"type":"c","major":511,"minor":3,"access":"r"}])";
  EXPECT_THAT(out, HasSubstr(expected_rules));
}

TEST(GuestTranslate, BlockGuestNodeChangesTheType) {
  FakeFs fs;
  fs.add_block_device("/dev/vdb", 254, 16);
  EXPECT_EQ(translate(one_device("/dev/disk", "c", 7, 1),
                      R"({"devices":[{"containerPath":"/dev/disk","guestPath":"/dev/vdb"}]})", fs),
            one_device("/dev/disk", "b", 254, 16));
}

TEST(GuestTranslate, DisksByVirtioAndScsiIndex) {
  FakeFs fs;
  fs.add_block_device("/dev/vdb", 254, 16);
  fs.add_dir("/sys/bus/scsi/devices/0:0:1:1/block/sdc");
  fs.add_block_device("/dev/sdc", 8, 32);
  std::string config =
      R"({"linux":{"devices":[{"path":"/dev/x","type":"b","major":8,"minor":0},{"path":"/dev/y","type":"b","major":8,"minor":16}]}})";
  EXPECT_EQ(
      translate(config, R"({"devices":[{"containerPath":"/dev/x","guestVirtioBlkIndex":1},
                                             {"containerPath":"/dev/y","guestScsiIndex":257}]})",
                fs),
      R"({"linux":{"devices":[{"path":"/dev/x","type":"b","major":254,"minor":16},{"path":"/dev/y","type":"b","major":8,"minor":32}]}})");
  std::string r = translate(config, R"({"devices":[{"containerPath":"/dev/x","guestScsiIndex":3}]})", fs);
  EXPECT_THAT(r, HasSubstr("devices[0].guestScsiIndex: no SCSI disk at 0:0:0:3"));
}

struct ErrorCase {
  const char* name;
  std::string config;
  const char* map;
  const char* expected_part;
};
void PrintTo(const ErrorCase& c, std::ostream* os) { *os << c.name; }

class GuestTranslateErrorTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(GuestTranslateErrorTest, FailsWithOneLineAndLeavesTheConfig) {
  FakeFs fs;
  fs.add_char_device("/dev/vfio/3", 511, 3);
  fs.add_file("/dev/regular", "x");
  fs.add_fifo("/dev/fifo");
  const ErrorCase& c = GetParam();
  std::string r = translate(c.config, c.map, fs);
  EXPECT_TRUE(r.starts_with("error: ")) << r;
  EXPECT_THAT(r, HasSubstr(c.expected_part));
  EXPECT_EQ(r.find('\n'), std::string::npos) << r;
}

const std::string kVfio = one_device("/dev/vfio/12", "c", 241, 12);
const std::string kTwoSameNumbers =
    R"({"linux":{"devices":[{"path":"/dev/a","type":"c","major":195,"minor":0},{"path":"/dev/b","type":"c","major":195,"minor":0}]}})";

INSTANTIATE_TEST_SUITE_P(
    Table, GuestTranslateErrorTest,
    ::testing::Values(
        ErrorCase{"unknown_container_path", kVfio,
                  R"({"devices":[{"containerPath":"/dev/vfio/13","guestPath":"/dev/vfio/3"}]})",
                  "guest map: map.json:1:30: devices[0].containerPath: container path \"/dev/vfio/13\" is not in the "
                  "OCI config's linux.devices"},
        ErrorCase{"no_linux_section", "{}",
                  R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/3"}]})",
                  "container path \"/dev/vfio/12\" is not in"},
        ErrorCase{"unknown_host_numbers", kVfio,
                  R"({"devices":[{"hostType":"b","hostMajor":241,"hostMinor":12,"guestPath":"/dev/vfio/3"}]})",
                  "devices[0].hostType: no device in the OCI config's linux.devices has the host numbers b 241:12"},
        ErrorCase{"guest_path_missing", kVfio,
                  R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/4"}]})",
                  "devices[0].guestPath: guest node \"/dev/vfio/4\" cannot be used: stat \"/dev/vfio/4\""},
        ErrorCase{"guest_path_regular_file", kVfio,
                  R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/regular"}]})",
                  "guest node \"/dev/regular\" is not a device node (it is a regular file)"},
        ErrorCase{"guest_path_fifo", kVfio, R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/fifo"}]})",
                  "(it is a FIFO)"},
        ErrorCase{"two_updates_for_one_path", kVfio,
                  R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/3"},
                                 {"hostType":"c","hostMajor":241,"hostMinor":12,"guestPath":"/dev/vfio/3"}]})",
                  "devices[1]: conflicting device updates for \"/dev/vfio/12\" (devices[0] and devices[1])"},
        ErrorCase{"same_path_twice", kVfio,
                  R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/3"},
                                 {"containerPath":"/dev/vfio/../vfio/12","guestPath":"/dev/vfio/3"}]})",
                  "conflicting device updates for \"/dev/vfio/12\""},
        ErrorCase{"conflicting_rule_updates", kTwoSameNumbers,
                  R"({"devices":[{"containerPath":"/dev/a","guestType":"c","guestMajor":1,"guestMinor":1},
                                 {"containerPath":"/dev/b","guestType":"c","guestMajor":1,"guestMinor":2}]})",
                  "conflicting resource updates for host c 195:0 (guest c 1:1 from devices[0] versus c 1:2 from "
                  "devices[1])"},
        ErrorCase{"final_path_taken", kTwoSameNumbers,
                  R"({"devices":[{"containerPath":"/dev/a","guestPath":"/dev/vfio/3","finalPath":"/dev/b"}]})",
                  "devices[0].finalPath: final path \"/dev/b\" is already taken by linux.devices[1]"},
        ErrorCase{"fifo_in_config", R"({"linux":{"devices":[{"path":"/dev/p","type":"p"}]}})",
                  R"({"devices":[{"containerPath":"/dev/p","guestPath":"/dev/vfio/3"}]})",
                  "linux.devices[0] (\"/dev/p\") has type \"p\": only b, c and u devices are translated"},
        ErrorCase{"no_numbers_in_config", R"({"linux":{"devices":[{"path":"/dev/x","type":"c"}]}})",
                  R"({"devices":[{"containerPath":"/dev/x","guestPath":"/dev/vfio/3"}]})",
                  "has no major and minor numbers"},
        ErrorCase{"devices_not_array", R"({"linux":{"devices":{}}})",
                  R"({"devices":[{"containerPath":"/dev/x","guestPath":"/dev/vfio/3"}]})",
                  "OCI config: linux.devices: expected an array, got an object"},
        ErrorCase{"device_not_object", R"({"linux":{"devices":["x"]}})",
                  R"({"devices":[{"containerPath":"/dev/x","guestPath":"/dev/vfio/3"}]})",
                  "OCI config: linux.devices[0]: expected an object, got a string"},
        ErrorCase{
            "rule_not_object",
            R"({"linux":{"devices":[{"path":"/dev/x","type":"c","major":1,"minor":1}],"resources":{"devices":[7]}}})",
            R"({"devices":[{"containerPath":"/dev/x","guestPath":"/dev/vfio/3"}]})",
            "OCI config: linux.resources.devices[0]: expected an object, got a number"}),
    [](const ::testing::TestParamInfo<ErrorCase>& i) { return i.param.name; });

TEST(GuestTranslate, SameGuestNumbersForOneHostDeviceAreNoConflict) {
  FakeFs fs;
  EXPECT_EQ(
      translate(kTwoSameNumbers,
                R"({"devices":[{"containerPath":"/dev/a","guestType":"c","guestMajor":1,"guestMinor":1},
                                 {"containerPath":"/dev/b","guestType":"c","guestMajor":1,"guestMinor":1}]})",
                fs),
      R"({"linux":{"devices":[{"path":"/dev/a","type":"c","major":1,"minor":1},{"path":"/dev/b","type":"c","major":1,"minor":1}]}})");
}

// ---- PCI env ------------------------------------------------------------------------

std::string with_env(std::initializer_list<const char*> env) {
  std::string out = R"({"process":{"env":[)";
  bool first = true;
  for (const char* e : env) {
    out += (first ? "\"" : ",\"") + std::string(e) + "\"";
    first = false;
  }
  return out + "]}}";
}

// A guest sysfs with a bridge in slot 2 of the root bus and a device in slot 3 below it.
void add_guest_bridge(FakeFs& fs) {
  fs.add_dir("/sys/devices/pci0000:00/0000:00:02.0/pci_bus/0000:01");
  fs.add_dir("/sys/devices/pci0000:00/0000:00:02.0/0000:01:03.0");
}

constexpr const char* kPciMap = R"({"pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"},
                                           {"host":"0000:1B:02.0","guestPciPath":"02/03"}]})";

TEST(GuestTranslate, PciDeviceEnvAndItsInfo) {
  FakeFs fs;
  add_guest_bridge(fs);
  GuestTranslateReport report;
  EXPECT_EQ(
      translate(
          with_env(
              {"PATH=/bin", "PCIDEVICE_INTEL_COM_SRIOV=0000:1a:01.0,0000:1b:02.0",
               R"(PCIDEVICE_INTEL_COM_SRIOV_INFO={\"0000:1a:01.0\":{\"generic\":{\"deviceID\":\"0000:1a:01.0\"}},\"0000:1B:02.0\":{}})",
               "OTHER=0000:1a:01.0"}),
          kPciMap, fs, &report),
      with_env(
          {"PATH=/bin", "PCIDEVICE_INTEL_COM_SRIOV=0000:01:01.0,0000:01:03.0",
           R"(PCIDEVICE_INTEL_COM_SRIOV_INFO={\"0000:01:01.0\":{\"generic\":{\"deviceID\":\"0000:01:01.0\"}},\"0000:01:03.0\":{}})",
           "OTHER=0000:1a:01.0"}));
  EXPECT_EQ(report.env, 2u);
}

TEST(GuestTranslate, InfoAddressesAreReplacedOnce) {
  // A -> B and B -> C: an _INFO naming A and B must end with B and C (Kata's pair-by-pair replace gives C and C).
  FakeFs fs;
  EXPECT_EQ(
      translate(
          with_env(
              {"PCIDEVICE_X=0000:00:0a.0,0000:00:0b.0", R"(PCIDEVICE_X_INFO={\"0000:00:0a.0\":1,\"0000:00:0b.0\":2})"}),
          R"({"pci":[{"host":"0000:00:0a.0","guest":"0000:00:0b.0"},{"host":"0000:00:0b.0","guest":"0000:00:0c.0"}]})",
          fs),
      with_env(
          {"PCIDEVICE_X=0000:00:0b.0,0000:00:0c.0", R"(PCIDEVICE_X_INFO={\"0000:00:0b.0\":1,\"0000:00:0c.0\":2})"}));
}

TEST(GuestTranslate, InfoOnlyReplacesWholeAddressesOfItsOwnList) {
  FakeFs fs;
  // A longer domain, a longer function and another list's address stay.
  EXPECT_EQ(
      translate(
          with_env({"PCIDEVICE_X=0000:1a:01.0", "PCIDEVICE_Y=0000:00:09.0",
                    "PCIDEVICE_X_INFO=/sys/bus/pci/devices/0000:1a:01.0/x 10000:1a:01.0 0000:1a:01.01 0000:00:09.0"}),
          R"({"pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"},{"host":"0000:00:09.0","guest":"0000:02:00.0"}]})",
          fs),
      with_env({"PCIDEVICE_X=0000:01:01.0", "PCIDEVICE_Y=0000:02:00.0",
                "PCIDEVICE_X_INFO=/sys/bus/pci/devices/0000:01:01.0/x 10000:1a:01.0 0000:1a:01.01 0000:00:09.0"}));
}

TEST(GuestTranslate, AuxiliaryNamesEmptyValuesAndLoneInfoStay) {
  FakeFs fs;
  add_guest_bridge(fs);
  std::string config =
      with_env({"PCIDEVICE_MLX_SF=mlx5_core.sf.4", "PCIDEVICE_EMPTY=", R"(PCIDEVICE_LONE_INFO={\"0000:1a:01.0\":1})",
                "PCIDEVICE_MIXED=mlx5_core.sf.5,0000:1a:01.0"});
  EXPECT_EQ(translate(config, kPciMap, fs), with_env({"PCIDEVICE_MLX_SF=mlx5_core.sf.4",
                                                      "PCIDEVICE_EMPTY=", R"(PCIDEVICE_LONE_INFO={\"0000:1a:01.0\":1})",
                                                      "PCIDEVICE_MIXED=mlx5_core.sf.5,0000:01:01.0"}));
}

TEST(GuestTranslate, PciEnvErrors) {
  FakeFs fs;
  add_guest_bridge(fs);
  std::string r = translate(with_env({"A=1", "PCIDEVICE_X=0000:1a:01.0,0000:1c:00.0"}), kPciMap, fs);
  EXPECT_EQ(r,
            "error: OCI config: process.env[1]: PCIDEVICE_X: host PCI address \"0000:1c:00.0\" has no guest address "
            "in the guest map's pci list");
  r = translate(with_env({"PCIDEVICE_X=0000:1a:01.0,garbage"}), kPciMap, fs);
  EXPECT_THAT(r, HasSubstr("process.env[0]: PCIDEVICE_X: invalid PCI address \"garbage\""));
  r = translate(with_env({"PCIDEVICE_X=0000:1a:01.0,"}), kPciMap, fs);
  EXPECT_THAT(r, HasSubstr("invalid PCI address \"\""));
  r = translate(with_env({"PATH=/bin", "NOEQUALS"}), kPciMap, fs);
  EXPECT_EQ(r, "error: OCI config: process.env[1]: malformed env entry \"NOEQUALS\": no '='");
  r = translate(R"({"process":{"env":[1]}})", kPciMap, fs);
  EXPECT_THAT(r, HasSubstr("process.env[0]: expected a string"));
}

TEST(GuestTranslate, PciMapConflicts) {
  FakeFs fs;
  std::string r = translate("{}", R"({"pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"},
                                             {"host":"0000:1A:01.0","guest":"0000:01:02.0"}]})",
                            fs);
  EXPECT_THAT(r, HasSubstr("pci[1]: conflicting guest address for host device 0000:1a:01.0 (0000:01:01.0 versus "
                           "0000:01:02.0"));
  r = translate("{}", R"({"pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"},
                                 {"host":"0000:1a:02.0","guest":"0000:01:01.0"}]})",
                fs);
  EXPECT_THAT(r, HasSubstr("guest address 0000:01:01.0 is mapped from two host devices"));
  // The same pair twice is no conflict.
  EXPECT_EQ(translate(with_env({"PCIDEVICE_X=0000:1a:01.0"}), R"({"pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"},
                                 {"host":"0000:1a:01.0","guest":"0000:01:01.0"}]})",
                      fs),
            with_env({"PCIDEVICE_X=0000:01:01.0"}));
}

TEST(GuestTranslate, UnresolvablePciPathNamesTheEntry) {
  FakeFs fs;
  fs.add_dir("/sys/devices/pci0000:00/0000:00:02.0/0000:01:00.0");
  fs.add_dir("/sys/devices/pci0000:00/0000:00:02.0/0000:02:00.0");
  std::string r = translate("{}", R"({"pci":[{"host":"0000:1a:01.0","guestPciPath":"02/00"}]})", fs);
  EXPECT_THAT(r, HasSubstr("guest map: map.json:1:47: pci[0].guestPciPath: PCI path \"02.0/00.0\" does not resolve"));
  EXPECT_THAT(r, HasSubstr("several downstream buses"));
}

TEST(GuestTranslate, AllOrNothingWhenALaterStepFails) {
  // Devices translate, then the env fails: nothing of it may stay.
  FakeFs fs;
  fs.add_char_device("/dev/vfio/3", 511, 3);
  std::string config =
      R"({"process":{"env":["PCIDEVICE_X=0000:99:00.0"]},"linux":{"devices":[{"path":"/dev/vfio/12","type":"c","major":241,"minor":12}]}})";
  std::string r = translate(config, R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/3"}]})", fs);
  EXPECT_TRUE(r.starts_with("error: ")) << r;  // translate() reports a changed config otherwise
  EXPECT_THAT(r, HasSubstr("0000:99:00.0"));
}

TEST(GuestTranslate, ExplainRecordsEveryChange) {
  FakeFs fs;
  fs.add_char_device("/dev/vfio/3", 511, 3);
  GuestTranslateReport report;
  std::string config =
      R"({"process":{"env":["PCIDEVICE_X=0000:1a:01.0"]},"linux":{"devices":[{"path":"/dev/vfio/12","type":"c","major":241,"minor":12}],)"
      R"("resources":{"devices":[{"allow":true,"type":"c","major":241,"minor":12}]}}})";
  std::string r = translate(config, R"({"devices":[{"containerPath":"/dev/vfio/12","guestPath":"/dev/vfio/3"}],
                                      "pci":[{"host":"0000:1a:01.0","guest":"0000:01:01.0"}]})",
                            fs, &report, true);
  ASSERT_FALSE(r.starts_with("error")) << r;
  ASSERT_EQ(report.edits.size(), 3u);
  EXPECT_EQ(report.edits[0].category, "guestDevice");
  EXPECT_EQ(report.edits[0].summary, "/dev/vfio/12 c 241:12 -> c 511:3 (from /dev/vfio/3)");
  EXPECT_EQ(report.edits[0].spec_file, "map.json");
  EXPECT_EQ(report.edits[1].category, "guestCgroupRule");
  EXPECT_EQ(report.edits[2].summary, "PCIDEVICE_X=0000:1a:01.0 -> 0000:01:01.0");
}

}  // namespace
}  // namespace cdi
