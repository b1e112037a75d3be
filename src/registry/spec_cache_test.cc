#include "registry/spec_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/later.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Clock = SpecCache::Clock;

// The real filesystem with a clock 10 s ahead, so that no file counts as
// changed within the racy second (what is read is then exactly what changed),
// counting the spec files read.
class AheadFs final : public ForwardingFs {
 public:
  AheadFs() : ForwardingFs(real_) {}
  Result<OpenedFile> read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                             const DirJudge* judge) override {
    ++reads[name];
    return ForwardingFs::read_in(dir, name, max_bytes, judge);
  }
  int64_t now_ns() const override { return ForwardingFs::now_ns() + 10'000'000'000; }
  std::map<std::string, int> reads;

 private:
  RealFs real_;
};

std::string spec_yaml(const std::string& kind, const std::vector<std::string>& devices, const std::string& tag) {
  std::string out = "cdiVersion: 0.6.0\nkind: " + kind + "\ndevices:\n";
  for (const auto& d : devices) out += "- name: " + d + "\n  containerEdits:\n    env: [FROM=" + tag + "]\n";
  return out;
}

void write(const std::string& path, const std::string& content, mode_t mode = 0644) {
  std::ofstream(path, std::ios::trunc) << content;
  ::chmod(path.c_str(), mode);
}

// Everything a scan found, one fact a line: specs, problems, definitions with status.
std::string describe(const Registry& r) {
  std::string out;
  for (const auto& s : r.specs()) {
    out += "spec " + s->path + " " + s->kind;
    for (const auto& d : s->devices) out += " " + d.name + (d.edits.env.empty() ? "" : ":" + d.edits.env[0]);
    out += "\n";
  }
  for (const auto& p : r.problems()) out += "problem " + p.path + " " + p.errors.front().to_string() + "\n";
  for (const auto& [name, defs] : r.definitions()) {
    for (const auto& d : defs) {
      out += "def " + name + " " + d.spec->path + " " + std::string(to_string(d.status));
      for (const auto& o : d.others) out += " " + o;
      out += "\n";
    }
  }
  return out;
}

class SpecCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp.path().empty());
    low = tmp.path() + "/etc-cdi";
    high = tmp.path() + "/run/cdi";  // its parent is created late too
    ASSERT_EQ(::mkdir(low.c_str(), 0755), 0);
    options.spec_dirs = {low, high};
    options.cache_dir = "";
    registry = std::make_unique<Registry>(fs, log, options);
    registry->load_all();
  }
  SpecCache& cache() {
    if (!cache_) cache_ = SpecCache::create(*registry, log, cache_options);
    return *cache_;
  }
  // The cache after a refresh must hold what a fresh full scan finds.
  void expect_fresh(const std::string& step) {
    cache().refresh();
    AheadFs fresh_fs;
    MemoryLogger fresh_log;
    Registry fresh(fresh_fs, fresh_log, options);
    fresh.load_all();
    EXPECT_EQ(describe(cache().registry()), describe(fresh)) << step;
  }

  testing::TempDir tmp{"spec-cache"};
  std::string low, high;
  AheadFs fs;
  MemoryLogger log;
  RegistryOptions options;
  SpecCacheOptions cache_options;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<SpecCache> cache_;
};

