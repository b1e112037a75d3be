// Where a plan's edits go. An EditSink turns each planned edit into its own
// form: oci_sink.h edits an OCI config; the NRI plugin fills a container
// adjustment; the unit tests keep a plain model. The rules are the plan's
// (edit_plan.h): a sink only performs what it is told, in its own form.
//
// For a sink author, apply_plan() calls, in this order:
//   1. set_env for each env entry: KEY=VALUE replaces the container's entry of
//      that KEY (the last one, at its place) or is appended; the same key may
//      come again, the last value wins.
//   2. add_device_node for each node, each followed at once by add_cgroup_rule
//      for the rule it needs (none for a FIFO or for a rule the container
//      already grants; a rule whose node the container already has comes on
//      its own). A node replaces the container's node with the same container
//      path (removed, the new one appended). The host path is for messages
//      only: type, numbers, mode, uid and gid are final.
//   3. add_net_device: replaces the entry of the same host interface, or adds it.
//   4. add_mount for each mount: replaces (removes) the first mount with the
//      same destination, then appends (mounts the container has identically
//      never come). Then, once, order_mounts if any mount
//      came: the container's mounts are to be sorted stably by mount_order().
//   5. add_hook for each hook, appended to its stage (hook->hook_name) in call
//      order; hooks the container already has in that stage never come.
//   6. set_intel_rdt: replaces the container's intelRdt as a whole; the last wins.
//   7. add_additional_gid: appended (never 0, never one already there).
// Any call may fail. An error without a file or context is about the planned
// edit: apply_plan names its spec file, field path and device (so a sink that
// cannot carry a kind of edit just says so: "NRI cannot set net devices"). An
// error about the container's own data carries the context "OCI config" (or
// the sink's own) and is passed on unchanged. After a failure the sink's
// target may be half-edited: callers apply to a copy.
#pragma once

#include "base/error.h"
#include "edits/edit_plan.h"

namespace cdi {

class EditSink {
 public:
  virtual ~EditSink() = default;
  virtual Status set_env(const PlannedEnv& env) = 0;
  virtual Status add_device_node(const PlannedDeviceNode& node) = 0;
  virtual Status add_cgroup_rule(const PlannedCgroupRule& rule) = 0;
  virtual Status add_net_device(const PlannedNetDevice& device) = 0;
  virtual Status add_mount(const PlannedMount& mount) = 0;
  virtual Status order_mounts() = 0;
  virtual Status add_hook(const PlannedHook& hook) = 0;
  virtual Status set_intel_rdt(const PlannedIntelRdt& rdt) = 0;
  virtual Status add_additional_gid(const PlannedGid& gid) = 0;
};

// Drives `sink` through `plan` in the order above; stops at the first error.
Status apply_plan(const EditPlan& plan, EditSink& sink);

}  // namespace cdi
