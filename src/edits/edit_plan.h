// The edit plan: what injecting a set of devices does to a container, decided
// once and independent of the form the result takes (an OCI config, an NRI
// adjustment). Every CDI rule that does not depend on the output form lives
// here: the merge order (a spec's own edits before its first device), device
// nodes completed from the host node (stat'ed once per injection), cgroup
// access defaults, node owners defaulting to process.user, GID 0 skipped,
// hook names checked, and what the container already has not added again (a
// path's or destination's final device node or mount when it has it
// identically, an identical hook at the same stage, a cgroup rule it grants
// for good, a GID it has), so that injecting twice gives what injecting once gave.
// Each entry carries its origin (spec file, device, field path) for errors and
// --explain. Applying a plan is edit_sink.h's job.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "registry/registry.h"
#include "spec/spec.h"

namespace cdi {

// A block of edits and where it came from: a spec's own edits or one device's.
struct EditSource {
  const Spec* spec = nullptr;
  const Device* device = nullptr;  // null: the spec-level edits
  // For spec-level edits: the requested device that brought them in (named in errors).
  const Device* requested_by = nullptr;

  const ContainerEdits& edits() const { return device ? device->edits : spec->edits; }
  std::string qualified_name() const;  // "vendor/class=name", empty for spec-level edits
  // Field path of the edits inside the spec file: "devices[3].containerEdits".
  std::string field() const;
};

// The merge order: a spec's own edits before its first requested device.
std::vector<EditSource> merge_order(const std::vector<std::pair<const Spec*, const Device*>>& devices);

// Where one planned edit comes from: entry `index` of the `list` field
// ("deviceNodes", "env", ...) of a source's containerEdits. Cheap to copy:
// names and paths are built only when asked for (an error, --explain).
struct EditOrigin {
  EditSource source;
  const char* list = "";  // containerEdits field: env, deviceNodes, mounts, hooks, ...
  size_t index = 0;       // position in that list; unused for intelRdt

  const std::string& spec_file() const { return source.spec->path; }
  // "vendor/class=name" of the device whose edits these are; empty for spec-level edits.
  std::string device() const { return source.qualified_name(); }
  // The device errors name: the device itself, or the one that brought spec-level edits in.
  std::string requesting_device() const;
  // "devices[2].containerEdits.deviceNodes[0]", "containerEdits.intelRdt".
  std::string field() const;
  // "device vendor/class=name of F" or "spec-level edits of F".
  std::string describe() const;
  // Names the spec file, field path and device in `e` (its own field, if any,
  // goes after the origin's: "...deviceNodes[0].hostPath").
  Error locate(Error e) const;
};

// A device node with type, numbers and mode filled from the host node. Its
// text is viewed, not copied: a planned node's views point into the spec
// (which outlives the plan) or at static text, a container's into the
// container's own form or its ContainerView. A plan has a node per spec entry
// (an 8-GPU request: 52), so a copy of each string would be most of its cost.
struct ResolvedDeviceNode {
  std::string_view path;
  std::string_view host_path;  // for messages
  std::string_view type;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::string_view access;  // cgroup access for b/c nodes
};

// Fills `r` from `node` (whose text `r` views) and the host node, stat'ed
// (following links): an empty type, zero numbers and an unset file mode come
// from the host. A node with type and major given tolerates a missing host.
// Into `r`: the planner fills its entries in place.
Status resolve_device_node(const DeviceNode& node, Fs& fs, ResolvedDeviceNode& r);

// Depth of a mount destination for the stable mount sort: '/' count of the cleaned path.
size_t mount_depth(std::string_view destination);
// The CDI mount order: positions of `destinations` sorted stably by mount_depth.
std::vector<size_t> mount_order(const std::vector<std::string_view>& destinations);

// A device cgroup rule as OCI writes it (linux.resources.devices[]); its text
// is viewed as a ResolvedDeviceNode's is.
struct DeviceCgroupRule {
  bool allow = true;
  std::string_view type;  // b, c (a: all)
  std::optional<int64_t> major;
  std::optional<int64_t> minor;
  std::string_view access;  // r, w, m combined; empty: none given
  bool operator==(const DeviceCgroupRule&) const = default;
};

// ---- the plan's entries: what a sink is asked to do ------------------------------

struct PlannedEnv {
  EditOrigin origin;
  std::string_view entry;  // KEY=VALUE, as the spec wrote it
  std::string_view key() const { return entry.substr(0, entry.find('=')); }
  std::string_view value() const;
};

struct PlannedDeviceNode {
  EditOrigin origin;
  ResolvedDeviceNode node;  // uid/gid already defaulted from process.user
};

struct PlannedCgroupRule {
  EditOrigin origin;  // the device node's
  DeviceCgroupRule rule;
  // Comes right after this many device nodes: after its own node, or on its
  // own when the container already has that node.
  size_t after_nodes = 0;
};

struct PlannedNetDevice {
  EditOrigin origin;
  const NetDevice* device = nullptr;
};

struct PlannedMount {
  EditOrigin origin;
  const Mount* mount = nullptr;
};

struct PlannedHook {
  EditOrigin origin;
  const Hook* hook = nullptr;  // hook->hook_name is the stage, checked valid
};

struct PlannedIntelRdt {
  EditOrigin origin;
  const IntelRdt* rdt = nullptr;
};

struct PlannedGid {
  EditOrigin origin;
  uint32_t gid = 0;  // never 0, never one the container already has
};

// Every edit of an injection, by category, each category in merge order.
// Pointers point into the specs, which `specs` keeps alive when the plan was
// made from registry definitions.
struct EditPlan {
  std::vector<PlannedEnv> env;
  std::vector<PlannedDeviceNode> device_nodes;
  std::vector<PlannedCgroupRule> cgroup_rules;  // in device-node order
  std::vector<PlannedNetDevice> net_devices;
  std::vector<PlannedMount> mounts;
  std::vector<PlannedHook> hooks;
  std::vector<PlannedIntelRdt> intel_rdt;
  std::vector<PlannedGid> additional_gids;
  std::vector<std::shared_ptr<const Spec>> specs;
};

// What the plan needs to know of the container before injection. Each front
// end fills it from its own form (oci_sink.h: from an OCI config). The text of
// its nodes and rules is viewed: in a form that lives as long as the view, or
// in text the view keeps (keep()). It moves but does not copy, so that those
// views stay valid.
struct ContainerView {
  ContainerView() = default;
  ContainerView(ContainerView&&) = default;
  ContainerView& operator=(ContainerView&&) = default;
  ContainerView(const ContainerView&) = delete;
  ContainerView& operator=(const ContainerView&) = delete;

