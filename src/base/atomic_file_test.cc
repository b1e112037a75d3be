#include "base/atomic_file.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/logger.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

using TempDir = testing::TempDir;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& content, mode_t mode) {
  std::ofstream(path, std::ios::trunc) << content;
  ::chmod(path.c_str(), mode);
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

class AtomicFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp.path().empty()); }
  std::string path(const std::string& name) const { return tmp.path() + "/" + name; }
  TempDir tmp;
};

TEST_F(AtomicFileTest, ReplacesContentAndKeepsMode) {
  std::string f = path("config.json");
  spit(f, "old content that is longer than the new one", 0640);
  struct stat before {};
  ASSERT_EQ(::stat(f.c_str(), &before), 0);
  ASSERT_TRUE(write_file_atomic(f, "{}\n").ok());
  EXPECT_EQ(slurp(f), "{}\n");
  EXPECT_EQ(mode_of(f), 0640u);
  struct stat after {};
  ASSERT_EQ(::stat(f.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino) << "replaced by rename, not rewritten in place";
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.json"});
}

TEST_F(AtomicFileTest, NewFileIs0644WhateverTheUmask) {
  mode_t old = ::umask(077);
  Status st = write_file_atomic(path("new"), "x");
  ::umask(old);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(slurp(path("new")), "x");
  EXPECT_EQ(mode_of(path("new")), 0644u);
}

TEST_F(AtomicFileTest, ExplicitModeWins) {
  spit(path("f"), "a", 0644);
  AtomicWriteOptions o;
  o.mode = 0600;
  o.durable = false;
  ASSERT_TRUE(write_file_atomic(path("f"), "b", o).ok());
  EXPECT_EQ(mode_of(path("f")), 0600u);
  EXPECT_EQ(slurp(path("f")), "b");
}

TEST_F(AtomicFileTest, SpecialModeBitsKept) {
  spit(path("f"), "a", 0750);
  ::chmod(path("f").c_str(), 02750);
  ASSERT_TRUE(write_file_atomic(path("f"), "b").ok());
  EXPECT_EQ(mode_of(path("f")), 02750u);
}

TEST_F(AtomicFileTest, EmptyContent) {
  spit(path("f"), "something", 0644);
  ASSERT_TRUE(write_file_atomic(path("f"), "").ok());
  EXPECT_EQ(slurp(path("f")), "");
  EXPECT_TRUE(std::filesystem::exists(path("f")));
}

TEST_F(AtomicFileTest, OwnerKept) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
  spit(path("f"), "a", 0644);
  ASSERT_EQ(::chown(path("f").c_str(), 1234, 5678), 0);
  ASSERT_TRUE(write_file_atomic(path("f"), "b").ok());
  struct stat st {};
  ASSERT_EQ(::stat(path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1234u);
  EXPECT_EQ(st.st_gid, 5678u);
  AtomicWriteOptions o;
  o.keep_owner = false;
  ASSERT_TRUE(write_file_atomic(path("f"), "c", o).ok());
  ASSERT_EQ(::stat(path("f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_F(AtomicFileTest, SymlinkIsRefusedNeitherFollowedNorReplaced) {
  // Following it would rewrite another file (taking its owner and mode); replacing it would turn the
  // link into a file. Neither: the link and its target stay as they are.
  spit(path("target"), "target", 0600);
  std::filesystem::create_symlink(path("target"), path("link"));
  Status st = write_file_atomic(path("link"), "new");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "\"" + path("link") + "\" is a symbolic link; only a regular file is replaced");
  EXPECT_EQ(slurp(path("target")), "target");
  EXPECT_TRUE(std::filesystem::is_symlink(path("link")));
  EXPECT_EQ(names_in(tmp.path()), (std::vector<std::string>{"link", "target"}));
}

TEST_F(AtomicFileTest, MissingDirFails) {
  Status st = write_file_atomic(path("no/such/dir/f"), "x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().sys_errno, ENOENT);
  EXPECT_NE(st.error().message.find("create temporary file in"), std::string::npos) << st.error().message;
  EXPECT_TRUE(names_in(tmp.path()).empty());
}

TEST_F(AtomicFileTest, DirectoryTargetRefused) {
  std::filesystem::create_directory(path("d"));
  Status st = write_file_atomic(path("d"), "x");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("is not a regular file"), std::string::npos) << st.error().message;
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"d"});
}

// Runs f in a child process and returns its exit status (the child's exit code, or -1).
template <class F>
int in_child(F f) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(f());
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST_F(AtomicFileTest, UnwritableDirLeavesTheOriginal) {
  // As an unprivileged user, in a root-owned 0755 dir: the temp file cannot be created.
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch to an unprivileged user";
  spit(path("config.json"), "original", 0666);
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  int rc = in_child([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 10;
    Status st = write_file_atomic(path("config.json"), "replaced");
    if (st.ok()) return 11;
    return st.error().sys_errno == EACCES ? 0 : 12;
  });
  EXPECT_EQ(rc, 0) << "10: setuid failed, 11: the write succeeded, 12: another error";
  EXPECT_EQ(slurp(path("config.json")), "original");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.json"});
}

TEST_F(AtomicFileTest, FailedWriteLeavesTheOriginalAndNoTempFile) {
  // A file size limit makes write() fail after the temp file exists.
  spit(path("config.json"), "original", 0644);
  std::string big(64 * 1024, 'x');
  int rc = in_child([&] {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {};
    lim.rlim_cur = 1024;
    lim.rlim_max = RLIM_INFINITY;
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return 10;
    Status st = write_file_atomic(path("config.json"), big);
    if (st.ok()) return 11;
    return st.error().sys_errno == EFBIG ? 0 : 12;
  });
  EXPECT_EQ(rc, 0) << "10: setrlimit failed, 11: the write succeeded, 12: another error";
  EXPECT_EQ(slurp(path("config.json")), "original");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.json"});
}

// ---- changed <=> success, with a fault at each step ------------------------------

struct FaultCase {
  const char* name;
  const char* step;
  bool o_tmpfile;  // false: the filesystem refuses O_TMPFILE (a named temporary file)
  bool changed;    // the write succeeds (and warns) only when the fault comes after the rename
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class AtomicFileFaultTest : public AtomicFileTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(AtomicFileFaultTest, ChangedIffSuccess) {
  const FaultCase& c = GetParam();
  spit(path("config.json"), "original", 0640);
  MemoryLogger log;
  AtomicWriteOptions o;
  o.logger = &log;
  o.fault = [&](std::string_view step) {
    if (!c.o_tmpfile && step == "create") return EOPNOTSUPP;
    return step == c.step ? EIO : 0;
  };
  Status st = write_file_atomic(path("config.json"), "replaced", o);
  EXPECT_EQ(st.ok(), c.changed) << (st.ok() ? "ok" : st.error().to_string());
  EXPECT_EQ(slurp(path("config.json")), c.changed ? "replaced" : "original");
  EXPECT_EQ(mode_of(path("config.json")), 0640u);
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"config.json"}) << "no temporary file left";
  if (c.changed) {
    EXPECT_EQ(log.contains(LogLevel::warn, "was replaced, but the directory could not be synced"),
              std::string_view(c.step) == "fsync-dir");
  } else {
    EXPECT_EQ(st.error().sys_errno, EIO);
    EXPECT_TRUE(log.entries.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, AtomicFileFaultTest,
    ::testing::Values(FaultCase{"create", "create", true, false}, FaultCase{"write", "write", true, false},
                      FaultCase{"chmod", "chmod", true, false}, FaultCase{"fsync", "fsync", true, false},
                      FaultCase{"link", "link", true, false}, FaultCase{"rename", "rename", true, false},
                      FaultCase{"fsync_dir", "fsync-dir", true, true}, FaultCase{"named_write", "write", false, false},
                      FaultCase{"named_fsync", "fsync", false, false},
                      FaultCase{"named_rename", "rename", false, false},
                      FaultCase{"named_fsync_dir", "fsync-dir", false, true}, FaultCase{"none", "", true, true},
                      FaultCase{"named_none", "", false, true}),
    [](const ::testing::TestParamInfo<FaultCase>& i) { return i.param.name; });

TEST_F(AtomicFileTest, TemporaryFileHasNoNameUntilTheCommit) {
  spit(path("config.json"), "original", 0644);
  std::vector<std::vector<std::string>> seen;
  AtomicWriteOptions o;
  o.fault = [&](std::string_view step) {
    if (step == "fsync" || step == "rename") seen.push_back(names_in(tmp.path()));
    return 0;
  };
  ASSERT_TRUE(write_file_atomic(path("config.json"), "replaced", o).ok());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], std::vector<std::string>{"config.json"}) << "written and synced without a name";
  ASSERT_EQ(seen[1].size(), 2u) << "linked under a temporary name just before the rename";
  EXPECT_TRUE(seen[1][0].starts_with(".config.json.cdi-hook-" + std::to_string(::getpid()) + "-")) << seen[1][0];
}

