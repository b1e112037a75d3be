#include "guest/host_devices.h"

#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>

#include "base/text.h"

namespace cdi {

namespace {

inline constexpr size_t kMaxUeventBytes = 64u << 10;
inline constexpr int kMaxLinks = 40;  // as the kernel's MAXSYMLINKS

std::string numbers(uint32_t major, uint32_t minor) { return std::to_string(major) + ":" + std::to_string(minor); }

// The DEVNAME value of a uevent file, or empty.
std::string uevent_devname(std::string_view uevent) {
  for (auto line : split(uevent, '\n')) {
    if (line.starts_with("DEVNAME=")) return std::string(line.substr(8));
  }
  return {};
}

Result<std::string> vhost_user_socket(Fs& fs, const DeviceNumber& device, const std::string& store) {
  std::string nodes = path_join(store, "block/devices");
  std::string sockets = path_join(store, "block/sockets");
  auto entries = fs.list_dir(nodes);
  if (!entries.ok()) return std::move(entries).error().with_context("vhost-user store");
  for (const auto& e : *entries) {
    auto st = fs.stat(path_join(nodes, e.name));
    if (!st.ok()) return std::move(st).error().with_context("vhost-user store");
    if (!st->is_block_device() || st->rdev_major() != device.major || st->rdev_minor() != device.minor) continue;
    std::string socket = path_join(sockets, e.name);
    auto sock = fs.stat(socket);
    if (!sock.ok()) return std::move(sock).error().with_context("vhost-user socket of " + device.str());
    return socket;
  }
  return Error("no vhost-user device node " + device.str() + " in " + quote(nodes));
}

}  // namespace

namespace {

// /dev/<DEVNAME> from the device's uevent; nullopt when sysfs has no entry for it.
Result<std::optional<std::string>> sysfs_device_path(Fs& fs, const DeviceNumber& device,
                                                     const std::string& sysfs_root) {
  std::string uevent = path_join(sysfs_root, std::string("dev/") + (device.type == 'b' ? "block/" : "char/") +
                                                 numbers(device.major, device.minor) + "/uevent");
  auto content = fs.read_file(uevent, kMaxUeventBytes);
  if (!content.ok()) {
    if (content.error().sys_errno == ENOENT) return std::optional<std::string>();
    return std::move(content).error();
  }
  std::string name = uevent_devname(*content);
  if (name.empty()) return Error("no DEVNAME in " + quote(uevent));
  std::string path = clean_path("/dev/" + name);
  if (!path.starts_with("/dev/")) return Error("DEVNAME " + quote(name) + " in " + quote(uevent) + " leaves /dev");
  return std::optional<std::string>(std::move(path));
}

}  // namespace

Result<std::string> host_device_path(Fs& fs, const DeviceNumber& device, const HostPathOptions& options) {
  if (device.type != 'b' && device.type != 'c') {
    return Error("invalid device type " + quote(std::string(1, device.type)) + ": expected b or c");
  }
  bool vhost_user = device.type == 'b' && (device.major == kVhostUserBlkMajor || device.major == kVhostUserScsiMajor);
  if (vhost_user && !options.vhost_user_store.empty()) return vhost_user_socket(fs, device, options.vhost_user_store);
  auto path = sysfs_device_path(fs, device, options.sysfs_root);
  if (!path.ok()) return std::move(path).error();
  if (*path) return std::move(**path);
  if (!options.fallback_path.empty()) return options.fallback_path;
  return Error("device " + device.str() + " has no entry in " + quote(path_join(options.sysfs_root, "dev")) +
               " and no fallback path was given");
}

Result<std::string> virtio_blk_name(int64_t index) {
  if (index < 0 || index > int64_t{kMaxVirtioBlkIndex}) {
    return Error("virtio-blk index " + std::to_string(index) + " is out of range (0 to " +
                 std::to_string(kMaxVirtioBlkIndex) + ")");
  }
  // Bijective base 26, as the kernel's virtblk_name_format: a..z, aa..zz, aaa...
  std::string letters;
  for (int64_t i = index; i >= 0; i = i / 26 - 1) letters.push_back(static_cast<char>('a' + i % 26));
  std::reverse(letters.begin(), letters.end());
  return "vd" + letters;
}

std::string ScsiAddress::str() const { return std::to_string(id) + ":" + std::to_string(lun); }

Result<ScsiAddress> scsi_address(int64_t index) {
  if (index < 0 || index > int64_t{kMaxScsiIndex}) {
    return Error("SCSI index " + std::to_string(index) + " is out of range (0 to " + std::to_string(kMaxScsiIndex) +
                 ": at most " + std::to_string(kMaxScsiIndex + 1) + " disks)");
  }
  return ScsiAddress{static_cast<uint32_t>(index / 256), static_cast<uint32_t>(index % 256)};
}

Result<std::string> scsi_disk_path(Fs& fs, const std::string& sysfs_root, uint32_t index) {
  auto address = scsi_address(index);
  if (!address.ok()) return std::move(address).error();
  std::string dir = path_join(sysfs_root, "bus/scsi/devices/0:0:" + address->str() + "/block");
  auto entries = fs.list_dir(dir);
  if (!entries.ok()) {
    return Error("no SCSI disk at 0:0:" + address->str() + " (index " + std::to_string(index) +
                 "): " + entries.error().message);
  }
  if (entries->size() != 1) {
    return Error("expected one block device in " + quote(dir) + ", got " + std::to_string(entries->size()));
  }
  return "/dev/" + entries->front().name;
}

Result<std::string> resolve_links(Fs& fs, const std::string& path) {
  if (path.empty() || path.front() != '/') return Error("expected an absolute path, got " + quote(path));
  // Components still to walk, the next one last.
  std::vector<std::string> todo;
  auto push_all = [&todo](std::string_view p) {
    auto parts = split(p, '/');
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) todo.emplace_back(*it);
  };
  push_all(path);
  std::string out = "/";
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.back());
    todo.pop_back();
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      out = path_dirname(out);
      continue;
    }
    std::string next = path_join(out, part);
    auto st = fs.lstat(next);
    if (!st.ok()) return std::move(st).error();
    if (!st->is_symlink()) {
      out = std::move(next);
      continue;
    }
    if (++links > kMaxLinks) return system_error("resolve " + quote(path), ELOOP);
    auto target = fs.read_link(next);
    if (!target.ok()) return std::move(target).error();
    if (target->starts_with('/')) out = "/";
    push_all(*target);
  }
  return out;
}

