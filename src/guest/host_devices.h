// Host-side lookups the hypervisor side needs to build a guest map: the host
// node of a device number, guest disk names and SCSI addresses from an index,
// the block device holding a path, and whether a block device is device-mapper.
// Everything read goes through the Fs seam, so a fake sysfs tree can stand in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/error.h"
#include "base/fs.h"
#include "guest/guest_map.h"

namespace cdi {

// Block majors of vhost-user disks, whose nodes live in a vhost-user store.
inline constexpr uint32_t kVhostUserBlkMajor = 241;
inline constexpr uint32_t kVhostUserScsiMajor = 242;

struct HostPathOptions {
  std::string sysfs_root = "/sys";
  // When set, block devices with a vhost-user major resolve to their socket:
  // the node in <store>/block/devices/ with those numbers names the socket in
  // <store>/block/sockets/.
  std::string vhost_user_store;
  // Returned when the device has no /sys/dev entry (fuse, cuse); empty: an error.
  std::string fallback_path;
};

// The host path of a device: /dev/<DEVNAME> from
// <sysfs>/dev/{char,block}/<major>:<minor>/uevent.
Result<std::string> host_device_path(Fs& fs, const DeviceNumber& device, const HostPathOptions& options = {});

// The kernel's virtio-blk disk name for an index: vda..vdz, vdaa..vdzz, vdaaa...
// Indexes run from 0 to 65535 (virtio_blk's index range).
inline constexpr uint32_t kMaxVirtioBlkIndex = 65535;
Result<std::string> virtio_blk_name(int64_t index);

// SCSI target id and LUN for a disk index (id = index / 256, lun = index % 256),
// for at most 65535 disks (index 0 to 65534).
inline constexpr uint32_t kMaxScsiIndex = 65534;
struct ScsiAddress {
  uint32_t id = 0;
  uint32_t lun = 0;
  std::string str() const;  // "id:lun"
};
Result<ScsiAddress> scsi_address(int64_t index);

// The guest node of the SCSI disk at an index: /dev/<name> from
// <sysfs>/bus/scsi/devices/0:0:<id>:<lun>/block/<name>.
Result<std::string> scsi_disk_path(Fs& fs, const std::string& sysfs_root, uint32_t index);

// The block device (st_dev) holding `path` and its mount point: the highest
// directory above the path that is still on that device. A block device node
// is its own device, with the node as the mount point (as Kata does).
struct BlockDeviceOfPath {
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string real_path;  // `path` with links resolved
  std::string mount_point;
  std::string device_path;  // /dev/<DEVNAME>, empty when /sys/dev/block has no entry (tmpfs, overlay)
};
Result<BlockDeviceOfPath> block_device_for_path(Fs& fs, const std::string& path,
                                                const std::string& sysfs_root = "/sys");

// True when <sysfs>/dev/block/<major>:<minor>/dm exists.
Result<bool> is_device_mapper(Fs& fs, uint32_t major, uint32_t minor, const std::string& sysfs_root = "/sys");

// An absolute path with every symbolic link resolved through `fs` (realpath).
Result<std::string> resolve_links(Fs& fs, const std::string& path);

}  // namespace cdi
