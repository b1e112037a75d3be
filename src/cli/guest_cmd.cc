// cdi-hook guest: host-to-guest translation for containers in VMs.
//   translate          apply a guest map to an OCI config (no injection)
//   check-map          check a guest map's shape
//   host-path          the host node of a device number (from /sys/dev)
//   virtio-blk-name    the guest disk name of a virtio-blk index (vda, vdb, ...)
//   scsi-address       the SCSI id:lun of a disk index
//   block-device       the block device and mount point holding a path
//   is-device-mapper   whether a block device is device-mapper
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>

#include "app/options.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "edits/oci_document.h"
#include "guest/guest_map.h"
#include "guest/guest_translate.h"
#include "guest/host_devices.h"

namespace cdi::cli {

namespace {

struct GuestCmdOptions {
  // translate
  std::string config;
  bool in_place = false;
  app::Settings settings;  // --guest-map, --sysfs-root, --log-level, --log-file
  // check-map
  std::string map_file;
  // host-path
  std::string type;
  uint32_t major = 0;
  uint32_t minor = 0;
  std::string vhost_user_store;
  std::string fallback;
  // virtio-blk-name, scsi-address
  int64_t index = 0;
  // block-device, is-device-mapper
  std::string path;
  OutputFormat output = OutputFormat::text;
};

int print(const std::string& text) {
  if (auto st = write_stdout(text); !st.ok()) return report(st.error());
  return kExitOk;
}

int run_translate(const GuestCmdOptions& o) {
  auto logger = make_logger(o.settings);
  if (o.in_place && o.config == "-") return usage("--in-place needs a file, not stdin");
  auto options = app::load_inject_options(o.settings);
  if (!options.ok()) return report(options.error());
  std::string source = o.config == "-" ? "stdin" : o.config;
  auto bytes = read_file_or_stdin(o.config, kMaxConfigBytes);
  if (!bytes.ok()) return report(bytes.error());
  auto config = OciDocument::parse(*bytes);
  if (!config.ok()) {
    Error e = std::move(config).error();
    return report(e.in_file(source, e.line, e.column).of_kind(ErrorKind::invalid_request));
  }
  RealFs fs;
  GuestTranslateOptions guest_options;
  guest_options.sysfs_root = o.settings.sysfs_root;
  auto translated = translate_to_guest(*config, *options->guest_map, fs, *logger, guest_options);
  if (!translated.ok()) return report(translated.error());
  std::string out = config->serialize(true);
  if (o.in_place) {
    if (auto st = write_file_atomic(o.config, out); !st.ok()) return report(st.error());
    return kExitOk;
  }
  return print(out);
}

int run_check_map(const GuestCmdOptions& o) {
  RealFs fs;
  auto map = load_guest_map(fs, o.map_file);
  if (!map.ok()) return report(map.error());
  return print(o.map_file + ": " + std::to_string(map->devices.size()) + " devices, " +
               std::to_string(map->pci.size()) + " PCI entries\n");
}

Result<DeviceNumber> device_number(const std::string& type, uint32_t major, uint32_t minor) {
  if (type == "b") return DeviceNumber{'b', major, minor};
  if (type == "c" || type == "u") return DeviceNumber{'c', major, minor};
  return Error("invalid device type " + quote(type) + ": expected b, c or u");
}

int run_host_path(const GuestCmdOptions& o) {
  auto device = device_number(o.type, o.major, o.minor);
  if (!device.ok()) return report(std::move(device).error().of_kind(ErrorKind::usage));
  HostPathOptions options;
  options.sysfs_root = o.settings.sysfs_root;
  options.vhost_user_store = o.vhost_user_store;
  options.fallback_path = o.fallback;
  RealFs fs;
  auto path = host_device_path(fs, *device, options);
  if (!path.ok()) return report(path.error());
  return print(*path + "\n");
}

int run_virtio_blk_name(const GuestCmdOptions& o) {
  auto name = virtio_blk_name(o.index);
  if (!name.ok()) return report(name.error());
  return print(*name + "\n");
}

int run_scsi_address(const GuestCmdOptions& o) {
  auto address = scsi_address(o.index);
  if (!address.ok()) return report(address.error());
  return print(address->str() + "\n");
}

// 'value' quoted for a POSIX shell when it needs it.
std::string shell_word(const std::string& value) {
  bool plain = !value.empty();
  for (char c : value) {
    plain = plain && (is_alnum(c) || std::string_view("/._-:+,@%=").find(c) != std::string_view::npos);
  }
  if (plain) return value;
  std::string out = "'";
  for (char c : value) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

int run_block_device(const GuestCmdOptions& o) {
  std::string path = o.path;
  if (!path.starts_with('/')) {
    std::string cwd(4096, '\0');
    if (!::getcwd(cwd.data(), cwd.size())) return report(system_error("getcwd", errno));
    path = path_join(cwd.c_str(), path);
  }
  RealFs fs;
  auto dev = block_device_for_path(fs, path, o.settings.sysfs_root);
  if (!dev.ok()) return report(dev.error());
  if (o.output == OutputFormat::json) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("path", json_str(dev->real_path, a), a);
    doc.AddMember("major", dev->major, a);
    doc.AddMember("minor", dev->minor, a);
    doc.AddMember("device", json_str(dev->device_path, a), a);
    doc.AddMember("mountPoint", json_str(dev->mount_point, a), a);
    return print(json_text(doc));
  }
  return print("PATH=" + shell_word(dev->real_path) + "\nMAJOR=" + std::to_string(dev->major) +
               "\nMINOR=" + std::to_string(dev->minor) + "\nDEVICE=" + shell_word(dev->device_path) +
               "\nMOUNT_POINT=" + shell_word(dev->mount_point) + "\n");
}

// "major:minor", or a block device node.
Result<std::pair<uint32_t, uint32_t>> block_numbers(Fs& fs, const std::string& text) {
  size_t colon = text.find(':');
  if (!text.starts_with('/') && colon != std::string::npos) {
    uint32_t major = 0;
    uint32_t minor = 0;
    auto m1 = std::from_chars(text.data(), text.data() + colon, major);
    auto m2 = std::from_chars(text.data() + colon + 1, text.data() + text.size(), minor);
    if (m1.ec != std::errc() || m1.ptr != text.data() + colon || m2.ec != std::errc() ||
        m2.ptr != text.data() + text.size() || colon == 0) {
      return Error("invalid device " + quote(text) + ": expected MAJOR:MINOR or a block device path");
    }
    return std::make_pair(major, minor);
  }
  auto st = fs.stat(text);
  if (!st.ok()) return std::move(st).error();
  if (!st->is_block_device()) return Error(quote(text) + " is not a block device");
  return std::make_pair(st->rdev_major(), st->rdev_minor());
}

int run_is_device_mapper(const GuestCmdOptions& o) {
  RealFs fs;
  auto numbers = block_numbers(fs, o.path);
  if (!numbers.ok()) return report(numbers.error());
  auto dm = is_device_mapper(fs, numbers->first, numbers->second, o.settings.sysfs_root);
  if (!dm.ok()) return report(dm.error());
  return print(*dm ? "true\n" : "false\n");
}

void add_sysfs_root(CLI::App& cmd, GuestCmdOptions& o, const char* what) {
  describe(cmd.add_option("--sysfs-root", o.settings.sysfs_root, what), "DIR", o.settings.sysfs_root);
}

}  // namespace

void add_guest_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<GuestCmdOptions>();
  CLI::App* guest = app.add_subcommand(
      "guest",
      "Host-to-guest translation for containers in VMs: apply a guest map, and the host-side lookups that "
      "build one");
  guest->require_subcommand(1);

