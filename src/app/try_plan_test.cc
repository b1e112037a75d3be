#include "app/try_plan.h"

#include <cerrno>

#include <gtest/gtest.h>

namespace cdi {
namespace {

OciDocument parse(std::string_view json) {
  auto doc = OciDocument::parse(json);
  EXPECT_TRUE(doc.ok()) << (doc.ok() ? "" : doc.error().to_string());
  return doc.ok() ? std::move(*doc) : OciDocument();
}

std::vector<CgroupRule> rules_of(std::string_view devices_json) {
  return cgroup_rules(parse(std::string(R"({"linux":{"resources":{"devices":)") + std::string(devices_json) + "}}}"));
}

// --- granted_access ---

struct GrantCase {
  const char* name;
  const char* rules;
  char type;
  int64_t major;
  int64_t minor;
  const char* granted;
};

class GrantedAccessTest : public ::testing::TestWithParam<GrantCase> {};

TEST_P(GrantedAccessTest, FollowsTheRulesInOrder) {
  const GrantCase& c = GetParam();
  EXPECT_EQ(granted_access(rules_of(c.rules), c.type, c.major, c.minor), c.granted);
}

INSTANTIATE_TEST_SUITE_P(
    Table, GrantedAccessTest,
    ::testing::Values(
        GrantCase{"no_rules", "[]", 'c', 1, 3, ""},
        GrantCase{"deny_all", R"([{"allow":false,"access":"rwm"}])", 'c', 1, 3, ""},
        GrantCase{"allow_exact",
                  R"([{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}])",
                  'c', 1, 3, "rw"},
        GrantCase{"other_minor",
                  R"([{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"}])",
                  'c', 1, 5, ""},
        GrantCase{"block_rule_not_char", R"([{"allow":true,"type":"b","major":1,"minor":3,"access":"rwm"}])", 'c', 1, 3,
                  ""},
        GrantCase{"wildcard_minor", R"([{"allow":true,"type":"c","major":195,"access":"rw"}])", 'c', 195, 7, "rw"},
        GrantCase{"type_a_matches_all", R"([{"allow":true,"type":"a","access":"m"}])", 'b', 8, 0, "m"},
        GrantCase{"absent_type_is_all", R"([{"allow":true,"access":"r"}])", 'c', 8, 0, "r"},
        GrantCase{
            "later_deny_takes_a_letter",
            R"([{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"},{"allow":false,"type":"c","major":1,"minor":3,"access":"w"}])",
            'c', 1, 3, "rm"},
        GrantCase{"letters_in_rwm_order", R"([{"allow":true,"type":"c","major":1,"minor":3,"access":"mwr"}])", 'c', 1,
                  3, "rwm"},
        GrantCase{"absent_access_is_all", R"([{"allow":true,"type":"c","major":1,"minor":3}])", 'c', 1, 3, "rwm"}),
    [](const ::testing::TestParamInfo<GrantCase>& i) { return i.param.name; });

// --- plan_try ---

constexpr std::string_view kBefore = R"({
  "process": {"env": ["PATH=/bin", "TERM=xterm"]},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
  "linux": {"resources": {"devices": [{"allow": false, "access": "rwm"}]}}
})";

constexpr std::string_view kAfter = R"({
  "process": {"env": ["PATH=/bin", "TERM=xterm", "GPU=0"]},
  "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
             {"destination": "/lib/x.so", "type": "bind", "source": "/usr/lib/x.so", "options": ["ro", "nosuid"]},
             {"destination": "/run/y", "source": "/run/y", "options": ["rbind"]}],
  "hooks": {"createContainer": [{"path": "/usr/bin/gpu-hook", "args": ["gpu-hook", "ldcache"]}],
            "poststop": [{"path": "/bin/cleanup"}]},
  "linux": {
    "devices": [{"path": "/dev/gpu0", "type": "c", "major": 195, "minor": 0, "fileMode": 8630, "uid": 0, "gid": 44},
                {"path": "/dev/fifo", "type": "p"}],
    "resources": {"devices": [{"allow": false, "access": "rwm"},
                              {"allow": true, "type": "c", "major": 195, "minor": 0, "access": "rw"}]}
  }
})";

