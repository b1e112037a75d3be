#include "base/watched_stat.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace cdi {
namespace {

// The real filesystem, counting the stat and lstat calls that reach it.
class CountingFs final : public ForwardingFs {
 public:
  explicit CountingFs(Fs& inner) : ForwardingFs(inner) {}
  Result<FileStat> stat(const std::string& path) override {
    ++calls;
    return ForwardingFs::stat(path);
  }
  Result<FileStat> lstat(const std::string& path) override {
    ++calls;
    return ForwardingFs::lstat(path);
  }
  int calls = 0;
};

// What a fresh stat(2) says, in a form two answers can be compared by.
std::string describe(const Result<FileStat>& r) {
  if (!r.ok()) return "error errno=" + std::to_string(r.error().sys_errno);
  const FileStat& s = *r;
  return "mode=" + std::to_string(s.mode) + " uid=" + std::to_string(s.uid) + " gid=" + std::to_string(s.gid) +
         " ino=" + std::to_string(s.ino) + " rdev=" + std::to_string(s.rdev);
}

class WatchedStatTest : public ::testing::Test {
 public:  // the change cases below act through these
  void SetUp() override {
    ASSERT_TRUE(real_fs.stat(base).ok());
    ASSERT_TRUE(watched.caching()) << "inotify or /proc/self/mountinfo is missing";
  }
  std::string path(const std::string& rel) const { return base + "/" + rel; }
  void file(const std::string& rel, mode_t mode = 0644) {
    std::ofstream(path(rel)) << "x";
    ASSERT_EQ(::chmod(path(rel).c_str(), mode), 0);
  }
  void dir(const std::string& rel) { ASSERT_EQ(::mkdir(path(rel).c_str(), 0755), 0); }
  // The watched answer after refresh() is the fresh one.
  void expect_fresh(const std::string& rel) {
    watched.refresh();
    EXPECT_EQ(describe(watched.stat(path(rel))), describe(real_fs.stat(path(rel)))) << rel;
  }

