#include "guest/pci.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi {
namespace {

using ::testing::HasSubstr;

using testing::FakeFs;

// ---- addresses ----------------------------------------------------------------

struct AddressCase {
  const char* name;
  const char* input;
  const char* canonical;  // nullptr: invalid
  const char* error_part;
};
void PrintTo(const AddressCase& c, std::ostream* os) { *os << c.name; }

class PciAddressTest : public ::testing::TestWithParam<AddressCase> {};

TEST_P(PciAddressTest, Parses) {
  const AddressCase& c = GetParam();
  auto a = parse_pci_address(c.input);
  if (c.canonical == nullptr) {
    ASSERT_FALSE(a.ok()) << c.input << " parsed as " << a->str();
    EXPECT_THAT(a.error().message, HasSubstr(c.error_part));
    EXPECT_THAT(a.error().message, HasSubstr(std::string("\"") + c.input + "\""));
    return;
  }
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->str(), c.canonical);
  auto again = parse_pci_address(a->str());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *a);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PciAddressTest,
    ::testing::Values(AddressCase{"lower", "0000:1a:01.0", "0000:1a:01.0", ""},
                      AddressCase{"upper_is_written_lower", "0000:1A:1F.7", "0000:1a:1f.7", ""},
                      AddressCase{"wide_domain", "10000:00:02.0", "10000:00:02.0", ""},
                      AddressCase{"eight_digit_domain", "ffffffff:ff:1f.7", "ffffffff:ff:1f.7", ""},
                      AddressCase{"no_domain", "1a:01.0", nullptr, "three"},
                      AddressCase{"short_domain", "000:1a:01.0", nullptr, "domain"},
                      AddressCase{"slot_above_1f", "0000:1a:20.0", nullptr, "slot 0x20 is above 0x1f"},
                      AddressCase{"function_above_7", "0000:1a:01.8", nullptr, "function 8 is above 7"},
                      AddressCase{"one_digit_slot", "0000:1a:1.0", nullptr, "slot and function"},
                      AddressCase{"bad_hex", "0000:1g:01.0", nullptr, "bus"},
                      AddressCase{"no_function", "0000:1a:01", nullptr, "slot and function"},
                      AddressCase{"trailing_space", "0000:1a:01.0 ", nullptr, "slot and function"},
                      AddressCase{"empty", "", nullptr, "three"},
                      AddressCase{"sign", "+000:1a:01.0", nullptr, "domain"}),
    [](const ::testing::TestParamInfo<AddressCase>& i) { return i.param.name; });

PciAddress address(const char* text) { return parse_pci_address(text).value(); }

TEST(PciAddress, OrdersByDomainBusSlotFunction) {
  EXPECT_LT(address("0000:01:1f.7"), address("0000:02:00.0"));
  EXPECT_LT(address("0000:01:02.0"), address("0000:01:02.1"));
  EXPECT_LT(address("0000:ff:1f.7"), address("0001:00:00.0"));
}

// ---- paths --------------------------------------------------------------------

struct PathCase {
  const char* name;
  const char* input;
  const char* canonical;  // nullptr: invalid
};
void PrintTo(const PathCase& c, std::ostream* os) { *os << c.name; }

class PciPathTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(PciPathTest, Parses) {
  const PathCase& c = GetParam();
  auto p = parse_pci_path(c.input);
  if (c.canonical == nullptr) {
    ASSERT_FALSE(p.ok()) << c.input << " parsed as " << p->str();
    EXPECT_THAT(p.error().message, HasSubstr("invalid PCI path"));
    return;
  }
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->str(), c.canonical);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PciPathTest,
    ::testing::Values(PathCase{"two_slots", "02/03", "02.0/03.0"}, PathCase{"one_digit_slots", "2/3", "02.0/03.0"},
                      PathCase{"functions", "02.1/1F.7", "02.1/1f.7"}, PathCase{"one_slot", "1f", "1f.0"},
                      PathCase{"empty", "", nullptr}, PathCase{"empty_element", "02//03", nullptr},
                      PathCase{"trailing_slash", "02/", nullptr}, PathCase{"slot_above_1f", "20", nullptr},
                      PathCase{"function_above_7", "02.8", nullptr}, PathCase{"three_digit_slot", "002", nullptr},
                      PathCase{"not_hex", "0x/03", nullptr}),
    [](const ::testing::TestParamInfo<PathCase>& i) { return i.param.name; });

// ---- walking a fake sysfs -------------------------------------------------------

const std::string kRoot = "/sys/devices/pci0000:00";

std::string resolve(Fs& fs, const char* path, const std::string& sysfs = "/sys") {
  auto p = parse_pci_path(path);
  if (!p.ok()) return "bad test path: " + p.error().message;
  auto r = resolve_pci_path(fs, sysfs, *p);
  if (!r.ok()) return "error: " + r.error().to_string();
  return r->address.str() + " " + r->sysfs_path;
}

TEST(ResolvePciPath, DeviceOnTheRootBus) {
  FakeFs fs;
  fs.add_dir(kRoot + "/0000:00:05.0");
  EXPECT_EQ(resolve(fs, "05"), "0000:00:05.0 " + kRoot + "/0000:00:05.0");
  fs.add_dir(kRoot + "/0000:00:05.3");
  EXPECT_EQ(resolve(fs, "05.3"), "0000:00:05.3 " + kRoot + "/0000:00:05.3");
}

