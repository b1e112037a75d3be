#include "app/error_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "base/json.h"

namespace cdi::app {
namespace {

struct Case {
  const char* name;
  ErrorKind kind;
  int exit_code;
  RpcCode rpc;
};

class ClassifyTest : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifyTest, MapsKindToExitCodeAndRpcStatus) {
  const Case& c = GetParam();
  Error e = Error("x").of_kind(c.kind);
  EXPECT_EQ(exit_code(e), c.exit_code);
  EXPECT_EQ(rpc_code(e), c.rpc);
}

INSTANTIATE_TEST_SUITE_P(Table, ClassifyTest,
                         ::testing::Values(Case{"usage", ErrorKind::usage, 2, RpcCode::invalid_argument},
                                           Case{"invalid_request", ErrorKind::invalid_request, 1,
                                                RpcCode::invalid_argument},
                                           Case{"not_found", ErrorKind::not_found, 1, RpcCode::not_found},
                                           Case{"failure", ErrorKind::failure, 1, RpcCode::failed_precondition},
                                           Case{"io", ErrorKind::io, 1, RpcCode::internal}),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(ErrorReport, SystemErrorsAreIo) {
  EXPECT_EQ(rpc_code(system_error("open \"/x\"", ENOENT)), RpcCode::internal);
  EXPECT_EQ(rpc_code_name(RpcCode::not_found), "NotFound");
}

TEST(ErrorReport, LineNamesTheTool) {
  EXPECT_EQ(error_line(Error("bad").in_file("/s.yaml", 3, 4)), "cdi-hook: /s.yaml:3:4: bad");
}

// A message with control characters, quotes and invalid UTF-8 still makes one
// line of valid JSON.
TEST(ErrorReport, RuntimeLogLineIsJson) {
  std::string line = runtime_log_line(Error(std::string("a\x01\"b\\\nc\xff", 9)), 0);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  rapidjson::Document doc;
  doc.Parse(line.c_str());
  ASSERT_FALSE(doc.HasParseError()) << line;
  EXPECT_STREQ(doc["level"].GetString(), "error");
  EXPECT_EQ(std::string(doc["msg"].GetString(), doc["msg"].GetStringLength()),
            std::string("cdi-hook: a\x01\"b\\\nc\xff", 19));
  EXPECT_STREQ(doc["time"].GetString(), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace cdi::app
