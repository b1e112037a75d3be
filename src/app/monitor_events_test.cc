#include "app/monitor_events.h"

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace cdi {
namespace {

using Type = MonitorEvent::Type;

std::string line(const MonitorEvent& e) {
  std::string s = std::string(event_name(e.type)) + " " + e.subject;
  if (!e.kind.empty()) s += " kind=" + e.kind + " devices=" + std::to_string(e.devices);
  if (!e.spec.empty()) s += " spec=" + e.spec;
  for (const auto& o : e.others) s += " other=" + o;
  for (const auto& err : e.errors) s += " error=" + err.located();
  return s;
}

std::vector<std::string> lines(const std::vector<MonitorEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(line(e));
  return out;
}

MonitorState::File valid(const char* kind, size_t devices) { return {kind, devices, true, {}}; }
MonitorState::File broken(const char* kind, const char* message) {
  Error e(message);
  e.in_file("/d/x.yaml", 3, 5);
  return {kind, 0, false, {e}};
}
MonitorState::Name ok(const char* spec, std::vector<std::string> shadowed = {}) {
  return {DefinitionStatus::ok, spec, {}, std::move(shadowed)};
}
MonitorState::Name conflict(const char* spec, std::vector<std::string> others) {
  return {DefinitionStatus::conflict, spec, std::move(others), {}};
}

struct DescribeCase {
  const char* name;
  SpecChanges changes;
  MonitorState before;
  MonitorState after;
  std::vector<std::string> expected;
};

class DescribeChangesTest : public ::testing::TestWithParam<DescribeCase> {};

TEST_P(DescribeChangesTest, TellsEachChange) {
  const DescribeCase& c = GetParam();
  EXPECT_EQ(lines(describe_changes(c.changes, c.before, c.after)), c.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Table, DescribeChangesTest,
    ::testing::Values(
        DescribeCase{"spec_added",
                     {.files_added = {"/d/x.yaml"}, .devices_added = {"v.com/c=0"}},
                     {},
                     {{{"/d/x.yaml", valid("v.com/c", 1)}}, {{"v.com/c=0", ok("/d/x.yaml")}}},
                     {"spec-added /d/x.yaml kind=v.com/c devices=1", "device-appeared v.com/c=0 spec=/d/x.yaml"}},
        DescribeCase{"added_invalid",
                     {.files_added = {"/d/x.yaml"}, .files_invalid = {"/d/x.yaml"}},
                     {},
                     {{{"/d/x.yaml", broken("v.com/c", "bad name")}}, {}},
                     {"spec-invalid /d/x.yaml kind=v.com/c devices=0 error=/d/x.yaml:3:5: bad name"}},
        DescribeCase{"made_invalid",
                     {.files_changed = {"/d/x.yaml"}, .files_invalid = {"/d/x.yaml"}, .devices_removed = {"v.com/c=0"}},
                     {{{"/d/x.yaml", valid("v.com/c", 1)}}, {{"v.com/c=0", ok("/d/x.yaml")}}},
                     {{{"/d/x.yaml", broken("v.com/c", "bad name")}}, {}},
                     {"spec-invalid /d/x.yaml kind=v.com/c devices=0 error=/d/x.yaml:3:5: bad name",
                      "device-disappeared v.com/c=0 spec=/d/x.yaml"}},
        DescribeCase{"changed_and_valid",
                     {.files_changed = {"/d/x.yaml"}},
                     {{{"/d/x.yaml", valid("v.com/c", 1)}}, {}},
                     {{{"/d/x.yaml", valid("v.com/c", 2)}}, {}},
                     {"spec-changed /d/x.yaml kind=v.com/c devices=2"}},
        DescribeCase{"removed",
                     {.files_removed = {"/d/x.yaml"}, .devices_removed = {"v.com/c=0"}},
                     {{{"/d/x.yaml", valid("v.com/c", 1)}}, {{"v.com/c=0", ok("/d/x.yaml")}}},
                     {},
                     {"spec-removed /d/x.yaml kind=v.com/c devices=1", "device-disappeared v.com/c=0 spec=/d/x.yaml"}},
        DescribeCase{"shadowed_by_a_higher_dir",
                     {.files_added = {"/run/y.yaml"}, .devices_changed = {"v.com/c=0"}},
                     {{}, {{"v.com/c=0", ok("/etc/x.yaml")}}},
                     {{{"/run/y.yaml", valid("v.com/c", 1)}}, {{"v.com/c=0", ok("/run/y.yaml", {"/etc/x.yaml"})}}},
                     {"spec-added /run/y.yaml kind=v.com/c devices=1",
                      "device-shadowed v.com/c=0 spec=/run/y.yaml other=/etc/x.yaml"}},
        DescribeCase{"shadow_gone",
                     {.files_removed = {"/run/y.yaml"}, .devices_changed = {"v.com/c=0"}},
                     {{}, {{"v.com/c=0", ok("/run/y.yaml", {"/etc/x.yaml"})}}},
                     {{}, {{"v.com/c=0", ok("/etc/x.yaml")}}},
                     {"spec-removed /run/y.yaml", "device-ok v.com/c=0 spec=/etc/x.yaml"}},
        DescribeCase{"conflict",
                     {.files_added = {"/d/w.yaml"}, .devices_changed = {"v.com/c=0"}},
                     {{}, {{"v.com/c=0", ok("/d/x.yaml")}}},
                     {{{"/d/w.yaml", valid("v.com/c", 1)}}, {{"v.com/c=0", conflict("/d/w.yaml", {"/d/x.yaml"})}}},
                     {"spec-added /d/w.yaml kind=v.com/c devices=1",
                      "device-conflict v.com/c=0 spec=/d/w.yaml other=/d/x.yaml"}},
        DescribeCase{"new_name_in_conflict",
                     {.devices_added = {"v.com/c=0"}},
                     {},
                     {{}, {{"v.com/c=0", conflict("/d/w.yaml", {"/d/x.yaml"})}}},
                     {"device-conflict v.com/c=0 spec=/d/w.yaml other=/d/x.yaml"}},
        DescribeCase{"conflict_resolved",
                     {.devices_changed = {"v.com/c=0"}},
                     {{}, {{"v.com/c=0", conflict("/d/w.yaml", {"/d/x.yaml"})}}},
                     {{}, {{"v.com/c=0", ok("/d/x.yaml")}}},
                     {"device-ok v.com/c=0 spec=/d/x.yaml"}}),
    [](const ::testing::TestParamInfo<DescribeCase>& i) { return i.param.name; });

TEST(MonitorEvents, NamesAreStable) {
  EXPECT_EQ(event_name(Type::spec_added), "spec-added");
  EXPECT_EQ(event_name(Type::spec_invalid), "spec-invalid");
  EXPECT_EQ(event_name(Type::device_disappeared), "device-disappeared");
  EXPECT_EQ(event_name(Type::device_conflict), "device-conflict");
}

// --- the monitor over a real dir, real inotify ---

class NullLogger final : public Logger {
 public:
  bool enabled(LogLevel) const override { return false; }
  void write(LogLevel, std::string_view) override {}
};

void write(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << text;
  ASSERT_EQ(::chmod(tmp.c_str(), 0644), 0);
  ASSERT_EQ(std::rename(tmp.c_str(), path.c_str()), 0);
}

// Waits for the watch to say something changed, then takes the changes.
std::vector<std::string> next(SpecMonitor& m) {
  pollfd p{m.fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 5000), 1) << "no inotify event within 5 s";
  ::usleep(20000);
  return lines(m.changes());
}

constexpr const char* kSpec =
    "cdiVersion: \"0.6.0\"\nkind: v.com/c\ndevices:\n  - name: \"0\"\n    containerEdits:\n"
    "      env: [A=1]\n";

TEST(SpecMonitor, TellsWhatHappensInTheDirs) {
  testing::TempDir tmp("monitor");
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  RealFs fs;
  NullLogger logger;
  RegistryOptions options;
  options.spec_dirs = {tmp.path()};
  auto m = SpecMonitor::create(fs, logger, options);
  ASSERT_GE(m->fd(), 0);
  EXPECT_TRUE(m->state().files.empty());
  EXPECT_TRUE(m->changes().empty());

  std::string x = tmp.path() + "/x.yaml";
  write(x, kSpec);
  EXPECT_EQ(next(*m), (std::vector<std::string>{"spec-added " + x + " kind=v.com/c devices=1",
                                                "device-appeared v.com/c=0 spec=" + x}));
  write(x, std::string(kSpec) + "  - name: \"bad name\"\n");
  auto invalid = next(*m);
  ASSERT_EQ(invalid.size(), 2u);
  EXPECT_TRUE(invalid[0].starts_with("spec-invalid " + x + " kind=v.com/c devices=0 error=" + x + ":7:")) << invalid[0];
  EXPECT_EQ(invalid[1], "device-disappeared v.com/c=0 spec=" + x);
  ASSERT_EQ(::unlink(x.c_str()), 0);
  EXPECT_EQ(next(*m), std::vector<std::string>{"spec-removed " + x + " kind=v.com/c devices=0"});
  EXPECT_TRUE(m->state().files.empty());
}

}  // namespace
}  // namespace cdi
