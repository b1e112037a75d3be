#include "registry/kind_index.h"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "support/fake_fs.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kNow = 1'700'000'000 * kSecond;

// The real filesystem with a clock the test sets.
class ClockFs final : public ForwardingFs {
 public:
  ClockFs() : ForwardingFs(real_) {}
  int64_t now_ns() const override { return now; }

  int64_t now = kNow;

 private:
  RealFs real_;
};

using TempDir = testing::TempDir;

// A settled file: last changed ten seconds before kNow.
FileStat settled(uint64_t ino = 7, int64_t size = 100) {
  FileStat st;
  st.mode = S_IFREG | 0644;
  st.dev = 42;
  st.ino = ino;
  st.size = size;
  st.mtime_ns = kNow - 10 * kSecond;
  st.ctime_ns = kNow - 10 * kSecond;
  return st;
}

const std::string kDir = "/etc/cdi";

class KindIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp.path().empty()); }
  std::string cache() const { return tmp.path() + "/cache"; }
  std::string read_index(const KindIndex& index) const {
    std::ifstream in(index.index_path(kDir));
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  TempDir tmp;
  ClockFs fs;
  MemoryLogger log;
};

struct IdentityCase {
  const char* name;
  std::function<void(FileStat&)> change;
};

void PrintTo(const IdentityCase& c, std::ostream* os) { *os << c.name; }

class KindIndexIdentityTest : public KindIndexTest, public ::testing::WithParamInterface<IdentityCase> {};

TEST_P(KindIndexIdentityTest, AnyChangeMisses) {
  KindIndex index(fs, log, cache());
  FileStat st = settled();
  index.record(kDir, "a.yaml", st, "vendor.com/gpu");
  EXPECT_EQ(index.lookup(kDir, "a.yaml", st), std::optional<std::string>("vendor.com/gpu"));
  FileStat changed = st;
  GetParam().change(changed);
  EXPECT_EQ(index.lookup(kDir, "a.yaml", changed), std::nullopt);
  // The same holds for an index read back from disk.
  index.save();
  KindIndex reloaded(fs, log, cache());
  EXPECT_EQ(reloaded.lookup(kDir, "a.yaml", st), std::optional<std::string>("vendor.com/gpu"));
  EXPECT_EQ(reloaded.lookup(kDir, "a.yaml", changed), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Table, KindIndexIdentityTest,
                         ::testing::Values(IdentityCase{"dev", [](FileStat& s) { s.dev += 1; }},
                                           IdentityCase{"ino", [](FileStat& s) { s.ino += 1; }},
                                           IdentityCase{"size", [](FileStat& s) { s.size += 1; }},
                                           IdentityCase{"mtime", [](FileStat& s) { s.mtime_ns += 1; }},
                                           IdentityCase{"ctime", [](FileStat& s) { s.ctime_ns += 1; }},
                                           IdentityCase{"mtime_back", [](FileStat& s) { s.mtime_ns -= kSecond; }}),
                         [](const ::testing::TestParamInfo<IdentityCase>& i) { return i.param.name; });

TEST_F(KindIndexTest, OtherNamesAndDirsMiss) {
  KindIndex index(fs, log, cache());
  index.record(kDir, "a.yaml", settled(), "v/c");
  EXPECT_EQ(index.lookup(kDir, "b.yaml", settled()), std::nullopt);
  EXPECT_EQ(index.lookup("/var/run/cdi", "a.yaml", settled()), std::nullopt);
  EXPECT_NE(index.index_path(kDir), index.index_path("/var/run/cdi"));
}

struct RacyCase {
  const char* name;
  int64_t mtime_age_ns;
  int64_t ctime_age_ns;
  bool recorded;
};

void PrintTo(const RacyCase& c, std::ostream* os) { *os << c.name; }

class KindIndexRacyTest : public KindIndexTest, public ::testing::WithParamInterface<RacyCase> {};

TEST_P(KindIndexRacyTest, RecentChangesAreNotRecorded) {
  KindIndex index(fs, log, cache());
  FileStat st = settled();
  st.mtime_ns = kNow - GetParam().mtime_age_ns;
  st.ctime_ns = kNow - GetParam().ctime_age_ns;
  index.record(kDir, "a.yaml", st, "v/c");
  EXPECT_EQ(index.lookup(kDir, "a.yaml", st).has_value(), GetParam().recorded);
}

INSTANTIATE_TEST_SUITE_P(Table, KindIndexRacyTest,
                         ::testing::Values(RacyCase{"old", 10 * kSecond, 10 * kSecond, true},
                                           RacyCase{"just_over_a_second", kSecond + 1, kSecond + 1, true},
                                           RacyCase{"half_a_second", kSecond / 2, kSecond / 2, false},
                                           RacyCase{"ctime_recent", 10 * kSecond, kSecond / 2, false},
                                           RacyCase{"mtime_recent", kSecond / 2, 10 * kSecond, false},
                                           RacyCase{"in_the_future", -5 * kSecond, -5 * kSecond, false}),
                         [](const ::testing::TestParamInfo<RacyCase>& i) { return i.param.name; });

TEST_F(KindIndexTest, RacyRecordForgetsAnOlderEntry) {
  KindIndex index(fs, log, cache());
  FileStat st = settled();
  index.record(kDir, "a.yaml", st, "old/kind");
  FileStat fresh = st;
  fresh.mtime_ns = fresh.ctime_ns = kNow;  // rewritten just now, same identity otherwise
  index.record(kDir, "a.yaml", fresh, "new/kind");
  EXPECT_EQ(index.lookup(kDir, "a.yaml", st), std::nullopt);
  EXPECT_EQ(index.lookup(kDir, "a.yaml", fresh), std::nullopt);
}

TEST_F(KindIndexTest, UnstorableEntriesAreNotRecorded) {
  KindIndex index(fs, log, cache());
  index.record(kDir, "a.yaml", settled(), "has space");
  index.record(kDir, "b\n.yaml", settled(), "v/c");
  index.record(kDir, "c.yaml", settled(), "");
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled()), std::nullopt);
  EXPECT_EQ(index.lookup(kDir, "b\n.yaml", settled()), std::nullopt);
  EXPECT_EQ(index.lookup(kDir, "c.yaml", settled()), std::nullopt);
}