TEST(TryPlan, ReadsWhatTheInjectionAdded) {
  TryPlan plan = plan_try(parse(kBefore), parse(kAfter));
  ASSERT_EQ(plan.nodes.size(), 2u);
  EXPECT_EQ(plan.nodes[0].path, "/dev/gpu0");
  EXPECT_EQ(plan.nodes[0].type, 'c');
  EXPECT_EQ(plan.nodes[0].major, 195);
  EXPECT_EQ(plan.nodes[0].file_mode, 0666u);  // 8630 is S_IFCHR|0666: the permission bits are compared
  EXPECT_EQ(plan.nodes[0].gid, 44u);
  EXPECT_EQ(plan.nodes[0].granted, "rw");
  EXPECT_EQ(plan.nodes[1].type, 'p');
  EXPECT_EQ(plan.nodes[1].granted, "");
  EXPECT_EQ(plan.env, std::vector<std::string>{"GPU=0"});
  ASSERT_EQ(plan.mounts.size(), 2u);
  EXPECT_EQ(plan.mounts[0].destination, "/lib/x.so");
  EXPECT_TRUE(plan.mounts[0].bind);
  EXPECT_TRUE(plan.mounts[0].read_only);
  EXPECT_TRUE(plan.mounts[1].bind);  // rbind without a type
  EXPECT_FALSE(plan.mounts[1].read_only);
  ASSERT_EQ(plan.hooks.size(), 2u);
  EXPECT_EQ(plan.hooks[0].stage, "createContainer");
  EXPECT_EQ(plan.hooks[0].args, (std::vector<std::string>{"gpu-hook", "ldcache"}));
  EXPECT_EQ(plan.hooks[1].stage, "poststop");
}

TEST(TryPlan, HooksAlreadyThereAreNotTheInjections) {
  TryPlan plan = plan_try(parse(R"({"hooks": {"prestart": [{"path": "/a"}]}})"),
                          parse(R"({"hooks": {"prestart": [{"path": "/a"}, {"path": "/b"}]}})"));
  ASSERT_EQ(plan.hooks.size(), 1u);
  EXPECT_EQ(plan.hooks[0].path, "/b");
  EXPECT_EQ(plan.hooks[0].index, 1u);
}

TEST(TryPlan, ControlNodeIsANumberNoRuleGrants) {
  TryPlan plan = plan_try(parse(kBefore), parse(kAfter));
  ASSERT_TRUE(plan.control);
  EXPECT_EQ(plan.control->path, kControlNodePath);
  EXPECT_EQ(plan.control->type, 'c');
  EXPECT_EQ(plan.control->major, 240);
  EXPECT_EQ(plan.control->granted, "");
}

TEST(TryPlan, ControlNodeAvoidsGrantedAndUsedNumbers) {
  auto after = parse(R"({"linux": {"devices": [{"path": "/dev/x", "type": "c", "major": 241, "minor": 0}],
    "resources": {"devices": [{"allow": true, "type": "c", "major": 240, "access": "rwm"}]}}})");
  TryPlan plan = plan_try(parse("{}"), after);
  ASSERT_TRUE(plan.control);
  EXPECT_EQ(plan.control->major, 242);
}

TEST(TryPlan, NoControlWhenEveryDeviceIsGranted) {
  auto after = parse(R"({"linux": {"resources": {"devices": [{"allow": true, "access": "rwm"}]}}})");
  EXPECT_FALSE(plan_try(parse("{}"), after).control);
}

TEST(TryPlan, BlockControlWhenEveryCharDeviceIsGranted) {
  auto after = parse(R"({"linux": {"resources": {"devices": [{"allow": true, "type": "c", "access": "rwm"}]}}})");
  auto plan = plan_try(parse("{}"), after);
  ASSERT_TRUE(plan.control);
  EXPECT_EQ(plan.control->type, 'b');
}

TEST(TryPlan, ProbeRequestTriesMknodOnlyWhereGranted) {
  TryPlan plan = plan_try(parse(kBefore), parse(kAfter));
  plan.nodes[0].granted = "rwm";
  ProbeRequest r = probe_request(plan);
  ASSERT_EQ(r.nodes.size(), 3u);  // two nodes and the control
  EXPECT_EQ(r.nodes[0].accesses, "rwm");
  EXPECT_EQ(r.nodes[1].accesses, "");  // a FIFO: no device cgroup
  EXPECT_EQ(r.nodes[2].path, kControlNodePath);
  EXPECT_EQ(r.nodes[2].accesses, "rw");
  EXPECT_EQ(r.mounts, (std::vector<std::string>{"/lib/x.so", "/run/y"}));
}

// --- evaluate_try ---

ExpectedNode gpu_node(const char* granted) {
  ExpectedNode n;
  n.path = "/dev/gpu0";
  n.type = 'c';
  n.major = 195;
  n.minor = 0;
  n.file_mode = 0666;
  n.granted = granted;
  return n;
}

