#include "nri/plugin_options.h"

#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdi::nri {
namespace {

using ::testing::HasSubstr;

struct TextCase {
  const char* name;
  const char* text;
  OptionSource source;
  const char* error;  // empty: accepted
};

class ConfigTextTest : public ::testing::TestWithParam<TextCase> {};

TEST_P(ConfigTextTest, AcceptsOrRefuses) {
  const TextCase& c = GetParam();
  PluginOptions o;
  auto st = apply_config_text(o, c.text, "conf", c.source);
  if (std::string(c.error).empty()) {
    EXPECT_TRUE(st.ok()) << st.error().to_string();
  } else {
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().to_string(), c.error);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigTextTest,
    ::testing::Values(
        TextCase{"empty", "", OptionSource::runtime_config, ""},
        TextCase{"comments_and_blanks", "# a comment\n\n   \n  # another\n", OptionSource::runtime_config, ""},
        TextCase{"every_option",
                 "spec-dir = /etc/cdi\ncdi-mode = auto\nskip-runtime-handler = kata*\n"
                 "pod-annotations = true\nwait = 0.5\nallow-insecure-specs = false\n"
                 "log-file = /var/log/x.log\nlog-level = debug\nsyslog = no\nhealth-file = /run/h\n",
                 OptionSource::runtime_config, ""},
        TextCase{"unknown_key", "spec-dirs = /etc/cdi\n", OptionSource::runtime_config,
                 "conf:1: unknown option \"spec-dirs\""},
        TextCase{"no_equals", "\n\npod-annotations\n", OptionSource::runtime_config,
                 "conf:3: expected key = value, got \"pod-annotations\""},
        TextCase{"socket_from_the_runtime", "socket = /run/x.sock\n", OptionSource::runtime_config,
                 "conf:1: option \"socket\" is set by the runtime for a pre-registered plugin"},
        TextCase{"socket_from_a_file", "socket = /run/x.sock\nname = cdi\nindex = 05\n", OptionSource::config_file, ""},
        TextCase{"wait_word", "wait = soon", OptionSource::config_file,
                 "conf:1: wait: invalid value \"soon\": expected seconds from 0 to 60"},
        TextCase{"wait_negative", "wait = -1", OptionSource::config_file,
                 "conf:1: wait: invalid value \"-1\": expected seconds from 0 to 60"},
        TextCase{"wait_nan", "wait = nan", OptionSource::config_file,
                 "conf:1: wait: invalid value \"nan\": expected seconds from 0 to 60"},
        TextCase{"wait_huge", "wait = 1e300", OptionSource::config_file,
                 "conf:1: wait: invalid value \"1e300\": expected seconds from 0 to 60"},
        TextCase{"mode", "cdi-mode = both", OptionSource::config_file,
                 "conf:1: cdi-mode: invalid value \"both\": expected raw, reference or auto"},
        TextCase{"bool", "pod-annotations = maybe", OptionSource::config_file,
                 "conf:1: pod-annotations: invalid value \"maybe\": expected true or false"},
        TextCase{"relative_spec_dir", "spec-dir = cdi", OptionSource::config_file,
                 "conf:1: spec-dir: invalid value \"cdi\": expected an absolute path"},
        TextCase{"index_three_digits", "index = 100", OptionSource::config_file,
                 "conf:1: index: invalid value \"100\": expected two digits, 00 to 99"},
        TextCase{"name_with_slash", "name = a/b", OptionSource::config_file,
                 "conf:1: name: invalid value \"a/b\": expected a name of letters, digits, '_', '.', '+' and '-'"},
        TextCase{"level", "log-level = loud", OptionSource::config_file,
                 "conf:1: log-level: invalid value \"loud\": expected trace, debug, info, warning, error or off"}),
    [](const ::testing::TestParamInfo<TextCase>& i) { return i.param.name; });

TEST(ConfigText, ValuesLand) {
  PluginOptions o;
  ASSERT_TRUE(apply_config_text(o,
                                "spec-dir = /a\nspec-dir = /b # the second\ncdi-mode = reference\nwait = 0.25\n"
                                "skip-runtime-handler = gvisor\npod-annotations =\nsyslog = false\n",
                                "conf", OptionSource::runtime_config)
                  .ok());
  EXPECT_EQ(o.spec_dirs, (std::vector<std::string>{"/a", "/b"}));
  EXPECT_EQ(o.cdi_mode, CdiMode::reference);
  EXPECT_EQ(o.wait.count(), 250);
  EXPECT_EQ(o.skip_runtime_handlers, std::vector<std::string>{"gvisor"});
  EXPECT_TRUE(o.pod_annotations);
  EXPECT_EQ(o.syslog, std::optional<bool>(false));
}

TEST(ConfigText, EmptySkipListTurnsSkippingOff) {
  PluginOptions o;
  ASSERT_TRUE(apply_config_text(o, "skip-runtime-handler =\n", "conf", OptionSource::runtime_config).ok());
  EXPECT_TRUE(o.skip_runtime_handlers.empty());
}

TEST(ConfigText, Defaults) {
  PluginOptions o;
  EXPECT_EQ(o.socket, "/var/run/nri/nri.sock");
  EXPECT_EQ(o.name, "cdi-hook");
  EXPECT_EQ(o.index, "10");
  EXPECT_EQ(o.cdi_mode, CdiMode::raw);
  EXPECT_EQ(o.wait.count(), 1000);
  EXPECT_EQ(o.skip_runtime_handlers, std::vector<std::string>{"kata*"});
  EXPECT_FALSE(o.pod_annotations);
}

Result<std::string> fake_read(const std::string& path) {
  if (path == "/etc/cdi-hook/nri.conf") return std::string("spec-dir = /from-file\nwait = 3\nname = file-name\n");
  return Error("no such file").in_file(path);
}

Result<CommandLine> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "cdi-hook-nri");
  return parse_command_line(static_cast<int>(args.size()), args.data(), fake_read);
}