  CLI::App* translate = guest->add_subcommand(
      "translate", "Translate an OCI config to the guest as a guest map says (no injection) and print it");
  describe(translate->add_option("--config", o->config, "The OCI config.json to read, or - for stdin (required)")
               ->required(),
           "FILE");
  add_table_options(*translate, app::kGuestTranslate, o->settings);
  translate->get_option("--guest-map")->required();
  translate->add_flag("--in-place", o->in_place, "Rewrite the config file atomically instead of printing it");
  translate->callback([o, &exit_code] { exit_code = run_translate(*o); });

  CLI::App* check = guest->add_subcommand("check-map", "Check a guest map's shape (nothing is looked up)");
  describe(check->add_option("MAP", o->map_file, "The guest map")->required(), "");
  check->callback([o, &exit_code] { exit_code = run_check_map(*o); });

  CLI::App* host_path = guest->add_subcommand(
      "host-path", "Print the host node of a device from /sys/dev/{char,block}/MAJOR:MINOR/uevent");
  describe(host_path->add_option("TYPE", o->type, "b, c or u")->required(), "");
  describe(host_path->add_option("MAJOR", o->major, "Major number (0 to " + std::to_string(kMaxDeviceMajor) + ")")
               ->required()
               ->check(CLI::Range(0u, kMaxDeviceMajor)),
           "");
  describe(host_path->add_option("MINOR", o->minor, "Minor number (0 to " + std::to_string(kMaxDeviceMinor) + ")")
               ->required()
               ->check(CLI::Range(0u, kMaxDeviceMinor)),
           "");
  add_sysfs_root(*host_path, *o, "The host's sysfs");
  describe(
      host_path->add_option("--vhost-user-store", o->vhost_user_store,
                            "Vhost-user store: block majors 241 and 242 resolve to <store>/block/sockets/<name>, where "
                            "<name> is the node with those numbers in <store>/block/devices/"),
      "DIR");
  describe(host_path->add_option("--fallback", o->fallback,
                                 "Print this path when the device has no sysfs entry (fuse, cuse) instead of failing"),
           "PATH");
  host_path->callback([o, &exit_code] { exit_code = run_host_path(*o); });

  CLI::App* virtio = guest->add_subcommand(
      "virtio-blk-name", "Print the guest name of the virtio-blk disk at an index (0: vda, 26: vdaa; up to 65535)");
  describe(virtio->add_option("INDEX", o->index, "Disk index")->required(), "");
  virtio->callback([o, &exit_code] { exit_code = run_virtio_blk_name(*o); });

  CLI::App* scsi = guest->add_subcommand(
      "scsi-address",
      "Print the SCSI id:lun of the disk at an index (id = INDEX / 256, lun = INDEX % 256; up to 65534)");
  describe(scsi->add_option("INDEX", o->index, "Disk index")->required(), "");
  scsi->callback([o, &exit_code] { exit_code = run_scsi_address(*o); });

  CLI::App* block = guest->add_subcommand(
      "block-device", "Print the block device holding a path and its mount point (as shell assignments, or JSON)");
  describe(block->add_option("PATH", o->path, "A file or directory")->required(), "");
  add_sysfs_root(*block, *o, "The sysfs to name the device from");
  add_output_option(*block, o->output);
  block->callback([o, &exit_code] { exit_code = run_block_device(*o); });

  CLI::App* dm = guest->add_subcommand(
      "is-device-mapper", "Print true when a block device is device-mapper (<sysfs>/dev/block/MAJOR:MINOR/dm exists)");
  describe(dm->add_option("DEVICE", o->path, "MAJOR:MINOR or a block device node")->required(), "");
  add_sysfs_root(*dm, *o, "The sysfs to look in");
  dm->callback([o, &exit_code] { exit_code = run_is_device_mapper(*o); });
}

}  // namespace cdi::cli