NodeSeen seen_gpu(std::vector<AccessSeen> accesses) {
  NodeSeen s;
  s.path = "/dev/gpu0";
  s.type = 'c';
  s.major = 195;
  s.minor = 0;
  s.mode = 0666;
  s.accesses = std::move(accesses);
  return s;
}

TryObservations started_with(std::vector<NodeSeen> nodes) {
  TryObservations seen;
  seen.runtime = "runc";
  seen.probe = ProbeReport{};
  seen.probe->nodes = std::move(nodes);
  return seen;
}

std::vector<std::string> lines(const std::vector<TryCheck>& checks) {
  std::vector<std::string> out;
  for (const auto& c : checks) {
    out.push_back(std::string(outcome_name(c.outcome)) + " " + c.category + " " + c.subject + ": " + c.message);
  }
  return out;
}

struct VerdictCase {
  const char* name;
  const char* granted;
  NodeSeen seen;
  std::vector<std::string> expected;  // the checks after "container"
};

class TryVerdictTest : public ::testing::TestWithParam<VerdictCase> {};

TEST_P(TryVerdictTest, JudgesOneNode) {
  const VerdictCase& c = GetParam();
  TryPlan plan;
  plan.nodes.push_back(gpu_node(c.granted));
  auto checks = lines(evaluate_try(plan, started_with({c.seen})));
  ASSERT_FALSE(checks.empty());
  EXPECT_EQ(checks[0], "pass container runc: started");
  EXPECT_EQ(std::vector<std::string>(checks.begin() + 1, checks.end()), c.expected);
}

NodeSeen with_mode(NodeSeen s, uint32_t mode) {
  s.mode = mode;
  return s;
}
NodeSeen with_minor(NodeSeen s, int64_t minor) {
  s.minor = minor;
  return s;
}
NodeSeen missing() {
  NodeSeen s;
  s.path = "/dev/gpu0";
  s.err = ENOENT;
  return s;
}

INSTANTIATE_TEST_SUITE_P(
    Table, TryVerdictTest,
    ::testing::Values(
        VerdictCase{"granted_and_opened",
                    "rw",
                    seen_gpu({{'r', 0}, {'w', 0}}),
                    {"pass device /dev/gpu0: c 195:0, mode 0666", "pass access /dev/gpu0: open for reading: allowed",
                     "pass access /dev/gpu0: open for writing: allowed"}},
        VerdictCase{"not_granted_and_refused",
                    "r",
                    seen_gpu({{'r', 0}, {'w', EPERM}}),
                    {"pass device /dev/gpu0: c 195:0, mode 0666", "pass access /dev/gpu0: open for reading: allowed",
                     "pass access /dev/gpu0: open for writing: refused, as the config grants only r"}},
        VerdictCase{"not_granted_yet_allowed_is_a_note",
                    "r",
                    seen_gpu({{'r', 0}, {'w', 0}}),
                    {"pass device /dev/gpu0: c 195:0, mode 0666", "pass access /dev/gpu0: open for reading: allowed",
                     "note access /dev/gpu0: open for writing: not refused although the config grants only r (the "
                     "runtime's own device rules allow c 195:0)"}},
        VerdictCase{"wrong_numbers",
                    "rw",
                    seen_gpu({{'r', ENXIO}, {'w', ENXIO}}),
                    {"pass device /dev/gpu0: c 195:0, mode 0666",
                     "fail access /dev/gpu0: open for reading failed: No such device or address (nothing on this host "
                     "answers to c 195:0: wrong numbers?)",
                     "fail access /dev/gpu0: open for writing failed: No such device or address (nothing on this host "
                     "answers to c 195:0: wrong numbers?)"}},
        VerdictCase{"granted_but_refused",
                    "rw",
                    seen_gpu({{'r', EPERM}, {'w', 0}}),
                    {"pass device /dev/gpu0: c 195:0, mode 0666",
                     "fail access /dev/gpu0: open for reading failed: Operation not permitted (the device cgroup "
                     "refused it although the config grants r)",
                     "pass access /dev/gpu0: open for writing: allowed"}},
        VerdictCase{"mknod_granted",
                    "rwm",
                    seen_gpu({{'m', 0}}),
                    {"pass device /dev/gpu0: c 195:0, mode 0666",
                     "pass access /dev/gpu0: mknod of a node with its numbers: allowed"}},
        VerdictCase{"other_mode",
                    "rw",
                    with_mode(seen_gpu({}), 0600),
                    {"fail device /dev/gpu0: is c 195:0, mode 0600, the config asks for c 195:0, mode 0666"}},
        VerdictCase{"other_minor",
                    "rw",
                    with_minor(seen_gpu({}), 1),
                    {"fail device /dev/gpu0: is c 195:1, mode 0666, the config asks for c 195:0, mode 0666"}},
        VerdictCase{"missing",
                    "rw",
                    missing(),
                    {"fail device /dev/gpu0: missing in the container (No such file or directory)"}}),
    [](const ::testing::TestParamInfo<VerdictCase>& i) { return i.param.name; });

