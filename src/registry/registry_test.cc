#include "registry/registry.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "spec/qualified_name.h"
#include "support/fake_fs.h"
#include "support/temp_dir.h"

namespace cdi {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::FakeFs;

// A spec of `kind` whose devices each set FROM=<tag> (to tell definitions apart).
std::string spec_yaml(const std::string& kind, const std::vector<std::string>& devices, const std::string& tag) {
  std::string out = "cdiVersion: 0.6.0\nkind: " + kind + "\ndevices:\n";
  for (const auto& d : devices) out += "- name: " + d + "\n  containerEdits:\n    env: [FROM=" + tag + "]\n";
  return out;
}

std::string spec_json(const std::string& kind, const std::vector<std::string>& devices, const std::string& tag) {
  std::string out = R"({"cdiVersion": "0.6.0", "kind": ")" + kind + R"(", "devices": [)";
  for (size_t i = 0; i < devices.size(); ++i) {
    if (i) out += ", ";
    out += R"({"name": ")" + devices[i] + R"(", "containerEdits": {"env": ["FROM=)" + tag + R"("]}})";
  }
  return out + "]}";
}

const std::string kEtc = "/etc/cdi";
const std::string kRun = "/var/run/cdi";

RegistryOptions options(std::vector<std::string> dirs = {kEtc, kRun}) {
  RegistryOptions o;
  o.spec_dirs = std::move(dirs);
  return o;
}

// The FROM tag of the definition a name resolves to, or "error: <to_string>".
std::string resolve_tag(Registry& r, std::string_view name) {
  auto def = r.resolve(name);
  if (!def.ok()) return "error: " + def.error().to_string();
  const auto& env = def->device->edits.env;
  return env.empty() ? "(no env)" : env[0].substr(5);
}

std::string warnings(const MemoryLogger& log) {
  std::string out;
  for (const auto& e : log.entries) {
    if (e.level == LogLevel::warn) out += e.message + "\n";
  }
  return out;
}

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() {
    fs.add_dir(kEtc);
    fs.add_dir(kRun);
  }
  // A registry over the two default dirs, loaded for the kinds given (all when empty).
  Registry& load(std::set<std::string> kinds = {}, RegistryOptions o = options()) {
    registry = std::make_unique<Registry>(fs, log, std::move(o));
    if (kinds.empty()) {
      registry->load_all();
    } else {
      registry->load(kinds);
    }
    return *registry;
  }

  FakeFs fs;
  MemoryLogger log;
  std::unique_ptr<Registry> registry;
};

// ---- priority and conflicts ---------------------------------------------------

TEST_F(RegistryTest, LaterDirWinsSilently) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d", "only-etc"}, "etc"));
  fs.add_file(kRun + "/a.yaml", spec_yaml("v.com/c", {"d"}, "run"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=d"), "run");
  EXPECT_EQ(resolve_tag(r, "v.com/c=only-etc"), "etc");
  EXPECT_TRUE(r.problems().empty());
  EXPECT_EQ(warnings(log), "");
  auto def = r.resolve("v.com/c=d");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->spec->path, kRun + "/a.yaml");
  EXPECT_EQ(def->spec->priority, 1);
  EXPECT_EQ(def->qualified_name(), "v.com/c=d");
  // Both definitions are listed, highest priority first.
  const auto& defs = r.definitions().at("v.com/c=d");
  ASSERT_EQ(defs.size(), 2u);
  EXPECT_EQ(defs[0].spec->path, kRun + "/a.yaml");
  EXPECT_EQ(defs[1].spec->path, kEtc + "/a.yaml");
}

TEST_F(RegistryTest, SamePriorityConflictPoisonsOnlyThatName) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d", "x"}, "a"));
  fs.add_file(kEtc + "/b.json", spec_json("v.com/c", {"y", "d"}, "b"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=d"),
            "error: unresolvable CDI device \"v.com/c=d\": conflicting definitions in \"/etc/cdi/a.yaml\" and "
            "\"/etc/cdi/b.json\" (same spec dir)");
  EXPECT_EQ(resolve_tag(r, "v.com/c=x"), "a");
  EXPECT_EQ(resolve_tag(r, "v.com/c=y"), "b");
}

// docs/decisions.md: a definition in a higher-priority dir wins over a
// conflict in a lower one (the reference leaves the name unresolvable).
TEST_F(RegistryTest, HigherPriorityDefinitionRescuesALowerConflict) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d"}, "a"));
  fs.add_file(kEtc + "/b.yaml", spec_yaml("v.com/c", {"d"}, "b"));
  fs.add_file(kRun + "/c.yaml", spec_yaml("v.com/c", {"d"}, "c"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=d"), "c");
}

TEST_F(RegistryTest, HigherPriorityConflictIsNotRescuedByALowerDefinition) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d"}, "a"));
  fs.add_file(kRun + "/b.yaml", spec_yaml("v.com/c", {"d"}, "b"));
  fs.add_file(kRun + "/c.yaml", spec_yaml("v.com/c", {"d"}, "c"));
  Registry& r = load();
  std::string out = resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(out, HasSubstr("conflicting definitions in \"/var/run/cdi/b.yaml\" and \"/var/run/cdi/c.yaml\""));
}

TEST_F(RegistryTest, FilesOfOneKindMerge) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"a"}, "a"));
  fs.add_file(kEtc + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  Registry& r = load({"v.com/c"});
  EXPECT_EQ(resolve_tag(r, "v.com/c=a"), "a");
  EXPECT_EQ(resolve_tag(r, "v.com/c=b"), "b");
}

// ---- resolve() errors -----------------------------------------------------------

