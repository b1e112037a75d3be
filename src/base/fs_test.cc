#include "base/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "base/trust.h"
#include "support/fake_fs.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

// RealFs on real files, links, FIFOs and ACLs in a private temp dir.
class RealFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp.path().empty());
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
    dir = tmp.path() + "/specs";
    ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  }
  std::string write(const std::string& path, const std::string& content, mode_t mode = 0644) {
    std::ofstream(path, std::ios::trunc) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }
  void link(const std::string& target, const std::string& at) { ASSERT_EQ(::symlink(target.c_str(), at.c_str()), 0); }
  // A judge that records every dir it is shown and refuses those others can write.
  DirJudge recording_judge() {
    return [this](const FileFacts& f) {
      judged.push_back(f.path);
      return (f.st.mode & 022) ? "open to others" : "";
    };
  }

  testing::TempDir tmp;
  std::string dir;
  RealFs fs;
  std::vector<std::string> judged;
};

TEST_F(RealFsTest, ReadInGivesTheBytesWithTheStatOfTheirDescriptor) {
  write(dir + "/a.yaml", "kind: x\n", 0640);
  struct stat st {};
  ASSERT_EQ(::stat((dir + "/a.yaml").c_str(), &st), 0);
  auto opened = fs.read_in(dir, "a.yaml", 1 << 20, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->bytes, "kind: x\n");
  EXPECT_EQ(opened->file.st.ino, st.st_ino);
  EXPECT_EQ(opened->file.st.mode & 07777, 0640u);
  EXPECT_EQ(opened->file.path, dir + "/a.yaml");
  EXPECT_FALSE(opened->via_symlink);
  EXPECT_EQ(opened->file.acl, "");
}

TEST_F(RealFsTest, ReadInRefusesLargeFilesFifosAndDirs) {
  write(dir + "/big.yaml", std::string(2000, 'x'));
  auto big = fs.read_in(dir, "big.yaml", 1000, nullptr);
  ASSERT_FALSE(big.ok());
  ASSERT_EQ(::mkfifo((dir + "/pipe.yaml").c_str(), 0644), 0);
  auto pipe = fs.read_in(dir, "pipe.yaml", 1000, nullptr);  // never blocks: O_NONBLOCK
  ASSERT_FALSE(pipe.ok());
  EXPECT_EQ(pipe.error().message, "\"" + dir + "/pipe.yaml\" is not a regular file");
  ASSERT_EQ(::mkdir((dir + "/sub.yaml").c_str(), 0755), 0);
  EXPECT_FALSE(fs.read_in(dir, "sub.yaml", 1000, nullptr).ok());
}

TEST_F(RealFsTest, LinkRefusedWithoutAJudge) {
  write(tmp.path() + "/real.yaml", "x");
  link("../real.yaml", dir + "/l.yaml");
  auto opened = fs.read_in(dir, "l.yaml", 1000, nullptr);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message, "\"" + dir + "/l.yaml\" is a symbolic link");
}

TEST_F(RealFsTest, LinkResolvedThroughJudgedDirs) {
  ASSERT_EQ(::mkdir((tmp.path() + "/vendor").c_str(), 0755), 0);
  write(tmp.path() + "/vendor/real.yaml", "real");
  link("real.yaml", tmp.path() + "/vendor/hop.yaml");
  link("../vendor/hop.yaml", dir + "/l.yaml");
  DirJudge judge = recording_judge();
  auto opened = fs.read_in(dir, "l.yaml", 1000, &judge);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->bytes, "real");
  EXPECT_TRUE(opened->via_symlink);
  EXPECT_EQ(opened->file.path, tmp.path() + "/vendor/real.yaml");
  EXPECT_EQ(judged, (std::vector<std::string>{tmp.path(), tmp.path() + "/vendor"}));
}

TEST_F(RealFsTest, AbsoluteLinkJudgesEveryDirFromTheRoot) {
  write(tmp.path() + "/real.yaml", "real");
  link(tmp.path() + "/real.yaml", dir + "/l.yaml");
  DirJudge judge = [&](const FileFacts& f) {
    judged.push_back(f.path);
    return std::string();
  };
  auto opened = fs.read_in(dir, "l.yaml", 1000, &judge);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(judged.front(), "/");
  EXPECT_EQ(judged.back(), tmp.path());
  EXPECT_EQ(judged.size(), static_cast<size_t>(std::count(tmp.path().begin(), tmp.path().end(), '/')) + 1);
}

