#include "nri/adjustment_sink.h"

#include <algorithm>
#include <utility>

#include "base/hash.h"
#include "base/text.h"
#include "nri/wire.h"

namespace cdi::nri {

namespace {

// Access as bits: r 1, w 2, m 4 (no allocation on the per-node path).
unsigned access_bits(std::string_view access) {
  unsigned bits = 0;
  for (char c : access) bits |= c == 'r' ? 1u : c == 'w' ? 2u : c == 'm' ? 4u : 0u;
  return bits;
}

std::string_view access_view(unsigned bits) {
  static constexpr std::string_view kText[8] = {"", "r", "w", "rw", "m", "rm", "wm", "rwm"};
  return kText[bits & 7u];
}

std::string rule_text(const DeviceCgroupRule& r) {
  std::string text = std::string(r.allow ? "allow " : "deny ") + std::string(r.type);
  text += " " + (r.major ? std::to_string(*r.major) : std::string("*"));
  text += ":" + (r.minor ? std::to_string(*r.minor) : std::string("*"));
  return text + " " + (r.access.empty() ? std::string("rwm") : std::string(r.access));
}

// The Hooks field of each stage; 0 for a name that is no NRI stage.
int hook_stage_field(std::string_view stage) {
  if (stage == "prestart") return 1;
  if (stage == "createRuntime") return 2;
  if (stage == "createContainer") return 3;
  if (stage == "startContainer") return 4;
  if (stage == "poststart") return 5;
  if (stage == "poststop") return 6;
  return 0;
}

Hook from_hook(const pb::Hook& h) {
  Hook out;
  out.path = h.path();
  out.args.assign(h.args().begin(), h.args().end());
  out.env.assign(h.env().begin(), h.env().end());
  if (h.has_timeout()) out.timeout = h.timeout().value();
  return out;
}

}  // namespace

std::string_view automatic_access(std::string_view type) { return type == "b" ? "rwm" : "rw"; }

ContainerView nri_container_view(const pb::Container& c) {
  ContainerView v;
  if (c.has_user()) {
    v.uid = c.user().uid();
    v.gid = c.user().gid();
    v.additional_gids.assign(c.user().additional_gids().begin(), c.user().additional_gids().end());
  }
  for (const auto& d : c.linux().devices()) {
    ResolvedDeviceNode n;
    n.path = d.path();
    n.type = d.type();
    n.major = d.major();
    n.minor = d.minor();
    if (d.has_file_mode()) n.file_mode = d.file_mode().value();
    if (d.has_uid()) n.uid = d.uid().value();
    if (d.has_gid()) n.gid = d.gid().value();
    v.device_nodes.push_back(std::move(n));
  }
  for (const auto& r : c.linux().resources().devices()) {
    DeviceCgroupRule rule;
    rule.allow = r.allow();
    rule.type = r.type();
    if (r.has_major()) rule.major = r.major().value();
    if (r.has_minor()) rule.minor = r.minor().value();
    rule.access = r.access();
    v.cgroup_rules.push_back(std::move(rule));
  }
  for (const auto& m : c.mounts()) {
    Mount mount;
    mount.container_path = m.destination();
    mount.host_path = m.source();
    mount.type = m.type();
    mount.options.assign(m.options().begin(), m.options().end());
    v.mounts.push_back(std::move(mount));
  }
  const auto& h = c.hooks();
  auto stage = [&v](const char* name, const auto& list) {
    for (const auto& hook : list) v.hooks[name].push_back(from_hook(hook));
  };
  stage("prestart", h.prestart());
  stage("createRuntime", h.create_runtime());
  stage("createContainer", h.create_container());
  stage("startContainer", h.start_container());
  stage("poststart", h.poststart());
  stage("poststop", h.poststop());
  return v;
}

AdjustmentSink::AdjustmentSink(NriCapabilities capabilities, const EncodedEdits* encoded)
    : caps_(std::move(capabilities)), encoded_(encoded) {
  // Room for a large request's edits (8 GPUs: 52 nodes and rules, 68 mounts,
  // 20 hooks) at once, rather than growing by doubling from one.
  devices_.reserve(64);
  rules_.reserve(64);
  mounts_.reserve(128);
  mount_bytes_.reserve(128);
  hooks_.reserve(16);
  hook_bytes_.reserve(16);
}

Status AdjustmentSink::set_env(const PlannedEnv& planned) {
  std::string_view key = planned.key();
  for (auto& [k, v] : env_) {
    if (k == key) {
      v = planned.value();  // the last CDI value wins, in the first one's place
      return {};
    }
  }
  env_.emplace_back(key, planned.value());
  return {};
}

Status AdjustmentSink::add_device_node(const PlannedDeviceNode& planned) {
  const ResolvedDeviceNode& n = planned.node;
  devices_.push_back(&n);
  last_node_ = &n;
  return {};
}

Status AdjustmentSink::add_cgroup_rule(const PlannedCgroupRule& planned) {
  const DeviceCgroupRule& r = planned.rule;
  const ResolvedDeviceNode* node = last_node_;
  last_node_ = nullptr;
  // The runtime's automatic rule for the node just added, if this rule follows it.
  bool follows = node && r.allow && r.major == node->major && r.minor == node->minor;
  unsigned wanted = r.access.empty() ? 7u : access_bits(r.access);
  unsigned granted = follows ? access_bits(automatic_access(node->type)) : 0u;
  unsigned extra = wanted & ~granted;    // the spec grants it, the runtime would not
  unsigned surplus = granted & ~wanted;  // the runtime would grant it, the spec does not
  if (extra == 0 && surplus == 0) return {};
  if (!r.major || !r.minor) {
    return Error("NRI cannot carry the device cgroup rule " + quote(rule_text(r)) + " (a rule without numbers)");
  }
  if (caps_.cgroup_rules) {
    if (extra != 0 || !follows) rules_.push_back({r.allow, r.type, *r.major, *r.minor, wanted});
    if (surplus != 0) rules_.push_back({false, r.type, *r.major, *r.minor, surplus});
    return {};
  }
  if (follows && surplus == 0 && extra == 4u) {
    not_carried_.push_back("mknod access to " + std::string(r.type) + " " + std::to_string(*r.major) + ":" +
                           std::to_string(*r.minor));
    return {};
  }
  return Error("the runtime (" + caps_.describe() + ") cannot carry the device cgroup rule " + quote(rule_text(r)) +
               (follows ? " (it gives the node " + quote(access_view(granted)) + "; explicit rules need NRI v0.10)"
                        : " (explicit rules need NRI v0.10)"));
}

Status AdjustmentSink::add_net_device(const PlannedNetDevice& planned) {
  if (!caps_.net_devices) {
    return Error("the runtime (" + caps_.describe() + ") cannot add network devices (NRI v0.11 can)");
  }
  const NetDevice& d = *planned.device;
  for (auto& [host, name] : net_devices_) {
    if (host == d.host_interface_name) {
      name = d.name;
      return {};
    }
  }
  net_devices_.emplace_back(d.host_interface_name, d.name);
  return {};
}

Status AdjustmentSink::add_mount(const PlannedMount& planned) {
  mounts_.push_back(planned.mount);
  mount_bytes_.push_back(encoded_ ? encoded_->mount(planned) : std::string_view());
  return {};
}

// The runtime sorts the mounts itself after applying an adjustment.
Status AdjustmentSink::order_mounts() { return {}; }

Status AdjustmentSink::add_hook(const PlannedHook& planned) {
  int stage = hook_stage_field(planned.hook->hook_name);
  if (stage == 0) return Error("NRI has no hook stage " + quote(planned.hook->hook_name));
  hooks_.emplace_back(stage, planned.hook);
  hook_bytes_.push_back(encoded_ ? encoded_->hook(planned) : std::string_view());
  return {};
}

Status AdjustmentSink::set_intel_rdt(const PlannedIntelRdt& planned) {
  if (!caps_.rdt) return Error("the runtime (" + caps_.describe() + ") cannot set Intel RDT (NRI v0.11 can)");
  const IntelRdt& r = *planned.rdt;
  if (!r.l3_cache_schema.empty() || !r.mem_bw_schema.empty()) {
    return Error("NRI carries intelRdt closID, schemata and enableMonitoring, not l3CacheSchema or memBwSchema");
  }
  rdt_ = &r;  // replaces as a whole: the last wins
  return {};
}

Status AdjustmentSink::add_additional_gid(const PlannedGid&) {
  return Error(
      "NRI cannot add supplementary groups to a container (an adjustment has no field for them); where the "
      "runtime honours CDI device names, cdi-mode reference or auto lets the runtime add them");
}

namespace {

// Nulls every item a later one has the key of, in one open-addressing table
// sized once (slots hold an item's index + 1; 0 is empty).
template <class T, class Key>
void keep_last_of_each(std::vector<const T*>& items, Key key) {
  if (items.size() < 2) return;
  size_t size = 4;
  while (size < items.size() * 2) size *= 2;
  std::vector<uint32_t> slots(size, 0);
  size_t mask = size - 1;
  for (size_t i = items.size(); i-- > 0;) {
    std::string_view k = key(items[i]);
    for (size_t at = table_hash(k) & mask;; at = (at + 1) & mask) {
      if (slots[at] == 0) {
        slots[at] = static_cast<uint32_t>(i + 1);
        break;
      }
      if (key(items[slots[at] - 1]) == k) {
        items[i] = nullptr;
        break;
      }
    }
  }
}

// Field numbers of nri_api.proto (NRI's, append-only since v0.2).
namespace field {
constexpr int kAdjustMounts = 3, kAdjustEnv = 4, kAdjustHooks = 5, kAdjustLinux = 6, kAdjustCdiDevices = 8;
constexpr int kKey = 1, kValue = 2;
constexpr int kLinuxDevices = 1, kLinuxResources = 2, kLinuxNetDevices = 9, kLinuxRdt = 11;
constexpr int kDevicePath = 1, kDeviceType = 2, kDeviceMajor = 3, kDeviceMinor = 4, kDeviceFileMode = 5, kDeviceUid = 6,
              kDeviceGid = 7;
constexpr int kResourcesDevices = 7;
constexpr int kRuleAllow = 1, kRuleType = 2, kRuleMajor = 3, kRuleMinor = 4, kRuleAccess = 5;
constexpr int kNetDeviceName = 1;
constexpr int kRdtClosId = 1, kRdtSchemata = 2, kRdtEnableMonitoring = 3;
constexpr int kCdiDeviceName = 1;
}  // namespace field

}  // namespace

template <class Writer>
void AdjustmentSink::write_linux(Writer& lin) const {
  using namespace field;
  for (const ResolvedDeviceNode* n : devices_) {
    if (!n) continue;
    lin.nested(kLinuxDevices, [n](auto& w) {
      w.string(kDevicePath, n->path);
      w.string(kDeviceType, n->type);
      w.signed_varint(kDeviceMajor, n->major);
      w.signed_varint(kDeviceMinor, n->minor);
      if (n->file_mode) w.wrapped(kDeviceFileMode, *n->file_mode);
      if (n->uid) w.wrapped(kDeviceUid, *n->uid);
      if (n->gid) w.wrapped(kDeviceGid, *n->gid);
    });
  }
  if (!rules_.empty()) {
    lin.nested(kLinuxResources, [this](auto& resources) {
      for (const Rule& r : rules_) {
        resources.nested(kResourcesDevices, [&r](auto& w) {
          w.boolean(kRuleAllow, r.allow);
          w.string(kRuleType, r.type);
          w.wrapped(kRuleMajor, static_cast<uint64_t>(r.major));
          w.wrapped(kRuleMinor, static_cast<uint64_t>(r.minor));
          w.string(kRuleAccess, access_view(r.access));
        });
      }
    });
  }
  for (const auto& [host, name] : net_devices_) {
    lin.nested(kLinuxNetDevices, [&host, &name](auto& entry) {  // a map entry: {1 key, 2 value}
      entry.element(1, host);
      entry.nested(2, [&name](auto& device) { device.string(kNetDeviceName, name); });
    });
  }
  if (rdt_) {
    lin.nested(kLinuxRdt, [this](auto& w) {
      if (!rdt_->clos_id.empty()) w.nested(kRdtClosId, [this](auto& v) { v.element(1, rdt_->clos_id); });
      if (rdt_->schemata) {
        w.nested(kRdtSchemata, [this](auto& values) {
          for (const auto& line : *rdt_->schemata) values.element(1, line);
        });
      }
      if (rdt_->enable_monitoring) w.wrapped(kRdtEnableMonitoring, 1);
    });
  }
}

void AdjustmentSink::finish(std::string& out) {
  // The runtime replaces a node by path and a mount by destination, and one
  // plugin may claim each once: the last of each is sent, at its own place.
  keep_last_of_each(devices_, [](const ResolvedDeviceNode* n) { return std::string_view(n->path); });
  keep_last_of_each(mounts_, [](const Mount* m) { return std::string_view(m->container_path); });
  append_fields(out, [this](auto& adjustment) { write_adjustment(adjustment); });
}

template <class Writer>
void AdjustmentSink::write_adjustment(Writer& adjustment) const {
  using namespace field;
  for (size_t i = 0; i < mounts_.size(); ++i) {
    const Mount* m = mounts_[i];
    if (!m) continue;
    if (mount_bytes_[i].data() != nullptr) {
      adjustment.message(kAdjustMounts, mount_bytes_[i]);
    } else {
      adjustment.nested(kAdjustMounts, [m](auto& w) { write_mount_fields(w, *m); });
    }
  }
  for (const auto& [k, v] : env_) {
    adjustment.nested(kAdjustEnv, [&k, &v](auto& w) {
      w.string(kKey, k);
      w.string(kValue, v);
    });
  }
  if (!hooks_.empty()) {
    adjustment.nested(kAdjustHooks, [this](auto& hooks) {
      for (int stage = 1; stage <= 6; ++stage) {  // Hooks' fields in order, each hook in call order
        for (size_t i = 0; i < hooks_.size(); ++i) {
          const auto& [hook_stage, h] = hooks_[i];
          if (hook_stage != stage) continue;
          if (hook_bytes_[i].data() != nullptr) {
            hooks.message(stage, hook_bytes_[i]);
          } else {
            hooks.nested(stage, [h = h](auto& w) { write_hook_fields(w, *h); });
          }
        }
      }
    });
  }
  if (!devices_.empty() || !rules_.empty() || !net_devices_.empty() || rdt_) {
    adjustment.nested(kAdjustLinux, [this](auto& lin) { write_linux(lin); });
  }
}

void write_cdi_devices(const std::vector<std::string>& names, std::string& out) {
  WireWriter adjustment(out);
  std::string body;
  for (const auto& n : names) {
    body.clear();
    WireWriter(body).string(field::kCdiDeviceName, n);
    adjustment.message(field::kAdjustCdiDevices, body);
  }
}

}  // namespace cdi::nri