TEST_F(RegistryTest, NoSpecOfTheKind) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d"}, "a"));
  Registry& r = load({"other.com/x"});
  EXPECT_EQ(resolve_tag(r, "other.com/x=d"),
            "error: unresolvable CDI device \"other.com/x=d\": no spec of kind \"other.com/x\" in \"/etc/cdi\", "
            "\"/var/run/cdi\" (no spec files)");
}

// The error names a spec dir that does not exist, or holds no spec files.
TEST_F(RegistryTest, NoSpecOfTheKindNamesMissingAndEmptyDirs) {
  fs.add_dir("/empty");
  fs.add_file("/empty/notes.txt", "not a spec");
  RegistryOptions o = options();
  o.spec_dirs = {"/missing", "/empty", kEtc};
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d"}, "a"));
  Registry& r = load({"other.com/x"}, o);
  EXPECT_EQ(resolve_tag(r, "other.com/x=d"),
            "error: unresolvable CDI device \"other.com/x=d\": no spec of kind \"other.com/x\" in \"/missing\" (does "
            "not exist), \"/empty\" (no spec files), \"/etc/cdi\"");
}

TEST_F(RegistryTest, KindPresentNameMissingListsNames) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"gpu0", "gpu1"}, "a"));
  fs.add_file(kRun + "/b.yaml", spec_yaml("v.com/c", {"all"}, "b"));
  Registry& r = load({"v.com/c"});
  EXPECT_EQ(resolve_tag(r, "v.com/c=gpu9"),
            "error: unresolvable CDI device \"v.com/c=gpu9\": no device \"gpu9\" in \"/etc/cdi/a.yaml\", "
            "\"/var/run/cdi/b.yaml\" (it has gpu0, gpu1, all)");
}

TEST_F(RegistryTest, ManyNamesAreCut) {
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("d" + std::to_string(i));
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", names, "a"));
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=zz");
  EXPECT_THAT(out, HasSubstr("(it has d0, d1, d2, d3, d4, d5, d6, d7, ...)"));
}

TEST_F(RegistryTest, ResolveRefusesUnqualifiedNames) {
  Registry& r = load();
  EXPECT_FALSE(r.resolve("gpu0").ok());
  EXPECT_FALSE(r.resolve("v.com/c=").ok());
}

// resolve() looks a name up before parsing it: that is exact only if every
// key is a valid qualified name, whatever files the dirs hold (invalid
// kinds and device names, permission checks off).
TEST_F(RegistryTest, EveryDefinitionIsAValidQualifiedName) {
  fs.add_file(kEtc + "/good.yaml", spec_yaml("v.com/c", {"d", "x.y:z"}, "good"));
  fs.add_file(kEtc + "/bad-name.yaml", spec_yaml("v.com/c", {"e", "bad name"}, "bad"));
  fs.add_file(kEtc + "/bad-kind.yaml", spec_yaml("v.com/c=f", {"g"}, "bad"));
  fs.add_file(kRun + "/slash.yaml", spec_yaml("v.com/c/d", {"h"}, "bad"));
  for (bool check_permissions : {true, false}) {
    RegistryOptions o = options();
    o.check_permissions = check_permissions;
    Registry& r = load({}, o);
    ASSERT_FALSE(r.definitions().empty());
    for (const auto& [name, defs] : r.definitions()) EXPECT_TRUE(is_qualified_name(name)) << name;
    EXPECT_EQ(resolve_tag(r, "v.com/c=x.y:z"), "good");
    EXPECT_THAT(resolve_tag(r, "v.com/c=bad name"), HasSubstr("invalid device name \"bad name\""));
    EXPECT_THAT(resolve_tag(r, "v.com/c=f=g"), HasSubstr("invalid device"));
  }
}

TEST_F(RegistryTest, NamesMatchExactly) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"Gpu"}, "a"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=Gpu"), "a");
  EXPECT_TRUE(resolve_tag(r, "v.com/c=gpu").starts_with("error: ")) << "names are case-sensitive";
}

// ---- broken specs ---------------------------------------------------------------

TEST_F(RegistryTest, BrokenSpecNeverHidesGoodOnes) {
  fs.add_file(kEtc + "/bad.yaml", "cdiVersion: 0.6.0\nkind: v.com/c\ndevices:\n- name: [\n");
  fs.add_file(kEtc + "/good.yaml", spec_yaml("v.com/c", {"good"}, "good"));
  fs.add_file(kEtc + "/invalid.yaml", spec_yaml("v.com/c", {"bad_"}, "invalid"));
  Registry& r = load({"v.com/c"});
  EXPECT_EQ(resolve_tag(r, "v.com/c=good"), "good");
  ASSERT_EQ(r.problems().size(), 2u);
  EXPECT_EQ(r.problems()[0].path, kEtc + "/bad.yaml");
  EXPECT_EQ(r.problems()[0].kind, "v.com/c");
  EXPECT_EQ(r.problems()[1].path, kEtc + "/invalid.yaml");
  EXPECT_EQ(r.problems()[1].errors.at(0).field, "devices[0].name");
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec file: /etc/cdi/bad.yaml:"));
  // A missing name of that kind is blamed on the broken file, located.
  std::string out = resolve_tag(r, "v.com/c=missing");
  EXPECT_THAT(out, HasSubstr("/etc/cdi/bad.yaml:5:1: "));
  EXPECT_THAT(out, HasSubstr("invalid YAML"));
  EXPECT_THAT(out, HasSubstr("(and 1 more unusable spec files)"));
}