TEST_F(KindIndexTest, NamesWithSpacesSurviveARoundTrip) {
  KindIndex index(fs, log, cache());
  index.record(kDir, " odd name .yaml", settled(), "v/c");
  index.record(kDir, "none.yaml", settled(9), std::string(kNoKind));
  index.save();
  KindIndex reloaded(fs, log, cache());
  EXPECT_EQ(reloaded.lookup(kDir, " odd name .yaml", settled()), std::optional<std::string>("v/c"));
  EXPECT_EQ(reloaded.lookup(kDir, "none.yaml", settled(9)), std::optional<std::string>(kNoKind));
}

TEST_F(KindIndexTest, RetainDropsVanishedNames) {
  KindIndex index(fs, log, cache());
  index.record(kDir, "a.yaml", settled(1), "v/a");
  index.record(kDir, "b.yaml", settled(2), "v/b");
  index.retain(kDir, {"a.yaml", "new.yaml"});
  EXPECT_TRUE(index.lookup(kDir, "a.yaml", settled(1)).has_value());
  EXPECT_FALSE(index.lookup(kDir, "b.yaml", settled(2)).has_value());
  index.save();
  KindIndex reloaded(fs, log, cache());
  EXPECT_TRUE(reloaded.lookup(kDir, "a.yaml", settled(1)).has_value());
  EXPECT_FALSE(reloaded.lookup(kDir, "b.yaml", settled(2)).has_value());
  EXPECT_EQ(read_index(reloaded).find("b.yaml"), std::string::npos) << read_index(reloaded);
}

TEST_F(KindIndexTest, SaveWritesAPrivateFileAtomically) {
  KindIndex index(fs, log, cache());
  index.record(kDir, "a.yaml", settled(), "v/c");
  index.save();
  struct stat dir_st {
  }, file_st{};
  ASSERT_EQ(::stat(cache().c_str(), &dir_st), 0) << "the cache dir is created";
  EXPECT_EQ(dir_st.st_mode & 07777, 0700u);
  ASSERT_EQ(::stat(index.index_path(kDir).c_str(), &file_st), 0);
  EXPECT_EQ(file_st.st_mode & 07777, 0600u);
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%llx", static_cast<unsigned long long>(kNow - 10 * kSecond));
  EXPECT_EQ(read_index(index), std::string("cdi-hook kind index 3\ndir /etc/cdi\nlisting -\n2a 7 64 ") + stamp + " " +
                                   stamp + " v/c a.yaml\n");
  // Saved again with a change: replaced by rename (a new inode), nothing else left behind.
  index.record(kDir, "b.yaml", settled(8), "v/d");
  index.save();
  struct stat again {};
  ASSERT_EQ(::stat(index.index_path(kDir).c_str(), &again), 0);
  EXPECT_NE(again.st_ino, file_st.st_ino);
  EXPECT_EQ(again.st_mode & 07777, 0600u);
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(cache())) {
    ++files;
    EXPECT_EQ(e.path().string(), index.index_path(kDir));
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(KindIndexTest, NothingWrittenWithoutChanges) {
  KindIndex index(fs, log, cache());
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled()), std::nullopt);
  index.save();
  EXPECT_FALSE(std::filesystem::exists(index.index_path(kDir)));
}

