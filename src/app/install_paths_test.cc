#include "app/install_paths.h"

#include <gtest/gtest.h>

namespace cdi {
namespace {

struct PathCase {
  const char* name;
  const char* binary;
  const char* sysconfdir;
};

class InstallPathsTest : public ::testing::TestWithParam<PathCase> {};

TEST_P(InstallPathsTest, SysconfdirFollowsThePrefix) {
  EXPECT_EQ(sysconfdir_of(GetParam().binary), GetParam().sysconfdir);
  EXPECT_EQ(runtime_config_of(GetParam().binary), std::string(GetParam().sysconfdir) + "/cdi-hook/runtime.conf");
}

INSTANTIATE_TEST_SUITE_P(Table, InstallPathsTest,
                         ::testing::Values(PathCase{"debian_package", "/usr/bin/cdi-hook", "/etc"},
                                           PathCase{"usr_local", "/usr/local/bin/cdi-hook", "/usr/local/etc"},
                                           PathCase{"opt", "/opt/cdi/bin/cdi-hook", "/opt/cdi/etc"},
                                           PathCase{"root_bin", "/bin/cdi-hook", "/etc"},
                                           PathCase{"unclean", "/usr//local/./bin/cdi-hook", "/usr/local/etc"},
                                           PathCase{"build_tree", "/work/build/release/src/cdi-hook",
                                                    "/work/build/release/etc"}),
                         [](const ::testing::TestParamInfo<PathCase>& i) { return i.param.name; });

TEST(InstallPaths, ThisBinaryIsAnAbsolutePath) {
  std::string self = this_binary();
  ASSERT_FALSE(self.empty());
  EXPECT_EQ(self.front(), '/');
}

}  // namespace
}  // namespace cdi