TEST_F(RegistryTest, BrokenSpecOfAnotherKindIsNotBlamed) {
  fs.add_file(kEtc + "/bad.yaml", spec_yaml("w.com/c", {"bad_"}, "bad"));
  fs.add_file(kEtc + "/good.yaml", spec_yaml("v.com/c", {"good"}, "good"));
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=missing");
  EXPECT_THAT(out, Not(HasSubstr("bad.yaml")));
  EXPECT_THAT(out, HasSubstr("no device \"missing\""));
}

TEST_F(RegistryTest, BrokenSpecWhoseKindCannotBeToldIsNamed) {
  fs.add_file(kEtc + "/garbled.yaml", "kind: [\n");
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(out, HasSubstr("/etc/cdi/garbled.yaml:2:1: invalid YAML"));
}

TEST_F(RegistryTest, ValidationUsesTheOptions) {
  fs.add_file(kEtc + "/rel.yaml",
              "cdiVersion: 0.6.0\nkind: v.com/c\ndevices:\n- name: d\n  containerEdits:\n"
              "    deviceNodes: [{path: dev/x}]\n");
  EXPECT_EQ(resolve_tag(load(), "v.com/c=d"), "(no env)");
  RegistryOptions strict = options();
  strict.validate.strict = true;
  std::string out = resolve_tag(load({}, strict), "v.com/c=d");
  EXPECT_THAT(out, HasSubstr("not absolute"));
}

TEST_F(RegistryTest, RecordPositionsLocatesValidationErrors) {
  fs.add_file(kEtc + "/a.yaml",
              "cdiVersion: 0.6.0\nkind: v.com/c\ndevices:\n- name: d\n  containerEdits:\n"
              "    env: [OK=1, NOTOK]\n");
  RegistryOptions o = options();
  o.record_positions = true;
  Registry& r = load({}, o);
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_EQ(r.problems()[0].errors.at(0).located(),
            "/etc/cdi/a.yaml:6:17: devices[0].containerEdits.env[1]: invalid environment variable \"NOTOK\": "
            "expected KEY=VALUE");
}

// Without recorded positions (the hook, inject, list) a validation error is located
// once it is found, so every front end gets file:line:column.
TEST_F(RegistryTest, ValidationErrorsAreLocatedWithoutRecordedPositions) {
  fs.add_file(kEtc + "/a.yaml",
              "cdiVersion: 0.6.0\nkind: v.com/c\ndevices:\n- name: d\n  containerEdits:\n"
              "    env: [OK=1, NOTOK]\n    deviceNodes: [{path: /dev/x, major: 4096}]\n");
  Registry& r = load({"v.com/c"});
  ASSERT_EQ(r.problems().size(), 1u);
  ASSERT_EQ(r.problems()[0].errors.size(), 2u);
  EXPECT_EQ(r.problems()[0].errors[0].located(),
            "/etc/cdi/a.yaml:6:17: devices[0].containerEdits.env[1]: invalid environment variable \"NOTOK\": "
            "expected KEY=VALUE");
  EXPECT_EQ(r.problems()[0].errors[1].located(),
            "/etc/cdi/a.yaml:7:41: devices[0].containerEdits.deviceNodes[0].major: device major 4096 is above 4095, "
            "the largest Linux has");
  EXPECT_THAT(resolve_tag(r, "v.com/c=d"), HasSubstr("/etc/cdi/a.yaml:6:17: "));
}

// ---- directories ----------------------------------------------------------------

TEST_F(RegistryTest, MissingDirSkippedQuietly) {
  fs.remove(kRun);
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d"}, "a"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=d"), "a");
  EXPECT_TRUE(r.problems().empty());
  EXPECT_EQ(warnings(log), "");
}

TEST_F(RegistryTest, UnreadableDirSkippedWithAWarning) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"a"}, "a"));
  fs.add_file(kRun + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  fs.set_list_error(kEtc, EACCES);
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=b"), "b");
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_TRUE(r.problems()[0].is_dir);
  EXPECT_EQ(r.problems()[0].path, kEtc);
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec dir: /etc/cdi: "));
  EXPECT_THAT(warnings(log), HasSubstr("Permission denied"));
}