TEST(ResolvePciPath, NestedBridgesThroughPciBus) {
  FakeFs fs;
  std::string b1 = kRoot + "/0000:00:02.0";
  std::string b2 = b1 + "/0000:01:03.0";
  fs.add_dir(b1 + "/pci_bus/0000:01");
  fs.add_dir(b2 + "/pci_bus/0000:07");
  fs.add_dir(b2 + "/0000:07:00.1");
  EXPECT_EQ(resolve(fs, "02/03"), "0000:01:03.0 " + b2);
  EXPECT_EQ(resolve(fs, "02/03/00.1"), "0000:07:00.1 " + b2 + "/0000:07:00.1");
}

TEST(ResolvePciPath, PciBusWinsOverTheChildren) {
  FakeFs fs;
  std::string bridge = kRoot + "/0000:00:02.0";
  fs.add_dir(bridge + "/pci_bus/0000:04");
  fs.add_dir(bridge + "/0000:04:01.0");
  fs.add_dir(bridge + "/0000:05:01.0");  // a stray dir does not make the bus ambiguous
  EXPECT_EQ(resolve(fs, "02/01"), "0000:04:01.0 " + bridge + "/0000:04:01.0");
}

TEST(ResolvePciPath, MissingPciBusFallsBackToTheChildren) {
  FakeFs fs;
  std::string bridge = kRoot + "/0000:00:1c.0";
  fs.add_dir(bridge + "/0000:02:00.0");
  fs.add_dir(bridge + "/0000:02:00.1");
  fs.add_file(bridge + "/vendor", "0x8086\n");
  EXPECT_EQ(resolve(fs, "1c/00.1"), "0000:02:00.1 " + bridge + "/0000:02:00.1");
}

TEST(ResolvePciPath, SeveralChildBusesIsAnErrorNamingTheBridge) {
  FakeFs fs;
  std::string bridge = kRoot + "/0000:00:1c.0";
  fs.add_dir(bridge + "/0000:02:00.0");
  fs.add_dir(bridge + "/0000:03:00.0");
  std::string r = resolve(fs, "1c/00");
  EXPECT_THAT(r, HasSubstr("several downstream buses"));
  EXPECT_THAT(r, HasSubstr("0000:02, 0000:03"));
  EXPECT_THAT(r, HasSubstr("bridge 0000:00:1c.0"));
  EXPECT_THAT(r, HasSubstr("PCI path \"1c.0/00.0\""));
}

TEST(ResolvePciPath, NoBusBelowTheBridgeIsAnError) {
  FakeFs fs;
  fs.add_file(kRoot + "/0000:00:02.0/vendor", "0x1af4\n");
  std::string r = resolve(fs, "02/00");
  EXPECT_THAT(r, HasSubstr("no downstream PCI devices"));
  EXPECT_THAT(r, HasSubstr("bridge 0000:00:02.0"));
}

TEST(ResolvePciPath, PciBusWithTwoEntriesIsAnError) {
  FakeFs fs;
  std::string bridge = kRoot + "/0000:00:02.0";
  fs.add_dir(bridge + "/pci_bus/0000:01");
  fs.add_dir(bridge + "/pci_bus/0000:09");
  std::string r = resolve(fs, "02/00");
  EXPECT_THAT(r, HasSubstr("expected exactly one PCI bus"));
  EXPECT_THAT(r, HasSubstr("got 2 (0000:01, 0000:09)"));
}

TEST(ResolvePciPath, EmptyPciBusIsAnError) {
  FakeFs fs;
  fs.add_dir(kRoot + "/0000:00:02.0/pci_bus");
  fs.add_dir(kRoot + "/0000:00:02.0/0000:01:00.0");
  std::string r = resolve(fs, "02/00");
  EXPECT_THAT(r, HasSubstr("got 0"));
}

TEST(ResolvePciPath, MissingDeviceNamesItsAddress) {
  FakeFs fs;
  fs.add_dir(kRoot + "/0000:00:02.0/pci_bus/0000:01");
  std::string r = resolve(fs, "02/03");
  EXPECT_THAT(r, HasSubstr("element 1 (03.0): no device 0000:01:03.0"));
  r = resolve(fs, "04");
  EXPECT_THAT(r, HasSubstr("element 0 (04.0): no device 0000:00:04.0"));
}

TEST(ResolvePciPath, MissingRootBus) {
  FakeFs fs;
  std::string r = resolve(fs, "02", "/nowhere");
  EXPECT_THAT(r, HasSubstr("no root bus"));
  EXPECT_THAT(r, HasSubstr("/nowhere/devices/pci0000:00"));
}

// ---- walking a real tree ----------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cdi-pci-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  void mkdirs(const std::string& rel) const { std::filesystem::create_directories(path_ + "/" + rel); }

 private:
  std::string path_;
};

TEST(ResolvePciPath, RealTreeWithBridgesAndFallback) {
  TempDir t;
  ASSERT_FALSE(t.path().empty());
  std::string root = "devices/pci0000:00";
  t.mkdirs(root + "/0000:00:03.0/pci_bus/0000:01");
  t.mkdirs(root + "/0000:00:03.0/0000:01:00.0/0000:02:1f.0");  // no pci_bus below 01:00.0
  RealFs fs;
  EXPECT_EQ(resolve(fs, "03/00/1f", t.path()),
            "0000:02:1f.0 " + t.path() + "/" + root + "/0000:00:03.0/0000:01:00.0/0000:02:1f.0");
  t.mkdirs(root + "/0000:00:03.0/0000:01:00.0/0000:05:00.0");
  std::string r = resolve(fs, "03/00/1f", t.path());
  EXPECT_THAT(r, HasSubstr("several downstream buses"));
  EXPECT_THAT(r, HasSubstr("bridge 0000:01:00.0"));
}

}  // namespace
}  // namespace cdi
