#include "base/error.h"

#include <cerrno>
#include <string>

#include <gtest/gtest.h>

namespace cdi {
namespace {

TEST(Error, MessageAlone) {
  Error e("bad thing");
  EXPECT_EQ(e.located(), "bad thing");
  EXPECT_EQ(e.to_string(), "bad thing");
}

TEST(Error, FileLineColumnFieldAndMessage) {
  Error e("invalid device type \"x\"");
  e.in_file("/etc/cdi/vendor.yaml", 12, 7);
  e.field = "devices[0].containerEdits.deviceNodes[1].type";
  EXPECT_EQ(e.located(),
            "/etc/cdi/vendor.yaml:12:7: devices[0].containerEdits.deviceNodes[1].type: invalid device type \"x\"");
}

TEST(Error, FileNameWithTerminalEscapesIsQuoted) {
  Error e("m");
  e.in_file("/etc/cdi/\x1b[31mred.yaml", 2, 3);
  EXPECT_EQ(e.located(), "\"/etc/cdi/\\x1b[31mred.yaml\":2:3: m");
  EXPECT_EQ(e.to_string().find('\x1b'), std::string::npos);
}

TEST(Error, LineWithoutColumn) {
  Error e("m");
  e.in_file("f.json", 3);
  EXPECT_EQ(e.located(), "f.json:3: m");
}

TEST(Error, FileWithoutLineKeepsAnEarlierPosition) {
  // The decoder sets the position, the registry adds the file afterwards.
  Error e = Error("m").at(4, 2);
  e.in_file("f.yaml");
  EXPECT_EQ(e.line, 4);
  EXPECT_EQ(e.column, 2);
  EXPECT_EQ(e.located(), "f.yaml:4:2: m");
}

TEST(Error, PositionWithoutFileIsNotPrinted) {
  Error e = Error("m").at(4, 2);
  EXPECT_EQ(e.located(), "m");
}

TEST(Error, FieldWithoutFile) {
  Error e("m");
  e.field = "kind";
  EXPECT_EQ(e.located(), "kind: m");
}

TEST(Error, ToStringPutsContextOutermostFirstThenDevice) {
  Error e = Error("no such file").in_file("/etc/cdi/a.yaml", 1, 1);
  e.for_device("vendor.com/gpu=0");
  e.with_context("inner");
  e.with_context("outer");
  EXPECT_EQ(e.to_string(), "outer: inner: device \"vendor.com/gpu=0\": /etc/cdi/a.yaml:1:1: no such file");
  // located() leaves out context and device.
  EXPECT_EQ(e.located(), "/etc/cdi/a.yaml:1:1: no such file");
}

TEST(Error, DeviceNameIsQuoted) {
  Error e("m");
  e.for_device("v/c=\x1b[2J");
  EXPECT_EQ(e.to_string(), "device \"v/c=\\x1b[2J\": m");
}

TEST(Error, FirstDeviceWins) {
  Error e("m");
  e.for_device("a/b=inner").for_device("a/b=outer");
  EXPECT_EQ(e.device, "a/b=inner");
}

struct FieldCase {
  const char* name;
  const char* inner;   // field before
  const char* outer;   // at_field argument
  const char* result;  // field after
};

void PrintTo(const FieldCase& c, std::ostream* os) { *os << c.name; }

class AtFieldTest : public ::testing::TestWithParam<FieldCase> {};

TEST_P(AtFieldTest, Composes) {
  Error e("m");
  e.field = GetParam().inner;
  e.at_field(GetParam().outer);
  EXPECT_EQ(e.field, GetParam().result);
}

INSTANTIATE_TEST_SUITE_P(Table, AtFieldTest,
                         ::testing::Values(FieldCase{"empty_inner", "", "devices[0]", "devices[0]"},
                                           FieldCase{"member", "env[1]", "containerEdits", "containerEdits.env[1]"},
                                           FieldCase{"index", "[1].path", "deviceNodes", "deviceNodes[1].path"},
                                           FieldCase{"empty_outer_keeps", "kind", "", "kind"},
                                           FieldCase{"nested_index", "[2]", "devices[0].containerEdits.env",
                                                     "devices[0].containerEdits.env[2]"}),
                         [](const ::testing::TestParamInfo<FieldCase>& i) { return i.param.name; });

TEST(Error, AtFieldChainsOutward) {
  Error e = Error("hook path is empty").at_field("path").at_field("hooks[0]").at_field("devices[3].containerEdits");
  EXPECT_EQ(e.field, "devices[3].containerEdits.hooks[0].path");
  e.in_file("/var/run/cdi/x.json", 9, 5);
  EXPECT_EQ(e.located(), "/var/run/cdi/x.json:9:5: devices[3].containerEdits.hooks[0].path: hook path is empty");
}

TEST(Error, SystemErrorKeepsErrno) {
  Error e = system_error("open \"/x\"", ENOENT);
  EXPECT_EQ(e.sys_errno, ENOENT);
  EXPECT_EQ(e.message, "open \"/x\": No such file or directory");
}

TEST(Result, ValueAndError) {
  Result<int> good = 5;
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 5);
  Result<int> bad = Error("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "nope");
}

Status fails_then_returns(bool fail, int& reached) {
  CDI_TRY(fail ? Status(Error("first")) : Status());
  reached = 1;
  return {};
}

TEST(Result, TryReturnsTheErrorEarly) {
  int reached = 0;
  Status s = fails_then_returns(true, reached);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "first");
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(fails_then_returns(false, reached).ok());
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace cdi