TEST_F(SpecCacheTest, EqualsAFreshScanAfterEveryKindOfChange) {
  write(low + "/a.yaml", spec_yaml("v.com/c", {"a", "shared"}, "a"));
  write(low + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  write(low + "/other.json",
        R"({"cdiVersion":"0.6.0","kind":"o.com/x","devices":[{"name":"x","containerEdits":{"env":["X=1"]}}]})");
  ASSERT_TRUE(cache().watching());
  expect_fresh("start");

  write(low + "/new.yaml", spec_yaml("v.com/c", {"new"}, "new"));
  expect_fresh("create");
  write(low + "/b.yaml", spec_yaml("v.com/c", {"b", "b2"}, "b-rewritten"));
  expect_fresh("rewrite in place");
  write(low + "/.tmp-a", spec_yaml("v.com/c", {"a", "shared"}, "a-renamed"));
  ASSERT_EQ(::rename((low + "/.tmp-a").c_str(), (low + "/a.yaml").c_str()), 0);
  expect_fresh("rename over");
  write(low + "/dup.yaml", spec_yaml("v.com/c", {"shared"}, "dup"));
  expect_fresh("same-priority conflict");
  ASSERT_EQ(::unlink((low + "/dup.yaml").c_str()), 0);
  expect_fresh("remove");
  ASSERT_EQ(::chmod((low + "/b.yaml").c_str(), 0666), 0);
  expect_fresh("chmod: untrusted");
  ASSERT_EQ(::chmod((low + "/b.yaml").c_str(), 0644), 0);
  expect_fresh("chmod: trusted again");
  write(low + "/broken.yaml", "cdiVersion: [\n");
  expect_fresh("invalid file");
  write(low + "/broken.yaml", spec_yaml("v.com/c", {"fixed"}, "fixed"));
  expect_fresh("invalid file fixed");
  ASSERT_EQ(::rename((low + "/b.yaml").c_str(), (low + "/b.txt").c_str()), 0);
  expect_fresh("renamed away to a name that is not a spec's");

  // The high-priority dir and its parent created late, then a spec in it.
  ASSERT_EQ(::mkdir((tmp.path() + "/run").c_str(), 0755), 0);
  expect_fresh("parent created late");
  ASSERT_EQ(::mkdir(high.c_str(), 0755), 0);
  expect_fresh("dir created late");
  write(high + "/a.yaml", spec_yaml("v.com/c", {"a"}, "high"));
  expect_fresh("a spec in the late dir shadows one");
  ASSERT_EQ(::chmod(high.c_str(), 0777), 0);
  expect_fresh("dir made untrusted");
  ASSERT_EQ(::chmod(high.c_str(), 0755), 0);
  expect_fresh("dir trusted again");
  std::filesystem::remove_all(high);
  expect_fresh("dir removed");
  ASSERT_EQ(::mkdir(high.c_str(), 0755), 0);
  write(high + "/z.yaml", spec_yaml("v.com/c", {"z"}, "z"));
  expect_fresh("dir created again with a spec");
  std::filesystem::rename(tmp.path() + "/run", tmp.path() + "/run-gone");
  expect_fresh("parent moved away");
  std::filesystem::rename(tmp.path() + "/run-gone", tmp.path() + "/run");
  expect_fresh("parent moved back");
  EXPECT_TRUE(registry->resolve("v.com/c=z").ok());
}

TEST_F(SpecCacheTest, ReadsOnlyTheFilesThatChanged) {
  for (int i = 0; i < 5; ++i)
    write(low + "/s" + std::to_string(i) + ".yaml", spec_yaml("v.com/c", {"d" + std::to_string(i)}, "1"));
  cache();
  EXPECT_EQ(fs.reads["s3.yaml"], 1);
  fs.reads.clear();
  cache().refresh();
  EXPECT_TRUE(fs.reads.empty()) << "nothing changed, nothing read";

  write(low + "/s3.yaml", spec_yaml("v.com/c", {"d3"}, "2"));
  ::chmod((low + "/s1.yaml").c_str(), 0640);  // another identity: read again (and judged again)
  write(low + "/s9.yaml", spec_yaml("v.com/c", {"d9"}, "1"));
  cache().refresh();
  EXPECT_EQ(fs.reads, (std::map<std::string, int>{{"s1.yaml", 1}, {"s3.yaml", 1}, {"s9.yaml", 1}}));
  auto def = registry->resolve("v.com/c=d3");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->device->edits.env[0], "FROM=2");
}

