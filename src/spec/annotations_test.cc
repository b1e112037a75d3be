#include "spec/annotations.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdi {
namespace {

using Names = std::vector<std::string>;

struct ParseCase {
  const char* name;
  AnnotationList annotations;
  bool ok;
  Names devices;           // when ok
  const char* error_part;  // when not ok: a piece of the message
};

void PrintTo(const ParseCase& c, std::ostream* os) { *os << c.name; }

class ParseAnnotationsTest : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseAnnotationsTest, Parses) {
  const ParseCase& c = GetParam();
  auto r = parse_annotations(c.annotations);
  ASSERT_EQ(r.ok(), c.ok) << (r.ok() ? "" : r.error().to_string());
  if (c.ok) {
    EXPECT_EQ(*r, c.devices);
  } else {
    EXPECT_NE(r.error().to_string().find(c.error_part), std::string::npos) << r.error().to_string();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseAnnotationsTest,
    ::testing::Values(
        ParseCase{"none", {}, true, {}, ""},
        ParseCase{"unrelated_keys", {{"io.kubernetes.cri.container-type", "container"}}, true, {}, ""},
        ParseCase{"one", {{"cdi.k8s.io/vendor", "vendor.com/gpu=0"}}, true, {"vendor.com/gpu=0"}, ""},
        ParseCase{"list_keeps_order",
                  {{"cdi.k8s.io/x", "v.com/c=2,v.com/c=0,v.com/c=1"}},
                  true,
                  {"v.com/c=2", "v.com/c=0", "v.com/c=1"},
                  ""},
        ParseCase{"keys_in_document_order",
                  {{"cdi.k8s.io/b", "v.com/c=b"}, {"other", "x"}, {"cdi.k8s.io/a", "v.com/c=a"}},
                  true,
                  {"v.com/c=b", "v.com/c=a"},
                  ""},
        ParseCase{"no_dedup", {{"cdi.k8s.io/a", "v.com/c=0,v.com/c=0"}}, true, {"v.com/c=0", "v.com/c=0"}, ""},
        ParseCase{"bare_prefix_counts", {{"cdi.k8s.io/", "v.com/c=0"}}, true, {"v.com/c=0"}, ""},
        ParseCase{"prefix_is_case_sensitive", {{"CDI.k8s.io/x", "not a name"}}, true, {}, ""},
        ParseCase{"prefix_needs_slash", {{"cdi.k8s.io", "not a name"}}, true, {}, ""},
        ParseCase{"lookalike_prefix", {{"xcdi.k8s.io/x", "not a name"}}, true, {}, ""},
        ParseCase{"space_after_comma", {{"cdi.k8s.io/sp", "v.com/c=0, v.com/c=1"}}, false, {}, "cdi.k8s.io/sp"},
        ParseCase{"empty_value", {{"cdi.k8s.io/empty", ""}}, false, {}, "cdi.k8s.io/empty"},
        ParseCase{"trailing_comma", {{"cdi.k8s.io/tc", "v.com/c=0,"}}, false, {}, "cdi.k8s.io/tc"},
        ParseCase{"leading_comma", {{"cdi.k8s.io/lc", ",v.com/c=0"}}, false, {}, "cdi.k8s.io/lc"},
        ParseCase{"unqualified", {{"cdi.k8s.io/u", "gpu0"}}, false, {}, "cdi.k8s.io/u"},
        ParseCase{"one_bad_fails_all",
                  {{"cdi.k8s.io/good", "v.com/c=0"}, {"cdi.k8s.io/bad", "v.com/c=-x"}},
                  false,
                  {},
                  "\"cdi.k8s.io/bad\""}),
    [](const ::testing::TestParamInfo<ParseCase>& i) { return i.param.name; });

TEST(ParseAnnotations, ErrorNamesKeyAndField) {
  auto r = parse_annotations({{"cdi.k8s.io/net", "v.com/c=0, v.com/c=1"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "annotations");
  EXPECT_EQ(r.error().kind, ErrorKind::invalid_request);
  EXPECT_NE(r.error().message.find("annotation \"cdi.k8s.io/net\""), std::string::npos) << r.error().message;
  // The culprit is the name with its leading space.
  EXPECT_NE(r.error().message.find("\" v.com/c=1\""), std::string::npos) << r.error().message;
}

TEST(HasCdiAnnotations, PrefixOnly) {
  EXPECT_FALSE(has_cdi_annotations({}));
  EXPECT_FALSE(has_cdi_annotations({{"CDI.K8S.IO/x", "v/c=d"}}));
  EXPECT_TRUE(has_cdi_annotations({{"a", "b"}, {"cdi.k8s.io/x", ""}}));
}

struct KeyCase {
  const char* name;
  std::string plugin;
  std::string device_id;
  const char* key;  // nullptr: refused
};

void PrintTo(const KeyCase& c, std::ostream* os) { *os << c.name; }

class AnnotationKeyTest : public ::testing::TestWithParam<KeyCase> {};

TEST_P(AnnotationKeyTest, Builds) {
  const KeyCase& c = GetParam();
  auto r = annotation_key(c.plugin, c.device_id);
  if (c.key == nullptr) {
    EXPECT_FALSE(r.ok()) << *r;
  } else {
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(*r, c.key);
  }
}

// plugin + "_" + deviceID: 1 + 1 + 61 = 63 characters is the longest allowed.
const std::string k61(61, 'd');

INSTANTIATE_TEST_SUITE_P(
    Table, AnnotationKeyTest,
    ::testing::Values(KeyCase{"simple", "vendor", "dev0", "cdi.k8s.io/vendor_dev0"},
                      KeyCase{"slash_in_device_id", "vendor", "pci/0000/01", "cdi.k8s.io/vendor_pci_0000_01"},
                      KeyCase{"dots_and_dashes", "v.com", "a-b.c", "cdi.k8s.io/v.com_a-b.c"},
                      KeyCase{"too_long_64", "pp", k61, nullptr}, KeyCase{"slash_in_plugin", "ven/dor", "dev", nullptr},
                      KeyCase{"empty_plugin", "", "dev", nullptr}, KeyCase{"empty_device_id", "vendor", "", nullptr},
                      KeyCase{"plugin_starts_with_dash", "-vendor", "dev", nullptr},
                      KeyCase{"device_ends_with_dot", "vendor", "dev.", nullptr},
                      KeyCase{"device_ends_with_slash", "vendor", "dev/", nullptr},
                      KeyCase{"colon_not_allowed", "vendor", "pci:0", nullptr},
                      KeyCase{"space_not_allowed", "vendor", "a b", nullptr}),
    [](const ::testing::TestParamInfo<KeyCase>& i) { return i.param.name; });

TEST(AnnotationKey, SixtyThreeCharactersIsTheLimit) {
  auto ok = annotation_key("p", k61);
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(*ok, "cdi.k8s.io/p_" + k61);
  EXPECT_EQ(ok->size() - kAnnotationPrefix.size(), 63u);
  auto too_long = annotation_key("pp", k61);
  ASSERT_FALSE(too_long.ok());
  EXPECT_NE(too_long.error().message.find("63"), std::string::npos) << too_long.error().message;
}

TEST(AnnotationKey, ErrorQuotesTheName) {
  auto r = annotation_key("ven/dor", "dev");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("\"ven/dor_dev\""), std::string::npos) << r.error().message;
}

TEST(AnnotationValue, JoinsQualifiedNames) {
  auto one = annotation_value({"v.com/c=0"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, "v.com/c=0");
  auto two = annotation_value({"v.com/c=0", "w.org/d=x:y"});
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(*two, "v.com/c=0,w.org/d=x:y");
  // What it writes, parse_annotations reads back.
  auto back = parse_annotations({{"cdi.k8s.io/p_d", *two}});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, (Names{"v.com/c=0", "w.org/d=x:y"}));
}

TEST(AnnotationValue, RefusesEmptyListAndBadNames) {
  // The reference writes "", which its own parser then rejects.
  EXPECT_FALSE(annotation_value({}).ok());
  EXPECT_FALSE(annotation_value({"v.com/c=0", "gpu0"}).ok());
  EXPECT_FALSE(annotation_value({"v.com/c=a,b"}).ok());
}

}  // namespace
}  // namespace cdi