TEST_F(RealFsTest, NothingIsOpenedThroughARefusedDir) {
  std::string open_dir = tmp.path() + "/open";
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0777), 0);
  ASSERT_EQ(::mkfifo((open_dir + "/s.yaml").c_str(), 0644), 0);  // opening it would block without O_NONBLOCK
  link("../open/s.yaml", dir + "/l.yaml");
  DirJudge judge = recording_judge();
  auto opened = fs.read_in(dir, "l.yaml", 1000, &judge);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->untrusted_dir, open_dir);
  EXPECT_EQ(opened->untrusted_reason, "open to others");
  EXPECT_EQ(opened->bytes, "");
}

TEST_F(RealFsTest, LinkLoopAndDanglingLinkAreErrors) {
  link("loop.yaml", dir + "/loop.yaml");
  link("nowhere.yaml", dir + "/dangling.yaml");
  DirJudge judge = recording_judge();
  auto loop = fs.read_in(dir, "loop.yaml", 1000, &judge);
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().sys_errno, ELOOP);
  auto dangling = fs.read_in(dir, "dangling.yaml", 1000, &judge);
  ASSERT_FALSE(dangling.ok());
  EXPECT_EQ(dangling.error().sys_errno, ENOENT);
}

TEST_F(RealFsTest, LinkToAFifoIsNotOpened) {
  ASSERT_EQ(::mkfifo((tmp.path() + "/pipe").c_str(), 0644), 0);
  link("../pipe", dir + "/p.yaml");
  DirJudge judge = recording_judge();
  auto opened = fs.read_in(dir, "p.yaml", 1000, &judge);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().message,
            "\"" + dir + "/p.yaml\" resolves to \"" + tmp.path() + "/pipe\", not a regular file");
}

// The kernel keeps the ACL in an xattr; the group bits of the mode become its
// mask. Set here with setxattr, as setfacl does.
void set_acl(const std::string& path, const std::string& value) {
  ASSERT_EQ(::setxattr(path.c_str(), "system.posix_acl_access", value.data(), value.size(), 0), 0)
      << path << ": " << std::strerror(errno) << " (the temp dir's filesystem must support POSIX ACLs)";
}

TEST_F(RealFsTest, AccessAclIsReadWithTheFile) {
  std::string f = write(dir + "/a.yaml", "x");
  set_acl(f, testing::acl_with_user(65534, 6, 6));
  auto opened = fs.read_in(dir, "a.yaml", 1000, nullptr);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->file.st.mode & 07777, 0664u);
  EXPECT_EQ(opened->file.acl, testing::acl_with_user(65534, 6, 6));
  EXPECT_EQ(insecure_reason(opened->file, 0), "writable by uid 65534 (access ACL)");
}

TEST_F(RealFsTest, AccessAclOfADirIsReadWithIt) {
  set_acl(dir, testing::acl_with_user(65534, 7, 7));
  auto facts = fs.open_dir(dir, true);
  ASSERT_TRUE(facts.ok()) << facts.error().message;
  EXPECT_EQ(insecure_reason(*facts, 0), "writable by uid 65534 (access ACL)");
  // The same dir met on a link's way (an O_PATH handle).
  write(dir + "/real.yaml", "x");
  std::string links = tmp.path() + "/links";
  ASSERT_EQ(::mkdir(links.c_str(), 0755), 0);
  link("../specs/real.yaml", links + "/l.yaml");
  DirJudge judge = [](const FileFacts& f) { return insecure_reason(f, 0); };
  auto opened = fs.read_in(links, "l.yaml", 1000, &judge);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  EXPECT_EQ(opened->untrusted_dir, dir);
  EXPECT_EQ(opened->untrusted_reason, "writable by uid 65534 (access ACL)");
}

TEST_F(RealFsTest, ReadOnlyAclEntryIsNotReadAtAll) {
  // Group bits without write: no entry can grant write, so the ACL is not fetched.
  std::string f = write(dir + "/a.yaml", "x");
  set_acl(f, testing::acl_with_user(65534, 4, 4));
  auto opened = fs.read_in(dir, "a.yaml", 1000, nullptr);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->file.acl, "");
  EXPECT_EQ(insecure_reason(opened->file, 0), "");
}

TEST_F(RealFsTest, OpenDirWithoutFollowRefusesALink) {
  link("specs", tmp.path() + "/cache");
  auto facts = fs.open_dir(tmp.path() + "/cache", false);
  ASSERT_FALSE(facts.ok());
  EXPECT_TRUE(fs.open_dir(tmp.path() + "/cache", true).ok());
}

}  // namespace
}  // namespace cdi
