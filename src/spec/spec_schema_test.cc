// The JSON Schema check, fed the spec model as events.
#include "spec/spec_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdi {
namespace {

Spec base_spec() {
  Spec s;
  s.version = "0.5.0";
  s.kind = "vendor.com/gpu";
  Device d;
  d.name = "gpu0";
  d.edits.env = {"A=1"};
  d.edits.device_nodes = {DeviceNode{.path = "/dev/gpu0", .major = 195}};
  s.devices.push_back(d);
  return s;
}

TEST(SpecSchema, AValidSpecPasses) {
  std::vector<Error> out;
  check_spec_schema(base_spec(), out);
  EXPECT_TRUE(out.empty()) << out.front().located();
}

TEST(SpecSchema, AViolationNamesItsFieldAndRuleAndIsLocatedWhenKnown) {
  Spec s = base_spec();
  s.devices[0].edits.device_nodes[0].major = -1;
  s.positions["devices[0].containerEdits.deviceNodes[0].major"] = {9, 14};
  std::vector<Error> out;
  check_spec_schema(s, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].field, "devices[0].containerEdits.deviceNodes[0].major");
  EXPECT_THAT(out[0].message, ::testing::StartsWith("does not match the schema: \"minimum\" rule at "));
  EXPECT_EQ(out[0].line, 9);
  EXPECT_EQ(out[0].column, 14);
}

TEST(SpecSchema, CountsOfMembersAndItemsReachTheValidator) {
  Spec s = base_spec();
  s.devices.clear();  // "devices": [] is below the schema's minItems
  std::vector<Error> out;
  check_spec_schema(s, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].field, "devices");
  EXPECT_THAT(out[0].message, ::testing::HasSubstr("\"minItems\""));
}

TEST(SpecSchema, JsonPointerToField) {
  EXPECT_EQ(json_pointer_to_field("#/devices/0/containerEdits/env/1"), "devices[0].containerEdits.env[1]");
  EXPECT_EQ(json_pointer_to_field("/annotations/a~1b~0c"), "annotations.a/b~c");
  EXPECT_EQ(json_pointer_to_field(""), "");
}

}  // namespace
}  // namespace cdi
