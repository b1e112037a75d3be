#include "edits/edit_plan.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "base/text.h"

namespace cdi {

// ---- sources and origins ----------------------------------------------------------

std::string EditSource::qualified_name() const { return device ? spec->kind + "=" + device->name : std::string(); }

std::string EditSource::field() const {
  if (!device) return "containerEdits";
  auto index = static_cast<size_t>(device - spec->devices.data());
  return "devices[" + std::to_string(index) + "].containerEdits";
}

std::vector<EditSource> merge_order(const std::vector<std::pair<const Spec*, const Device*>>& devices) {
  std::vector<EditSource> out;
  out.reserve(2 * devices.size());
  for (size_t i = 0; i < devices.size(); ++i) {
    const auto& [spec, device] = devices[i];
    // A request names few specs: a scan of the devices before is cheaper than a set.
    bool first = std::none_of(devices.begin(), devices.begin() + static_cast<std::ptrdiff_t>(i),
                              [spec = spec](const auto& d) { return d.first == spec; });
    if (first && !spec->edits.empty()) out.push_back({spec, nullptr, device});
    out.push_back({spec, device});
  }
  return out;
}

namespace {
constexpr std::string_view kIntelRdt = "intelRdt";  // the one containerEdits field that is not a list
}

std::string EditOrigin::requesting_device() const {
  if (source.device) return source.qualified_name();
  if (source.requested_by) return source.spec->kind + "=" + source.requested_by->name;
  return {};
}

std::string EditOrigin::field() const {
  std::string out = source.field() + "." + list;
  if (list != kIntelRdt) out += "[" + std::to_string(index) + "]";
  return out;
}

std::string EditOrigin::describe() const {
  if (source.device) return "device " + source.qualified_name() + " of " + spec_file();
  return "spec-level edits of " + spec_file();
}

Error EditOrigin::locate(Error e) const {
  e.at_field(field());
  e.in_file(spec_file());
  if (auto who = requesting_device(); !who.empty()) e.for_device(std::move(who));
  return e;
}

std::string_view PlannedEnv::value() const {
  size_t eq = entry.find('=');
  return eq == std::string_view::npos ? std::string_view() : entry.substr(eq + 1);
}

// ---- device nodes -------------------------------------------------------------------

namespace {

std::string_view host_type_of(const FileStat& st) {
  if (st.is_block_device()) return "b";
  if (st.is_char_device()) return "c";
  if (st.is_fifo()) return "p";
  return {};
}

std::string file_type_name(const FileStat& st) {
  if (st.is_regular()) return "a regular file";
  if (st.is_dir()) return "a directory";
  if (st.is_symlink()) return "a symbolic link";
  return "not a device node";
}

}  // namespace

Status resolve_device_node(const DeviceNode& node, Fs& fs, ResolvedDeviceNode& r) {
  const std::string& host_path = node.host_path.empty() ? node.path : node.host_path;
  r.path = node.path;
  r.host_path = host_path;
  r.type = node.type;
  r.major = node.major;
  r.minor = node.minor;
  r.file_mode = node.file_mode;
  r.uid = node.uid;
  r.gid = node.gid;
  bool complete = !node.type.empty() && (node.major != 0 || node.type == "p");

  auto st = fs.stat(host_path);
  if (!st.ok()) {
    if (!complete) {
      Error e = std::move(st).error();
      e.message = "host device: " + e.message;
      return e;
    }
  } else {
    std::string_view host_type = host_type_of(*st);
    if (host_type.empty()) {
      if (!complete)
        return Error("host path " + quote(r.host_path) + " is " + file_type_name(*st) + ", not a device node");
    } else {
      if (!complete) {
        if (r.type.empty()) {
          r.type = host_type;
        } else if (r.type != host_type) {
          return Error("host type mismatch for " + quote(r.host_path) + ": the spec says " + quote(r.type) +
                       ", the host node is " + quote(host_type));
        }
        if (r.type != "p" && r.major == 0) {
          r.major = st->rdev_major();
          r.minor = st->rdev_minor();
        }
      }
      if (!r.file_mode) r.file_mode = st->mode & 0777;
    }
  }
  r.access = node.permissions.empty()     ? std::string_view("rwm")
             : node.permissions == "none" ? std::string_view()
                                          : std::string_view(node.permissions);
  return {};
}

size_t mount_depth(std::string_view destination) {
  std::string clean = clean_path(destination);
  return static_cast<size_t>(std::count(clean.begin(), clean.end(), '/'));
}

std::vector<size_t> mount_order(const std::vector<std::string_view>& destinations) {
  std::vector<std::pair<size_t, size_t>> keyed;  // depth, position
  keyed.reserve(destinations.size());
  for (size_t i = 0; i < destinations.size(); ++i) keyed.emplace_back(mount_depth(destinations[i]), i);
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<size_t> order;
  order.reserve(keyed.size());
  for (const auto& k : keyed) order.push_back(k.second);
  return order;
}

// ---- planning -----------------------------------------------------------------------

namespace {

// Stats each host path once per plan: `all` plus each GPU names the same
// nodes again. Everything else goes straight to the real seam, and so does
// stat() when the seam keeps its answers itself (the NRI plugin's).
class StatOnce final : public ForwardingFs {
 public:
  explicit StatOnce(Fs& fs) : ForwardingFs(fs), direct_(fs.keeps_stats()) {}
  Result<FileStat> stat(const std::string& path) override {
    if (direct_) return ForwardingFs::stat(path);
    auto it = cache_.find(path);
    if (it == cache_.end()) it = cache_.emplace(path, ForwardingFs::stat(path)).first;
    return it->second;
  }