TEST_F(RegistryTest, DirThatCannotBeStatedSkippedWithAWarning) {
  fs.add_file(kRun + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  fs.set_error(kEtc, EACCES);
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=b"), "b");
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec dir: /etc/cdi: "));
}

TEST_F(RegistryTest, NotADirSkippedWithAWarning) {
  fs.remove(kEtc);
  fs.add_file(kEtc, "not a dir");
  fs.add_file(kRun + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=b"), "b");
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec dir: /etc/cdi: not a directory"));
}

TEST_F(RegistryTest, DanglingDirLinkSkippedWithAWarning) {
  fs.remove(kEtc);
  fs.add_symlink(kEtc, "/nowhere");
  fs.add_file(kRun + "/b.yaml", spec_yaml("v.com/c", {"b"}, "b"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=b"), "b");
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec dir: /etc/cdi"));
}

TEST_F(RegistryTest, SymlinkedDirFollowed) {
  fs.remove(kEtc);
  fs.add_file("/opt/cdi/a.yaml", spec_yaml("v.com/c", {"a"}, "a"));
  fs.add_symlink(kEtc, "/opt/cdi");
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=a"), "a");
  EXPECT_EQ(r.resolve("v.com/c=a")->spec->path, kEtc + "/a.yaml");
}

// ---- permissions ----------------------------------------------------------------

struct InsecureCase {
  const char* name;
  uint32_t mode;
  uint32_t uid;
  uint32_t gid;
  uint32_t euid;
  const char* reason;  // nullptr: trusted
};

void PrintTo(const InsecureCase& c, std::ostream* os) { *os << c.name; }

class InsecureFileTest : public RegistryTest, public ::testing::WithParamInterface<InsecureCase> {};

TEST_P(InsecureFileTest, IgnoredWithAWarningNamingIt) {
  const InsecureCase& c = GetParam();
  auto& n = fs.add_file(kEtc + "/x.yaml", spec_yaml("v.com/c", {"d"}, "x"), c.mode);
  n.st.uid = c.uid;
  n.st.gid = c.gid;
  fs.set_euid(c.euid);
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=d");
  if (c.reason == nullptr) {
    EXPECT_EQ(out, "x");
    EXPECT_EQ(warnings(log), "");
    return;
  }
  EXPECT_TRUE(out.starts_with("error: unresolvable CDI device \"v.com/c=d\": /etc/cdi/x.yaml: ")) << out;
  EXPECT_THAT(out, HasSubstr(c.reason));
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec file: /etc/cdi/x.yaml: spec file is "));
  EXPECT_THAT(warnings(log), HasSubstr(c.reason));
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_TRUE(r.problems()[0].insecure);
  // Turned off, the file is used.
  RegistryOptions o = options();
  o.check_permissions = false;
  EXPECT_EQ(resolve_tag(load({"v.com/c"}, o), "v.com/c=d"), "x");
}

INSTANTIATE_TEST_SUITE_P(
    Table, InsecureFileTest,
    ::testing::Values(InsecureCase{"world_writable", 0666, 0, 0, 0, "writable by every user (mode 0666)"},
                      InsecureCase{"world_writable_sticky", 01646, 0, 0, 0, "writable by every user (mode 1646)"},
                      InsecureCase{"group_writable_other_group", 0664, 0, 1000, 0,
                                   "writable by group 1000 (mode 0664)"},
                      InsecureCase{"group_writable_root_group", 0664, 0, 0, 0, nullptr},
                      InsecureCase{"owned_by_other_user", 0644, 1000, 0, 0, "owned by uid 1000"},
                      InsecureCase{"owned_by_us", 0644, 1000, 1000, 1000, nullptr},
                      InsecureCase{"root_owned_for_user", 0644, 0, 0, 1000, nullptr},
                      InsecureCase{"read_only_for_all", 0444, 0, 0, 0, nullptr}),
    [](const ::testing::TestParamInfo<InsecureCase>& i) { return i.param.name; });

TEST_F(RegistryTest, InsecureDirIgnored) {
  fs.add_dir(kEtc, 0777);
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"d"}, "a"));
  Registry& r = load();
  EXPECT_TRUE(resolve_tag(r, "v.com/c=d").starts_with("error: ")) << resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec dir: /etc/cdi: spec dir is writable by every user (mode 0777)"));
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_TRUE(r.problems()[0].is_dir);
  EXPECT_TRUE(r.problems()[0].insecure);
}

TEST_F(RegistryTest, InsecureFileIsNamedOnlyForItsKind) {
  fs.add_file(kEtc + "/x.yaml", spec_yaml("k2.com/c", {"d"}, "x"), 0666);
  fs.add_file(kEtc + "/ok.yaml", spec_yaml("k1.com/c", {"a"}, "ok"));
  Registry& r = load({"k1.com/c", "k2.com/c"});
  std::string first = resolve_tag(r, "k1.com/c=b");
  EXPECT_THAT(first, Not(HasSubstr("x.yaml")));
  // Asked after another unresolvable name, the insecure file is still named.
  std::string second = resolve_tag(r, "k2.com/c=d");
  EXPECT_THAT(second, HasSubstr("/etc/cdi/x.yaml"));
  EXPECT_THAT(second, HasSubstr("writable by every user"));
  std::string again = resolve_tag(r, "k2.com/c=d");
  EXPECT_EQ(again, second);
}

// ---- what is read is what is judged --------------------------------------------

TEST_F(RegistryTest, SpecSwappedBetweenStatAndReadIsJudgedOnWhatIsRead) {
  fs.add_file(kEtc + "/x.yaml", spec_yaml("v.com/c", {"d"}, "root"));
  // After the scan's stat of the name, another user's file takes its place.
  fs.before_read = [&](const std::string& path) {
    if (path != kEtc + "/x.yaml") return;
    fs.add_file(path, spec_yaml("v.com/c", {"d"}, "pwned")).st.uid = 1000;
  };
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(out, Not(HasSubstr("pwned")));
  EXPECT_THAT(out, HasSubstr("/etc/cdi/x.yaml: spec file is owned by uid 1000; it is ignored"));
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_TRUE(r.problems()[0].insecure);
}

TEST_F(RegistryTest, SymlinkedSpecThroughAnotherUsersDirIsIgnored) {
  fs.add_dir("/home/u").st.uid = 1000;
  fs.add_file("/home/u/specs/s.yaml", spec_yaml("v.com/c", {"d"}, "user"));  // root-owned file, user's dir
  fs.add_symlink(kEtc + "/vendor.yaml", "/home/u/specs/s.yaml");
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(out,
              HasSubstr("/etc/cdi/vendor.yaml: spec file is reached through \"/home/u\", which is owned by uid 1000; "
                        "it is ignored"));
  EXPECT_EQ(fs.reads_by_path.count("/home/u/specs/s.yaml"), 0u);
  // --allow-insecure-specs follows it.
  RegistryOptions o = options();
  o.check_permissions = false;
  EXPECT_EQ(resolve_tag(load({"v.com/c"}, o), "v.com/c=d"), "user");
}

struct LinkCase {
  const char* name;
  const char* target;  // of /etc/cdi/x.yaml; /opt/specs/real.yaml holds the spec
  const char* reason;  // nullptr: the spec is read
};

void PrintTo(const LinkCase& c, std::ostream* os) { *os << c.name; }

class SymlinkedSpecTest : public RegistryTest, public ::testing::WithParamInterface<LinkCase> {};

TEST_P(SymlinkedSpecTest, JudgedByEveryDirOnTheWay) {
  const LinkCase& c = GetParam();
  fs.add_file("/opt/specs/real.yaml", spec_yaml("v.com/c", {"d"}, "real"));
  fs.add_dir("/tmp", 01777);
  fs.add_dir("/opt/open", 0777);
  fs.add_dir("/opt/acl").acl = testing::acl_with_user(65534, 7, 7);
  fs.find("/opt/acl")->st.mode = S_IFDIR | 0775;
  fs.add_symlink("/opt/acl/hop", "/opt/specs");
  fs.add_symlink("/opt/open/real.yaml", "/opt/specs/real.yaml");
  fs.add_symlink("/opt/specs/via-root-dir.yaml", "real.yaml");
  fs.add_symlink("/tmp/s.yaml", "/opt/specs/real.yaml");
  fs.add_symlink("/opt/loop.yaml", "/opt/loop.yaml");
  fs.add_symlink(kEtc + "/x.yaml", c.target);
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=d");
  if (c.reason == nullptr) {
    EXPECT_EQ(out, "real");
    return;
  }
  EXPECT_THAT(out, HasSubstr("/etc/cdi/x.yaml: "));
  EXPECT_THAT(out, HasSubstr(c.reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, SymlinkedSpecTest,
    ::testing::Values(LinkCase{"absolute", "/opt/specs/real.yaml", nullptr},
                      LinkCase{"relative_up_and_down", "../../opt/specs/real.yaml", nullptr},
                      LinkCase{"chain_in_root_dirs", "/opt/specs/via-root-dir.yaml", nullptr},
                      LinkCase{"through_sticky_tmp", "/tmp/s.yaml",
                               "reached through \"/tmp\", which is writable by every user (mode 1777)"},
                      LinkCase{"relative_through_sticky_tmp", "../../tmp/s.yaml",
                               "reached through \"/tmp\", which is writable by every user (mode 1777)"},
                      LinkCase{"link_in_open_dir", "/opt/open/real.yaml",
                               "reached through \"/opt/open\", which is writable by every user (mode 0777)"},
                      LinkCase{"dir_with_acl", "/opt/acl/hop/real.yaml",
                               "reached through \"/opt/acl\", which is writable by uid 65534 (access ACL)"},
                      LinkCase{"loop", "/opt/loop.yaml", "Too many levels of symbolic links"},
                      LinkCase{"to_a_dir", "/opt/specs", "not a regular file"}),
    [](const ::testing::TestParamInfo<LinkCase>& i) { return i.param.name; });

TEST_F(RegistryTest, SpecWithAnAclGrantingWriteIsIgnored) {
  auto& n = fs.add_file(kEtc + "/x.yaml", spec_yaml("v.com/c", {"d"}, "x"), 0664);
  n.acl = testing::acl_with_user(65534, 6, 6);
  Registry& r = load({"v.com/c"});
  std::string out = resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(out, HasSubstr("/etc/cdi/x.yaml: spec file is writable by uid 65534 (access ACL); it is ignored"));
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_TRUE(r.problems()[0].insecure);
  // Read-only for that user: trusted.
  n.acl = testing::acl_with_user(65534, 4, 4);
  n.st.mode = S_IFREG | 0644;
  EXPECT_EQ(resolve_tag(load({"v.com/c"}), "v.com/c=d"), "x");
}

TEST_F(RegistryTest, SpecDirWithAnAclGrantingWriteIsIgnored) {
  fs.add_file(kEtc + "/x.yaml", spec_yaml("v.com/c", {"d"}, "x"));
  auto* dir = fs.find(kEtc);
  dir->st.mode = S_IFDIR | 0775;
  dir->acl = testing::posix_acl_value({{AclEntry::user_obj, 7, 0},
                                       {AclEntry::group_obj, 5, 0},
                                       {AclEntry::group, 7, 100},
                                       {AclEntry::mask, 7, 0},
                                       {AclEntry::other, 5, 0}});
  Registry& r = load({"v.com/c"});
  EXPECT_TRUE(resolve_tag(r, "v.com/c=d").starts_with("error: ")) << resolve_tag(r, "v.com/c=d");
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec dir: /etc/cdi: spec dir is writable by group 100 (access ACL)"));
}

// A root-only file that is not a spec at all, linked into a spec dir by mistake
// or by someone who hopes to read it in the hook's log.
struct NotASpecCase {
  const char* name;
  const char* file;
  const char* content;
};

void PrintTo(const NotASpecCase& c, std::ostream* os) { *os << c.name; }

class NotASpecTest : public RegistryTest, public ::testing::WithParamInterface<NotASpecCase> {};

TEST_P(NotASpecTest, ErrorQuotesNoneOfIt) {
  const NotASpecCase& c = GetParam();
  fs.add_file(std::string("/etc/") + c.file, c.content, 0600);
  fs.add_symlink(kEtc + "/linked." + (std::string(c.file).ends_with(".json") ? "json" : "yaml"),
                 std::string("/etc/") + c.file);
  for (const auto& kinds : {std::set<std::string>{"v.com/c"}, std::set<std::string>{}}) {
    Registry* r = &load(kinds);
    std::string out = resolve_tag(*r, "v.com/c=d");
    EXPECT_THAT(out, HasSubstr("not a CDI spec: no cdiVersion or kind at the top level (its content is not shown)"));
    for (const char* secret : {"root", "s3cret", "hunter2", "password"}) {
      EXPECT_THAT(out, Not(HasSubstr(secret)));
      EXPECT_THAT(warnings(log), Not(HasSubstr(secret)));
      for (const auto& p : r->problems()) EXPECT_THAT(p.errors.at(0).to_string(), Not(HasSubstr(secret)));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, NotASpecTest,
    ::testing::Values(NotASpecCase{"shadow", "shadow", "root:*:20228:0:99999:7:::\nu:$6$s3cret:20228:0:99999:7:::\n"},
                      NotASpecCase{"one_scalar", "token", "s3cret-hunter2\n"},
                      NotASpecCase{"yaml_mapping", "app.yaml", "password: hunter2\nuser: root\n"},
                      NotASpecCase{"wrong_type_value", "x.yaml", "devices: s3cret\n"},
                      NotASpecCase{"json_object", "creds.json", "{\"password\": \"hunter2\", \"root\": 1}"},
                      NotASpecCase{"json_array", "list.json", "[\"s3cret\", \"hunter2\"]"}),
    [](const ::testing::TestParamInfo<NotASpecCase>& i) { return i.param.name; });

TEST_F(RegistryTest, SpecMistakesAreStillQuoted) {
  // A document with cdiVersion or kind is meant as a spec: its errors quote it.
  fs.add_file(kEtc + "/x.yaml", "cdiVersion: 0.6.0\nkind: v.com/c\ndevicez: []\n");
  fs.add_file(kEtc + "/y.yaml", "kind: w.com/c\nKind: w.com/c\n");
  Registry& r = load({"v.com/c", "w.com/c"});
  EXPECT_THAT(resolve_tag(r, "v.com/c=d"), HasSubstr("unknown field \"devicez\""));
  EXPECT_THAT(resolve_tag(r, "w.com/c=d"), HasSubstr("\"Kind\""));
}

TEST_F(RegistryTest, KindlessBrokenFileNamedForEveryMissingName) {
  fs.add_file(kEtc + "/garbled.json", "{\"kind\": 5");
  Registry& r = load({"a.com/c", "b.com/c"});
  EXPECT_THAT(resolve_tag(r, "a.com/c=d"), HasSubstr("garbled.json"));
  EXPECT_THAT(resolve_tag(r, "b.com/c=d"), HasSubstr("garbled.json"));
}

// ---- which files ------------------------------------------------------------------

TEST_F(RegistryTest, OnlyExactJsonAndYamlExtensions) {
  for (const char* name :
       {"a.yml", "b.JSON", "c.YAML", "x.yaml.tmp", "spec.123.tmp", "yaml", "d.yaml~", "e.json.bak"}) {
    fs.add_file(kEtc + "/" + name, spec_yaml("v.com/c", {"d"}, name));
  }
  Registry& r = load();
  EXPECT_TRUE(resolve_tag(r, "v.com/c=d").starts_with("error: ")) << resolve_tag(r, "v.com/c=d");
  EXPECT_EQ(fs.read_count, 0);
  EXPECT_TRUE(r.problems().empty());
}

TEST_F(RegistryTest, NotRecursive) {
  fs.add_file(kEtc + "/sub/a.yaml", spec_yaml("v.com/c", {"d"}, "sub"));
  fs.add_dir(kEtc + "/dir.yaml");
  Registry& r = load();
  EXPECT_TRUE(resolve_tag(r, "v.com/c=d").starts_with("error: "));
  // A directory named like a spec is a per-file problem.
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_EQ(r.problems()[0].path, kEtc + "/dir.yaml");
}

TEST_F(RegistryTest, SymlinkedSpecFileFollowed) {
  fs.add_file("/opt/specs/real.yaml", spec_yaml("v.com/c", {"d"}, "real"));
  fs.add_symlink(kEtc + "/link.yaml", "/opt/specs/real.yaml");
  fs.add_symlink(kEtc + "/relative.yaml", "../../opt/specs/real.yaml");
  Registry& r = load();
  // Two links to one file in one dir: the same device twice at one priority.
  EXPECT_THAT(resolve_tag(r, "v.com/c=d"), HasSubstr("conflicting definitions in \"/etc/cdi/link.yaml\" and "
                                                     "\"/etc/cdi/relative.yaml\""));
  fs.remove(kEtc + "/relative.yaml");
  EXPECT_EQ(resolve_tag(load(), "v.com/c=d"), "real");
}

TEST_F(RegistryTest, DanglingSymlinkIsAPerFileError) {
  fs.add_symlink(kEtc + "/dangling.yaml", "/opt/none.yaml");
  fs.add_file(kEtc + "/good.yaml", spec_yaml("v.com/c", {"d"}, "good"));
  Registry& r = load();
  EXPECT_EQ(resolve_tag(r, "v.com/c=d"), "good");
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_EQ(r.problems()[0].path, kEtc + "/dangling.yaml");
  EXPECT_FALSE(r.problems()[0].is_dir);
  EXPECT_THAT(warnings(log), HasSubstr("ignoring spec file: /etc/cdi/dangling.yaml: "));
}

TEST_F(RegistryTest, FifoNamedLikeASpecIsNotRead) {
  fs.add_fifo(kEtc + "/pipe.yaml");
  Registry& r = load();
  ASSERT_EQ(r.problems().size(), 1u);
  EXPECT_THAT(r.problems()[0].errors.at(0).message, HasSubstr("not a regular file"));
  EXPECT_EQ(fs.read_count, 0);
}

// ---- lazy loading ---------------------------------------------------------------

TEST_F(RegistryTest, OnlyRequestedKindsAreParsed) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("a.com/x", {"d"}, "a"));
  fs.add_file(kEtc + "/b.yaml", spec_yaml("b.com/y", {"bad_"}, "b"));  // invalid, but not asked for
  Registry& r = load({"a.com/x"});
  EXPECT_EQ(resolve_tag(r, "a.com/x=d"), "a");
  ASSERT_EQ(r.specs().size(), 1u);
  EXPECT_EQ(r.specs()[0]->kind, "a.com/x");
  EXPECT_TRUE(r.problems().empty());
  EXPECT_EQ(r.definitions().count("b.com/y=bad_"), 0u);
}

// An Fs over the real filesystem that counts reads per path and runs its
// clock ahead, so files written by the test are older than the racy window.
class CountingFs final : public ForwardingFs {
 public:
  CountingFs() : ForwardingFs(real_) {}
  Result<std::string> read_file(const std::string& p, size_t max) override {
    ++reads[p];
    return real_.read_file(p, max);
  }
  Result<OpenedFile> read_in(const std::string& d, const std::string& n, size_t max, const DirJudge* j) override {
    ++reads[path_join(d, n)];
    return real_.read_in(d, n, max, j);
  }
  int64_t now_ns() const override { return real_.now_ns() + 10'000'000'000; }

  std::map<std::string, int> reads;

 private:
  RealFs real_;
};

using TempDir = testing::TempDir;

void write(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::trunc) << content;
  ::chmod(path.c_str(), 0644);
}

TEST(RegistryKindIndex, WarmIndexSkipsReadingOtherKinds) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  std::string specs = tmp.path() + "/specs";
  std::string cache = tmp.path() + "/cache";
  ASSERT_EQ(::mkdir(specs.c_str(), 0755), 0);
  write(specs + "/a.yaml", spec_yaml("a.com/x", {"d"}, "a"));
  write(specs + "/b.yaml", spec_yaml("b.com/y", {"d"}, "b"));
  write(specs + "/c.json", spec_json("b.com/y", {"e"}, "c"));
  RegistryOptions o;
  o.spec_dirs = {specs};
  o.cache_dir = cache;
  MemoryLogger log;

  CountingFs cold;
  Registry first(cold, log, o);
  first.load({"a.com/x"});
  ASSERT_TRUE(first.resolve("a.com/x=d").ok());
  EXPECT_EQ(cold.reads[specs + "/b.yaml"], 1) << "a cold scan peeks at every file";
  EXPECT_EQ(cold.reads[specs + "/c.json"], 1);

  CountingFs warm;
  Registry second(warm, log, o);
  second.load({"a.com/x"});
  auto def = second.resolve("a.com/x=d");
  ASSERT_TRUE(def.ok()) << def.error().to_string();
  EXPECT_EQ(warm.reads[specs + "/a.yaml"], 1);
  EXPECT_EQ(warm.reads.count(specs + "/b.yaml"), 0u) << "a warm index skips other kinds unread";
  EXPECT_EQ(warm.reads.count(specs + "/c.json"), 0u);

  // A changed file is read again: b.yaml now holds the requested kind.
  write(specs + "/b.yaml", spec_yaml("a.com/x", {"late"}, "b2"));
  CountingFs changed;
  Registry third(changed, log, o);
  third.load({"a.com/x"});
  EXPECT_TRUE(third.resolve("a.com/x=late").ok());
  EXPECT_EQ(changed.reads[specs + "/b.yaml"], 1);
  EXPECT_EQ(changed.reads.count(specs + "/c.json"), 0u);
  EXPECT_FALSE(log.contains(LogLevel::warn, "kind index")) << "the cache dir is ours and private";
}

// ---- definition status, kept files ---------------------------------------------

TEST_F(RegistryTest, DefinitionsCarryTheirStatus) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x", "y", "only"}, "a"));
  fs.add_file(kEtc + "/b.yaml", spec_yaml("v.com/c", {"x", "y"}, "b"));
  fs.add_file(kRun + "/c.yaml", spec_yaml("v.com/c", {"x"}, "c"));
  Registry& r = load();
  auto status = [&](const std::string& name) {
    std::vector<std::string> out;
    for (const auto& d : r.definitions().at(name)) {
      std::string line = d.spec->path + " " + std::string(to_string(d.status));
      for (const auto& o : d.others) line += " " + o;
      line += " |";
      for (const auto& f : d.same_priority) line += " " + f;
      out.push_back(line);
    }
    return out;
  };
  // The higher dir's definition wins; the lower dir's two are shadowed, and conflict among themselves.
  EXPECT_EQ(
      status("v.com/c=x"),
      (std::vector<std::string>{"/var/run/cdi/c.yaml ok | /var/run/cdi/c.yaml",
                                "/etc/cdi/a.yaml shadowed /var/run/cdi/c.yaml | /etc/cdi/a.yaml /etc/cdi/b.yaml",
                                "/etc/cdi/b.yaml shadowed /var/run/cdi/c.yaml | /etc/cdi/a.yaml /etc/cdi/b.yaml"}));
  EXPECT_EQ(status("v.com/c=y"),
            (std::vector<std::string>{"/etc/cdi/a.yaml conflict /etc/cdi/b.yaml | /etc/cdi/a.yaml /etc/cdi/b.yaml",
                                      "/etc/cdi/b.yaml conflict /etc/cdi/a.yaml | /etc/cdi/a.yaml /etc/cdi/b.yaml"}));
  EXPECT_EQ(status("v.com/c=only"), (std::vector<std::string>{"/etc/cdi/a.yaml ok | /etc/cdi/a.yaml"}));
  EXPECT_EQ(resolve_tag(r, "v.com/c=x"), "c");
  EXPECT_THAT(resolve_tag(r, "v.com/c=y"),
              HasSubstr("conflicting definitions in \"/etc/cdi/a.yaml\" and \"/etc/cdi/b.yaml\" (same spec dir)"));
}

TEST_F(RegistryTest, ResolveAllNamesEachFailure) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x"}, "a"));
  Registry& r = load();
  Resolution res = r.resolve_all({"v.com/c=x", "v.com/c=nope", "bad"});
  ASSERT_EQ(res.devices.size(), 1u);
  EXPECT_EQ(res.devices[0].qualified_name(), "v.com/c=x");
  ASSERT_EQ(res.errors.size(), 2u);
  EXPECT_EQ(res.errors[0].device, "v.com/c=nope");
  EXPECT_EQ(res.errors[1].device, "bad");
  EXPECT_FALSE(res.complete());
}