TEST_F(KindIndexTest, IndexOfAnotherDirIsIgnored) {
  {
    KindIndex index(fs, log, cache());
    index.record(kDir, "a.yaml", settled(), "v/c");
    index.save();
  }
  // Rewrite the header so the file claims another dir (as a hash collision would).
  KindIndex probe(fs, log, cache());
  std::string text = read_index(probe);
  text.replace(text.find("dir /etc/cdi"), 12, "dir /etc/xyz");
  std::ofstream(probe.index_path(kDir), std::ios::trunc) << text;
  KindIndex reloaded(fs, log, cache());
  EXPECT_EQ(reloaded.lookup(kDir, "a.yaml", settled()), std::nullopt);
}

TEST_F(KindIndexTest, GarbledLinesAreSkipped) {
  {
    KindIndex index(fs, log, cache());
    index.record(kDir, "a.yaml", settled(), "v/c");
    index.save();
  }
  KindIndex probe(fs, log, cache());
  std::string text = read_index(probe) + "not a line\n1 2 3\n";
  std::ofstream(probe.index_path(kDir), std::ios::trunc) << text;
  KindIndex reloaded(fs, log, cache());
  EXPECT_EQ(reloaded.lookup(kDir, "a.yaml", settled()), std::optional<std::string>("v/c"));
}

TEST_F(KindIndexTest, DisabledWithoutCacheDir) {
  KindIndex index(fs, log, "");
  EXPECT_FALSE(index.enabled());
  index.record(kDir, "a.yaml", settled(), "v/c");
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled()), std::nullopt);
  index.save();
  EXPECT_TRUE(log.entries.empty());
}

struct UnusableCase {
  const char* name;
  std::function<void(const std::string&)> spoil;  // applied to the existing cache dir
  const char* warning;
};

void PrintTo(const UnusableCase& c, std::ostream* os) { *os << c.name; }

class KindIndexUnusableTest : public KindIndexTest, public ::testing::WithParamInterface<UnusableCase> {};

TEST_P(KindIndexUnusableTest, TurnsTheIndexOffWithAWarning) {
  // A good index first, then the dir is spoilt: a planted index must not be trusted.
  {
    KindIndex index(fs, log, cache());
    index.record(kDir, "a.yaml", settled(), "v/c");
    index.save();
  }
  ASSERT_TRUE(std::filesystem::exists(KindIndex(fs, log, cache()).index_path(kDir)));
  GetParam().spoil(cache());
  KindIndex index(fs, log, cache());
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled()), std::nullopt);
  index.record(kDir, "b.yaml", settled(2), "v/d");
  index.save();
  EXPECT_TRUE(log.contains(LogLevel::warn, "kind index off")) << (log.entries.empty() ? "" : log.entries[0].message);
  EXPECT_TRUE(log.contains(LogLevel::warn, GetParam().warning));
  std::ifstream in(index.index_path(kDir));
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().find("b.yaml"), std::string::npos) << "nothing is written into an unusable dir";
}

INSTANTIATE_TEST_SUITE_P(
    Table, KindIndexUnusableTest,
    ::testing::Values(UnusableCase{"world_writable", [](const std::string& d) { ::chmod(d.c_str(), 0777); },
                                   "is writable by every user (mode 0777)"},
                      UnusableCase{"group_writable", [](const std::string& d) { ::chmod(d.c_str(), 0770); },
                                   "is writable by group 0 (mode 0770)"},
                      UnusableCase{"other_owner",
                                   [](const std::string& d) {
                                     if (::chown(d.c_str(), 4321, 4321) != 0) ::chmod(d.c_str(), 0777);
                                   },
                                   "kind index off"},
                      UnusableCase{"symlink",
                                   [](const std::string& d) {
                                     std::filesystem::rename(d, d + ".real");
                                     std::filesystem::create_directory_symlink(d + ".real", d);
                                   },
                                   "is not a directory"}),
    [](const ::testing::TestParamInfo<UnusableCase>& i) { return i.param.name; });

