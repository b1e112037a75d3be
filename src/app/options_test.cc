#include "app/options.h"

#include <map>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/error_report.h"

namespace cdi::app {
namespace {

using ::testing::HasSubstr;

struct WaitCase {
  const char* name;
  const char* value;
  bool ok;
  long long ms;
};

class WaitValueTest : public ::testing::TestWithParam<WaitCase> {};

// Every source takes --wait through the same parser: a value outside 0..3600
// seconds (or not a number) is a usage error, never "no wait".
TEST_P(WaitValueTest, ParsesOrRefuses) {
  const WaitCase& c = GetParam();
  Settings s;
  s.wait = std::chrono::milliseconds(123);
  auto st = set_from_flag(*find_option("wait"), c.value, s);
  ASSERT_EQ(st.ok(), c.ok) << c.value;
  if (c.ok) {
    EXPECT_EQ(s.wait.count(), c.ms);
    return;
  }
  EXPECT_EQ(st.error().to_string(),
            std::string("--wait: expected seconds between 0 and 3600, got \"") + c.value + "\"");
  EXPECT_EQ(exit_code(st.error()), kExitUsage);
  EXPECT_EQ(s.wait.count(), 123);
}

INSTANTIATE_TEST_SUITE_P(Table, WaitValueTest,
                         ::testing::Values(WaitCase{"zero", "0", true, 0}, WaitCase{"ten", "10", true, 10000},
                                           WaitCase{"fraction", "0.25", true, 250},
                                           WaitCase{"hour", "3600", true, 3600000},
                                           WaitCase{"over_an_hour", "3600.5", false, 0},
                                           WaitCase{"huge", "1e300", false, 0}, WaitCase{"big", "1e18", false, 0},
                                           WaitCase{"negative", "-5", false, 0}, WaitCase{"nan", "nan", false, 0},
                                           WaitCase{"inf", "inf", false, 0}, WaitCase{"word", "abc", false, 0},
                                           WaitCase{"trailing", "5s", false, 0}, WaitCase{"empty", "", false, 0},
                                           WaitCase{"plus", "+5", false, 0}, WaitCase{"hex", "0x10", false, 0}),
                         [](const ::testing::TestParamInfo<WaitCase>& i) { return i.param.name; });

TEST(Options, ConfFileErrorsNameFileLineAndKey) {
  Settings s;
  auto st = read_conf("# comment\nruntime = runc\nwait = abc\n", "/etc/cdi-hook/runtime.conf", kRuntime, s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().to_string(),
            "/etc/cdi-hook/runtime.conf:3: wait: expected seconds between 0 and 3600, got \"abc\"");
  EXPECT_EQ(exit_code(st.error()), kExitUsage);
}

TEST(Options, ConfFileReadsEveryKeyOfItsScope) {
  Settings s;
  ASSERT_TRUE(read_conf("runtime = /usr/bin/crun\nspec-dir = /a  # first\nspec-dir=/b\nwait = 2.5\n"
                        "log-file = /var/log/cdi-hook.log\nlog-level = debug\ncache-dir = none\n"
                        "allow-insecure-specs = true\nguest-map = /m.json\nsysfs-root = /s\n"
                        "runtime-value-flag = --platform\nruntime-bool-flag = debug-x\n",
                        "f", kRuntime, s)
                  .ok());
  EXPECT_EQ(s.runtime, "/usr/bin/crun");
  EXPECT_EQ(s.spec_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(s.wait.count(), 2500);
  EXPECT_EQ(s.log_file, "/var/log/cdi-hook.log");
  EXPECT_EQ(s.log_level, LogLevel::debug);
  EXPECT_EQ(s.cache_dir, "none");
  EXPECT_TRUE(s.allow_insecure_specs);
  EXPECT_EQ(s.guest_map, "/m.json");
  EXPECT_EQ(s.sysfs_root, "/s");
  EXPECT_EQ(s.runtime_value_flags, std::vector<std::string>{"platform"});
  EXPECT_EQ(s.runtime_bool_flags, std::vector<std::string>{"debug-x"});
}

TEST(Options, ConfFileRefusesUnknownKeysWithAHint) {
  Settings s;
  auto st = read_conf("spec-dirs = /x\n", "f", kRuntime, s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().to_string(), "f:1: unknown key \"spec-dirs\" (did you mean \"spec-dir\"?)");
  // A key of another front end is unknown here.
  EXPECT_FALSE(read_conf("runtime = runc\n", "f", kNri, s).ok());
  EXPECT_THAT(read_conf("no equals sign\n", "f", kRuntime, s).error().to_string(), HasSubstr("f:1: expected NAME"));
}

TEST(Options, BooleansAreTrueOrFalse) {
  Settings s;
  auto st = read_conf("allow-insecure-specs = yes\n", "f", kRuntime, s);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().to_string(), "f:1: allow-insecure-specs: expected true or false, got \"yes\"");
}

std::map<std::string, std::string> g_env;
const char* fake_getenv(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

TEST(Options, EnvironmentOverridesTheFile) {
  Settings s;
  ASSERT_TRUE(read_conf("spec-dir = /file\nwait = 3\nruntime = runc\n", "f", kRuntime, s).ok());
  g_env = {{"CDI_HOOK_SPEC_DIRS", "/a::/b"},
           {"CDI_HOOK_WAIT", "0"},
           {"CDI_HOOK_RUNTIME", ""},
           {"CDI_HOOK_RUNTIME_VALUE_FLAGS", "platform,--debug-log"}};
  ASSERT_TRUE(read_env(kRuntime, s, fake_getenv).ok());
  EXPECT_EQ(s.spec_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(s.wait.count(), 0);
  EXPECT_EQ(s.runtime, "runc");  // empty counts as unset
  EXPECT_EQ(s.runtime_value_flags, (std::vector<std::string>{"platform", "debug-log"}));
}

TEST(Options, EnvironmentErrorsNameTheVariable) {
  for (const char* bad : {"-5", "nan", "inf", "1e18", "soon"}) {
    Settings s;
    g_env = {{"CDI_HOOK_WAIT", bad}};
    auto st = read_env(kRuntime, s, fake_getenv);
    ASSERT_FALSE(st.ok()) << bad;
    EXPECT_EQ(st.error().to_string(),
              std::string("CDI_HOOK_WAIT: expected seconds between 0 and 3600, got \"") + bad + "\"");
    EXPECT_EQ(exit_code(st.error()), kExitUsage);
  }
}

TEST(Options, LogLevelDefaults) {
  Settings s;
  EXPECT_EQ(log_level_of(s, LogLevel::error), LogLevel::error);
  s.log_file = "/x";
  EXPECT_EQ(log_level_of(s, LogLevel::error), LogLevel::warn);
  s.log_level = LogLevel::debug;
  EXPECT_EQ(log_level_of(s, LogLevel::error), LogLevel::debug);
}

TEST(Options, EveryOptionHasAHomeAndHelp) {
  for (const auto& o : option_table()) {
    EXPECT_FALSE(o.help.empty()) << o.name;
    EXPECT_TRUE(o.env.starts_with("CDI_HOOK_")) << o.name;
    EXPECT_NE(o.scopes, 0u) << o.name;
    EXPECT_EQ(find_option(o.name), &o);
  }
}

TEST(Options, SecondsText) {
  EXPECT_EQ(seconds_text(std::chrono::milliseconds(10000)), "10");
  EXPECT_EQ(seconds_text(std::chrono::milliseconds(2500)), "2.5");
  EXPECT_EQ(seconds_text(std::chrono::milliseconds(1)), "0.001");
}

TEST(Options, ClosestName) {
  std::vector<std::string_view> names = {"hook", "inject", "validate", "list", "annotate", "runtime", "guest"};
  EXPECT_EQ(closest_name("injetc", names), "inject");
  EXPECT_EQ(closest_name("valdiate", names), "validate");
  EXPECT_EQ(closest_name("run", names), "runtime");
  EXPECT_EQ(closest_name("frobnicate", names), "");
  EXPECT_EQ(closest_name("x", names), "");
}

}  // namespace
}  // namespace cdi::app