 private:
  bool direct_;
  std::unordered_map<std::string, Result<FileStat>> cache_;
};

bool same_hook(const Hook& a, const Hook& b) {
  return a.path == b.path && a.args == b.args && a.env == b.env && a.timeout == b.timeout;
}

bool same_node(const ResolvedDeviceNode& a, const ResolvedDeviceNode& b) {
  return a.path == b.path && a.type == b.type && a.major == b.major && a.minor == b.minor &&
         a.file_mode == b.file_mode && a.uid == b.uid && a.gid == b.gid;
}

bool same_mount(const Mount& a, const Mount& b) {
  return a.container_path == b.container_path && a.host_path == b.host_path && a.type == b.type &&
         a.options == b.options;
}

template <class T, class Same>
bool has(const std::vector<T>& list, const T& x, Same same) {
  return std::any_of(list.begin(), list.end(), [&](const T& y) { return same(x, y); });
}

class Planner {
 public:
  Planner(Fs& fs, const ContainerView& container) : fs_(fs), container_(container) {
    // Rules the container grants for good: the trailing run of allow rules
    // (no later rule can take their access away), so one more is a no-op.
    for (auto it = container.cgroup_rules.rbegin(); it != container.cgroup_rules.rend() && it->allow; ++it) {
      granted_.push_back(&*it);
    }
    gids_.insert(container.additional_gids.begin(), container.additional_gids.end());
  }

  Result<EditPlan> run(const std::vector<EditSource>& sources) {
    reserve(sources);
    for (const auto& s : sources) env(s);
    for (const auto& s : sources) CDI_TRY(device_nodes(s));
    keep_changed_nodes();
    for (const auto& s : sources) list_of(s, "netDevices", s.edits().net_devices, plan_.net_devices);
    mounts(sources);
    for (const auto& s : sources) CDI_TRY(hooks(s));
    for (const auto& s : sources) {
      if (s.edits().intel_rdt) plan_.intel_rdt.push_back({{s, kIntelRdt.data(), 0}, &*s.edits().intel_rdt});
    }
    for (const auto& s : sources) additional_gids(s);
    return std::move(plan_);
  }

 private:
  // Room for every edit of the sources, so the lists are not moved while they grow.
  void reserve(const std::vector<EditSource>& sources) {
    size_t env = 0, nodes = 0, mounts = 0, hooks = 0;
    for (const auto& s : sources) {
      env += s.edits().env.size();
      nodes += s.edits().device_nodes.size();
      mounts += s.edits().mounts.size();
      hooks += s.edits().hooks.size();
    }
    plan_.env.reserve(env);
    plan_.device_nodes.reserve(nodes);
    plan_.cgroup_rules.reserve(nodes);
    plan_.mounts.reserve(mounts);
    plan_.hooks.reserve(hooks);
  }
  void env(const EditSource& s) {
    const auto& list = s.edits().env;
    for (size_t i = 0; i < list.size(); ++i) plan_.env.push_back({{s, "env", i}, list[i]});
  }