TEST_F(RegistryTest, ResolutionErrorNamesEveryDeviceOnOneLine) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x"}, "a"));
  Registry& r = load();
  Resolution one = r.resolve_all({"v.com/c=x", "v.com/c=nope"});
  EXPECT_EQ(one.error().to_string(), one.errors[0].to_string());
  Resolution res = r.resolve_all({"v.com/c=nope", "v.com/c=x", "w.com/k=1"});
  Error e = res.error();
  EXPECT_EQ(e.device, "v.com/c=nope");
  EXPECT_EQ(e.to_string(), res.errors[0].to_string() + "; " + res.errors[1].to_string());
  EXPECT_THAT(e.to_string(), HasSubstr("\"w.com/k=1\""));
  EXPECT_EQ(e.to_string().find('\n'), std::string::npos);
}

TEST_F(RegistryTest, KeptFilesAreReadAgainOnlyWhenTheirIdentityChanged) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x"}, "a1"));
  fs.add_file(kEtc + "/b.yaml", spec_yaml("v.com/c", {"y"}, "b1"));
  registry = std::make_unique<Registry>(fs, log, options());
  registry->keep_files();
  registry->load_all();
  int reads = fs.read_count;
  DirtyPaths none;
  registry->refresh(none);
  EXPECT_EQ(fs.read_count, reads) << "nothing named, nothing changed: nothing read";

  // a.yaml rewritten (a new identity); b.yaml named by the watch but unchanged.
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x"}, "a2"));
  DirtyPaths dirty;
  dirty.names[kEtc] = {"a.yaml", "b.yaml"};
  registry->refresh(dirty);
  EXPECT_EQ(fs.read_count, reads + 1);
  EXPECT_EQ(fs.reads_by_path[kEtc + "/b.yaml"], 1);
  EXPECT_EQ(resolve_tag(*registry, "v.com/c=x"), "a2");
}

