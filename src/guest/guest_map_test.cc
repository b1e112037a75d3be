#include "guest/guest_map.h"

#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi {
namespace {

using ::testing::HasSubstr;

using testing::FakeFs;

// The issue's example.
constexpr const char* kExample = R"({"devices": [
   {"containerPath": "/dev/vfio/12", "guestPath": "/dev/vfio/3"},
   {"containerPath": "/dev/accel0", "guestType": "c", "guestMajor": 236, "guestMinor": 0, "finalPath": "/dev/accel/accel0"},
   {"hostType": "c", "hostMajor": 195, "hostMinor": 0, "guestPath": "/dev/nvidia0"}],
 "pci": [
   {"host": "0000:1a:01.0", "guest": "0000:01:01.0"},
   {"host": "0000:1b:02.0", "guestPciPath": "02/03"}]})";

TEST(GuestMap, ParsesTheIssueExample) {
  auto m = parse_guest_map(kExample, "map.json");
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  ASSERT_EQ(m->devices.size(), 3u);
  EXPECT_EQ(m->devices[0].container_path, "/dev/vfio/12");
  EXPECT_EQ(m->devices[0].guest_path, "/dev/vfio/3");
  EXPECT_FALSE(m->devices[0].host.has_value());
  EXPECT_FALSE(m->devices[0].guest.has_value());
  ASSERT_TRUE(m->devices[1].guest.has_value());
  EXPECT_EQ(m->devices[1].guest->str(), "c 236:0");
  EXPECT_EQ(m->devices[1].final_path, "/dev/accel/accel0");
  ASSERT_TRUE(m->devices[2].host.has_value());
  EXPECT_EQ(m->devices[2].host->str(), "c 195:0");
  EXPECT_TRUE(m->devices[2].container_path.empty());
  ASSERT_EQ(m->pci.size(), 2u);
  EXPECT_EQ(m->pci[0].host.str(), "0000:1a:01.0");
  ASSERT_TRUE(m->pci[0].guest.has_value());
  EXPECT_EQ(m->pci[0].guest->str(), "0000:01:01.0");
  ASSERT_TRUE(m->pci[1].guest_pci_path.has_value());
  EXPECT_EQ(m->pci[1].guest_pci_path->str(), "02.0/03.0");
  EXPECT_EQ(m->file, "map.json");
  // Positions of entries and fields, for later errors.
  EXPECT_EQ(m->positions.at("devices[2]"), std::make_pair(4, 4));
  EXPECT_EQ(m->positions.at("devices[2].guestPath"), std::make_pair(4, 69));
  EXPECT_EQ(m->positions.at("pci[1].guestPciPath"), std::make_pair(7, 45));
}

TEST(GuestMap, ErrorAtPointsIntoTheFile) {
  auto m = parse_guest_map(kExample, "map.json");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->error_at("devices[2].guestPath", "boom").to_string(), "map.json:4:69: devices[2].guestPath: boom");
  // A field without a position of its own falls back to its entry.
  EXPECT_EQ(m->error_at("devices[1].guestPath", "boom").to_string(), "map.json:3:4: devices[1].guestPath: boom");
}

struct GoodCase {
  const char* name;
  const char* input;
};
void PrintTo(const GoodCase& c, std::ostream* os) { *os << c.name; }

class GuestMapGoodTest : public ::testing::TestWithParam<GoodCase> {};

TEST_P(GuestMapGoodTest, Accepted) {
  auto m = parse_guest_map(GetParam().input);
  EXPECT_TRUE(m.ok()) << m.error().to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Table, GuestMapGoodTest,
    ::testing::Values(
        GoodCase{"empty_object", "{}"}, GoodCase{"empty_lists", R"({"devices": [], "pci": []})"},
        GoodCase{"virtio_index", R"({"devices": [{"containerPath": "/dev/vdb", "guestVirtioBlkIndex": 65535}]})"},
        GoodCase{"scsi_index", R"({"devices": [{"containerPath": "/dev/sdb", "guestScsiIndex": 65534}]})"},
        GoodCase{"integral_float_as_in_json_schema",
                 R"({"devices": [{"hostType": "b", "hostMajor": 8.0, "hostMinor": 1e1, "guestPath": "/dev/vda"}]})"},
        GoodCase{
            "largest_numbers",
            R"({"devices": [{"containerPath": "/x", "guestType": "b", "guestMajor": 4095, "guestMinor": 1048575}]})"},
        GoodCase{"upper_case_pci", R"({"pci": [{"host": "0000:1A:01.0", "guest": "0000:01:1F.7"}]})"}),
    [](const ::testing::TestParamInfo<GoodCase>& i) { return i.param.name; });

