#include "spec/spec.h"

#include <set>

#include "base/text.h"
#include "spec/qualified_name.h"

namespace cdi {

bool ContainerEdits::empty() const {
  return env.empty() && device_nodes.empty() && hooks.empty() && mounts.empty() && !intel_rdt &&
         additional_gids.empty() && net_devices.empty();
}

bool Mount::is_bind() const {
  if (type.empty() || type == "bind" || type == "rbind") return true;
  for (const auto& o : options) {
    if (o == "bind" || o == "rbind") return true;
  }
  return false;
}

const Device* Spec::find_device(std::string_view name) const {
  for (const auto& d : devices) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

std::string Version::str() const {
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

Result<Version> parse_spec_version(std::string_view text) {
  static constexpr Version known[] = {{0, 1, 0}, {0, 2, 0}, {0, 3, 0}, {0, 4, 0}, {0, 5, 0},
                                      {0, 6, 0}, {0, 7, 0}, {0, 8, 0}, {1, 0, 0}, {1, 1, 0}};
  std::string_view v = text;
  if (v.starts_with('v')) v.remove_prefix(1);
  for (const auto& k : known) {
    if (k.str() == v) return k;
  }
  return Error("invalid version " + quote(text) + ": expected one of 0.1.0 ... 0.8.0, 1.0.0, 1.1.0");
}

namespace {

bool edits_need(const ContainerEdits& e, const Version& v) {
  if (v == Version{1, 1, 0}) {
    return (e.intel_rdt && (e.intel_rdt->schemata || e.intel_rdt->enable_monitoring)) || !e.net_devices.empty();
  }
  if (v == Version{0, 7, 0}) return e.intel_rdt.has_value() || !e.additional_gids.empty();
  if (v == Version{0, 5, 0}) {
    for (const auto& n : e.device_nodes) {
      if (!n.host_path.empty()) return true;
    }
    return false;
  }
  if (v == Version{0, 4, 0}) {
    for (const auto& m : e.mounts) {
      if (!m.type.empty()) return true;
    }
    return false;
  }
  return false;
}

bool spec_needs(const Spec& s, const Version& v) {
  if (edits_need(s.edits, v)) return true;
  for (const auto& d : s.devices) {
    if (edits_need(d.edits, v)) return true;
    if (v == Version{0, 6, 0} && !d.annotations.empty()) return true;
    if (v == Version{0, 5, 0} && !d.name.empty() && is_digit(d.name.front())) return true;
  }
  if (v == Version{0, 6, 0}) {
    if (!s.annotations.empty()) return true;
    size_t slash = s.kind.find('/');
    if (slash != std::string::npos && s.kind.find('.', slash) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Version minimum_version(const Spec& spec) {
  static constexpr Version gated[] = {{1, 1, 0}, {0, 7, 0}, {0, 6, 0}, {0, 5, 0}, {0, 4, 0}};
  for (const auto& v : gated) {
    if (spec_needs(spec, v)) return v;
  }
  return {0, 3, 0};
}

bool is_valid_hook_name(std::string_view name) {
  static constexpr std::string_view names[] = {"prestart",       "createRuntime", "createContainer",
                                               "startContainer", "poststart",     "poststop"};
  for (auto n : names) {
    if (n == name) return true;
  }
  return false;
}

namespace {

// A field path, built into text only when a problem is reported (validation
// runs on every injection; the paths of valid fields are never needed).
class Field {
 public:
  explicit Field(std::string_view root) : key_(root) {}
  Field(const Field& parent, std::string_view key) : parent_(&parent), key_(key) {}
  Field(const Field& parent, size_t index) : parent_(&parent), index_(index), is_index_(true) {}
  Field operator/(std::string_view key) const { return Field(*this, key); }
  Field operator[](size_t index) const { return Field(*this, index); }

  std::string str() const {
    std::string out = parent_ ? parent_->str() : std::string();
    if (is_index_) return out + "[" + std::to_string(index_) + "]";
    if (!out.empty() && !key_.empty()) out += '.';
    return out + std::string(key_);
  }

 private:
  const Field* parent_ = nullptr;
  std::string_view key_;
  size_t index_ = 0;
  bool is_index_ = false;
};

struct Checker {
  const Spec& spec;
  const ValidateOptions& options;
  std::vector<Error>& out;
  std::vector<Error>* warnings = nullptr;

  Error at(const Field& field, std::string message) const {
    Error e(std::move(message));
    e.field = field.str();
    auto it = spec.positions.find(e.field);
    if (it != spec.positions.end()) e.at(it->second.line, it->second.column);
    return e;
  }
  void fail(const Field& field, std::string message) { out.push_back(at(field, std::move(message))); }
  void warn(const Field& field, std::string message) {
    if (warnings) warnings->push_back(at(field, std::move(message)));
  }
};

// No string that reaches the OCI config or the filesystem may hold a NUL byte:
// every consumer would cut it there and read another value.
bool check_no_nul(Checker& c, const std::string& value, const Field& field) {
  if (value.find('\0') == std::string::npos) return true;
  c.fail(field, quote(value) + " contains a NUL byte");
  return false;
}

void check_strings(Checker& c, const std::vector<std::string>& values, const Field& field) {
  for (size_t i = 0; i < values.size(); ++i) check_no_nul(c, values[i], field[i]);
}

void check_env(Checker& c, const std::vector<std::string>& env, const Field& field) {
  for (size_t i = 0; i < env.size(); ++i) {
    if (!check_no_nul(c, env[i], field[i])) continue;
    size_t eq = env[i].find('=');
    if (eq == std::string::npos || eq == 0) {
      c.fail(field[i], "invalid environment variable " + quote(env[i]) + ": expected KEY=VALUE");
    }
  }
}

void check_absolute(Checker& c, const std::string& path, const Field& field) {
  if (c.options.strict && !path.empty() && path.front() != '/') {
    c.fail(field, "path " + quote(path) + " is not absolute");
  }
}

// A path in the container: relative is an error with --strict, else a warning.
void check_container_path(Checker& c, const std::string& path, const Field& field) {
  if (path.empty() || path.front() == '/') return;
  if (c.options.strict) return check_absolute(c, path, field);
  c.warn(field, "container path " + quote(path) + " is not absolute");
}

std::string octal(uint32_t v) {
  std::string out;
  do {
    out.insert(out.begin(), static_cast<char>('0' + (v & 7u)));
    v >>= 3;
  } while (v != 0);
  return "0o" + out;
}

// (uid_t)-1 and (gid_t)-1 tell chown "leave it as it is": not an owner.
void check_owner(Checker& c, std::optional<uint32_t> id, std::string_view what, const Field& field) {
  if (id && *id == 0xFFFFFFFFu) {
    c.fail(field, std::string(what) + " 4294967295 is not a valid " + std::string(what) + " (it is (" +
                      std::string(what) + "_t)-1, which means \"no owner change\")");
  }
}

bool valid_permissions(std::string_view p, bool strict) {
  if (p.empty() || p == "none") return true;
  bool seen[3] = {false, false, false};
  for (char ch : p) {
    size_t i = ch == 'r' ? 0 : ch == 'w' ? 1 : ch == 'm' ? 2 : 3;
    if (i == 3) return false;
    if (strict && seen[i]) return false;
    seen[i] = true;
  }
  return true;
}

void check_device_numbers(Checker& c, const DeviceNode& n, const Field& f) {
  if (n.major < 0 || n.minor < 0) {
    c.fail(f / (n.major < 0 ? "major" : "minor"),
           "negative device number " + std::to_string(n.major) + ":" + std::to_string(n.minor));
    return;
  }
  // A runtime that casts to 32 bits, or packs into dev_t, would reach another device.
  if (n.major > int64_t{kMaxDeviceMajor}) {
    c.fail(f / "major", "device major " + std::to_string(n.major) + " is above " + std::to_string(kMaxDeviceMajor) +
                            ", the largest Linux has");
  }
  if (n.minor > int64_t{kMaxDeviceMinor}) {
    c.fail(f / "minor", "device minor " + std::to_string(n.minor) + " is above " + std::to_string(kMaxDeviceMinor) +
                            ", the largest Linux has");
  }
}

void check_device_node(Checker& c, const DeviceNode& n, const Field& f) {
  if (n.path.empty()) c.fail(f / "path", "device node path is empty");
  bool clean = check_no_nul(c, n.path, f / "path") & check_no_nul(c, n.host_path, f / "hostPath") &
               check_no_nul(c, n.type, f / "type") & check_no_nul(c, n.permissions, f / "permissions");
  if (clean) {
    check_container_path(c, n.path, f / "path");
    check_absolute(c, n.host_path, f / "hostPath");
  }
  if (n.type != "" && n.type != "b" && n.type != "c" && n.type != "u" && n.type != "p") {
    c.fail(f / "type", "invalid device type " + quote(n.type) + ": expected b, c, u or p");
  }
  check_device_numbers(c, n, f);
  if (n.file_mode && *n.file_mode > kMaxFileMode) {
    c.fail(f / "fileMode", "fileMode " + octal(*n.file_mode) + " has bits beyond " + octal(kMaxFileMode) +
                               " (permissions, setuid, setgid and sticky)");
  }
  check_owner(c, n.uid, "uid", f / "uid");
  check_owner(c, n.gid, "gid", f / "gid");
  if (!valid_permissions(n.permissions, c.options.strict)) {
    c.fail(f / "permissions", "invalid permissions " + quote(n.permissions) + ": expected letters from rwm" +
                                  (c.options.strict ? ", each at most once" : ""));
  }
}

void check_hook(Checker& c, const Hook& h, const Field& f) {
  if (!is_valid_hook_name(h.hook_name)) {
    c.fail(f / "hookName", "invalid hook name " + quote(h.hook_name) +
                               ": expected prestart, createRuntime, createContainer, startContainer, "
                               "poststart or poststop");
  }
  if (h.path.empty()) c.fail(f / "path", "hook path is empty");
  if (check_no_nul(c, h.path, f / "path")) check_absolute(c, h.path, f / "path");
  check_strings(c, h.args, f / "args");
  check_env(c, h.env, f / "env");
  if (c.options.strict && h.timeout && *h.timeout < 0) {
    c.fail(f / "timeout", "negative hook timeout " + std::to_string(*h.timeout));
  }
}

void check_mount(Checker& c, const Mount& m, const Field& f) {
  if (m.host_path.empty()) c.fail(f / "hostPath", "mount host path is empty");
  if (m.container_path.empty()) c.fail(f / "containerPath", "mount container path is empty");
  // Only a bind mount's source is a path: "tmpfs" or "proc" name a filesystem.
  if (check_no_nul(c, m.host_path, f / "hostPath") && m.is_bind()) check_absolute(c, m.host_path, f / "hostPath");
  if (check_no_nul(c, m.container_path, f / "containerPath")) {
    check_container_path(c, m.container_path, f / "containerPath");
  }
  check_strings(c, m.options, f / "options");
  check_no_nul(c, m.type, f / "type");
}

void check_intel_rdt(Checker& c, const IntelRdt& r, const Field& f) {
  check_no_nul(c, r.l3_cache_schema, f / "l3CacheSchema");
  check_no_nul(c, r.mem_bw_schema, f / "memBwSchema");
  if (r.schemata) check_strings(c, *r.schemata, f / "schemata");
  const std::string& id = r.clos_id;
  if (id == "/") return;
  if (id.size() >= 4096 || id == "." || id == ".." ||
      id.find_first_of(std::string_view("/\n\0", 3)) != std::string::npos) {
    c.fail(f / "closID", "invalid closID " + quote(id) + ": must be a valid file name or \"/\"");
  }
}

void check_net_devices(Checker& c, const std::vector<NetDevice>& devs, const Field& field) {
  if (devs.empty()) return;
  std::map<std::string, size_t> hosts, names;
  for (size_t i = 0; i < devs.size(); ++i) {
    const auto& d = devs[i];
    Field f = field[i];
    if (d.host_interface_name.empty()) c.fail(f / "hostInterfaceName", "net device host interface name is empty");
    if (d.name.empty()) c.fail(f / "name", "net device name is empty");
    if (!check_no_nul(c, d.host_interface_name, f / "hostInterfaceName") | !check_no_nul(c, d.name, f / "name")) {
      continue;
    }
    if (!d.host_interface_name.empty() && !hosts.emplace(d.host_interface_name, i).second) {
      c.fail(f / "hostInterfaceName", "duplicate host interface name " + quote(d.host_interface_name));
    }
    if (!d.name.empty() && !names.emplace(d.name, i).second) {
      c.fail(f / "name", "duplicate net device name " + quote(d.name));
    }
  }
}

// RFC 1123 label: lower-case alphanumerics and '-', alphanumeric at both ends, at most 63.
bool is_dns_label(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto ok = [](char ch) { return (ch >= 'a' && ch <= 'z') || is_digit(ch); };
  if (!ok(s.front()) || !ok(s.back())) return false;
  for (char ch : s) {
    if (!ok(ch) && ch != '-') return false;
  }
  return true;
}

bool is_dns_subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (auto label : split(s, '.')) {
    if (!is_dns_label(label)) return false;
  }
  return true;
}

// Kubernetes qualified annotation key: [prefix/]name, prefix a DNS subdomain,
// name at most 63 of [A-Za-z0-9_.-] with alphanumeric ends.
std::string kubernetes_key_problem(std::string_view key) {
  std::string_view name = key;
  size_t slash = key.rfind('/');
  if (slash != std::string_view::npos) {
    if (!is_dns_subdomain(key.substr(0, slash))) return "prefix is not a DNS subdomain";
    name = key.substr(slash + 1);
  }
  if (name.empty() || name.size() > 63) return "name must be 1 to 63 characters";
  if (!is_alnum(name.front()) || !is_alnum(name.back())) return "name must start and end with a letter or digit";
  for (char ch : name) {
    if (!is_alnum(ch) && ch != '-' && ch != '_' && ch != '.') return "name has a character outside [A-Za-z0-9_.-]";
  }
  return {};
}

void check_annotations(Checker& c, const AnnotationList& annotations, const Field& field) {
  if (!c.options.strict) return;
  size_t total = 0;
  for (const auto& [k, v] : annotations) {
    total += k.size() + v.size();
    if (auto problem = kubernetes_key_problem(k); !problem.empty()) {
      c.fail(field / k, "invalid annotation key " + quote(k) + ": " + problem);
    }
  }
  if (total > 256 * 1024) c.fail(field, "annotations exceed 256 KiB");
}

void check_kind(Checker& c) {
  auto k = parse_kind(c.spec.kind);
  if (!k.ok()) {
    c.fail(Field("kind"), k.error().message);
    return;
  }
  if (!c.options.strict) return;
  if (!is_dns_subdomain(k->vendor)) {
    c.fail(Field("kind"), "vendor " + quote(k->vendor) + " is not a DNS subdomain (lower case, labels of at most 63)");
  }
  if (k->device_class.size() > 63) c.fail(Field("kind"), "class " + quote(k->device_class) + " is longer than 63");
}

void check_version(Checker& c) {
  auto declared = parse_spec_version(c.spec.version);
  if (!declared.ok()) {
    c.fail(Field("cdiVersion"), declared.error().message);
    return;
  }
  Version need = minimum_version(c.spec);
  if (*declared < need) {
    c.fail(Field("cdiVersion"), "the spec version must be at least v" + need.str() +
                                    " for the fields it uses (declared " + quote(c.spec.version) + ")");
  }
}

void check_edits(Checker& c, const ContainerEdits& e, const Field& f) {
  check_env(c, e.env, f / "env");
  Field gids = f / "additionalGids";
  for (size_t i = 0; i < e.additional_gids.size(); ++i) check_owner(c, e.additional_gids[i], "gid", gids[i]);
  Field nodes = f / "deviceNodes";
  for (size_t i = 0; i < e.device_nodes.size(); ++i) check_device_node(c, e.device_nodes[i], nodes[i]);
  Field hooks = f / "hooks";
  for (size_t i = 0; i < e.hooks.size(); ++i) check_hook(c, e.hooks[i], hooks[i]);
  Field mounts = f / "mounts";
  for (size_t i = 0; i < e.mounts.size(); ++i) check_mount(c, e.mounts[i], mounts[i]);
  if (e.intel_rdt) check_intel_rdt(c, *e.intel_rdt, f / "intelRdt");
  check_net_devices(c, e.net_devices, f / "netDevices");
}

}  // namespace

void validate_edits(const ContainerEdits& edits, std::string_view field, const ValidateOptions& options,
                    std::vector<Error>& out, std::vector<Error>* warnings) {
  Spec none;
  Checker c{none, options, out, warnings};
  check_edits(c, edits, Field(field));
}

std::vector<Error> validate_spec(const Spec& spec, const ValidateOptions& options, std::vector<Error>* warnings) {
  std::vector<Error> out;
  Checker c{spec, options, out, warnings};
  check_version(c);
  check_kind(c);
  check_annotations(c, spec.annotations, Field("annotations"));
  check_edits(c, spec.edits, Field("containerEdits"));
  Field devices("devices");
  if (spec.devices.empty()) c.fail(devices, "the spec has no devices");
  std::map<std::string_view, size_t> seen;
  for (size_t i = 0; i < spec.devices.size(); ++i) {
    const Device& d = spec.devices[i];
    Field f = devices[i];
    if (auto st = validate_device_name(d.name); !st.ok()) c.fail(f / "name", st.error().message);
    if (!d.name.empty()) {
      auto [it, fresh] = seen.emplace(d.name, i);
      if (!fresh) {
        c.fail(f / "name",
               "device " + quote(d.name) + " is defined twice (also devices[" + std::to_string(it->second) + "])");
      }
    }
    check_annotations(c, d.annotations, f / "annotations");
    if (d.edits.empty()) {
      c.fail(f / "containerEdits", "device " + quote(d.name) + " has no container edits");
    } else {
      check_edits(c, d.edits, f / "containerEdits");
    }
  }
  return out;
}

}  // namespace cdi
