#include "app/try_probe.h"

#include <sys/stat.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace cdi {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// --- mountinfo ---

struct MountInfoCase {
  const char* name;
  const char* line;
  size_t count;
  const char* mount_point;
  const char* fstype;
  bool read_only;
};

class MountInfoTest : public ::testing::TestWithParam<MountInfoCase> {};

TEST_P(MountInfoTest, ParsesOneLine) {
  const MountInfoCase& c = GetParam();
  auto entries = parse_mountinfo(c.line);
  ASSERT_EQ(entries.size(), c.count);
  if (c.count == 0) return;
  EXPECT_EQ(entries[0].mount_point, c.mount_point);
  EXPECT_EQ(entries[0].fstype, c.fstype);
  EXPECT_EQ(entries[0].read_only, c.read_only);
}

INSTANTIATE_TEST_SUITE_P(
    Table, MountInfoTest,
    ::testing::Values(
        MountInfoCase{"plain", "36 35 98:0 / /mnt rw,noatime master:1 - ext4 /dev/root rw,errors=continue", 1, "/mnt",
                      "ext4", false},
        MountInfoCase{"read_only_bind", "40 35 8:1 /usr/lib/x.so /lib/x.so ro,nosuid - ext4 /dev/sda1 rw", 1,
                      "/lib/x.so", "ext4", true},
        MountInfoCase{"no_optional_fields", "22 1 0:5 / /dev rw - tmpfs tmpfs rw,mode=755", 1, "/dev", "tmpfs", false},
        MountInfoCase{"two_optional_fields", "22 1 0:5 / /a rw shared:1 master:2 - tmpfs tmpfs rw", 1, "/a", "tmpfs",
                      false},
        MountInfoCase{"escaped_space", "50 35 0:40 / /my\\040dir rw - tmpfs tmpfs rw", 1, "/my dir", "tmpfs", false},
        MountInfoCase{"escaped_backslash", "50 35 0:40 / /a\\134b rw - tmpfs tmpfs rw", 1, "/a\\b", "tmpfs", false},
        MountInfoCase{"rw_is_not_ro", "50 35 0:40 / /a rw,relatime - tmpfs tmpfs ro", 1, "/a", "tmpfs", false},
        MountInfoCase{"no_separator", "50 35 0:40 / /a rw tmpfs tmpfs rw", 0, "", "", false},
        MountInfoCase{"short", "50 35", 0, "", "", false}, MountInfoCase{"empty", "", 0, "", "", false}),
    [](const ::testing::TestParamInfo<MountInfoCase>& i) { return i.param.name; });

TEST(MountInfo, ManyLines) {
  auto entries = parse_mountinfo("1 0 0:1 / / rw - ext4 a rw\n2 1 0:2 / /proc rw - proc proc rw\n");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[1].mount_point, "/proc");
  EXPECT_EQ(entries[1].source, "proc");
}

// --- the probe, on this process's own view (no container needed) ---

TEST(Probe, OpensDevNull) {
  testing::TempDir tmp("probe");
  ProbeRequest request{{{"/dev/null", "rw"}}, {}};
  ProbeReport r = run_probe(request, {"A=1"}, "", tmp.path());
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0].err, 0);
  EXPECT_EQ(r.nodes[0].type, 'c');
  EXPECT_EQ(r.nodes[0].major, 1);
  EXPECT_EQ(r.nodes[0].minor, 3);
  EXPECT_EQ(r.nodes[0].mode, 0666u);
  ASSERT_EQ(r.nodes[0].accesses.size(), 2u);
  EXPECT_EQ(r.nodes[0].accesses[0].access, 'r');
  EXPECT_EQ(r.nodes[0].accesses[0].err, 0);
  EXPECT_EQ(r.nodes[0].accesses[1].access, 'w');
  EXPECT_EQ(r.nodes[0].accesses[1].err, 0);
  EXPECT_EQ(r.environ, std::vector<std::string>{"A=1"});
}

TEST(Probe, MissingNodeAndPlainFile) {
  testing::TempDir tmp("probe");
  std::string file = tmp.path() + "/plain";
  std::ofstream(file) << "x";
  ProbeRequest request{{{tmp.path() + "/absent", "rw"}, {file, "rw"}}, {}};
  ProbeReport r = run_probe(request, {}, "", tmp.path());
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_EQ(r.nodes[0].err, ENOENT);
  EXPECT_EQ(r.nodes[1].err, 0);
  EXPECT_EQ(r.nodes[1].type, '-');
  EXPECT_TRUE(r.nodes[1].accesses.empty());  // only device nodes are opened
}

