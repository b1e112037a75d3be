// The NRI sink: a plan's edits as a ContainerAdjustment, the second real
// EditSink beside the OCI one. It only converts; the CDI rules are the plan's.
// What the runtime does with the adjustment shapes what the sink sends:
//   - env, device nodes and mounts are replaced by key (env key, path,
//     destination) by the runtime, and a plugin may claim each key once, so the
//     sink sends each key once, with its last value (the CDI outcome);
//   - every device node gets an automatic cgroup rule from the runtime (rw for
//     c, rwm for b); a CDI rule that differs needs explicit rules, which the
//     runtime applies from NRI v0.10;
//   - net devices and Intel RDT are applied from NRI v0.11; additional GIDs
//     never (the adjustment has no field for them).
// An edit the runtime cannot carry is an error naming the device and field,
// never dropped; the one exception is the mknod ('m') access of a character
// node before NRI v0.10, which is noted in the decision log line.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edits/edit_sink.h"
#include "nri/encoded_edits.h"
#include "nri/nri_api.pb.h"
#include "nri/runtime_info.h"

namespace cdi::nri {

namespace pb = ::nri::pkg::api::v1alpha1;

// What the plan needs of an NRI container: its user, supplementary groups,
// device nodes, cgroup rules, mounts and hooks. Its nodes and rules view
// `container`'s strings: the view must not outlive the message.
ContainerView nri_container_view(const pb::Container& container);

class AdjustmentSink final : public EditSink {
 public:
  // With `encoded`, mounts and hooks are copied from their spec's encoding
  // (use() called with the plan's specs first, and not again before finish():
  // the sink keeps views into it); otherwise written field by field.
  explicit AdjustmentSink(NriCapabilities capabilities, const EncodedEdits* encoded = nullptr);

  Status set_env(const PlannedEnv& env) override;
  Status add_device_node(const PlannedDeviceNode& node) override;
  Status add_cgroup_rule(const PlannedCgroupRule& rule) override;
  Status add_net_device(const PlannedNetDevice& device) override;
  Status add_mount(const PlannedMount& mount) override;
  Status order_mounts() override;
  Status add_hook(const PlannedHook& hook) override;
  Status set_intel_rdt(const PlannedIntelRdt& rdt) override;
  Status add_additional_gid(const PlannedGid& gid) override;

  // Appends the encoded ContainerAdjustment to `out` (fields without edits
  // left out, each device path and mount destination once: the last),
  // written straight from the plan (wire.h). The sink keeps
  // pointers into the plan: call it while the plan lives.
  void finish(std::string& out);
  // What was not carried, for the decision log ("mknod access to c 195:0").
  const std::vector<std::string>& not_carried() const { return not_carried_; }

 private:
  struct Rule {
    bool allow;
    std::string_view type;
    int64_t major;
    int64_t minor;
    unsigned access;  // r 1, w 2, m 4
  };

  // The ContainerAdjustment fields.
  template <class Writer>
  void write_adjustment(Writer& adjustment) const;
  // The LinuxContainerAdjustment fields (devices, resources, net devices, RDT).
  template <class Writer>
  void write_linux(Writer& lin) const;

  NriCapabilities caps_;
  std::vector<std::pair<std::string_view, std::string_view>> env_;  // key, value: each key once
  std::vector<const ResolvedDeviceNode*> devices_;  // in call order; finish() nulls all but the last of a path
  const ResolvedDeviceNode* last_node_ = nullptr;   // the node a following cgroup rule belongs to
  std::vector<Rule> rules_;
  std::vector<const Mount*> mounts_;           // in call order; finish() nulls all but the last of a destination
  std::vector<std::string_view> mount_bytes_;  // each mount's encoding, when kept (mounts_'s order)
  std::vector<std::pair<std::string_view, std::string_view>> net_devices_;  // host interface -> name
  std::vector<std::pair<int, const Hook*>> hooks_;                          // the Hooks field of its stage, the hook
  std::vector<std::string_view> hook_bytes_;                                // each hook's encoding, when kept
  const EncodedEdits* encoded_;
  const IntelRdt* rdt_ = nullptr;
  std::vector<std::string> not_carried_;
};

// Appends a ContainerAdjustment holding only these CDI device names (CDI_devices).
void write_cdi_devices(const std::vector<std::string>& names, std::string& out);

// The access the runtime's automatic rule gives a node of `type`: rwm for b, rw otherwise.
std::string_view automatic_access(std::string_view type);

}  // namespace cdi::nri
