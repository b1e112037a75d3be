#include "nri/runtime_info.h"

#include <gtest/gtest.h>

namespace cdi::nri {
namespace {

struct VersionCase {
  const char* name;
  const char* text;
  bool ok;
  int major, minor, patch;
};

class RuntimeVersionTest : public ::testing::TestWithParam<VersionCase> {};

TEST_P(RuntimeVersionTest, Parses) {
  const VersionCase& c = GetParam();
  RuntimeVersion v;
  ASSERT_EQ(parse_runtime_version(c.text, v), c.ok) << c.text;
  if (!c.ok) return;
  EXPECT_EQ(v.major, c.major);
  EXPECT_EQ(v.minor, c.minor);
  EXPECT_EQ(v.patch, c.patch);
}

INSTANTIATE_TEST_SUITE_P(Table, RuntimeVersionTest,
                         ::testing::Values(VersionCase{"plain", "1.7.30", true, 1, 7, 30},
                                           VersionCase{"v_prefix", "v2.1.0", true, 2, 1, 0},
                                           VersionCase{"pre_release", "2.0.0-rc.1", true, 2, 0, 0},
                                           VersionCase{"build_suffix", "2.2.0+unknown", true, 2, 2, 0},
                                           VersionCase{"debian_suffix", "1.34.0~ds1", true, 1, 34, 0},
                                           VersionCase{"two_parts", "1.7", false, 0, 0, 0},
                                           VersionCase{"glued_letters", "1.7.3x", false, 0, 0, 0},
                                           VersionCase{"empty", "", false, 0, 0, 0},
                                           VersionCase{"words", "latest", false, 0, 0, 0}),
                         [](const ::testing::TestParamInfo<VersionCase>& i) { return i.param.name; });

struct SupportCase {
  const char* name;
  const char* runtime;
  const char* version;
  CdiDevicesSupport support;
};

class SupportTest : public ::testing::TestWithParam<SupportCase> {};

TEST_P(SupportTest, Decides) {
  const SupportCase& c = GetParam();
  EXPECT_EQ(cdi_devices_support(c.runtime, c.version), c.support);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SupportTest,
    ::testing::Values(SupportCase{"containerd_1_7_0", "containerd", "v1.7.0", CdiDevicesSupport::dropped},
                      SupportCase{"containerd_1_7_29", "containerd", "1.7.29", CdiDevicesSupport::dropped},
                      SupportCase{"containerd_1_7_30", "containerd", "1.7.30", CdiDevicesSupport::needs_enable_cdi},
                      SupportCase{"containerd_1_7_31", "containerd", "v1.7.31", CdiDevicesSupport::needs_enable_cdi},
                      SupportCase{"containerd_2_0_x", "v2", "2.0.7", CdiDevicesSupport::dropped},
                      SupportCase{"containerd_2_1_0", "v2", "v2.1.0", CdiDevicesSupport::honoured},
                      SupportCase{"containerd_2_3_named", "containerd", "2.3.0", CdiDevicesSupport::honoured},
                      SupportCase{"v2_but_not_containerd_2", "v2", "1.0.0", CdiDevicesSupport::dropped},
                      SupportCase{"crio_1_33", "cri-o", "1.33.4", CdiDevicesSupport::dropped},
                      SupportCase{"crio_1_34", "cri-o", "1.34.0", CdiDevicesSupport::honoured},
                      SupportCase{"unknown_runtime", "podman", "5.0.0", CdiDevicesSupport::dropped},
                      SupportCase{"unparsable_version", "containerd", "main", CdiDevicesSupport::dropped}),
    [](const ::testing::TestParamInfo<SupportCase>& i) { return i.param.name; });

TEST(UseCdiReferences, NeverWhereDroppedAndOnlyWhenAsked) {
  using S = CdiDevicesSupport;
  EXPECT_FALSE(*use_cdi_references(CdiMode::raw, S::honoured, "v2", "2.1.0"));
  EXPECT_TRUE(*use_cdi_references(CdiMode::automatic, S::honoured, "v2", "2.1.0"));
  EXPECT_FALSE(*use_cdi_references(CdiMode::automatic, S::needs_enable_cdi, "containerd", "1.7.30"));
  EXPECT_FALSE(*use_cdi_references(CdiMode::automatic, S::dropped, "containerd", "1.7.0"));
  EXPECT_TRUE(*use_cdi_references(CdiMode::reference, S::needs_enable_cdi, "containerd", "1.7.30"));
  auto refused = use_cdi_references(CdiMode::reference, S::dropped, "v2", "2.0.1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().to_string(),
            "cdi-mode reference: runtime \"v2\" \"2.0.1\" drops CDI device names returned by NRI plugins (they would "
            "be lost silently); use cdi-mode raw or auto");
}

struct CapabilityCase {
  const char* name;
  const char* runtime;
  const char* version;
  const char* nri_version;
  const char* describe;
  bool cgroup_rules, net_devices;
};

class CapabilityTest : public ::testing::TestWithParam<CapabilityCase> {};

TEST_P(CapabilityTest, FromTheVersionTable) {
  const CapabilityCase& c = GetParam();
  auto caps = nri_capabilities(c.runtime, c.version, c.nri_version);
  EXPECT_EQ(caps.describe(), c.describe);
  EXPECT_EQ(caps.cgroup_rules, c.cgroup_rules);
  EXPECT_EQ(caps.net_devices, c.net_devices);
  EXPECT_EQ(caps.rdt, c.net_devices);
}

INSTANTIATE_TEST_SUITE_P(
    Table, CapabilityTest,
    ::testing::Values(CapabilityCase{"containerd_1_7_0", "containerd", "v1.7.0", "", "NRI v0.3", false, false},
                      CapabilityCase{"containerd_1_7_20", "containerd", "1.7.20", "", "NRI v0.6", false, false},
                      CapabilityCase{"containerd_1_7_30", "containerd", "1.7.30", "", "NRI v0.8", false, false},
                      CapabilityCase{"containerd_2_1", "v2", "2.1.4", "", "NRI v0.8", false, false},
                      CapabilityCase{"containerd_2_2_0", "v2", "2.2.0", "", "NRI v0.10", true, false},
                      CapabilityCase{"containerd_2_2_1", "v2", "v2.2.1", "", "NRI v0.11", true, true},
                      CapabilityCase{"containerd_2_3", "v2", "2.3.0", "", "NRI v0.12", true, true},
                      CapabilityCase{"crio_1_30", "cri-o", "1.30.2", "", "NRI v0.2", false, false},
                      CapabilityCase{"crio_1_34", "cri-o", "1.34.1", "", "NRI v0.10", true, false},
                      CapabilityCase{"crio_1_35", "cri-o", "1.35.0", "", "NRI v0.11", true, true},
                      CapabilityCase{"sent_by_the_runtime", "anything", "0.1", "v0.12.1", "NRI v0.12", true, true},
                      CapabilityCase{"unknown", "other", "1.0.0", "", "NRI version unknown", false, false}),
    [](const ::testing::TestParamInfo<CapabilityCase>& i) { return i.param.name; });

}  // namespace
}  // namespace cdi::nri