TEST_F(SpecCacheTest, ASpecReachedThroughALinkIsLookedAtOnEveryRefresh) {
  // The link's target lives in a dir the cache does not watch (under /tmp,
  // which the trust rules refuse on a link's way: they are not tested here).
  options.check_permissions = false;
  registry = std::make_unique<Registry>(fs, log, options);
  std::string vendor = tmp.path() + "/vendor";
  ASSERT_EQ(::mkdir(vendor.c_str(), 0755), 0);
  write(vendor + "/spec.yaml", spec_yaml("v.com/c", {"linked"}, "1"));
  ASSERT_EQ(::symlink((vendor + "/spec.yaml").c_str(), (low + "/linked.yaml").c_str()), 0);
  cache();
  auto tag = [&] {
    auto def = registry->resolve("v.com/c=linked");
    return def.ok() ? def->device->edits.env[0] : def.error().to_string();
  };
  ASSERT_EQ(tag(), "FROM=1");
  write(vendor + "/spec.yaml", spec_yaml("v.com/c", {"linked"}, "2-longer"));
  expect_fresh("the target rewritten, no event in the spec dir");
  EXPECT_EQ(tag(), "FROM=2-longer");
  fs.reads.clear();
  cache().refresh();
  EXPECT_TRUE(fs.reads.empty()) << "looked at (a stat), not read again while unchanged";
}

TEST_F(SpecCacheTest, TellsWhatChanged) {
  cache_options.track_changes = true;
  write(low + "/a.yaml", spec_yaml("v.com/c", {"a", "gone"}, "a"));
  write(low + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  cache();
  write(low + "/a.yaml", spec_yaml("v.com/c", {"a", "new"}, "a2"));
  write(low + "/b.yaml", "cdiVersion: [\n");
  write(low + "/c.yaml", spec_yaml("v.com/c", {"a"}, "c"));
  SpecChanges c = cache().refresh();
  EXPECT_THAT(c.files_added, ElementsAre(low + "/c.yaml"));
  EXPECT_THAT(c.files_changed, ElementsAre(low + "/a.yaml", low + "/b.yaml"));
  EXPECT_THAT(c.files_invalid, ElementsAre(low + "/b.yaml"));
  EXPECT_TRUE(c.files_removed.empty());
  EXPECT_THAT(c.devices_added, ElementsAre("v.com/c=new"));
  EXPECT_THAT(c.devices_removed, ElementsAre("v.com/c=b", "v.com/c=gone"));
  EXPECT_THAT(c.devices_changed, ElementsAre("v.com/c=a"));  // now a conflict of a.yaml and c.yaml
  ASSERT_EQ(::unlink((low + "/c.yaml").c_str()), 0);
  c = cache().refresh();
  EXPECT_THAT(c.files_removed, ElementsAre(low + "/c.yaml"));
  EXPECT_THAT(c.devices_changed, ElementsAre("v.com/c=a"));
  EXPECT_TRUE(cache().refresh().empty());
}

TEST_F(SpecCacheTest, ResolveWaitsForALateSpec) {
  cache();
  auto start = Clock::now();
  testing::Later writer(milliseconds(150), [&] { write(low + "/late.yaml", spec_yaml("v.com/c", {"late"}, "l")); });
  Resolution r = cache().resolve({"v.com/c=late"}, start + milliseconds(5000));
  ASSERT_TRUE(r.complete()) << r.errors.front().to_string();
  EXPECT_EQ(r.devices[0].qualified_name(), "v.com/c=late");
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
  Resolution missing = cache().resolve({"v.com/c=never"}, Clock::now() + milliseconds(100));
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0].device, "v.com/c=never");
}

TEST_F(SpecCacheTest, ResolvingAnotherKindReadsTheFilesSkippedForIt) {
  write(low + "/a.yaml", spec_yaml("a.com/x", {"d"}, "a"));
  write(low + "/b.yaml", spec_yaml("b.com/y", {"d"}, "b"));
  registry = std::make_unique<Registry>(fs, log, options);
  registry->load({"a.com/x"});
  EXPECT_EQ(fs.reads["b.yaml"], 1);  // its kind peeked, not kept
  Resolution r = cache().resolve({"b.com/y=d"}, Clock::now());
  ASSERT_TRUE(r.complete()) << r.errors.front().to_string();
  EXPECT_EQ(r.devices[0].device->edits.env[0], "FROM=b");
  EXPECT_TRUE(cache().resolve({"a.com/x=d"}, Clock::now()).complete());
}

