// Host-to-guest translation of an OCI config for a container that runs inside
// a VM: device numbers, cgroup device rules and the SR-IOV device plugin's
// PCIDEVICE_* env move from what the host sees to what the guest sees, as a
// guest map (guest_map.h) says. All or nothing: on error the config is untouched.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/logger.h"
#include "edits/container_edits.h"
#include "edits/oci_document.h"
#include "guest/guest_map.h"

namespace cdi {

struct GuestTranslateOptions {
  // Root of the guest's sysfs, for PCI paths and SCSI disks.
  std::string sysfs_root = "/sys";
  // Record every change (for --explain).
  bool explain = false;
};

struct GuestTranslateReport {
  size_t devices = 0;              // linux.devices entries updated
  size_t cgroup_rules = 0;         // linux.resources.devices rules updated
  size_t env = 0;                  // process.env entries rewritten
  std::vector<AppliedEdit> edits;  // filled when explain
};

// A map device with its guest numbers looked up.
struct ResolvedGuestDevice {
  size_t index = 0;  // in GuestMap::devices
  DeviceNumber guest;
  std::string guest_path;  // the node the numbers came from, empty when given
};

// The map with everything looked up: guest nodes stat'ed, PCI paths walked,
// conflicting PCI entries refused.
struct ResolvedGuestMap {
  std::vector<ResolvedGuestDevice> devices;
  std::vector<std::pair<PciAddress, PciAddress>> pci;  // host -> guest, one per host address
};
Result<ResolvedGuestMap> resolve_guest_map(const GuestMap& map, Fs& fs, const std::string& sysfs_root);

// Translates `config` as `map` says. On error `config` is untouched.
//  - linux.devices: each mapped device gets its guest type and numbers (and finalPath).
//  - linux.resources.devices: rules with the host type and numbers of an updated
//    device get the guest ones, in one pass keyed by the original numbers;
//    wildcard rules stay.
//  - process.env: PCIDEVICE_* lists of host PCI addresses become guest ones and
//    their _INFO JSON follows, each address replaced once.
Result<GuestTranslateReport> translate_to_guest(OciDocument& config, const GuestMap& map, Fs& fs, Logger& logger,
                                                const GuestTranslateOptions& options = {});

// The same with a map already resolved.
Result<GuestTranslateReport> apply_guest_map(OciDocument& config, const GuestMap& map, const ResolvedGuestMap& resolved,
                                             Logger& logger, const GuestTranslateOptions& options = {});

}  // namespace cdi