  template <class T, class Planned>
  static void list_of(const EditSource& s, const char* name, const std::vector<T>& list, std::vector<Planned>& out) {
    for (size_t i = 0; i < list.size(); ++i) out.push_back({{s, name, i}, &list[i]});
  }

  Status device_nodes(const EditSource& s) {
    const auto& nodes = s.edits().device_nodes;
    for (size_t i = 0; i < nodes.size(); ++i) {
      EditOrigin origin{s, "deviceNodes", i};
      // Filled in place: a plan has a node per spec entry (an 8-GPU request: 52).
      PlannedDeviceNode& planned = plan_.device_nodes.emplace_back();
      planned.origin = origin;
      if (auto st = resolve_device_node(nodes[i], fs_, planned.node); !st.ok()) {
        plan_.device_nodes.pop_back();
        return origin.locate(std::move(st).error());
      }
      ResolvedDeviceNode& n = planned.node;
      // Unset owners take the container's user; root (0) is the default anyway.
      if (!n.uid && container_.uid.value_or(0) != 0) n.uid = container_.uid;
      if (!n.gid && container_.gid.value_or(0) != 0) n.gid = container_.gid;
      if (n.type == "b" || n.type == "c") {
        DeviceCgroupRule rule{true, n.type, n.major, n.minor, n.access};
        bool granted =
            std::any_of(granted_.begin(), granted_.end(), [&](const DeviceCgroupRule* g) { return *g == rule; });
        // after_nodes counts every node for now; keep_changed_nodes() makes it final.
        if (!granted) plan_.cgroup_rules.push_back({origin, rule, plan_.device_nodes.size()});
      }
    }
    return {};
  }

  // The nodes of a path whose final form (its last node) the container has
  // already stay out: injecting again must leave it where it is.
  void keep_changed_nodes() {
    if (container_.device_nodes.empty()) return;  // the container has none of them: every node stays
    auto& nodes = plan_.device_nodes;
    std::set<std::string_view> kept_paths;
    std::map<std::string_view, size_t> last;
    for (size_t i = 0; i < nodes.size(); ++i) last[nodes[i].node.path] = i;
    for (const auto& [path, i] : last) {
      if (!has(container_.device_nodes, nodes[i].node, same_node)) kept_paths.insert(path);
    }
    if (kept_paths.size() == last.size()) return;
    std::vector<size_t> kept_before(nodes.size() + 1, 0);  // nodes kept among the first i
    std::vector<PlannedDeviceNode> kept;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (kept_paths.count(nodes[i].node.path)) kept.push_back(std::move(nodes[i]));
      kept_before[i + 1] = kept.size();
    }
    for (auto& r : plan_.cgroup_rules) r.after_nodes = kept_before[r.after_nodes];
    nodes = std::move(kept);
  }

  // Likewise the mounts of a destination whose last mount the container has.
  void mounts(const std::vector<EditSource>& sources) {
    std::vector<PlannedMount> all;
    all.reserve(plan_.mounts.capacity());
    for (const auto& s : sources) list_of(s, "mounts", s.edits().mounts, all);
    if (container_.mounts.empty()) {  // nothing to keep out
      plan_.mounts = std::move(all);
      return;
    }
    // The destinations to keep out: each container mount that is, identically,
    // the last planned mount of its destination (the container has few mounts:
    // a scan from the back, no table of every planned destination).
    std::vector<std::string_view> kept_out;
    for (const Mount& c : container_.mounts) {
      auto last = std::find_if(all.rbegin(), all.rend(),
                               [&](const PlannedMount& m) { return m.mount->container_path == c.container_path; });
      if (last != all.rend() && same_mount(*last->mount, c)) kept_out.push_back(c.container_path);
    }
    if (kept_out.empty()) {
      plan_.mounts = std::move(all);
      return;
    }
    for (auto& m : all) {
      if (std::find(kept_out.begin(), kept_out.end(), m.mount->container_path) == kept_out.end()) {
        plan_.mounts.push_back(std::move(m));
      }
    }
  }