TEST(TryVerdict, OwnerIsComparedWhenTheConfigNamesIt) {
  TryPlan plan;
  plan.nodes.push_back(gpu_node("rw"));
  plan.nodes[0].gid = 44;
  NodeSeen s = seen_gpu({});
  s.gid = 0;
  auto checks = lines(evaluate_try(plan, started_with({s})));
  EXPECT_EQ(checks.at(1),
            "fail device /dev/gpu0: is c 195:0, mode 0666, owner 0:0, the config asks for c 195:0, mode "
            "0666, owner 0:44");
}

TEST(TryVerdict, ControlMustBeRefused) {
  TryPlan plan;
  plan.control = ExpectedNode{std::string(kControlNodePath), 'c', 240, 0, 0666u, {}, {}, ""};
  NodeSeen refused{std::string(kControlNodePath), 0, 'c', 240, 0, 0666, 0, 0, {{'r', EPERM}, {'w', EPERM}}};
  NodeSeen opened = refused;
  opened.accesses[0].err = ENXIO;  // past the cgroup: the driver answered
  EXPECT_EQ(lines(evaluate_try(plan, started_with({refused}))).at(1),
            "pass control /dev/cdi-hook-try-control: c 240:0, which no rule grants: opening it is refused (Operation "
            "not permitted)");
  EXPECT_EQ(lines(evaluate_try(plan, started_with({opened}))).at(1),
            "fail control /dev/cdi-hook-try-control: c 240:0, which no rule grants: open for reading was not refused "
            "(No such device or address): the device cgroup is not enforced, so the access checks prove nothing");
}

TEST(TryVerdict, EnvEntries) {
  TryPlan plan;
  plan.env = {"GPU=0", "MODE=fast", "ABSENT=1"};
  TryObservations seen = started_with({});
  seen.probe->environ = {"PATH=/bin", "GPU=0", "MODE=slow"};
  auto checks = lines(evaluate_try(plan, seen));
  EXPECT_EQ(std::vector<std::string>(checks.begin() + 1, checks.end()),
            (std::vector<std::string>{"pass env GPU=0: set", "fail env MODE=fast: missing: the process has MODE=slow",
                                      "fail env ABSENT=1: missing: ABSENT is not set"}));
}

TEST(TryVerdict, Mounts) {
  TryPlan plan;
  plan.mounts = {{"/lib/x.so", "/usr/lib/x.so", "bind", true, true},
                 {"/data", "/srv/data", "bind", true, false},
                 {"/gone", "/nowhere", "bind", true, true},
                 {"/other", "/srv/other", "bind", true, false},
                 {"/scratch", "tmpfs", "tmpfs", false, false}};
  TryObservations seen = started_with({});
  seen.sources = {{0, 1, 10}, {0, 1, 20}, {ENOENT, 0, 0}, {0, 1, 30}, {}};
  seen.probe->mounts = {{"/lib/x.so", 0, true, "ext4", true, 1, 10},
                        {"/data", 0, true, "ext4", true, 1, 20},
                        {"/gone", ENOENT, false, "", false, 0, 0},
                        {"/other", 0, true, "ext4", false, 1, 31},
                        {"/scratch", 0, true, "tmpfs", false, 9, 1}};
  auto checks = lines(evaluate_try(plan, seen));
  EXPECT_EQ(std::vector<std::string>(checks.begin() + 1, checks.end()),
            (std::vector<std::string>{
                "pass mount /lib/x.so: bind of /usr/lib/x.so, read-only",
                "fail mount /data: is read-only, the config does not ask for ro",
                "fail mount /gone: source \"/nowhere\" is not on the host (No such file or directory)",
                "fail mount /gone: missing (No such file or directory)",
                "fail mount /other: shows another file than the host's \"/srv/other\"",
                "pass mount /scratch: tmpfs tmpfs, writable",
            }));
}

