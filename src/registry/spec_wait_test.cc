#include "registry/spec_wait.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "support/later.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

using Clock = SpecDirWatch::Clock;
using std::chrono::milliseconds;

using TempDir = testing::TempDir;

void write(const std::string& path, const std::string& content) { std::ofstream(path, std::ios::trunc) << content; }

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

using Later = testing::Later;

class SpecWaitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp.path().empty());
    dir = tmp.path() + "/cdi";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  }
  std::unique_ptr<SpecDirWatch> watch(std::vector<std::string> dirs) {
    auto w = SpecDirWatch::create(std::move(dirs), log);
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().to_string());
    return w.ok() ? std::move(*w) : nullptr;
  }

  TempDir tmp;
  std::string dir;
  MemoryLogger log;
};

TEST_F(SpecWaitTest, SpecFileCreatedWakesTheWait) {
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  Later writer(milliseconds(150), [&] { write(dir + "/vendor.yaml", "kind: v/c\n"); });
  auto woke = w->wait(start + milliseconds(5000));
  ASSERT_TRUE(woke.ok()) << woke.error().to_string();
  EXPECT_TRUE(*woke);
  EXPECT_GE(seconds_since(start), 0.1);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, SpecFileRenamedIntoTheDirWakesTheWait) {
  std::string elsewhere = tmp.path() + "/staging";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0755), 0);
  write(elsewhere + "/vendor.json", "{}");
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  Later mover(milliseconds(150),
              [&] { std::rename((elsewhere + "/vendor.json").c_str(), (dir + "/vendor.json").c_str()); });
  auto woke = w->wait(start + milliseconds(5000));
  ASSERT_TRUE(woke.ok());
  EXPECT_TRUE(*woke);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, TempFileRenamedToASpecNameWakesTheWait) {
  // How spec writers publish: a temporary name in the same dir, then rename.
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  write(dir + "/.vendor.yaml.tmp", "kind: v/c\n");
  auto first = w->wait(Clock::now() + milliseconds(300));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(*first) << "a temporary name is not a spec";
  auto start = Clock::now();
  Later mover(milliseconds(100),
              [&] { std::rename((dir + "/.vendor.yaml.tmp").c_str(), (dir + "/vendor.yaml").c_str()); });
  auto woke = w->wait(start + milliseconds(5000));
  ASSERT_TRUE(woke.ok());
  EXPECT_TRUE(*woke);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, SpecFileRemovedWakesTheWait) {
  write(dir + "/vendor.yaml", "x");
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  Later remover(milliseconds(100), [&] { std::remove((dir + "/vendor.yaml").c_str()); });
  auto woke = w->wait(start + milliseconds(5000));
  ASSERT_TRUE(woke.ok());
  EXPECT_TRUE(*woke);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, DirCreatedLaterTwoLevelsDeepWakesTheWait) {
  std::string parent = tmp.path() + "/run";
  std::string deep = parent + "/cdi";
  auto w = watch({deep});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  Later writer(milliseconds(100), [&] {
    ::mkdir(parent.c_str(), 0755);
    std::this_thread::sleep_for(milliseconds(100));
    ::mkdir(deep.c_str(), 0755);
    std::this_thread::sleep_for(milliseconds(100));
    write(deep + "/late.yaml", "kind: v/c\n");
  });
  // The caller's loop: look, then wait for a change. Each wake re-arms the watch.
  int wakes = 0;
  auto deadline = start + milliseconds(5000);
  while (!std::filesystem::exists(deep + "/late.yaml")) {
    auto woke = w->wait(deadline);
    ASSERT_TRUE(woke.ok()) << woke.error().to_string();
    ASSERT_TRUE(*woke) << "the deadline passed after " << wakes << " wakes";
    ++wakes;
  }
  EXPECT_GE(wakes, 1);
  EXPECT_LT(seconds_since(start), 2.0);
}

// A relative spec dir (--spec-dir late/cdi) whose first part is not there yet: the
// watch starts on "." and must follow the dirs down as they appear.
TEST_F(SpecWaitTest, RelativeDirCreatedLaterWakesTheWait) {
  int cwd = ::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(cwd, 0);
  ASSERT_EQ(::chdir(tmp.path().c_str()), 0);
  auto w = watch({"late/cdi"});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  Later writer(milliseconds(100), [&] {
    ::mkdir((tmp.path() + "/late").c_str(), 0755);
    std::this_thread::sleep_for(milliseconds(100));
    ::mkdir((tmp.path() + "/late/cdi").c_str(), 0755);
    std::this_thread::sleep_for(milliseconds(100));
    write(tmp.path() + "/late/cdi/late.yaml", "kind: v/c\n");
  });
  int wakes = 0;
  auto deadline = start + milliseconds(5000);
  while (!std::filesystem::exists(tmp.path() + "/late/cdi/late.yaml")) {
    auto woke = w->wait(deadline);
    if (!woke.ok() || !*woke) break;
    ++wakes;
  }
  // One more wake for the file itself: the watch is on late/cdi by now.
  bool file_seen = std::filesystem::exists(tmp.path() + "/late/cdi/late.yaml");
  ASSERT_EQ(::fchdir(cwd), 0);
  ::close(cwd);
  EXPECT_TRUE(file_seen) << "the deadline passed after " << wakes << " wakes";
  EXPECT_GE(wakes, 1);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, WatchingMissingDirsNeedsNoPolling) {
  std::string deep = tmp.path() + "/a/b/c";
  auto w = watch({deep});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  auto woke = w->wait(start + milliseconds(300));
  ASSERT_TRUE(woke.ok());
  EXPECT_FALSE(*woke);
  EXPECT_GE(seconds_since(start), 0.29);
}

