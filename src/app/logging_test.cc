#include "app/logging.h"

#include <gtest/gtest.h>

namespace cdi::app {
namespace {

OciDocument doc(const std::string& json) {
  auto d = OciDocument::parse(json);
  EXPECT_TRUE(d.ok()) << json;
  return std::move(*d);
}

struct Case {
  const char* name;
  const char* config;
  const char* id;
  const char* bundle;
  const char* label;
};

class ConfigLabelTest : public ::testing::TestWithParam<Case> {};

TEST_P(ConfigLabelTest, NamesTheContainer) {
  const Case& c = GetParam();
  EXPECT_EQ(config_label(doc(c.config), c.id, c.bundle), c.label);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ConfigLabelTest,
    ::testing::Values(
        Case{"containerd_cri",
             R"({"hostname":"h","annotations":{"io.kubernetes.cri.container-name":"app",)"
             R"("io.kubernetes.cri.sandbox-name":"web-1","io.kubernetes.cri.sandbox-namespace":"prod"}})",
             "", "", R"(container name "app" in pod "prod/web-1")"},
        Case{"crio", R"({"annotations":{"io.kubernetes.container.name":"app","io.kubernetes.pod.name":"web-1"}})",
             "abc", "/b", R"(container "abc", name "app" in pod "web-1", bundle "/b")"},
        Case{"hostname_and_rootfs", R"({"hostname":"cdi-e2e","root":{"path":"/var/lib/x/merged"}})", "", "",
             R"(container hostname "cdi-e2e", rootfs "/var/lib/x/merged")"},
        Case{"nothing_known", R"({})", "", "", "container (unnamed)"},
        Case{"hostile_name_is_quoted", "{\"hostname\":\"a\\u001b[31m\"}", "", "", R"(container hostname "a\x1b[31m")"}),
    [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(Logging, StateLabel) {
  EXPECT_EQ(state_label(doc(R"({"ociVersion":"1.0.2","id":"c1","status":"creating","bundle":"/run/b"})")),
            R"(container "c1", bundle "/run/b")");
}

TEST(Logging, LabelledLoggerPrefixesEveryLineAndNotice) {
  MemoryLogger inner(LogLevel::info);
  LabelledLogger log(inner, "container \"c1\"");
  log.debug("hidden");
  log.info("one");
  log.notice("waiting");
  ASSERT_EQ(inner.entries.size(), 2u);
  EXPECT_EQ(inner.entries[0].message, "container \"c1\": one");
  EXPECT_EQ(inner.entries[1].level, LogLevel::warn);
  EXPECT_EQ(inner.entries[1].message, "container \"c1\": waiting");
  EXPECT_FALSE(log.enabled(LogLevel::debug));
}

}  // namespace
}  // namespace cdi::app