TEST_F(KindIndexTest, UncreatableCacheDirTurnsTheIndexOffQuietly) {
  KindIndex index(fs, log, tmp.path() + "/missing/parent/cache");
  index.record(kDir, "a.yaml", settled(), "v/c");
  index.save();
  EXPECT_FALSE(log.contains(LogLevel::warn, "kind index"));
  EXPECT_FALSE(std::filesystem::exists(tmp.path() + "/missing"));
}

}  // namespace
}  // namespace cdi

namespace cdi {
namespace {

class KindIndexListingTest : public KindIndexTest {
 protected:
  FileStat dir_stat(int64_t when) {
    FileStat st;
    st.dev = 3;
    st.ino = 99;
    st.mode = 040755;
    st.mtime_ns = st.ctime_ns = when;
    return st;
  }
};

TEST_F(KindIndexListingTest, KeptWhileTheDirIsUnchanged) {
  fs.now = 100'000'000'000;
  const std::vector<std::string> names{"a.yaml", "b.json"};
  {
    KindIndex index(fs, log, cache());
    EXPECT_FALSE(index.listing("/etc/cdi", dir_stat(1'000)).has_value());
    index.record_listing("/etc/cdi", dir_stat(1'000), names);
    index.save();
  }
  KindIndex index(fs, log, cache());
  auto listed = index.listing("/etc/cdi", dir_stat(1'000));
  ASSERT_TRUE(listed.has_value());
  EXPECT_EQ(*listed, names);
  // Any change of the dir (an entry created, removed or renamed) changes its mtime and ctime.
  FileStat changed = dir_stat(1'000);
  changed.ctime_ns = 2'000;
  EXPECT_FALSE(index.listing("/etc/cdi", changed).has_value());
  FileStat replaced = dir_stat(1'000);
  replaced.ino = 100;
  EXPECT_FALSE(index.listing("/etc/cdi", replaced).has_value());
}

// ---- an index is believed only as far as its writer ---------------------------

class KindIndexTamperTest : public KindIndexListingTest {
 protected:
  // Saves an index of /etc/cdi listing a.yaml and b.yaml, with kinds for both.
  void SetUp() override {
    KindIndexListingTest::SetUp();
    fs.now = kNow;
    KindIndex index(fs, log, cache());
    index.record_listing(kDir, dir_stat(1'000), {"a.yaml", "b.yaml"});
    index.record(kDir, "a.yaml", settled(1), "v/a");
    index.record(kDir, "b.yaml", settled(2), "v/b");
    index.save();
    path = index.index_path(kDir);
    text = read_index(index);
    ASSERT_NE(text.find("listing "), std::string::npos) << text;
  }
  // Rewrites the saved file in place (same owner, mode and inode).
  void rewrite(const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from << " in " << text;
    text.replace(at, from.size(), to);
    std::ofstream(path, std::ios::trunc) << text;
  }
  std::string path;
  std::string text;
};

TEST_F(KindIndexTamperTest, UntouchedIndexIsUsed) {
  KindIndex index(fs, log, cache());
  EXPECT_EQ(index.listing(kDir, dir_stat(1'000)), (std::vector<std::string>{"a.yaml", "b.yaml"}));
  EXPECT_EQ(index.lookup(kDir, "b.yaml", settled(2)), std::optional<std::string>("v/b"));
}

struct TamperCase {
  const char* name;
  std::string from;
  std::string to;
};

void PrintTo(const TamperCase& c, std::ostream* os) { *os << c.name; }

class KindIndexBadNameTest : public KindIndexTamperTest, public ::testing::WithParamInterface<TamperCase> {};

TEST_P(KindIndexBadNameTest, DiscardsTheWholeIndex) {
  rewrite(GetParam().from, GetParam().to);
  KindIndex index(fs, log, cache());
  EXPECT_EQ(index.listing(kDir, dir_stat(1'000)), std::nullopt);
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled(1)), std::nullopt);
}

INSTANTIATE_TEST_SUITE_P(Table, KindIndexBadNameTest,
                         ::testing::Values(TamperCase{"listing_parent_path", "\nb.yaml\n", "\n../b.yaml\n"},
                                           TamperCase{"listing_subdir_path", "\nb.yaml\n", "\nsub/b.yaml\n"},
                                           TamperCase{"listing_absolute_path", "\nb.yaml\n", "\n/etc/shadow.yaml\n"},
                                           TamperCase{"listing_dot_dot", "\nb.yaml\n", "\n..\n"},
                                           TamperCase{"listing_not_a_spec_name", "\nb.yaml\n", "\nb.txt\n"},
                                           TamperCase{"listing_nul", "\nb.yaml\n", std::string("\nb\0.yaml\n", 9)},
                                           TamperCase{"listing_unsorted", "\na.yaml\nb.yaml\n", "\nb.yaml\na.yaml\n"},
                                           TamperCase{"listing_duplicate", "\na.yaml\nb.yaml\n", "\na.yaml\na.yaml\n"},
                                           TamperCase{"entry_path", "v/b b.yaml", "v/b ../b.yaml"}),
                         [](const ::testing::TestParamInfo<TamperCase>& i) { return i.param.name; });

TEST_F(KindIndexTamperTest, ListingThatLeavesOutAnIndexedFileIsStale) {
  // Saving never writes a kind for a name the listing lacks: the listing was cut.
  rewrite("2\na.yaml\nb.yaml\n", "1\na.yaml\n");
  KindIndex index(fs, log, cache());
  EXPECT_EQ(index.listing(kDir, dir_stat(1'000)), std::nullopt);
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled(1)), std::optional<std::string>("v/a"));
}

struct ForeignCase {
  const char* name;
  std::function<void(const std::string&)> spoil;  // applied to the index file
  const char* warning;                            // nullptr: ignored without a warning
};

void PrintTo(const ForeignCase& c, std::ostream* os) { *os << c.name; }

class KindIndexForeignFileTest : public KindIndexTamperTest, public ::testing::WithParamInterface<ForeignCase> {};

TEST_P(KindIndexForeignFileTest, IsIgnored) {
  GetParam().spoil(path);
  KindIndex index(fs, log, cache());
  EXPECT_EQ(index.listing(kDir, dir_stat(1'000)), std::nullopt);
  EXPECT_EQ(index.lookup(kDir, "a.yaml", settled(1)), std::nullopt);
  if (GetParam().warning != nullptr) {
    EXPECT_TRUE(log.contains(LogLevel::warn, GetParam().warning))
        << (log.entries.empty() ? "(no log)" : log.entries.back().message);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, KindIndexForeignFileTest,
    ::testing::Values(ForeignCase{"other_owner",
                                  [](const std::string& p) { ASSERT_EQ(::chown(p.c_str(), 4321, 4321), 0); },
                                  "ignored: it is owned by uid 4321"},
                      ForeignCase{"world_writable", [](const std::string& p) { ::chmod(p.c_str(), 0666); },
                                  "ignored: it is writable by every user (mode 0666)"},
                      ForeignCase{"group_writable", [](const std::string& p) { ::chmod(p.c_str(), 0620); },
                                  "ignored: it is writable by group 0 (mode 0620)"},
                      ForeignCase{"acl",
                                  [](const std::string& p) {
                                    std::string acl = testing::acl_with_user(4321, 6, 6);
                                    ASSERT_EQ(
                                        ::setxattr(p.c_str(), "system.posix_acl_access", acl.data(), acl.size(), 0), 0);
                                  },
                                  "ignored: it is writable by uid 4321 (access ACL)"},
                      ForeignCase{"symlink",
                                  [](const std::string& p) {
                                    std::filesystem::rename(p, p + ".elsewhere");
                                    std::filesystem::create_symlink(p + ".elsewhere", p);
                                  },
                                  nullptr}),
    [](const ::testing::TestParamInfo<ForeignCase>& i) { return i.param.name; });

TEST_F(KindIndexListingTest, ADirChangedWithinTheLastSecondIsNotKept) {
  fs.now = 100'000'000'000;
  KindIndex index(fs, log, cache());
  FileStat recent = dir_stat(100'000'000'000 - 500'000'000);
  index.record_listing("/etc/cdi", recent, {"a.yaml"});
  index.save();
  KindIndex reloaded(fs, log, cache());
  EXPECT_FALSE(reloaded.listing("/etc/cdi", recent).has_value());
}

}  // namespace
}  // namespace cdi
