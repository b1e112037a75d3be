// The whole-file check `validate` runs: every problem located, warnings apart
// from problems, and the strict rules that look at the host.
#include "spec/spec_check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi {
namespace {

using ::testing::ElementsAre;
using testing::FakeFs;

std::vector<std::string> lines(const std::vector<Error>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.located());
  return out;
}

SpecCheckResult check(FakeFs& fs, const std::string& text, bool strict = false) {
  return check_spec_bytes(fs, "s.yaml", text, codec::SpecFormat::yaml, SpecCheckOptions{.strict = strict});
}

TEST(SpecCheck, EveryProblemLocatedAndInLineOrder) {
  FakeFs fs;
  auto r = check(fs,
                 "cdiVersion: 0.5.0\n"
                 "kind: vendor.com/dev\n"
                 "devices:\n"
                 "- name: a\n"
                 "  containerEdits:\n"
                 "    deviceNodes:\n"
                 "    - {path: /dev/x, major: 5000, uid: 4294967295}\n"
                 "    env: [NOEQUALS]\n"
                 "    mounts: [{hostPath: /a, containerPath: /b, typo: 1}]\n");
  EXPECT_FALSE(r.valid());
  EXPECT_THAT(
      lines(r.problems),
      ElementsAre("s.yaml:7:29: devices[0].containerEdits.deviceNodes[0].major: device major 5000 is above "
                  "4095, the largest Linux has",
                  "s.yaml:7:40: devices[0].containerEdits.deviceNodes[0].uid: uid 4294967295 is not a valid uid "
                  "(it is (uid_t)-1, which means \"no owner change\")",
                  "s.yaml:8:11: devices[0].containerEdits.env[0]: invalid environment variable \"NOEQUALS\": "
                  "expected KEY=VALUE",
                  "s.yaml:9:48: devices[0].containerEdits.mounts[0].typo: unknown field \"typo\" (did you mean "
                  "\"type\"?)"));
  // The positions of device names are there for validate's cross-file conflicts.
  ASSERT_TRUE(r.spec);
  EXPECT_EQ(r.spec->positions.at("devices[0].name").line, 4);
}

TEST(SpecCheck, WarningsDoNotMakeAFileInvalid) {
  FakeFs fs;
  std::string text =
      "cdiVersion: 0.5.0\n"
      "kind: vendor.com/dev\n"
      "devices:\n"
      "- name: a\n"
      "  containerEdits:\n"
      "    deviceNodes: [{path: dev/x, type: c, major: 1, minor: 3, fileMode: 0640}]\n";
  auto plain = check(fs, text);
  EXPECT_TRUE(plain.valid()) << lines(plain.problems).front();
  EXPECT_THAT(lines(plain.warnings), ElementsAre("s.yaml:6:26: devices[0].containerEdits.deviceNodes[0].path: "
                                                 "container path \"dev/x\" is not absolute"));
  EXPECT_EQ(plain.spec->devices[0].edits.device_nodes[0].file_mode, 0640u);
  // --strict: the relative path is an error, and the octal reading is worth a word.
  auto strict = check(fs, text, true);
  EXPECT_THAT(lines(strict.problems), ElementsAre("s.yaml:6:26: devices[0].containerEdits.deviceNodes[0].path: path "
                                                  "\"dev/x\" is not absolute"));
  EXPECT_THAT(lines(strict.warnings),
              ElementsAre("s.yaml:6:72: devices[0].containerEdits.deviceNodes[0].fileMode: ambiguous number 0640: read "
                          "as octal (416) as the Go reference reads it (YAML 1.1); YAML 1.2 reads it as decimal 640; "
                          "write 0o640 to say octal"));
}

TEST(SpecCheck, StrictHostNodesExceptNodesThatGiveTypeAndNumbers) {
  FakeFs fs;
  fs.add_char_device("/dev/present", 1, 3);
  fs.add_file("/etc/plain", "x");
  auto r = check(fs,
                 "cdiVersion: 0.5.0\n"
                 "kind: vendor.com/dev\n"
                 "devices:\n"
                 "- name: a\n"
                 "  containerEdits:\n"
                 "    deviceNodes:\n"
                 "    - path: /dev/present\n"
                 "    - path: /dev/missing\n"
                 "    - path: /dev/x\n"
                 "      hostPath: /etc/plain\n"
                 "    - {path: /dev/complete, type: c, major: 240, minor: 1}\n"
                 "    - {path: /dev/fifo, type: p}\n"
                 "    - {path: /dev/typed-only, type: c}\n",
                 true);
  EXPECT_THAT(
      lines(r.problems),
      ElementsAre("s.yaml:8:13: devices[0].containerEdits.deviceNodes[1].path: host device \"/dev/missing\" does "
                  "not exist",
                  "s.yaml:10:17: devices[0].containerEdits.deviceNodes[2].hostPath: host path \"/etc/plain\" is "
                  "not a device node",
                  "s.yaml:13:14: devices[0].containerEdits.deviceNodes[5].path: host device "
                  "\"/dev/typed-only\" does not exist"));
}

TEST(SpecCheck, StrictTmpfsSourceIsNotAPath) {
  FakeFs fs;
  auto r = check(fs,
                 "cdiVersion: 0.5.0\n"
                 "kind: vendor.com/dev\n"
                 "devices:\n"
                 "- name: a\n"
                 "  containerEdits:\n"
                 "    mounts:\n"
                 "    - {hostPath: tmpfs, containerPath: /tmp/data, type: tmpfs, options: [nosuid, size=65536k]}\n"
                 "    - {hostPath: relative, containerPath: /b, options: [bind]}\n",
                 true);
  EXPECT_THAT(lines(r.problems), ElementsAre("s.yaml:8:18: devices[0].containerEdits.mounts[1].hostPath: path "
                                             "\"relative\" is not absolute"));
}

TEST(SpecCheck, SyntaxErrorIsTheOneProblem) {
  FakeFs fs;
  auto r = check(fs, "cdiVersion: [\n");
  EXPECT_FALSE(r.spec);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_THAT(r.problems[0].located(), ::testing::StartsWith("s.yaml:2:1: invalid YAML"));
}

}  // namespace
}  // namespace cdi