TEST(CommandLine, FlagsOverrideTheConfigFileWhereverTheyStand) {
  auto cl = parse({"--wait", "0.5", "--config", "/etc/cdi-hook/nri.conf", "--spec-dir=/flag"});
  ASSERT_TRUE(cl.ok()) << cl.error().to_string();
  EXPECT_EQ(cl->options.wait.count(), 500);
  EXPECT_EQ(cl->options.spec_dirs, std::vector<std::string>{"/flag"});
  EXPECT_EQ(cl->options.name, "file-name");
}

TEST(CommandLine, BooleanFlagsAloneOrWithAValue) {
  auto cl = parse({"--pod-annotations", "--allow-insecure-specs=false", "--syslog"});
  ASSERT_TRUE(cl.ok()) << cl.error().to_string();
  EXPECT_TRUE(cl->options.pod_annotations);
  EXPECT_FALSE(cl->options.allow_insecure_specs);
  EXPECT_EQ(cl->options.syslog, std::optional<bool>(true));
}

TEST(CommandLine, UsageErrors) {
  EXPECT_EQ(parse({"--bogus"}).error().to_string(), "unknown option \"--bogus\"");
  EXPECT_EQ(parse({"--wait"}).error().to_string(), "--wait needs a value (SECONDS)");
  EXPECT_EQ(parse({"extra"}).error().to_string(), "unexpected argument \"extra\"");
  EXPECT_THAT(parse({"--config", "/missing"}).error().to_string(), HasSubstr("/missing"));
  EXPECT_EQ(parse({"--index", "7"}).error().to_string(), "--index: invalid value \"7\": expected two digits, 00 to 99");
}

TEST(CommandLine, HealthSubcommand) {
  auto cl = parse({"health", "--health-file", "/run/h", "--max-age", "12"});
  ASSERT_TRUE(cl.ok()) << cl.error().to_string();
  EXPECT_TRUE(cl->health_check);
  EXPECT_EQ(cl->options.health_file, "/run/h");
  EXPECT_EQ(cl->health_max_age.count(), 12);
  EXPECT_FALSE(parse({"health", "--max-age", "0"}).ok());
}

TEST(CommandLine, UsageListsEveryOption) {
  std::string text = usage();
  for (const auto& o : option_table()) EXPECT_THAT(text, HasSubstr("--" + std::string(o.name))) << o.name;
}

}  // namespace
}  // namespace cdi::nri
