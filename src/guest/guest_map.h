// The guest map: how the host's devices and PCI addresses appear inside a VM
// (schemas/guest-map.schema.json). Parsing checks the shape only; what the
// entries name (guest nodes, PCI paths) is looked up at translation time.
//
//   {"devices": [{"containerPath": "/dev/vfio/12", "guestPath": "/dev/vfio/3"},
//                {"hostType": "c", "hostMajor": 195, "hostMinor": 0, "guestPath": "/dev/nvidia0"}],
//    "pci": [{"host": "0000:1a:01.0", "guest": "0000:01:01.0"},
//            {"host": "0000:1b:02.0", "guestPciPath": "02/03"}]}
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "guest/pci.h"
#include "spec/spec.h"  // kMaxDeviceMajor, kMaxDeviceMinor

namespace cdi {

inline constexpr size_t kMaxGuestMapBytes = 16u << 20;

// A device (block or char) by type and numbers.
struct DeviceNumber {
  char type = 'c';  // 'b' or 'c'
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string str() const;  // "c 195:0"
  friend auto operator<=>(const DeviceNumber&, const DeviceNumber&) = default;
};

struct GuestDeviceEntry {
  // Which device: by its path in the container, or by its host type and numbers.
  std::string container_path;
  std::optional<DeviceNumber> host;
  // Its guest numbers: from stat of a guest node (named directly or by the
  // index of a virtio-blk or SCSI disk), or given.
  std::string guest_path;
  std::optional<uint32_t> guest_virtio_blk_index;
  std::optional<uint32_t> guest_scsi_index;
  std::optional<DeviceNumber> guest;
  // Its path in the container after translation; empty keeps it.
  std::string final_path;
};

struct GuestPciEntry {
  PciAddress host;
  std::optional<PciAddress> guest;  // or:
  std::optional<PciPath> guest_pci_path;
};

struct GuestMap {
  std::string file;  // where it was read from, for errors; may be empty
  std::vector<GuestDeviceEntry> devices;
  std::vector<GuestPciEntry> pci;
  // Line and column of every field path ("devices[1].guestPath") and entry
  // ("devices[1]"), so later errors can point into the file.
  std::map<std::string, std::pair<int, int>> positions;

  // An error at `field` (falling back to its entry) in this map's file.
  Error error_at(const std::string& field, std::string message) const;
};

// Parses and checks a guest map; errors carry line, column and the field path.
// Unknown fields, nulls and mixed selectors are errors.
Result<GuestMap> parse_guest_map(std::string_view bytes, const std::string& file = "");
// Reads `path` (through `fs`) and parses it; errors name the file.
Result<GuestMap> load_guest_map(Fs& fs, const std::string& path);

}  // namespace cdi