  Status hooks(const EditSource& s) {
    const auto& list = s.edits().hooks;
    for (size_t i = 0; i < list.size(); ++i) {
      const Hook& h = list[i];
      EditOrigin origin{s, "hooks", i};
      if (!is_valid_hook_name(h.hook_name)) {
        return origin.locate(Error("unknown hook name " + quote(h.hook_name)).at_field("hookName"));
      }
      // A hook the container already runs at this stage is not added again:
      // injecting twice must not run a host hook twice.
      auto stage = container_.hooks.find(h.hook_name);
      if (stage != container_.hooks.end() && has(stage->second, h, same_hook)) continue;
      plan_.hooks.push_back({origin, &h});
    }
    return {};
  }

  void additional_gids(const EditSource& s) {
    const auto& gids = s.edits().additional_gids;
    for (size_t i = 0; i < gids.size(); ++i) {
      // GID 0 is never added; a GID is added once.
      if (gids[i] == 0 || !gids_.insert(gids[i]).second) continue;
      plan_.additional_gids.push_back({{s, "additionalGids", i}, gids[i]});
    }
  }

  StatOnce fs_;
  const ContainerView& container_;
  std::vector<const DeviceCgroupRule*> granted_;
  std::set<uint32_t> gids_;
  EditPlan plan_;
};

}  // namespace

Result<EditPlan> plan_edits(const std::vector<EditSource>& sources, Fs& fs, const ContainerView& container) {
  Planner planner(fs, container);
  return planner.run(sources);
}

Result<EditPlan> plan_devices(const std::vector<DeviceDefinition>& devices, Fs& fs, const ContainerView& container) {
  std::vector<std::pair<const Spec*, const Device*>> pairs;
  pairs.reserve(devices.size());
  for (const auto& d : devices) pairs.emplace_back(d.spec.get(), d.device);
  auto plan = plan_edits(merge_order(pairs), fs, container);
  if (!plan.ok()) return plan;
  for (const auto& d : devices) {
    if (std::find(plan->specs.begin(), plan->specs.end(), d.spec) == plan->specs.end()) plan->specs.push_back(d.spec);
  }
  return plan;
}

// ---- explanation ----------------------------------------------------------------------

namespace {

std::string numbers(std::string_view type, int64_t major, int64_t minor) {
  return std::string(type) + " " + std::to_string(major) + ":" + std::to_string(minor);
}

}  // namespace

std::vector<AppliedEdit> explain_plan(const EditPlan& plan) {
  std::vector<AppliedEdit> out;
  auto note = [&](const EditOrigin& o, const char* category, std::string summary) {
    out.push_back({category, std::move(summary), o.spec_file(), o.device(), o.field()});
  };
  for (const auto& e : plan.env) note(e.origin, "env", "set " + std::string(e.entry));
  (void)for_each_node_and_rule(
      plan,
      [&](const PlannedDeviceNode& d) {
        const auto& n = d.node;
        note(d.origin, "deviceNode",
             std::string(n.path) + " (" + numbers(n.type, n.major, n.minor) + ") from " + std::string(n.host_path));
        return Status();
      },
      [&](const PlannedCgroupRule& r) {
        const DeviceCgroupRule& c = r.rule;
        note(r.origin, "cgroupRule",
             "allow " + numbers(c.type, c.major.value_or(-1), c.minor.value_or(-1)) + " " +
                 (c.access.empty() ? std::string("(no access)") : std::string(c.access)));
        return Status();
      });
  for (const auto& d : plan.net_devices) {
    note(d.origin, "netDevice", d.device->host_interface_name + " as " + d.device->name);
  }
  for (const auto& m : plan.mounts) note(m.origin, "mount", m.mount->host_path + " on " + m.mount->container_path);
  for (const auto& h : plan.hooks) note(h.origin, "hook", h.hook->hook_name + " " + h.hook->path);
  for (const auto& x : plan.intel_rdt) note(x.origin, "intelRdt", "closID " + quote(x.rdt->clos_id));
  for (const auto& g : plan.additional_gids) note(g.origin, "additionalGid", std::to_string(g.gid));
  return out;
}

}  // namespace cdi