struct BadCase {
  const char* name;
  const char* input;
  const char* field;
  const char* message_part;
};
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class GuestMapBadTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(GuestMapBadTest, RefusedNamingTheEntry) {
  const BadCase& c = GetParam();
  auto m = parse_guest_map(c.input, "m.json");
  ASSERT_FALSE(m.ok()) << c.input;
  const Error& e = m.error();
  EXPECT_EQ(e.field, c.field) << e.to_string();
  EXPECT_THAT(e.message, HasSubstr(c.message_part)) << e.to_string();
  EXPECT_EQ(e.file, "m.json");
  EXPECT_GT(e.line, 0) << e.to_string();
  EXPECT_GT(e.column, 0) << e.to_string();
}

#define DEV(body) "{\"devices\": [{\"containerPath\": \"/dev/a\", \"guestPath\": \"/dev/b\"}, " body "]}"

INSTANTIATE_TEST_SUITE_P(
    Table, GuestMapBadTest,
    ::testing::Values(
        BadCase{"not_json", "{\"devices\": [}", "", "invalid JSON"}, BadCase{"empty_input", "", "", "invalid JSON"},
        BadCase{"array_root", "[]", "", "must be an object, got an array"},
        BadCase{"unknown_top_field", R"({"device": []})", "", "unknown field \"device\""},
        BadCase{"case_hint", R"({"Devices": []})", "", "did you mean \"devices\"?"},
        BadCase{"devices_not_array", R"({"devices": {}})", "devices", "expected an array, got an object"},
        BadCase{"devices_null", R"({"devices": null})", "devices", "expected an array, got null"},
        BadCase{"entry_not_object", DEV("3"), "devices[1]", "expected an object, got the number 3"},
        BadCase{"unknown_device_field", DEV(R"({"containerPath": "/x", "guestpath": "/y"})"), "devices[1]",
                "did you mean \"guestPath\"?"},
        BadCase{"duplicate_field", DEV(R"({"containerPath": "/x", "containerPath": "/y", "guestPath": "/z"})"),
                "devices[1]", "duplicate field \"containerPath\""},
        BadCase{"relative_path", DEV(R"({"containerPath": "dev/x", "guestPath": "/y"})"), "devices[1].containerPath",
                "expected an absolute path, got \"dev/x\""},
        BadCase{"path_not_string", DEV(R"({"containerPath": 5, "guestPath": "/y"})"), "devices[1].containerPath",
                "expected a string, got the number 5"},
        BadCase{"path_null", DEV(R"({"containerPath": "/x", "guestPath": null})"), "devices[1].guestPath",
                "expected a string, got null"},
        BadCase{"final_path_relative", DEV(R"({"containerPath": "/x", "guestPath": "/y", "finalPath": ""})"),
                "devices[1].finalPath", "expected an absolute path"},
        BadCase{"bad_type", DEV(R"({"hostType": "u", "hostMajor": 1, "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1].hostType", "expected \"b\" (block) or \"c\" (char), got \"u\""},
        BadCase{"major_too_big", DEV(R"({"hostType": "c", "hostMajor": 4096, "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1].hostMajor", "expected an integer from 0 to 4095, got 4096"},
        BadCase{"minor_too_big",
                DEV(R"({"containerPath": "/x", "guestType": "c", "guestMajor": 1, "guestMinor": 1048576})"),
                "devices[1].guestMinor", "from 0 to 1048575"},
        BadCase{"negative", DEV(R"({"hostType": "c", "hostMajor": -1, "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1].hostMajor", "got -1"},
        BadCase{"fraction", DEV(R"({"hostType": "c", "hostMajor": 1.5, "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1].hostMajor", "got 1.5"},
        BadCase{"number_as_string", DEV(R"({"hostType": "c", "hostMajor": "1", "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1].hostMajor", "got the string \"1\""},
        BadCase{"boolean", DEV(R"({"hostType": "c", "hostMajor": true, "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1].hostMajor", "got the boolean true"},
        BadCase{"host_triple_incomplete", DEV(R"({"hostType": "c", "hostMajor": 1, "guestPath": "/y"})"), "devices[1]",
                "hostType, hostMajor and hostMinor go together: hostMinor is missing"},
        BadCase{"host_triple_two_missing", DEV(R"({"hostMinor": 1, "guestPath": "/y"})"), "devices[1]",
                "hostType and hostMajor are missing"},
        BadCase{"both_selectors",
                DEV(R"({"containerPath": "/x", "hostType": "c", "hostMajor": 1, "hostMinor": 3, "guestPath": "/y"})"),
                "devices[1]", "not both"},
        BadCase{"no_selector", DEV(R"({"guestPath": "/y"})"), "devices[1]",
                "name the device by containerPath or by hostType, hostMajor and hostMinor"},
        BadCase{"no_guest", DEV(R"({"containerPath": "/x", "finalPath": "/z"})"), "devices[1]",
                "give guestPath, guestVirtioBlkIndex, guestScsiIndex or guestType"},
        BadCase{"two_guests", DEV(R"({"containerPath": "/x", "guestPath": "/y", "guestScsiIndex": 1})"), "devices[1]",
                "give only one of"},
        BadCase{"guest_triple_incomplete", DEV(R"({"containerPath": "/x", "guestType": "b", "guestMinor": 1})"),
                "devices[1]", "guestMajor is missing"},
        BadCase{"virtio_index_too_big", DEV(R"({"containerPath": "/x", "guestVirtioBlkIndex": 65536})"),
                "devices[1].guestVirtioBlkIndex", "from 0 to 65535"},
        BadCase{"scsi_index_too_big", DEV(R"({"containerPath": "/x", "guestScsiIndex": 65535})"),
                "devices[1].guestScsiIndex", "from 0 to 65534"},
        BadCase{"pci_not_array", R"({"pci": "0000:1a:01.0"})", "pci", "expected an array"},
        BadCase{"pci_no_host", R"({"pci": [{"guest": "0000:01:01.0"}]})", "pci[0]", "missing field \"host\""},
        BadCase{"pci_bad_host", R"({"pci": [{"host": "1a:01.0", "guest": "0000:01:01.0"}]})", "pci[0].host",
                "invalid PCI address \"1a:01.0\""},
        BadCase{"pci_bad_guest", R"({"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:20.0"}]})", "pci[0].guest",
                "slot 0x20 is above 0x1f"},
        BadCase{"pci_both", R"({"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0", "guestPciPath": "02"}]})",
                "pci[0]", "not both"},
        BadCase{"pci_neither", R"({"pci": [{"host": "0000:1a:01.0"}]})", "pci[0]", "give guest or guestPciPath"},
        BadCase{"pci_bad_path", R"({"pci": [{"host": "0000:1a:01.0", "guestPciPath": "02/20"}]})",
                "pci[0].guestPciPath", "invalid PCI path \"02/20\": element 1"},
        BadCase{"pci_unknown_field", R"({"pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0", "bus": 1}]})",
                "pci[0]", "unknown field \"bus\""}),
    [](const ::testing::TestParamInfo<BadCase>& i) { return i.param.name; });

#undef DEV

TEST(GuestMap, ErrorLineAndColumn) {
  auto m = parse_guest_map("{\"devices\": [\n  {\"containerPath\": \"/a\",\n   \"guestPath\": \"b\"}]}", "m.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().to_string(), "m.json:3:17: devices[0].guestPath: expected an absolute path, got \"b\"");
}

TEST(GuestMap, LoadNamesTheFile) {
  FakeFs fs;
  fs.add_file("/etc/cdi-hook/map.json", R"({"devices": [{"containerPath": "/x"}]})");
  auto m = load_guest_map(fs, "/etc/cdi-hook/map.json");
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.error().to_string().starts_with("guest map: /etc/cdi-hook/map.json:1:14: devices[0]: give "))
      << m.error().to_string();
  auto missing = load_guest_map(fs, "/nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().to_string(), HasSubstr("/nope.json"));
}

}  // namespace
}  // namespace cdi