TEST(Probe, MountsFromMountinfo) {
  testing::TempDir tmp("probe");
  std::string dir = tmp.path() + "/m";
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::string mountinfo = "1 0 0:1 / / rw - ext4 a rw\n9 1 0:9 / " + dir + " ro,nosuid - tmpfs tmpfs rw\n";
  ProbeRequest request{{}, {dir, "/", tmp.path() + "/absent"}};
  ProbeReport r = run_probe(request, {}, mountinfo, tmp.path());
  ASSERT_EQ(r.mounts.size(), 3u);
  EXPECT_TRUE(r.mounts[0].mounted);
  EXPECT_TRUE(r.mounts[0].read_only);
  EXPECT_EQ(r.mounts[0].fstype, "tmpfs");
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(r.mounts[0].ino, st.st_ino);
  EXPECT_TRUE(r.mounts[1].mounted);
  EXPECT_FALSE(r.mounts[1].read_only);
  EXPECT_EQ(r.mounts[2].err, ENOENT);
  EXPECT_FALSE(r.mounts[2].mounted);
}

// --- JSON across the container boundary ---

TEST(ProbeJson, RequestRoundTrip) {
  ProbeRequest in{{{"/dev/a", "rwm"}, {"/dev/\"q\"", ""}}, {"/x", "/y z"}};
  auto out = parse_probe_request(probe_request_json(in));
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->nodes.size(), 2u);
  EXPECT_EQ(out->nodes[0].path, "/dev/a");
  EXPECT_EQ(out->nodes[0].accesses, "rwm");
  EXPECT_EQ(out->nodes[1].path, "/dev/\"q\"");
  EXPECT_EQ(out->mounts, in.mounts);
}

TEST(ProbeJson, ReportRoundTrip) {
  ProbeReport in;
  in.nodes.push_back({"/dev/a", 0, 'b', 8, 1, 0640, 0, 6, {{'r', 0}, {'w', EPERM}}});
  in.nodes.push_back({"/dev/b", ENOENT, 0, 0, 0, 0, 0, 0, {}});
  in.mounts.push_back({"/m", 0, true, "ext4", true, 42, 7});
  in.environ = {"A=1", "B=x=y"};
  auto out = parse_probe_report(probe_report_json(in));
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->nodes.size(), 2u);
  EXPECT_EQ(out->nodes[0].type, 'b');
  EXPECT_EQ(out->nodes[0].mode, 0640u);
  EXPECT_EQ(out->nodes[0].gid, 6u);
  ASSERT_EQ(out->nodes[0].accesses.size(), 2u);
  EXPECT_EQ(out->nodes[0].accesses[1].access, 'w');
  EXPECT_EQ(out->nodes[0].accesses[1].err, EPERM);
  EXPECT_EQ(out->nodes[1].err, ENOENT);
  EXPECT_EQ(out->nodes[1].type, '\0');
  ASSERT_EQ(out->mounts.size(), 1u);
  EXPECT_EQ(out->mounts[0].dev, 42u);
  EXPECT_TRUE(out->mounts[0].read_only);
  EXPECT_EQ(out->environ, in.environ);
}

TEST(ProbeJson, NotAnObject) {
  EXPECT_FALSE(parse_probe_report("[]").ok());
  EXPECT_FALSE(parse_probe_request("{").ok());
  EXPECT_FALSE(parse_hook_record("").ok());
}

// --- the hook recorder ---

TEST(HookRecorder, PassesTheExitStatusOnAndRecordsIt) {
  testing::TempDir tmp("hook");
  std::string record = tmp.path() + "/0.json";
  EXPECT_EQ(run_recorded_hook(record, "/bin/sh", {"sh", "-c", "exit 3"}), 3);
  auto r = parse_hook_record(read_all(record));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->started);
  EXPECT_TRUE(r->finished);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->signal, 0);
  EXPECT_EQ(r->error, "");
}

TEST(HookRecorder, ArgvZeroIsThePathWhenArgsAreEmpty) {
  testing::TempDir tmp("hook");
  std::string record = tmp.path() + "/0.json";
  EXPECT_EQ(run_recorded_hook(record, "/bin/true", {}), 0);
  auto r = parse_hook_record(read_all(record));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->finished);
  EXPECT_EQ(r->exit_code, 0);
}

TEST(HookRecorder, KilledBySignal) {
  testing::TempDir tmp("hook");
  std::string record = tmp.path() + "/0.json";
  EXPECT_EQ(run_recorded_hook(record, "/bin/sh", {"sh", "-c", "kill -9 $$"}), 128 + 9);
  auto r = parse_hook_record(read_all(record));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, 9);
}

TEST(HookRecorder, PathThatCannotRun) {
  testing::TempDir tmp("hook");
  std::string record = tmp.path() + "/0.json";
  EXPECT_EQ(run_recorded_hook(record, tmp.path() + "/absent", {"absent"}), 127);
  auto r = parse_hook_record(read_all(record));
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->started);
  EXPECT_FALSE(r->finished);
  EXPECT_NE(r->error.find("No such file or directory"), std::string::npos) << r->error;
}

}  // namespace
}  // namespace cdi