TEST_F(AtomicFileTest, DeadWritersTemporaryFilesAreRemoved) {
  spit(path("config.json"), "original", 0644);
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ASSERT_GT(dead, 0);
  ASSERT_EQ(::waitpid(dead, nullptr, 0), dead);
  std::string dead_file = ".config.json.cdi-hook-" + std::to_string(dead) + "-123";
  std::string live_file = ".config.json.cdi-hook-" + std::to_string(::getpid()) + "-456";
  spit(path(dead_file), "left by a killed writer", 0644);
  spit(path(live_file), "a writer still at work", 0644);
  spit(path(".other.json.cdi-hook-" + std::to_string(dead) + "-1"), "another target's", 0644);
  ASSERT_TRUE(write_file_atomic(path("config.json"), "replaced").ok());
  EXPECT_EQ(names_in(tmp.path()),
            (std::vector<std::string>{".config.json.cdi-hook-" + std::to_string(::getpid()) + "-456",
                                      ".other.json.cdi-hook-" + std::to_string(dead) + "-1", "config.json"}));
}

TEST_F(AtomicFileTest, ReadFileOrStdin) {
  spit(path("f"), "content", 0644);
  auto r = read_file_or_stdin(path("f"), 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "content");
  EXPECT_FALSE(read_file_or_stdin(path("f"), 3).ok());
  EXPECT_FALSE(read_file_or_stdin(path("missing"), 100).ok());
}

}  // namespace
}  // namespace cdi