Result<BlockDeviceOfPath> block_device_for_path(Fs& fs, const std::string& path, const std::string& sysfs_root) {
  auto real = resolve_links(fs, path);
  if (!real.ok()) return std::move(real).error();
  auto st = fs.stat(*real);
  if (!st.ok()) return std::move(st).error();
  BlockDeviceOfPath out;
  out.real_path = *real;
  out.mount_point = *real;
  if (st->is_block_device()) {
    out.major = st->rdev_major();
    out.minor = st->rdev_minor();
  } else {
    auto dev = static_cast<dev_t>(st->dev);
    out.major = major(dev);
    out.minor = minor(dev);
    // Up from the path while the parent is on the same device.
    while (out.mount_point != "/") {
      std::string parent = path_dirname(out.mount_point);
      auto ps = fs.stat(parent);
      if (!ps.ok()) return std::move(ps).error();
      if (ps->dev != st->dev) break;
      out.mount_point = parent;
    }
  }
  auto device = sysfs_device_path(fs, DeviceNumber{'b', out.major, out.minor}, sysfs_root);
  if (!device.ok()) return std::move(device).error();
  out.device_path = device->value_or("");
  return out;
}

Result<bool> is_device_mapper(Fs& fs, uint32_t major_number, uint32_t minor_number, const std::string& sysfs_root) {
  std::string dir = path_join(sysfs_root, "dev/block/" + numbers(major_number, minor_number));
  auto st = fs.stat(dir);
  if (!st.ok()) {
    if (st.error().sys_errno == ENOENT) {
      return Error("no block device " + numbers(major_number, minor_number) + " (" + quote(dir) + " does not exist)");
    }
    return std::move(st).error();
  }
  auto dm = fs.stat(path_join(dir, "dm"));
  if (dm.ok()) return true;
  if (dm.error().sys_errno == ENOENT) return false;
  return std::move(dm).error();
}

}  // namespace cdi