  testing::TempDir tmp{"watched-stat"};
  // Canonical: a temp dir reached through a symbolic link would never be kept.
  std::string base = std::filesystem::canonical(tmp.path()).string();
  RealFs real_fs;
  CountingFs counting{real_fs};
  WatchedStatFs watched{counting};
};

TEST_F(WatchedStatTest, AnswersAKeptPathFromMemory) {
  dir("d");
  file("d/node", 0600);
  auto first = watched.stat(path("d/node"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(describe(first), describe(real_fs.stat(path("d/node"))));
  int after_first = counting.calls;
  for (int i = 0; i < 3; ++i) {
    watched.refresh();
    EXPECT_EQ(describe(watched.stat(path("d/node"))), describe(first));
  }
  EXPECT_EQ(counting.calls, after_first) << "a kept path was stat'ed again";
  EXPECT_EQ(watched.paths(), 1u);
}

TEST_F(WatchedStatTest, AChangeNextToAKeptPathKeepsIt) {
  dir("d");
  file("d/node");
  ASSERT_TRUE(watched.stat(path("d/node")).ok());
  int calls = counting.calls;
  file("d/other");
  ASSERT_EQ(::rename(path("d/other").c_str(), path("d/other2").c_str()), 0);
  ASSERT_EQ(::unlink(path("d/other2").c_str()), 0);
  dir("sibling");
  expect_fresh("d/node");
  EXPECT_EQ(counting.calls, calls) << "a change to another name dropped the path";
}

// Each change is made after the path is kept; the answer after refresh() must
// be a fresh stat's.
struct ChangeCase {
  const char* name;
  std::function<void(WatchedStatTest&)> change;
};

class WatchedStatChange : public WatchedStatTest, public ::testing::WithParamInterface<ChangeCase> {};

TEST_P(WatchedStatChange, IsSeenAfterRefresh) {
  dir("a");
  dir("a/b");
  dir("elsewhere");
  file("a/b/node", 0600);
  ASSERT_TRUE(watched.stat(path("a/b/node")).ok());
  watched.refresh();
  GetParam().change(*this);
  expect_fresh("a/b/node");
  // And kept again afterwards, with the new answer.
  expect_fresh("a/b/node");
}

void chmod_to(const std::string& p, mode_t mode) { ASSERT_EQ(::chmod(p.c_str(), mode), 0); }
void rename_to(const std::string& from, const std::string& to) { ASSERT_EQ(::rename(from.c_str(), to.c_str()), 0); }

const ChangeCase kChanges[] = {
    {"ModeChanged", [](WatchedStatTest& t) { chmod_to(t.path("a/b/node"), 0640); }},
    {"OwnerChanged",
     [](WatchedStatTest& t) {
       // As root any owner; otherwise the file's own group again (a chown all the same).
       uid_t uid = ::geteuid() == 0 ? 1234 : ::geteuid();
       ASSERT_EQ(::chown(t.path("a/b/node").c_str(), uid, ::getegid()), 0);
     }},
    {"ModeChangedThroughAHardLinkElsewhere",
     [](WatchedStatTest& t) {
       ASSERT_EQ(::link(t.path("a/b/node").c_str(), t.path("elsewhere/alias").c_str()), 0);
       chmod_to(t.path("elsewhere/alias"), 0444);
     }},
    {"RenamedOver",
     [](WatchedStatTest& t) {
       t.file("elsewhere/new", 0604);
       rename_to(t.path("elsewhere/new"), t.path("a/b/node"));
     }},
    {"Removed", [](WatchedStatTest& t) { ASSERT_EQ(::unlink(t.path("a/b/node").c_str()), 0); }},
    {"ReplacedByAFifo",
     [](WatchedStatTest& t) {
       ASSERT_EQ(::unlink(t.path("a/b/node").c_str()), 0);
       ASSERT_EQ(::mkfifo(t.path("a/b/node").c_str(), 0600), 0);
     }},
    {"ReplacedByASymlink",
     [](WatchedStatTest& t) {
       t.file("elsewhere/target", 0611);
       ASSERT_EQ(::unlink(t.path("a/b/node").c_str()), 0);
       ASSERT_EQ(::symlink(t.path("elsewhere/target").c_str(), t.path("a/b/node").c_str()), 0);
     }},
    {"ParentMovedAndAnotherMadeInItsPlace",
     [](WatchedStatTest& t) {
       rename_to(t.path("a/b"), t.path("elsewhere/b"));
       t.dir("a/b");
       t.file("a/b/node", 0755);
     }},
    {"GrandparentMovedAndAnotherMadeInItsPlace",
     [](WatchedStatTest& t) {
       rename_to(t.path("a"), t.path("elsewhere/a"));
       t.dir("a");
       t.dir("a/b");
       t.file("a/b/node", 0700);
     }},
    {"ParentReplacedByASymlinkToAnotherDir",
     [](WatchedStatTest& t) {
       rename_to(t.path("a/b"), t.path("elsewhere/old"));
       t.dir("elsewhere/b");
       t.file("elsewhere/b/node", 0701);
       ASSERT_EQ(::symlink(t.path("elsewhere/b").c_str(), t.path("a/b").c_str()), 0);
     }},
    {"MovedAwayThenBack",
     [](WatchedStatTest& t) {
       rename_to(t.path("a/b/node"), t.path("elsewhere/node"));
       chmod_to(t.path("elsewhere/node"), 0444);
       rename_to(t.path("elsewhere/node"), t.path("a/b/node"));
     }},
};

INSTANTIATE_TEST_SUITE_P(Changes, WatchedStatChange, ::testing::ValuesIn(kChanges),
                         [](const auto& info) { return std::string(info.param.name); });

TEST_F(WatchedStatTest, APathThroughASymlinkIsNeverKept) {
  dir("real");
  file("real/node", 0600);
  ASSERT_EQ(::symlink(path("real").c_str(), path("link").c_str()), 0);
  ASSERT_EQ(::symlink(path("real/node").c_str(), path("nodelink").c_str()), 0);
  for (const char* rel : {"link/node", "nodelink"}) {
    ASSERT_TRUE(watched.stat(path(rel)).ok()) << rel;
    int calls = counting.calls;
    chmod_to(path("real/node"), 0640);  // seen without refresh(): nothing was kept
    EXPECT_EQ(describe(watched.stat(path(rel))), describe(real_fs.stat(path(rel)))) << rel;
    EXPECT_GT(counting.calls, calls) << rel << " was answered from memory";
    chmod_to(path("real/node"), 0600);
  }
  EXPECT_EQ(watched.paths(), 0u);
}

TEST_F(WatchedStatTest, FailuresAndUncleanPathsAreNotKept) {
  EXPECT_FALSE(watched.stat(path("missing")).ok());
  file("missing");
  EXPECT_TRUE(watched.stat(path("missing")).ok()) << "a failure was kept";
  dir("d");
  file("d/f");
  for (const std::string& p : {path("d/../d/f"), path("d//f"), path("d/./f"), std::string("relative")}) {
    int calls = counting.calls;
    (void)watched.stat(p);
    (void)watched.stat(p);
    EXPECT_EQ(counting.calls, calls + 2) << p << " was kept";
  }
}

TEST_F(WatchedStatTest, BeyondItsWatchesItForwards) {
  WatchedStatFs small(counting, /*max_watches=*/2);
  dir("d");
  file("d/f");
  for (int i = 0; i < 2; ++i) {
    int calls = counting.calls;
    EXPECT_EQ(describe(small.stat(path("d/f"))), describe(real_fs.stat(path("d/f"))));
    EXPECT_GT(counting.calls, calls);
  }
  EXPECT_EQ(small.paths(), 0u);
  EXPECT_LE(small.watches(), 2u);
}

TEST_F(WatchedStatTest, DroppedPathsGiveUpTheirWatches) {
  dir("d");
  for (int i = 0; i < 20; ++i) {
    file("d/f");
    ASSERT_TRUE(watched.stat(path("d/f")).ok());
    ASSERT_EQ(::unlink(path("d/f").c_str()), 0);
    watched.refresh();
  }
  // The dirs from / down to d, and at most the last file: not one per round.
  size_t depth = static_cast<size_t>(std::count(base.begin(), base.end(), '/')) + 1;
  EXPECT_LE(watched.watches(), depth + 1);
}

// A mount over a dir on the way is no inotify event: the mount table's signal
// drops what was kept. In a child with its own mount namespace (needs root).
TEST_F(WatchedStatTest, AMountOnTheWayIsSeen) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount";
  dir("d");
  file("d/node");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(10);
    RealFs fs;
    WatchedStatFs w(fs);
    if (!w.caching() || !w.stat(path("d/node")).ok()) _exit(11);
    if (::mount("tmpfs", path("d").c_str(), "tmpfs", 0, nullptr) != 0) _exit(12);
    w.refresh();
    bool gone = !w.stat(path("d/node")).ok();
    ::umount(path("d").c_str());
    w.refresh();
    bool back = w.stat(path("d/node")).ok();
    _exit(gone && back ? 0 : 13);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: unshare, 11: no first stat, 12: mount, 13: the mount was not seen";
}

}  // namespace
}  // namespace cdi