TEST_F(RegistryTest, AKeptFileChangedWithinTheRacySecondIsReadAgainEvenWithTheSameIdentity) {
  auto& a = fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x"}, "a1"));
  FileStat written = a.st;
  fs.set_now_ns(written.mtime_ns + 300'000'000);  // read 0.3 s after the write: racy
  registry = std::make_unique<Registry>(fs, log, options());
  registry->keep_files();
  registry->load_all();
  // Rewritten in the same tick with the same size: the identity cannot tell,
  // but the watch names the file.
  fs.add_file(kEtc + "/a.yaml", spec_yaml("v.com/c", {"x"}, "a2")).st = written;
  DirtyPaths dirty;
  dirty.names[kEtc] = {"a.yaml"};
  int reads = fs.read_count;
  registry->refresh(dirty);
  EXPECT_EQ(resolve_tag(*registry, "v.com/c=x"), "a2");
  EXPECT_EQ(fs.read_count, reads + 1);
  // Not named: not looked at (a flood of new files is not read over and over).
  registry->refresh({});
  EXPECT_EQ(fs.read_count, reads + 1);
  // Read again long after the write: settled, an unchanged identity is believed.
  fs.set_now_ns(written.mtime_ns + 5'000'000'000);
  registry->refresh(dirty);
  EXPECT_EQ(fs.read_count, reads + 2);
  registry->refresh(dirty);
  EXPECT_EQ(fs.read_count, reads + 2);
  EXPECT_FALSE(registry->has_rechecks());
}

TEST_F(RegistryTest, WantingAnotherKindReadsTheFilesSkippedForIt) {
  fs.add_file(kEtc + "/a.yaml", spec_yaml("a.com/x", {"d"}, "a"));
  fs.add_file(kEtc + "/b.yaml", spec_yaml("b.com/y", {"d"}, "b"));
  registry = std::make_unique<Registry>(fs, log, options());
  registry->keep_files();
  registry->load({"a.com/x"});
  EXPECT_FALSE(registry->resolve("b.com/y=d").ok());
  EXPECT_TRUE(registry->want_kinds({"b.com/y"}));
  EXPECT_FALSE(registry->want_kinds({"b.com/y"}));
  registry->refresh({});
  EXPECT_EQ(resolve_tag(*registry, "b.com/y=d"), "b");
  EXPECT_EQ(resolve_tag(*registry, "a.com/x=d"), "a");
}

TEST(ListSpecFiles, OnlySpecNamesSorted) {
  FakeFs fs;
  fs.add_file("/d/b.yaml", "");
  fs.add_file("/d/a.json", "");
  fs.add_file("/d/notes.txt", "");
  fs.add_file("/d/x.yml", "");
  auto names = list_spec_files(fs, "/d");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a.json", "b.yaml"}));
  EXPECT_FALSE(list_spec_files(fs, "/missing").ok());
}

}  // namespace
}  // namespace cdi
