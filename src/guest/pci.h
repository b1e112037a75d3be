// PCI addresses and guest PCI paths. A PCI path names a device in a VM slot by
// slot from the root bus through its bridges ("02/03": the bridge in slot 2 of
// the root bus, then slot 3 below it); the guest's sysfs turns it into an
// address, walked through the Fs seam.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"

namespace cdi {

inline constexpr uint8_t kPciMaxSlot = 0x1f;
inline constexpr uint8_t kPciMaxFunction = 7;

// domain:bus:slot.function
struct PciAddress {
  uint32_t domain = 0;
  uint8_t bus = 0;
  uint8_t slot = 0;
  uint8_t function = 0;

  // Lower-case "dddd:bb:ss.f" (a domain above 0xffff keeps all its digits).
  std::string str() const;
  // "dddd:bb", the bus the device sits on.
  std::string bus_str() const;
  friend auto operator<=>(const PciAddress&, const PciAddress&) = default;
};

// "dddd:bb:ss.f" in hex, either case: a domain of 4 to 8 digits, bus and slot
// of 2, function of 1; slot at most 0x1f, function at most 7.
Result<PciAddress> parse_pci_address(std::string_view text);

// "dddd:bb" (a sysfs bus name).
struct PciBus {
  uint32_t domain = 0;
  uint8_t bus = 0;
  std::string str() const;
  friend auto operator<=>(const PciBus&, const PciBus&) = default;
};
Result<PciBus> parse_pci_bus(std::string_view text);

// One element of a PCI path: a slot (1 or 2 hex digits, at most 0x1f) and an
// optional function (".f", default 0).
struct PciSlotFunction {
  uint8_t slot = 0;
  uint8_t function = 0;
  std::string str() const;  // "ss.f"
  friend bool operator==(const PciSlotFunction&, const PciSlotFunction&) = default;
};

struct PciPath {
  std::vector<PciSlotFunction> elements;  // from the root bus down
  std::string str() const;                // "ss.f/ss.f"
};

// "02/03", "02.0/1f.7": one or more elements separated by '/'.
Result<PciPath> parse_pci_path(std::string_view text);

// Where a PCI path leads in the guest.
struct ResolvedPciPath {
  PciAddress address;      // the last element's address
  std::string sysfs_path;  // its directory under <sysfs-root>/devices
};

// Walks `path` from <sysfs_root>/devices/pci0000:00 (bus 0000:00). Below each
// bridge (every element but the last) the next bus is the single entry of the
// bridge's pci_bus/ directory or, when that is absent, the one bus of the
// child devices. Several buses, no bus, or a missing device is an error naming
// the element and the bridge.
Result<ResolvedPciPath> resolve_pci_path(Fs& fs, const std::string& sysfs_root, const PciPath& path);

}  // namespace cdi
