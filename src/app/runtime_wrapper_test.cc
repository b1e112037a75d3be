#include "app/runtime_wrapper.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace cdi::app {
namespace {

using cdi::testing::TempDir;
using ::testing::HasSubstr;

class FindRuntimeTest : public ::testing::Test {
 protected:
  std::string make(const std::string& name, mode_t mode) {
    std::string path = dir.path() + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n";
    ::chmod(path.c_str(), mode);
    return path;
  }
  TempDir dir;
};

TEST_F(FindRuntimeTest, SearchesThePathForAnExecutableFile) {
  std::string other = dir.path() + "/other";
  ::mkdir(other.c_str(), 0755);
  make("runc", 0644);  // not executable: skipped
  std::string second = other + "/runc";
  std::ofstream(second) << "#!/bin/sh\n";
  ::chmod(second.c_str(), 0755);
  auto found = find_runtime("runc", dir.path() + ":" + other);
  ASSERT_TRUE(found.ok()) << found.error().to_string();
  EXPECT_EQ(*found, second);
}

TEST_F(FindRuntimeTest, APathMustBeAnExecutableFile) {
  std::string exe = make("crun", 0755);
  EXPECT_EQ(*find_runtime(exe, ""), exe);
  EXPECT_THAT(find_runtime(make("plain", 0644), "").error().message, HasSubstr("is not an executable file"));
  EXPECT_THAT(find_runtime(dir.path(), "").error().message, HasSubstr("is not an executable file"));
  EXPECT_THAT(find_runtime(dir.path() + "/missing", "").error().message, HasSubstr("is not an executable file"));
}

TEST_F(FindRuntimeTest, ADirectoryNamedLikeTheRuntimeIsSkipped) {
  std::string sub = dir.path() + "/runsc";
  ::mkdir(sub.c_str(), 0755);
  EXPECT_EQ(find_runtime("runsc", dir.path()).error().message, "OCI runtime \"runsc\" not found in PATH");
}

}  // namespace
}  // namespace cdi::app
