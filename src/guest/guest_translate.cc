#include "guest/guest_translate.h"

#include <map>
#include <optional>
#include <tuple>

#include "base/text.h"
#include "guest/host_devices.h"
#include "guest/pci.h"

namespace cdi {

namespace {

std::string entry_name(std::string_view list, size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

std::string kind_of(const FileStat& st) {
  if (st.is_dir()) return "a directory";
  if (st.is_regular()) return "a regular file";
  if (st.is_fifo()) return "a FIFO";
  if (st.is_symlink()) return "a symbolic link";
  return "not a block or char device";
}

Result<ResolvedGuestDevice> resolve_device(const GuestMap& map, size_t index, Fs& fs, const std::string& sysfs_root) {
  const GuestDeviceEntry& d = map.devices[index];
  std::string entry = entry_name("devices", index);
  ResolvedGuestDevice r;
  r.index = index;
  if (d.guest) {
    r.guest = *d.guest;
    return r;
  }
  std::string field = entry + ".guestPath";
  std::string path = d.guest_path;
  if (d.guest_virtio_blk_index) {
    field = entry + ".guestVirtioBlkIndex";
    auto name = virtio_blk_name(*d.guest_virtio_blk_index);
    if (!name.ok()) return map.error_at(field, name.error().message);
    path = "/dev/" + *name;
  } else if (d.guest_scsi_index) {
    field = entry + ".guestScsiIndex";
    auto disk = scsi_disk_path(fs, sysfs_root, *d.guest_scsi_index);
    if (!disk.ok()) return map.error_at(field, disk.error().message);
    path = *disk;
  }
  auto st = fs.stat(path);
  if (!st.ok()) return map.error_at(field, "guest node " + quote(path) + " cannot be used: " + st.error().message);
  if (!st->is_char_device() && !st->is_block_device()) {
    return map.error_at(field, "guest node " + quote(path) + " is not a device node (it is " + kind_of(*st) + ")");
  }
  r.guest = DeviceNumber{st->is_block_device() ? 'b' : 'c', st->rdev_major(), st->rdev_minor()};
  r.guest_path = path;
  return r;
}

Status resolve_pci(const GuestMap& map, Fs& fs, const std::string& sysfs_root, ResolvedGuestMap& out) {
  std::map<PciAddress, std::pair<PciAddress, size_t>> by_host;
  std::map<PciAddress, std::pair<PciAddress, size_t>> by_guest;
  for (size_t i = 0; i < map.pci.size(); ++i) {
    const GuestPciEntry& p = map.pci[i];
    std::string entry = entry_name("pci", i);
    PciAddress guest;
    if (p.guest) {
      guest = *p.guest;
    } else {
      auto resolved = resolve_pci_path(fs, sysfs_root, *p.guest_pci_path);
      if (!resolved.ok()) return map.error_at(entry + ".guestPciPath", resolved.error().message);
      guest = resolved->address;
    }
    auto [h, new_host] = by_host.emplace(p.host, std::make_pair(guest, i));
    if (!new_host) {
      if (h->second.first == guest) continue;  // the same pair twice
      return map.error_at(entry, "conflicting guest address for host device " + p.host.str() + " (" +
                                     h->second.first.str() + " versus " + guest.str() + ", pci[" +
                                     std::to_string(h->second.second) + "] and " + entry + ")");
    }
    auto [g, new_guest] = by_guest.emplace(guest, std::make_pair(p.host, i));
    if (!new_guest) {
      return map.error_at(entry, "guest address " + guest.str() + " is mapped from two host devices (" +
                                     g->second.first.str() + " in pci[" + std::to_string(g->second.second) + "] and " +
                                     p.host.str() + ")");
    }
    out.pci.emplace_back(p.host, guest);
  }
  return {};
}

}  // namespace

Result<ResolvedGuestMap> resolve_guest_map(const GuestMap& map, Fs& fs, const std::string& sysfs_root) {
  ResolvedGuestMap out;
  for (size_t i = 0; i < map.devices.size(); ++i) {
    auto d = resolve_device(map, i, fs, sysfs_root);
    if (!d.ok()) return std::move(d).error().with_context("guest map");
    out.devices.push_back(std::move(*d));
  }
  if (auto st = resolve_pci(map, fs, sysfs_root, out); !st.ok()) return std::move(st).error().with_context("guest map");
  return out;
}

namespace {

// A cgroup rule key: type ('b' or 'c') and numbers as the config has them.
using RuleKey = std::tuple<char, int64_t, int64_t>;

std::string key_str(const RuleKey& k) {
  return std::string(1, std::get<0>(k)) + " " + std::to_string(std::get<1>(k)) + ":" + std::to_string(std::get<2>(k));
}

// The cgroup type of an OCI device type: u (unbuffered char) is c.
std::optional<char> cgroup_type(std::string_view type) {
  if (type == "c" || type == "u") return 'c';
  if (type == "b") return 'b';
  return std::nullopt;
}

std::optional<int64_t> int_member(const JsonValue& object, const char* key) {
  auto it = object.FindMember(key);
  if (it == object.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

// An address of the SR-IOV plugin's auxiliary devices ("mlx5_core.sf.4"): a
// name, not a PCI address, the same on the host and in the guest.
bool is_auxiliary_device_name(std::string_view s) {
  auto parts = split(s, '.');
  if (parts.size() < 3) return false;
  for (auto p : parts) {
    if (p.empty()) return false;
    for (char c : p) {
      if (!is_alnum(c) && c != '_' && c != '-') return false;
    }
  }
  for (char c : parts.back()) {
    if (!is_digit(c)) return false;
  }
  return true;
}

bool is_hex_digit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_address_char(char c) { return is_alnum(c) || c == ':' || c == '.'; }

// Length of a PCI-address-shaped token ("d{4,8}:bb:ss.f") at text[i], or 0.
size_t address_token_at(std::string_view text, size_t i) {
  if (i > 0 && is_address_char(text[i - 1])) return 0;
  size_t domain = 0;
  while (i + domain < text.size() && is_hex_digit(text[i + domain])) ++domain;
  if (domain < 4 || domain > 8) return 0;
  size_t n = domain + 8;  // ":bb:ss.f"
  if (i + n > text.size()) return 0;
  if (i + n < text.size() && is_address_char(text[i + n])) return 0;
  return parse_pci_address(text.substr(i, n)).ok() ? n : 0;
}

class Translator {
 public:
  Translator(OciDocument& config, const GuestMap& map, const ResolvedGuestMap& resolved, GuestTranslateReport& report,
             bool explain)
      : root_(config.json()),
        a_(config.allocator()),
        map_(map),
        resolved_(resolved),
        report_(report),
        explain_(explain) {}

  Status run() {
    CDI_TRY(devices());
    CDI_TRY(cgroup_rules());
    return env();
  }

 private:
  struct ConfigDevice {
    JsonValue* object = nullptr;
    std::string path;
    std::string type;
    std::optional<int64_t> major;
    std::optional<int64_t> minor;
    int claimed_by = -1;  // index in the map's devices
  };

  static Error config_error(std::string field, std::string message) {
    Error e(std::move(message));
    e.field = std::move(field);
    return std::move(e).with_context("OCI config");
  }
  static Error config_error(Error e) { return std::move(e).with_context("OCI config"); }

  void note(std::string category, std::string summary) {
    if (explain_) report_.edits.push_back({std::move(category), std::move(summary), map_.file, "", ""});
  }

  // The object at parent[key], null when absent or null.
  Result<JsonValue*> object_member(JsonValue& parent, std::string_view key, std::string_view parent_path) {
    auto found = find_member(parent, key, parent_path);
    if (!found.ok()) return config_error(std::move(found).error());
    JsonValue* v = *found;
    if (!v || v->IsNull()) return static_cast<JsonValue*>(nullptr);
    std::string path = parent_path.empty() ? std::string(key) : std::string(parent_path) + "." + std::string(key);
    if (!v->IsObject()) return config_error(path, "expected an object, got " + json_type_name(*v));
    return v;
  }
  Result<JsonValue*> array_member(JsonValue& parent, std::string_view key, std::string_view parent_path) {
    auto found = find_member(parent, key, parent_path);
    if (!found.ok()) return config_error(std::move(found).error());
    JsonValue* v = *found;
    if (!v || v->IsNull()) return static_cast<JsonValue*>(nullptr);
    if (!v->IsArray()) {
      return config_error(std::string(parent_path) + "." + std::string(key),
                          "expected an array, got " + json_type_name(*v));
    }
    return v;
  }

  Result<std::vector<ConfigDevice>> config_devices() {
    std::vector<ConfigDevice> out;
    auto lin = object_member(root_, "linux", "");
    if (!lin.ok()) return std::move(lin).error();
    if (!*lin) return out;
    linux_ = *lin;
    auto devs = array_member(*linux_, "devices", "linux");
    if (!devs.ok()) return std::move(devs).error();
    if (!*devs) return out;
    for (rapidjson::SizeType i = 0; i < (*devs)->Size(); ++i) {
      JsonValue& v = (**devs)[i];
      std::string field = entry_name("linux.devices", i);
      if (!v.IsObject()) return config_error(field, "expected an object, got " + json_type_name(v));
      if (auto st = check_unique_keys(v, field); !st.ok()) return config_error(std::move(st).error());
      ConfigDevice d;
      d.object = &v;
      auto path = v.FindMember("path");
      if (path == v.MemberEnd() || !path->value.IsString()) return config_error(field + ".path", "expected a string");
      d.path = json_view(path->value);
      auto type = v.FindMember("type");
      if (type != v.MemberEnd()) {
        if (!type->value.IsString()) return config_error(field + ".type", "expected a string");
        d.type = json_view(type->value);
      }
      d.major = int_member(v, "major");
      d.minor = int_member(v, "minor");
      out.push_back(std::move(d));
    }
    return out;
  }

  bool matches(const GuestDeviceEntry& entry, const ConfigDevice& d) const {
    if (!entry.host) return clean_path(d.path) == clean_path(entry.container_path);
    auto type = cgroup_type(d.type);
    return type == entry.host->type && d.major == int64_t{entry.host->major} && d.minor == int64_t{entry.host->minor};
  }

  Status devices() {
    auto list = config_devices();
    if (!list.ok()) return std::move(list).error();
    std::vector<ConfigDevice>& devs = *list;
    // Which config device each map entry updates.
    for (const auto& r : resolved_.devices) {
      const GuestDeviceEntry& entry = map_.devices[r.index];
      std::string name = entry_name("devices", r.index);
      bool any = false;
      for (auto& d : devs) {
        if (!matches(entry, d)) continue;
        any = true;
        if (d.claimed_by >= 0) {
          return map_error(name, "conflicting device updates for " + quote(d.path) + " (devices[" +
                                     std::to_string(d.claimed_by) + "] and " + name + ")");
        }
        d.claimed_by = static_cast<int>(r.index);
      }
      if (!any) {
        if (entry.host) {
          return map_error(name + ".hostType",
                           "no device in the OCI config's linux.devices has the host numbers " + entry.host->str());
        }
        return map_error(name + ".containerPath",
                         "container path " + quote(entry.container_path) + " is not in the OCI config's linux.devices");
      }
    }
    for (size_t i = 0; i < devs.size(); ++i) {
      if (devs[i].claimed_by >= 0) CDI_TRY(update_device(devs, i));
    }
    return {};
  }

  const ResolvedGuestDevice& resolved_device(size_t map_index) const {
    for (const auto& r : resolved_.devices) {
      if (r.index == map_index) return r;
    }
    return resolved_.devices.front();  // not reached: every claim comes from a resolved device
  }

  Status update_device(std::vector<ConfigDevice>& devs, size_t i) {
    ConfigDevice& d = devs[i];
    size_t k = static_cast<size_t>(d.claimed_by);
    const GuestDeviceEntry& entry = map_.devices[k];
    const ResolvedGuestDevice& r = resolved_device(k);
    std::string name = entry_name("devices", k);
    std::string where = "linux.devices[" + std::to_string(i) + "] (" + quote(d.path) + ")";
    auto type = cgroup_type(d.type);
    if (!type)
      return map_error(name, where + " has type " + quote(d.type) + ": only b, c and u devices are translated");
    if (!d.major || !d.minor) return map_error(name, where + " has no major and minor numbers");
    RuleKey host{*type, *d.major, *d.minor};
    auto [it, inserted] = rules_.emplace(host, std::make_pair(r.guest, k));
    if (!inserted && it->second.first != r.guest) {
      return map_error(name, "conflicting resource updates for host " + key_str(host) + " (guest " +
                                 it->second.first.str() + " from devices[" + std::to_string(it->second.second) +
                                 "] versus " + r.guest.str() + " from " + name + ")");
    }
    JsonValue& obj = *d.object;
    obj["major"].SetInt64(r.guest.major);
    obj["minor"].SetInt64(r.guest.minor);
    if (*type != r.guest.type) obj["type"] = json_string(std::string(1, r.guest.type), a_);
    std::string summary = d.path + " " + key_str(host) + " -> " + r.guest.str();
    if (!entry.final_path.empty() && entry.final_path != d.path) {
      for (size_t j = 0; j < devs.size(); ++j) {
        if (j != i && clean_path(devs[j].path) == clean_path(entry.final_path)) {
          return map_error(name + ".finalPath", "final path " + quote(entry.final_path) +
                                                    " is already taken by linux.devices[" + std::to_string(j) + "]");
        }
      }
      obj["path"] = json_string(entry.final_path, a_);
      d.path = entry.final_path;
      summary += " at " + entry.final_path;
    }
    ++report_.devices;
    note("guestDevice", summary + (r.guest_path.empty() ? "" : " (from " + r.guest_path + ")"));
    return {};
  }

  Error map_error(const std::string& field, std::string message) const {
    return map_.error_at(field, std::move(message)).with_context("guest map");
  }

  // One pass keyed by the rules' original numbers: a->b plus b->c leaves a at b.
  Status cgroup_rules() {
    if (!linux_ || rules_.empty()) return {};
    auto res = object_member(*linux_, "resources", "linux");
    if (!res.ok()) return std::move(res).error();
    if (!*res) return {};
    auto list = array_member(**res, "devices", "linux.resources");
    if (!list.ok()) return std::move(list).error();
    if (!*list) return {};
    for (rapidjson::SizeType i = 0; i < (*list)->Size(); ++i) {
      JsonValue& rule = (**list)[i];
      std::string field = entry_name("linux.resources.devices", i);
      if (!rule.IsObject()) return config_error(field, "expected an object, got " + json_type_name(rule));
      if (auto st = check_unique_keys(rule, field); !st.ok()) return config_error(std::move(st).error());
      auto type_it = rule.FindMember("type");
      if (type_it == rule.MemberEnd() || !type_it->value.IsString()) continue;  // no type: all devices
      std::string_view type = json_view(type_it->value);
      auto major = int_member(rule, "major");
      auto minor = int_member(rule, "minor");
      if ((type != "b" && type != "c") || !major || !minor) continue;  // wildcards stay
      RuleKey key{type.front(), *major, *minor};
      auto it = rules_.find(key);
      if (it == rules_.end()) continue;
      const DeviceNumber& guest = it->second.first;
      rule["major"].SetInt64(guest.major);
      rule["minor"].SetInt64(guest.minor);
      if (type.front() != guest.type) type_it->value = json_string(std::string(1, guest.type), a_);
      ++report_.cgroup_rules;
      note("guestCgroupRule", field + " " + key_str(key) + " -> " + guest.str());
    }
    return {};
  }

  // A list of host PCI addresses as guest ones; auxiliary device names stay.
  Result<std::string> translate_list(std::string_view name, std::string_view value, const std::string& field,
                                     std::vector<std::pair<PciAddress, std::string>>& pairs) {
    std::vector<std::string> out;
    for (auto token : split(value, ',')) {
      if (is_auxiliary_device_name(token)) {
        out.emplace_back(token);
        continue;
      }
      auto host = parse_pci_address(token);
      if (!host.ok()) return config_error(field, std::string(name) + ": " + host.error().message);
      const PciAddress* guest = nullptr;
      for (const auto& [h, g] : resolved_.pci) {
        if (h == *host) guest = &g;
      }
      if (!guest) {
        return config_error(field, std::string(name) + ": host PCI address " + quote(token) +
                                       " has no guest address in the guest map's pci list");
      }
      out.push_back(guest->str());
      pairs.emplace_back(*host, guest->str());
    }
    return join(out, ",");
  }

  // The host addresses of `pairs` in an _INFO value, each replaced once, left to right.
  static std::string translate_info(std::string_view text,
                                    const std::vector<std::pair<PciAddress, std::string>>& pairs) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
      size_t n = address_token_at(text, i);
      const std::string* guest = nullptr;
      if (n > 0) {
        auto address = parse_pci_address(text.substr(i, n));
        for (const auto& [h, g] : pairs) {
          if (address.ok() && h == *address) guest = &g;
        }
      }
      if (guest) {
        out += *guest;
        i += n;
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  Status env() {
    auto proc = object_member(root_, "process", "");
    if (!proc.ok()) return std::move(proc).error();
    if (!*proc) return {};
    auto list = array_member(**proc, "env", "process");
    if (!list.ok()) return std::move(list).error();
    if (!*list) return {};
    JsonValue& env = **list;
    // Pass 1: PCIDEVICE_<prefix>_<name> lists.
    std::map<std::string, std::vector<std::pair<PciAddress, std::string>>> translated;
    for (rapidjson::SizeType i = 0; i < env.Size(); ++i) {
      std::string field = entry_name("process.env", i);
      if (!env[i].IsString()) return config_error(field, "expected a string, got " + json_type_name(env[i]));
      std::string_view kv = json_view(env[i]);
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos) return config_error(field, "malformed env entry " + quote(kv) + ": no '='");
      std::string_view name = kv.substr(0, eq);
      std::string_view value = kv.substr(eq + 1);
      if (!name.starts_with("PCIDEVICE_") || name.ends_with("_INFO") || value.empty()) continue;
      auto& pairs = translated[std::string(name)];
      auto guest = translate_list(name, value, field, pairs);
      if (!guest.ok()) return std::move(guest).error();
      if (*guest == value) continue;
      env[i] = json_string(std::string(name) + "=" + *guest, a_);
      ++report_.env;
      note("guestEnv", std::string(name) + "=" + std::string(value) + " -> " + *guest);
    }
    // Pass 2: the plugin's <name>_INFO JSON.
    for (rapidjson::SizeType i = 0; i < env.Size(); ++i) {
      std::string_view kv = json_view(env[i]);
      size_t eq = kv.find('=');
      std::string_view name = kv.substr(0, eq);
      if (!name.ends_with("_INFO")) continue;
      auto it = translated.find(std::string(name.substr(0, name.size() - 5)));
      if (it == translated.end() || it->second.empty()) continue;
      std::string_view value = kv.substr(eq + 1);
      std::string info = translate_info(value, it->second);
      if (info == value) continue;
      env[i] = json_string(std::string(name) + "=" + info, a_);
      ++report_.env;
      note("guestEnv", std::string(name) + ": host PCI addresses replaced by guest ones");
    }
    return {};
  }

  JsonValue& root_;
  JsonAllocator& a_;
  const GuestMap& map_;
  const ResolvedGuestMap& resolved_;
  GuestTranslateReport& report_;
  bool explain_;
  JsonValue* linux_ = nullptr;
  // Original (type, major, minor) -> guest numbers and the map entry that set them.
  std::map<RuleKey, std::pair<DeviceNumber, size_t>> rules_;
};

}  // namespace

Result<GuestTranslateReport> apply_guest_map(OciDocument& config, const GuestMap& map, const ResolvedGuestMap& resolved,
                                             Logger& logger, const GuestTranslateOptions& options) {
  OciDocument copy = config.clone();
  GuestTranslateReport report;
  Translator translator(copy, map, resolved, report, options.explain);
  CDI_TRY(translator.run());
  config = std::move(copy);
  logger.debug("guest translation: " + std::to_string(report.devices) + " devices, " +
               std::to_string(report.cgroup_rules) + " cgroup rules, " + std::to_string(report.env) + " env entries");
  return report;
}

Result<GuestTranslateReport> translate_to_guest(OciDocument& config, const GuestMap& map, Fs& fs, Logger& logger,
                                                const GuestTranslateOptions& options) {
  auto resolved = resolve_guest_map(map, fs, options.sysfs_root);
  if (!resolved.ok()) return std::move(resolved).error();
  return apply_guest_map(config, map, *resolved, logger, options);
}

}  // namespace cdi
