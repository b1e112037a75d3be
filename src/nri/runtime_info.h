// What the plugin knows about the runtime from ConfigureRequest's
// runtime_name and runtime_version: whether it honours CDI device names
// returned in ContainerAdjustment.CDI_devices (field 8, NRI v0.7), and so
// which form of the answer --cdi-mode picks.
//
// Honoured by containerd from 2.1.0, by containerd 1.7.30 and later only with
// enable_cdi = true in its CRI config, and by CRI-O from 1.34. containerd
// 1.7.0 to 1.7.29 and every 2.0.x drop the names silently. containerd reports
// its name as the last element of its Go module path: "containerd" for 1.x,
// "v2" for 2.x; CRI-O reports "cri-o".
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"
#include "nri/plugin_options.h"

namespace cdi::nri {

enum class CdiDevicesSupport {
  dropped,           // the runtime ignores CDI_devices
  needs_enable_cdi,  // honoured only when the runtime's own CDI support is on (containerd 1.7.30+)
  honoured,
};

struct RuntimeVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
};

// "1.7.30", "v2.1.0", "2.0.0-rc.1+unknown", "1.34.0~ds1": leading 'v', then up to three numbers.
bool parse_runtime_version(std::string_view text, RuntimeVersion& out);

CdiDevicesSupport cdi_devices_support(std::string_view runtime_name, std::string_view runtime_version);

// "containerd 1.7.20 drops CDI device names returned by NRI plugins", for logs and errors.
std::string describe_support(std::string_view runtime_name, std::string_view runtime_version,
                             CdiDevicesSupport support);

// What the runtime applies of a raw adjustment, from the NRI version it
// vendors: ConfigureRequest.NRI_version when the runtime sends it (NRI
// v0.12), else known from its name and version (containerd 1.7.0-1.7.6 v0.3,
// 1.7.7-1.7.13 v0.4, 1.7.14-1.7.25 v0.6, 1.7.26+ and 2.0-2.1 v0.8, 2.2.0
// v0.10, 2.2.1 v0.11, 2.3 v0.12; CRI-O 1.26-1.31 v0.2-v0.8, 1.32-1.33 v0.9,
// 1.34 v0.10, 1.35 v0.11). Every NRI version applies device nodes (with an
// automatic cgroup rule: rw for c, rwm for b), mounts, env and hooks.
struct NriCapabilities {
  RuntimeVersion nri;            // 0.0.0: unknown
  bool cgroup_rules = false;     // explicit LinuxResources.devices rules (v0.10)
  bool net_devices = false;      // LinuxContainerAdjustment.net_devices (v0.11)
  bool rdt = false;              // LinuxContainerAdjustment.rdt (v0.11)
  std::string describe() const;  // "NRI v0.8", "NRI version unknown"
};

NriCapabilities nri_capabilities(std::string_view runtime_name, std::string_view runtime_version,
                                 std::string_view nri_version);

// Whether the plugin answers with device names (true) or with raw edits
// (false). `reference` on a runtime that drops the names is an error: the
// devices would be lost silently. On one that needs enable_cdi it is allowed
// (the operator asked for it, and said so in the log).
Result<bool> use_cdi_references(CdiMode mode, CdiDevicesSupport support, std::string_view runtime_name,
                                std::string_view runtime_version);

}  // namespace cdi::nri