TEST(TryVerdict, ContainerThatDidNotStart) {
  TryPlan plan;
  plan.nodes.push_back(gpu_node("rw"));
  plan.mounts = {{"/gone", "/nowhere", "bind", true, true}};
  plan.hooks = {{"createRuntime", 0, "/bin/true", {}},
                {"createContainer", 0, "/bin/false", {}},
                {"poststart", 0, "/bin/true", {}}};
  TryObservations seen;
  seen.runtime = "runc";
  seen.runtime_error = "error running hook #0: exit status 1";
  seen.sources = {{ENOENT, 0, 0}};
  HookRecord ok_record{true, true, 0, 0, ""};
  HookRecord failed{true, true, 1, 0, ""};
  seen.hooks = {ok_record, failed, std::nullopt};
  seen.command = {"nvidia-smi"};
  auto checks = evaluate_try(plan, seen);
  EXPECT_FALSE(all_passed(checks));
  EXPECT_EQ(lines(checks), (std::vector<std::string>{
                               "fail container runc: did not start: error running hook #0: exit status 1",
                               "skipped device /dev/gpu0: not checked: the container did not start",
                               "fail mount /gone: source \"/nowhere\" is not on the host (No such file or directory)",
                               "pass hook createRuntime /bin/true: ran, exit 0",
                               "fail hook createContainer /bin/false: ran, exit 1",
                               "skipped hook poststart /bin/true: did not run: the container did not start",
                               "skipped command nvidia-smi: not checked: the container did not start",
                           }));
}

TEST(TryVerdict, HookRecords) {
  TryPlan plan;
  plan.hooks = {{"createContainer", 0, "/a", {}},
                {"createContainer", 1, "/b", {}},
                {"createContainer", 2, "/c", {}},
                {"poststop", 0, "/d", {}}};
  TryObservations seen = started_with({});
  seen.hooks = {HookRecord{true, false, 0, 0, "exec \"/a\": No such file or directory"},
                HookRecord{true, false, 0, 0, ""}, HookRecord{true, true, 0, 9, ""}, std::nullopt};
  auto checks = lines(evaluate_try(plan, seen));
  EXPECT_EQ(std::vector<std::string>(checks.begin() + 1, checks.end()),
            (std::vector<std::string>{
                "fail hook createContainer /a: could not start: exec \"/a\": No such file or directory",
                "fail hook createContainer /b: did not finish (killed by the runtime: its timeout?)",
                "fail hook createContainer /c: killed by signal 9",
                "fail hook poststop /d: did not run",
            }));
}

TEST(TryVerdict, Command) {
  TryPlan plan;
  TryObservations seen = started_with({});
  seen.command = {"sh", "-c", "exit 3"};
  seen.exit_code = 3;
  EXPECT_EQ(lines(evaluate_try(plan, seen)).at(1), "fail command sh -c 'exit 3': exit 3");
  seen.exit_code = 0;
  EXPECT_EQ(lines(evaluate_try(plan, seen)).at(1), "pass command sh -c 'exit 3': exit 0");
  EXPECT_TRUE(all_passed(evaluate_try(plan, seen)));
  seen.timed_out = true;
  seen.timeout_seconds = 2.5;
  EXPECT_EQ(lines(evaluate_try(plan, seen)).at(1), "fail command sh -c 'exit 3': still running after 2.5 s: killed");
}

struct ShellCase {
  const char* name;
  std::vector<std::string> words;
  const char* text;
};

class ShellJoinTest : public ::testing::TestWithParam<ShellCase> {};

TEST_P(ShellJoinTest, QuotesWhatNeedsIt) { EXPECT_EQ(shell_join(GetParam().words), GetParam().text); }

INSTANTIATE_TEST_SUITE_P(Table, ShellJoinTest,
                         ::testing::Values(ShellCase{"plain", {"ls", "-l", "/dev/x"}, "ls -l /dev/x"},
                                           ShellCase{"space", {"sh", "-c", "exit 3"}, "sh -c 'exit 3'"},
                                           ShellCase{"quote", {"echo", "it's"}, "echo 'it'\\''s'"},
                                           ShellCase{"empty", {"echo", ""}, "echo ''"},
                                           ShellCase{"dollar", {"echo", "$HOME"}, "echo '$HOME'"}),
                         [](const ::testing::TestParamInfo<ShellCase>& i) { return i.param.name; });

TEST(TryVerdict, NotesDoNotFail) {
  std::vector<TryCheck> checks{{"access", "/dev/x", CheckOutcome::note, ""}, {"env", "A=1", CheckOutcome::pass, ""}};
  EXPECT_TRUE(all_passed(checks));
  checks.push_back({"env", "B=1", CheckOutcome::fail, ""});
  EXPECT_FALSE(all_passed(checks));
}

}  // namespace
}  // namespace cdi