// Every kind a request names is read, whatever the order of its names: names
// of one kind together, kinds taking turns, a name that does not parse first.
TEST_F(SpecCacheTest, ResolvingReadsTheKindOfEveryNameThatParses) {
  write(low + "/a.yaml", spec_yaml("a.com/x", {"d", "e"}, "a"));
  write(low + "/b.yaml", spec_yaml("b.com/y", {"d"}, "b"));
  registry = std::make_unique<Registry>(fs, log, options);
  registry->load({"c.com/z"});
  Resolution r = cache().resolve({"b.com/y=bad_", "b.com/y=d", "a.com/x=d", "a.com/x=e", "b.com/y=d"}, Clock::now());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].device, "b.com/y=bad_");
  ASSERT_EQ(r.devices.size(), 4u);
  EXPECT_EQ(r.devices[0].qualified_name(), "b.com/y=d");
  EXPECT_EQ(r.devices[2].qualified_name(), "a.com/x=e");
}

// A watch factory that fails as inotify_init1 does when the user's inotify
// instances are used up.
Result<std::unique_ptr<SpecWatch>> no_inotify(const std::vector<std::string>&, Logger&) {
  return system_error("inotify_init1", EMFILE);
}

TEST_F(SpecCacheTest, WithoutInotifyRescansOnATimerAndSaysSoOnce) {
  cache_options.watch_factory = no_inotify;
  cache_options.rescan_interval = milliseconds(50);
  ASSERT_FALSE(cache().watching());
  EXPECT_EQ(cache().fd(), -1);
  auto start = Clock::now();
  testing::Later writer(milliseconds(200), [&] { write(low + "/late.yaml", spec_yaml("v.com/c", {"late"}, "l")); });
  Resolution r = cache().resolve({"v.com/c=late"}, start + milliseconds(5000));
  ASSERT_TRUE(r.complete()) << r.errors.front().to_string();
  EXPECT_LT(Clock::now() - start, milliseconds(3000));
  int said = 0;
  for (const auto& e : log.entries) {
    if (e.level == LogLevel::info && e.message.find("cannot watch the spec dirs") != std::string::npos) {
      ++said;
      EXPECT_THAT(e.message, HasSubstr("Too many open files"));
    }
  }
  EXPECT_EQ(said, 1);
  EXPECT_FALSE(log.contains(LogLevel::warn, "inotify"));
  expect_fresh("rescanned without a watch");
}

// A watch whose events are scripted: shows that a flood of events is taken in
// one look, and that events naming nothing of interest cause no scan.
class ScriptedWatch final : public SpecWatch {
 public:
  explicit ScriptedWatch(int* drains) : drains_(drains) {}
  int fd() const override { return -1; }
  Result<bool> drain(DirtyPaths&) override {
    ++*drains_;
    return false;
  }

 private:
  int* drains_;
};

TEST_F(SpecCacheTest, QuietWatchMeansNoScan) {
  int drains = 0;
  cache_options.watch_factory = [&](const std::vector<std::string>&, Logger&) -> Result<std::unique_ptr<SpecWatch>> {
    return std::unique_ptr<SpecWatch>(new ScriptedWatch(&drains));
  };
  write(low + "/a.yaml", spec_yaml("v.com/c", {"a"}, "a"));
  cache();
  fs.reads.clear();
  write(low + "/a.yaml", spec_yaml("v.com/c", {"a"}, "changed but unseen"));
  cache().refresh();
  EXPECT_GE(drains, 2);
  EXPECT_TRUE(fs.reads.empty()) << "without an event nothing is looked at again";
}

}  // namespace
}  // namespace cdi
