#include "app/runtime_args.h"

#include <gtest/gtest.h>

namespace cdi {
namespace {

struct Case {
  const char* name;
  std::vector<std::string> args;
  bool ok;
  const char* command;
  std::optional<std::string> bundle;
};

class RuntimeArgsTest : public ::testing::TestWithParam<Case> {};

TEST_P(RuntimeArgsTest, FindsCommandAndBundle) {
  const Case& c = GetParam();
  auto r = parse_runtime_command(c.args);
  ASSERT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().message);
  if (!c.ok) return;
  EXPECT_EQ(r->command, c.command);
  EXPECT_EQ(r->bundle, c.bundle);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RuntimeArgsTest,
    ::testing::Values(
        Case{"containerd_create",
             {"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json", "create",
              "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "id1"},
             true,
             "create",
             "/run/b"},
        Case{"run_short_flag", {"run", "-b", "/b", "ctr"}, true, "run", "/b"},
        Case{"bundle_equals", {"create", "--bundle=/b", "ctr"}, true, "create", "/b"},
        Case{"short_equals", {"create", "-b=/b", "ctr"}, true, "create", "/b"},
        Case{"single_dash_long", {"create", "-bundle", "/b", "ctr"}, true, "create", "/b"},
        Case{"no_bundle_means_cwd", {"run", "ctr"}, true, "run", std::nullopt},
        Case{"pid_file_value_is_not_the_command", {"create", "--pid-file", "-b", "ctr"}, true, "create", std::nullopt},
        Case{"create_as_root_value_is_not_the_command",
             {"--root", "create", "state", "ctr"},
             true,
             "state",
             std::nullopt},
        Case{"other_command_passes", {"--root", "/r", "delete", "--force", "ctr"}, true, "delete", std::nullopt},
        Case{"bool_global_flags", {"--debug", "--systemd-cgroup", "create", "-b", "/b", "c"}, true, "create", "/b"},
        Case{"version_only", {"--version"}, true, "", std::nullopt},
        Case{"bundle_without_value", {"create", "--bundle"}, false, "", std::nullopt},
        Case{"empty_bundle", {"create", "--bundle=", "c"}, false, "", std::nullopt},
        // Found by fuzz/runtime_args: the separate form took "" as the bundle.
        Case{"empty_bundle_separate", {"create", "-b", "", "c"}, false, "", std::nullopt},
        Case{"global_without_value", {"--root"}, false, "", std::nullopt}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(RuntimeArgs, KeepsTheLogFlags) {
  auto r = parse_runtime_command({"--log=/l.json", "--log-format", "json", "create", "c"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->log_file, "/l.json");
  EXPECT_EQ(r->log_format, "json");
  EXPECT_TRUE(r->injects());
}

}  // namespace
}  // namespace cdi
