#include "app/runtime_args.h"

#include <gtest/gtest.h>

namespace cdi::app {
namespace {

struct Case {
  const char* name;
  const char* runtime;
  std::vector<std::string> args;
  bool ok;
  const char* command;
  std::optional<std::string> bundle;
  const char* ambiguous_flag = "";
};

class RuntimeArgsTest : public ::testing::TestWithParam<Case> {};

TEST_P(RuntimeArgsTest, FindsCommandAndBundle) {
  const Case& c = GetParam();
  auto r = parse_runtime_command(c.args, known_runtime_flags(c.runtime));
  ASSERT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().message);
  if (!c.ok) return;
  EXPECT_EQ(r->command.command, c.command);
  EXPECT_EQ(r->command.bundle, c.bundle);
  EXPECT_EQ(r->ambiguous_flag, c.ambiguous_flag);
}

INSTANTIATE_TEST_SUITE_P(
    Table, RuntimeArgsTest,
    ::testing::Values(
        Case{"containerd_create",
             "runc",
             {"--root", "/run/containerd/runc/k8s.io", "--log", "/run/x/log.json", "--log-format", "json", "create",
              "--bundle", "/run/b", "--pid-file", "/run/b/init.pid", "id1"},
             true,
             "create",
             "/run/b"},
        Case{"run_short_flag", "runc", {"run", "-b", "/b", "ctr"}, true, "run", "/b"},
        Case{"bundle_equals", "runc", {"create", "--bundle=/b", "ctr"}, true, "create", "/b"},
        Case{"short_equals", "runc", {"create", "-b=/b", "ctr"}, true, "create", "/b"},
        Case{"single_dash_long", "runc", {"create", "-bundle", "/b", "ctr"}, true, "create", "/b"},
        Case{"no_bundle_means_cwd", "runc", {"run", "ctr"}, true, "run", std::nullopt},
        Case{"pid_file_value_is_not_the_bundle",
             "runc",
             {"create", "--pid-file", "-b", "ctr"},
             true,
             "create",
             std::nullopt},
        Case{"create_as_root_value_is_not_the_command",
             "runc",
             {"--root", "create", "state", "ctr"},
             true,
             "state",
             std::nullopt},
        Case{
            "other_command_passes", "runc", {"--root", "/r", "delete", "--force", "ctr"}, true, "delete", std::nullopt},
        Case{"bool_global_flags",
             "runc",
             {"--debug", "--systemd-cgroup", "create", "-b", "/b", "c"},
             true,
             "create",
             "/b"},
        Case{"version_only", "runc", {"--version"}, true, "", std::nullopt},
        Case{"dashes_end_the_global_flags",
             "runc",
             {"--root", "/r", "--", "create", "-b", "/b", "c"},
             true,
             "create",
             "/b"},
        Case{"bundle_without_value", "runc", {"create", "--bundle"}, false, "", std::nullopt},
        Case{"empty_bundle", "runc", {"create", "--bundle=", "c"}, false, "", std::nullopt},
        // Found by fuzz/runtime_args: the separate form took "" as the bundle.
        Case{"empty_bundle_separate", "runc", {"create", "-b", "", "c"}, false, "", std::nullopt},
        Case{"global_without_value", "runc", {"--root"}, false, "", std::nullopt},
        // runsc's own flags are known: --platform takes a value, --debug does not.
        Case{"runsc_platform",
             "runsc",
             {"--platform", "ptrace", "create", "--bundle", "/b", "id"},
             true,
             "create",
             "/b"},
        Case{"runsc_debug_log",
             "/usr/local/bin/runsc",
             {"--debug-log", "/x/", "--debug", "run", "-bundle", "/b", "id"},
             true,
             "run",
             "/b"},
        Case{"crun_cgroup_manager",
             "crun",
             {"--cgroup-manager", "systemd", "create", "-b", "/b", "id"},
             true,
             "create",
             "/b"},
        Case{"youki_short_root", "youki", {"-r", "/run/youki", "create", "-b", "/b", "id"}, true, "create", "/b"},
        Case{"kata_config",
             "kata-runtime",
             {"--kata-config", "/etc/k.toml", "create", "-b", "/b", "id"},
             true,
             "create",
             "/b"},
        // Not runc's: with runc's table, --platform could take a value or not.
        Case{"unknown_flag_ambiguous",
             "runc",
             {"--platform", "ptrace", "create", "--bundle", "/b", "id"},
             true,
             "create",
             "/b",
             "--platform"},
        Case{"unknown_flag_with_equals_is_clear",
             "runc",
             {"--platform=ptrace", "create", "-b", "/b", "id"},
             true,
             "create",
             "/b"},
        // Either reading is a command that injects nothing: no ambiguity that matters.
        Case{"unknown_flag_before_state", "runc", {"--weird", "x", "state", "id"}, true, "x", std::nullopt},
        // Both readings agree: --weird create ... or --weird=create (then "create" is not the command).
        Case{"unknown_flag_before_create",
             "runc",
             {"--weird", "create", "-b", "/b", "id"},
             true,
             "create",
             "/b",
             "--weird"}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(RuntimeArgs, KeepsTheLogFlagsAndTheId) {
  auto r = parse_runtime_command({"--log=/l.json", "--log-format", "json", "create", "--pid-file", "p", "c1"},
                                 known_runtime_flags("runc"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command.log_file, "/l.json");
  EXPECT_EQ(r->command.log_format, "json");
  EXPECT_EQ(r->command.container_id, "c1");
  EXPECT_TRUE(r->command.injects());
}

TEST(RuntimeArgs, ConfiguredFlagsResolveTheAmbiguity) {
  RuntimeFlags flags = known_runtime_flags("runc");
  std::vector<std::string> args = {"--platform", "ptrace", "create", "-b", "/b", "id"};
  EXPECT_EQ(parse_runtime_command(args, flags)->ambiguous_flag, "--platform");
  flags.with_value.push_back("platform");
  auto r = parse_runtime_command(args, flags);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ambiguous_flag, "");
  EXPECT_EQ(r->command.command, "create");
}

TEST(RuntimeArgs, AmbiguousReadingsListEveryInjectingCandidate) {
  auto r = parse_runtime_command({"--a", "run", "create", "-b", "/b", "id"}, known_runtime_flags("runc"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ambiguous_flag, "--a");
  ASSERT_EQ(r->injecting.size(), 2u);
  EXPECT_EQ(r->injecting[0].command, "run");
  EXPECT_EQ(r->injecting[1].command, "create");
}

TEST(RuntimeArgs, CrunConfigFlag) {
  auto r = parse_runtime_command({"create", "-f", "other.json", "-b", "/b", "id"}, known_runtime_flags("crun"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->command.config, "other.json");
}

TEST(RuntimeArgs, UnknownRuntimeNamesUseRuncFlags) {
  EXPECT_EQ(known_runtime_flags("/opt/x/my-runtime").with_value, known_runtime_flags("runc").with_value);
}

}  // namespace
}  // namespace cdi::app