  // A copy of `s` that lives as long as the view (each on its own, so that
  // it does not move when more are kept or the view is moved).
  std::string_view keep(std::string_view s) { return *text_.emplace_back(std::make_unique<std::string>(s)); }

  std::optional<uint32_t> uid;  // process.user.uid, when the container sets it
  std::optional<uint32_t> gid;  // process.user.gid, when the container sets it
  std::vector<uint32_t> additional_gids;
  std::vector<ResolvedDeviceNode> device_nodes;    // linux.devices (host_path and access unused)
  std::vector<DeviceCgroupRule> cgroup_rules;      // linux.resources.devices, in order
  std::vector<Mount> mounts;                       // mounts (container_path = destination, host_path = source)
  std::map<std::string, std::vector<Hook>> hooks;  // by stage (hook_name left empty)

 private:
  std::vector<std::unique_ptr<std::string>> text_;  // nothing allocated until keep()
};

// The plan for `sources` (in merge order). Fails on the first edit that
// cannot be made whatever the output (a host node that is missing or of the
// wrong type, an unknown hook stage), naming its spec file, field and device.
Result<EditPlan> plan_edits(const std::vector<EditSource>& sources, Fs& fs, const ContainerView& container);

// The plan for resolved definitions, in request order (merge_order applied);
// the plan keeps their specs alive.
Result<EditPlan> plan_devices(const std::vector<DeviceDefinition>& devices, Fs& fs, const ContainerView& container);

// Visits the device nodes and cgroup rules in the order a sink receives them:
// each node, then the rules that come after it. Stops at the first error.
template <class OnNode, class OnRule>
Status for_each_node_and_rule(const EditPlan& plan, OnNode on_node, OnRule on_rule) {
  size_t n = 0;
  for (const auto& rule : plan.cgroup_rules) {
    for (; n < rule.after_nodes && n < plan.device_nodes.size(); ++n) {
      if (auto st = on_node(plan.device_nodes[n]); !st.ok()) return st;
    }
    if (auto st = on_rule(rule); !st.ok()) return st;
  }
  for (; n < plan.device_nodes.size(); ++n) {
    if (auto st = on_node(plan.device_nodes[n]); !st.ok()) return st;
  }
  return {};
}

// One edit of a plan, for --explain.
struct AppliedEdit {
  std::string category;  // env, deviceNode, cgroupRule, netDevice, mount, hook, intelRdt, additionalGid
  std::string summary;
  std::string spec_file;
  std::string device;  // qualified name; empty for spec-level edits
  std::string field;   // field path in the spec file
};

// The plan's edits in the order a sink receives them (edit_sink.h).
std::vector<AppliedEdit> explain_plan(const EditPlan& plan);

}  // namespace cdi
