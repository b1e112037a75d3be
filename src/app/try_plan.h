// What `cdi-hook try` expects of a container, read from its OCI config before
// and after injection, and the verdict on what the container saw: one check per
// device node and access, env entry, mount, hook and the command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/try_probe.h"
#include "base/error.h"
#include "edits/oci_document.h"

namespace cdi {

// One rule of linux.resources.devices.
struct CgroupRule {
  bool allow = false;
  char type = 'a';  // 'a' (all), 'c' or 'b'
  std::optional<int64_t> major;
  std::optional<int64_t> minor;  // unset: any
  std::string access;
};

std::vector<CgroupRule> cgroup_rules(const OciDocument& config);

// The accesses (letters of "rwm", in that order) the rules grant a node: each
// matching allow rule adds its letters, each matching deny rule takes them away.
std::string granted_access(const std::vector<CgroupRule>& rules, char type, int64_t major, int64_t minor);

struct ExpectedNode {
  std::string path;
  char type = 'c';
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;  // permission bits
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::string granted;  // what the config's cgroup rules grant it
};

struct ExpectedMount {
  std::string destination;
  std::string source;
  std::string type;
  bool bind = false;
  bool read_only = false;
};

struct ExpectedHook {
  std::string stage;  // prestart, createRuntime, createContainer, startContainer, poststart, poststop
  size_t index = 0;   // in its stage
  std::string path;
  std::vector<std::string> args;
};

// The node try adds that no rule grants: opening it must be refused, or the
// device cgroup is not enforced and the other access checks prove nothing.
inline constexpr std::string_view kControlNodePath = "/dev/cdi-hook-try-control";

struct TryPlan {
  std::vector<ExpectedNode> nodes;      // linux.devices the injection added
  std::optional<ExpectedNode> control;  // unset when the rules grant every char and block device
  std::vector<std::string> env;         // process.env entries the injection added or changed
  std::vector<ExpectedMount> mounts;    // mounts the injection added
  std::vector<ExpectedHook> hooks;      // hooks the injection added
};

// Compares the config before and after injection.
TryPlan plan_try(const OciDocument& before, const OciDocument& after);

// The node entry for linux.devices of the control node.
JsonValue control_node_json(const ExpectedNode& node, JsonAllocator& a);

// What the probe inside the container should look at.
ProbeRequest probe_request(const TryPlan& plan);

// A bind mount's source as the host sees it, stat'ed before the run.
struct SourceSeen {
  int err = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
};

struct TryObservations {
  std::optional<ProbeReport> probe;              // unset: the probe never reported (the container did not start)
  std::vector<std::optional<HookRecord>> hooks;  // one per plan.hooks; unset: no record
  std::vector<SourceSeen> sources;               // one per plan.mounts (only bind mounts are looked at)
  std::string runtime;                           // the runtime's name, for messages
  std::string runtime_error;                     // the runtime's last stderr line when the container failed
  std::vector<std::string> command;              // empty: none given
  int exit_code = 0;                             // the container process's (the command's, or the probe's)
  int signal = 0;
  bool timed_out = false;
  double timeout_seconds = 0;
};

enum class CheckOutcome { pass, fail, note, skipped };

struct TryCheck {
  std::string category;  // container, device, access, control, env, mount, hook, command
  std::string subject;
  CheckOutcome outcome = CheckOutcome::pass;
  std::string message;
};

std::vector<TryCheck> evaluate_try(const TryPlan& plan, const TryObservations& seen);

// True when no check failed.
bool all_passed(const std::vector<TryCheck>& checks);

std::string_view outcome_name(CheckOutcome outcome);  // pass, fail, note, skipped

// The words as a shell would need them typed: sh -c 'head -c 4 /dev/x'.
std::string shell_join(const std::vector<std::string>& words);

}  // namespace cdi
