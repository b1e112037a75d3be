#include "nri/config_check.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi::nri {
namespace {

using testing::FakeFs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kConf = "/etc/nri/conf.d/10-cdi-hook.conf";

std::string spec(const std::string& kind, const std::string& device, const std::string& host) {
  return "cdiVersion: 0.6.0\nkind: " + kind + "\ndevices:\n- name: " + device +
         "\n  containerEdits:\n    deviceNodes:\n    - path: " + host + "\n";
}

class ConfigCheckTest : public ::testing::Test {
 protected:
  ConfigCheckTest() {
    fs.add_dir("/etc/cdi");
    fs.add_char_device("/dev/gpu0", 195, 0);
  }
  CheckReport check(const std::string& text) { return check_config(text, kConf, fs, logger); }
  FakeFs fs;
  MemoryLogger logger;
};

TEST_F(ConfigCheckTest, AnAcceptedConfigShowsTheSettingsDirsAndDevices) {
  fs.add_file("/etc/cdi/gpu.yaml", spec("vendor.com/gpu", "0", "/dev/gpu0"));
  auto r = check("spec-dir = /etc/cdi\nspec-dir = /var/run/cdi\ncdi-mode = auto\nwait = 0.5\n");
  EXPECT_TRUE(r.ok) << r.text;
  EXPECT_THAT(r.text, HasSubstr(std::string(kConf) + ": accepted"));
  EXPECT_THAT(r.text, HasSubstr("cdi-mode auto, wait 500 ms"));
  EXPECT_THAT(r.text, HasSubstr("spec dir /etc/cdi: 1 spec file\n"));
  EXPECT_THAT(r.text, HasSubstr("spec dir /var/run/cdi: not there"));
  EXPECT_THAT(r.text, HasSubstr("devices (1): vendor.com/gpu=0\n"));
  EXPECT_THAT(r.text, HasSubstr("problems: none"));
}

struct RefusedCase {
  const char* name;
  const char* text;
  const char* message;
};

class RefusedConfigTest : public ConfigCheckTest, public ::testing::WithParamInterface<RefusedCase> {};

TEST_P(RefusedConfigTest, IsRefusedWithTheMessageConfigureWouldGive) {
  auto r = check(GetParam().text);
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, HasSubstr(std::string("refused: ") + GetParam().message)) << r.text;
  EXPECT_THAT(r.text, HasSubstr("containers would start without their CDI devices"));
  EXPECT_THAT(r.text, Not(HasSubstr("devices (")));
}

INSTANTIATE_TEST_SUITE_P(
    Table, RefusedConfigTest,
    ::testing::Values(
        RefusedCase{"UnknownKey", "wait = 0\nbogus = 1\n",
                    "/etc/nri/conf.d/10-cdi-hook.conf:2: unknown option \"bogus\""},
        RefusedCase{"SetByTheRuntime", "socket = /run/x.sock\n",
                    "/etc/nri/conf.d/10-cdi-hook.conf:1: option \"socket\" is set by the runtime"},
        RefusedCase{"BadValue", "cdi-mode = sometimes\n", "/etc/nri/conf.d/10-cdi-hook.conf:1: cdi-mode:"},
        RefusedCase{"NoEquals", "spec-dir /etc/cdi\n", "/etc/nri/conf.d/10-cdi-hook.conf:1: expected key = value"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ConfigCheckTest, ABrokenSpecIsAProblemWithItsPlace) {
  fs.add_file("/etc/cdi/gpu.yaml", spec("vendor.com/gpu", "0", "/dev/gpu0"));
  fs.add_file("/etc/cdi/bad.yaml",
              "cdiVersion: 0.6.0\nkind: vendor.com/bad\ndevices:\n- name: x\n  containerEdits:\n"
              "    env: [3]\n");
  auto r = check("spec-dir = /etc/cdi\n");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, HasSubstr("devices (1): vendor.com/gpu=0\n"));
  EXPECT_THAT(r.text, HasSubstr("problems (1):\n  /etc/cdi/bad.yaml:6:"));
  EXPECT_THAT(r.text, HasSubstr("devices[0].containerEdits.env[0]"));
}

TEST_F(ConfigCheckTest, ADeviceDefinedTwiceAtOnePriorityIsUnusable) {
  fs.add_file("/etc/cdi/a.yaml", spec("vendor.com/gpu", "0", "/dev/gpu0"));
  fs.add_file("/etc/cdi/b.yaml", spec("vendor.com/gpu", "0", "/dev/gpu0"));
  auto r = check("spec-dir = /etc/cdi\n");
  EXPECT_FALSE(r.ok);
  EXPECT_THAT(r.text, HasSubstr("vendor.com/gpu=0: defined at the same priority in /etc/cdi/a.yaml, /etc/cdi/b.yaml"));
  EXPECT_THAT(r.text, HasSubstr("(unusable)"));
}

TEST_F(ConfigCheckTest, ASpecOthersCanWriteIsAProblemUnlessAllowed) {
  fs.add_file("/etc/cdi/gpu.yaml", spec("vendor.com/gpu", "0", "/dev/gpu0"), 0666);
  auto strict = check("spec-dir = /etc/cdi\n");
  EXPECT_FALSE(strict.ok);
  EXPECT_THAT(strict.text, HasSubstr("devices (0): none"));
  auto allowed = check("spec-dir = /etc/cdi\nallow-insecure-specs = true\n");
  EXPECT_TRUE(allowed.ok) << allowed.text;
  EXPECT_THAT(allowed.text, HasSubstr("devices (1): vendor.com/gpu=0"));
}

}  // namespace
}  // namespace cdi::nri