TEST_F(SpecWaitTest, UnrelatedNamesDoNotWakeTheWait) {
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  {
    Later writer(milliseconds(50), [&] {
      write(dir + "/x.txt", "x");
      write(dir + "/spec.yml", "x");
      write(dir + "/spec.yaml.tmp", "x");
      write(tmp.path() + "/outside.yaml", "x");
    });
    auto woke = w->wait(start + milliseconds(600));
    ASSERT_TRUE(woke.ok());
    EXPECT_FALSE(*woke);
  }
  EXPECT_GE(seconds_since(start), 0.59);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, DeadlineReturnsFalseInTime) {
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  auto woke = w->wait(start + milliseconds(200));
  ASSERT_TRUE(woke.ok());
  EXPECT_FALSE(*woke);
  double took = seconds_since(start);
  EXPECT_GE(took, 0.19);
  EXPECT_LT(took, 1.0);
}

TEST_F(SpecWaitTest, PastDeadlineReturnsAtOnce) {
  auto w = watch({dir});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  auto woke = w->wait(start - milliseconds(10));
  ASSERT_TRUE(woke.ok());
  EXPECT_FALSE(*woke);
  EXPECT_LT(seconds_since(start), 0.1);
}

TEST_F(SpecWaitTest, SeveralDirsAnyOneWakes) {
  std::string second = tmp.path() + "/second";
  ASSERT_EQ(::mkdir(second.c_str(), 0755), 0);
  auto w = watch({dir, second});
  ASSERT_NE(w, nullptr);
  auto start = Clock::now();
  Later writer(milliseconds(100), [&] { write(second + "/v.json", "{}"); });
  auto woke = w->wait(start + milliseconds(5000));
  ASSERT_TRUE(woke.ok());
  EXPECT_TRUE(*woke);
  EXPECT_LT(seconds_since(start), 2.0);
}

TEST_F(SpecWaitTest, DrainSaysWhatTheEventsTouched) {
  std::string late = tmp.path() + "/run/cdi";
  auto w = watch({dir, late});
  ASSERT_NE(w, nullptr);
  DirtyPaths dirty;
  auto quiet = w->drain(dirty);
  ASSERT_TRUE(quiet.ok());
  EXPECT_FALSE(*quiet);
  EXPECT_TRUE(dirty.empty());

  write(dir + "/a.yaml", "kind: v/c\n");
  write(dir + "/notes.txt", "x");
  ASSERT_EQ(::rename((dir + "/a.yaml").c_str(), (dir + "/b.json").c_str()), 0);
  auto changed = w->drain(dirty);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(dirty.names[dir], (std::set<std::string>{"a.yaml", "b.json"}));
  EXPECT_TRUE(dirty.dirs.empty());
  EXPECT_FALSE(dirty.everything);

  dirty = {};
  ASSERT_EQ(::chmod(dir.c_str(), 0750), 0);                    // the dir itself: its trust may have changed
  ASSERT_EQ(::mkdir((tmp.path() + "/run").c_str(), 0755), 0);  // a parent of the late dir
  ASSERT_TRUE(w->drain(dirty).ok());
  EXPECT_EQ(dirty.dirs, (std::set<std::string>{dir, late}));
  EXPECT_TRUE(dirty.names.empty());

  // The drain re-armed the watch one level deeper: the late dir's creation is seen.
  dirty = {};
  ASSERT_EQ(::mkdir(late.c_str(), 0755), 0);
  write(late + "/c.yaml", "kind: v/c\n");
  ASSERT_TRUE(w->drain(dirty).ok());
  EXPECT_EQ(dirty.dirs, (std::set<std::string>{late}));
  dirty = {};
  write(late + "/d.yaml", "kind: v/c\n");
  ASSERT_TRUE(w->drain(dirty).ok());
  EXPECT_EQ(dirty.names[late], (std::set<std::string>{"d.yaml"}));
}

}  // namespace
}  // namespace cdi
