#include "edits/container_edits.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/text.h"

namespace cdi {

std::string EditSource::qualified_name() const { return device ? spec->kind + "=" + device->name : std::string(); }

std::string EditSource::field() const {
  if (!device) return "containerEdits";
  auto index = static_cast<size_t>(device - spec->devices.data());
  return "devices[" + std::to_string(index) + "].containerEdits";
}

std::vector<EditSource> merge_order(const std::vector<std::pair<const Spec*, const Device*>>& devices) {
  std::vector<EditSource> out;
  std::set<const Spec*> seen;
  for (const auto& [spec, device] : devices) {
    if (seen.insert(spec).second && !spec->edits.empty()) out.push_back({spec, nullptr, device});
    out.push_back({spec, device});
  }
  return out;
}

size_t mount_depth(std::string_view destination) {
  std::string clean = clean_path(destination);
  return static_cast<size_t>(std::count(clean.begin(), clean.end(), '/'));
}

namespace {

std::string host_type_of(const FileStat& st) {
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

Result<ResolvedDeviceNode> resolve_device_node(const DeviceNode& node, Fs& fs) {
  ResolvedDeviceNode r;
  r.path = node.path;
  r.host_path = node.host_path.empty() ? node.path : node.host_path;
  r.type = node.type;
  r.major = node.major;
  r.minor = node.minor;
  r.file_mode = node.file_mode;
  r.uid = node.uid;
  r.gid = node.gid;
  bool complete = !node.type.empty() && (node.major != 0 || node.type == "p");

  auto st = fs.stat(r.host_path);
  if (!st.ok()) {
    if (!complete) {
      Error e = std::move(st).error();
      e.message = "host device: " + e.message;
      return e;
    }
  } else {
    std::string host_type = host_type_of(*st);
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
  r.access = node.permissions.empty() ? "rwm" : node.permissions == "none" ? "" : node.permissions;
  return r;
}

namespace {

using rapidjson::SizeType;

// Stats each host path once per injection: `all` plus each GPU names the same
// nodes again. Everything else goes straight to the real seam.
class StatOnce final : public ForwardingFs {
 public:
  explicit StatOnce(Fs& fs) : ForwardingFs(fs) {}
  Result<FileStat> stat(const std::string& path) override {
    auto it = cache_.find(path);
    if (it == cache_.end()) it = cache_.emplace(path, ForwardingFs::stat(path)).first;
    return it->second;
  }

 private:
  std::map<std::string, Result<FileStat>> cache_;
};

// Applies one category of edits across all sources; keeps the shared state.
class Applier {
 public:
  Applier(OciDocument& doc, Fs& fs, std::vector<AppliedEdit>* explain)
      : root_(doc.json()), a_(doc.allocator()), fs_(fs), explain_(explain) {}

  Status run(const std::vector<EditSource>& sources) {
    CDI_TRY(each(sources, &Applier::env));
    CDI_TRY(each(sources, &Applier::device_nodes));
    CDI_TRY(each(sources, &Applier::net_devices));
    CDI_TRY(each(sources, &Applier::mounts));
    if (mounts_added_) CDI_TRY(sort_mounts());
    CDI_TRY(each(sources, &Applier::hooks));
    CDI_TRY(each(sources, &Applier::intel_rdt));
    CDI_TRY(each(sources, &Applier::additional_gids));
    return {};
  }

 private:
  using Step = Status (Applier::*)(const EditSource&);

  Status each(const std::vector<EditSource>& sources, Step step) {
    for (const auto& s : sources) {
      if (auto st = (this->*step)(s); !st.ok()) {
        Error e = std::move(st).error();
        if (e.file.empty() && e.context.empty()) {  // config errors (context "OCI config") are not the spec's
          e.at_field(s.field());
          e.in_file(s.spec->path);
          if (s.device) {
            e.for_device(s.qualified_name());
          } else if (s.requested_by) {
            e.for_device(s.spec->kind + "=" + s.requested_by->name);
          }
        }
        return e;
      }
    }
    return {};
  }

  // The summary is only built when an explanation was asked for.
  template <class Summary>
  void note(const EditSource& s, const char* category, Summary&& summary) {
    if (!explain_) return;
    explain_->push_back({category, summary(), s.spec->path, s.qualified_name()});
  }

  // Errors about the config itself name config.json's field path.
  static Error config_error(Error e) {
    e.with_context("OCI config");
    return e;
  }

  Result<JsonValue*> process() {
    auto p = ensure_object(root_, "process", "", a_);
    if (!p.ok()) return config_error(std::move(p).error());
    return p;
  }
  Result<JsonValue*> linux_section() {
    auto l = ensure_object(root_, "linux", "", a_);
    if (!l.ok()) return config_error(std::move(l).error());
    return l;
  }

  static Status for_each_string(const JsonValue& array, std::string_view field) {
    for (const auto& v : array.GetArray()) {
      if (!v.IsString()) {
        Error e("expected strings, got " + json_type_name(v));
        e.field = std::string(field);
        return config_error(std::move(e));
      }
    }
    return {};
  }

  Status env(const EditSource& s) {
    const auto& list = s.edits().env;
    if (list.empty()) return {};
    auto proc = process();
    if (!proc.ok()) return std::move(proc).error();
    auto env = ensure_array(**proc, "env", "process", a_);
    if (!env.ok()) return config_error(std::move(env).error());
    JsonValue& arr = **env;
    CDI_TRY(for_each_string(arr, "process.env"));
    if (!env_index_built_) {
      for (SizeType i = 0; i < arr.Size(); ++i) {
        std::string_view kv = json_view(arr[i]);
        env_index_[std::string(kv.substr(0, kv.find('=')))] = i;
      }
      env_index_built_ = true;
    }
    for (const auto& kv : list) {
      std::string key = kv.substr(0, kv.find('='));
      auto it = env_index_.find(key);
      if (it != env_index_.end()) {
        arr[it->second] = json_string(kv, a_);
      } else {
        arr.PushBack(json_string(kv, a_), a_);
        env_index_[key] = arr.Size() - 1;
      }
      note(s, "env", [&] { return "set " + kv; });
    }
    return {};
  }

  std::optional<uint32_t> process_user_id(const char* which) {
    auto p = root_.FindMember("process");
    if (p == root_.MemberEnd() || !p->value.IsObject()) return std::nullopt;
    auto u = p->value.FindMember("user");
    if (u == p->value.MemberEnd() || !u->value.IsObject()) return std::nullopt;
    auto id = u->value.FindMember(which);
    if (id == u->value.MemberEnd() || !id->value.IsUint() || id->value.GetUint() == 0) return std::nullopt;
    return id->value.GetUint();
  }

  JsonValue device_json(const ResolvedDeviceNode& n) {
    JsonValue d(rapidjson::kObjectType);
    d.AddMember("path", json_string(n.path, a_), a_);
    d.AddMember("type", json_string(n.type, a_), a_);
    d.AddMember("major", JsonValue(static_cast<int64_t>(n.major)), a_);
    d.AddMember("minor", JsonValue(static_cast<int64_t>(n.minor)), a_);
    if (n.file_mode) d.AddMember("fileMode", JsonValue(*n.file_mode), a_);
    if (n.uid) d.AddMember("uid", JsonValue(*n.uid), a_);
    if (n.gid) d.AddMember("gid", JsonValue(*n.gid), a_);
    return d;
  }

  Status device_nodes(const EditSource& s) {
    const auto& nodes = s.edits().device_nodes;
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto resolved = resolve_device_node(nodes[i], fs_);
      if (!resolved.ok()) return std::move(resolved).error().at_field("deviceNodes[" + std::to_string(i) + "]");
      ResolvedDeviceNode& n = *resolved;
      if (!n.uid) n.uid = process_user_id("uid");
      if (!n.gid) n.gid = process_user_id("gid");
      auto lin = linux_section();
      if (!lin.ok()) return std::move(lin).error();
      auto devs = ensure_array(**lin, "devices", "linux", a_);
      if (!devs.ok()) return config_error(std::move(devs).error());
      JsonValue& arr = **devs;
      for (auto it = arr.Begin(); it != arr.End(); ++it) {
        if (!it->IsObject()) continue;
        auto p = it->FindMember("path");
        if (p != it->MemberEnd() && json_view(p->value) == n.path) {
          arr.Erase(it);
          break;
        }
      }
      arr.PushBack(device_json(n), a_);
      note(s, "deviceNode", [&] {
        return n.path + " (" + n.type + " " + std::to_string(n.major) + ":" + std::to_string(n.minor) + ") from " +
               n.host_path;
      });
      if (n.type == "b" || n.type == "c") CDI_TRY(cgroup_rule(s, **lin, n));
    }
    return {};
  }

  Status cgroup_rule(const EditSource& s, JsonValue& lin, const ResolvedDeviceNode& n) {
    auto res = ensure_object(lin, "resources", "linux", a_);
    if (!res.ok()) return config_error(std::move(res).error());
    auto rules = ensure_array(**res, "devices", "linux.resources", a_);
    if (!rules.ok()) return config_error(std::move(rules).error());
    JsonValue rule(rapidjson::kObjectType);
    rule.AddMember("allow", true, a_);
    rule.AddMember("type", json_string(n.type, a_), a_);
    rule.AddMember("major", JsonValue(static_cast<int64_t>(n.major)), a_);
    rule.AddMember("minor", JsonValue(static_cast<int64_t>(n.minor)), a_);
    if (!n.access.empty()) rule.AddMember("access", json_string(n.access, a_), a_);
    (*rules)->PushBack(rule, a_);
    note(s, "cgroupRule", [&] {
      return "allow " + n.type + " " + std::to_string(n.major) + ":" + std::to_string(n.minor) + " " +
             (n.access.empty() ? "(no access)" : n.access);
    });
    return {};
  }

  Status net_devices(const EditSource& s) {
    const auto& list = s.edits().net_devices;
    if (list.empty()) return {};
    auto lin = linux_section();
    if (!lin.ok()) return std::move(lin).error();
    auto nets = ensure_object(**lin, "netDevices", "linux", a_);
    if (!nets.ok()) return config_error(std::move(nets).error());
    for (const auto& d : list) {
      JsonValue v(rapidjson::kObjectType);
      v.AddMember("name", json_string(d.name, a_), a_);
      auto it = (*nets)->FindMember(rapidjson::StringRef(d.host_interface_name.c_str()));
      if (it != (*nets)->MemberEnd()) {
        it->value = v;
      } else {
        (*nets)->AddMember(json_string(d.host_interface_name, a_), v, a_);
      }
      note(s, "netDevice", [&] { return d.host_interface_name + " as " + d.name; });
    }
    return {};
  }

  Status mounts(const EditSource& s) {
    const auto& list = s.edits().mounts;
    if (list.empty()) return {};
    auto arr_r = ensure_array(root_, "mounts", "", a_);
    if (!arr_r.ok()) return config_error(std::move(arr_r).error());
    JsonValue& arr = **arr_r;
    if (!destinations_built_) {
      for (const auto& v : arr.GetArray()) {
        if (!v.IsObject()) continue;
        auto d = v.FindMember("destination");
        if (d != v.MemberEnd()) ++destinations_[std::string(json_view(d->value))];
      }
      destinations_built_ = true;
    }
    for (const auto& m : list) {
      auto known = destinations_.find(m.container_path);
      for (auto it = arr.Begin(); known != destinations_.end() && known->second > 0 && it != arr.End(); ++it) {
        if (!it->IsObject()) continue;
        auto d = it->FindMember("destination");
        if (d != it->MemberEnd() && json_view(d->value) == m.container_path) {
          arr.Erase(it);
          --known->second;
          break;
        }
      }
      ++destinations_[m.container_path];
      JsonValue v(rapidjson::kObjectType);
      v.AddMember("destination", json_string(m.container_path, a_), a_);
      if (!m.type.empty()) v.AddMember("type", json_string(m.type, a_), a_);
      v.AddMember("source", json_string(m.host_path, a_), a_);
      if (!m.options.empty()) {
        JsonValue opts(rapidjson::kArrayType);
        for (const auto& o : m.options) opts.PushBack(json_string(o, a_), a_);
        v.AddMember("options", opts, a_);
      }
      arr.PushBack(v, a_);
      mounts_added_ = true;
      note(s, "mount", [&] { return m.host_path + " on " + m.container_path; });
    }
    return {};
  }

  Status sort_mounts() {
    JsonValue& arr = root_["mounts"];
    std::vector<std::pair<size_t, JsonValue>> items;
    items.reserve(arr.Size());
    for (auto& v : arr.GetArray()) {
      size_t depth = 0;
      if (v.IsObject()) {
        auto d = v.FindMember("destination");
        if (d != v.MemberEnd()) depth = mount_depth(json_view(d->value));
      }
      items.emplace_back(depth, JsonValue());
      items.back().second.Swap(v);
    }
    std::stable_sort(items.begin(), items.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    SizeType i = 0;
    for (auto& item : items) arr[i++].Swap(item.second);
    return {};
  }

  Status hooks(const EditSource& s) {
    const auto& list = s.edits().hooks;
    if (list.empty()) return {};
    auto hooks_r = ensure_object(root_, "hooks", "", a_);
    if (!hooks_r.ok()) return config_error(std::move(hooks_r).error());
    for (size_t i = 0; i < list.size(); ++i) {
      const Hook& h = list[i];
      if (!is_valid_hook_name(h.hook_name)) {
        return Error("unknown hook name " + quote(h.hook_name)).at_field("hooks[" + std::to_string(i) + "].hookName");
      }
      auto stage = ensure_array(**hooks_r, h.hook_name, "hooks", a_);
      if (!stage.ok()) return config_error(std::move(stage).error());
      JsonValue v(rapidjson::kObjectType);
      v.AddMember("path", json_string(h.path, a_), a_);
      auto add_list = [&](const char* key, const std::vector<std::string>& items) {
        if (items.empty()) return;
        JsonValue arr(rapidjson::kArrayType);
        for (const auto& x : items) arr.PushBack(json_string(x, a_), a_);
        v.AddMember(rapidjson::StringRef(key), arr, a_);
      };
      add_list("args", h.args);
      add_list("env", h.env);
      if (h.timeout) v.AddMember("timeout", JsonValue(static_cast<int64_t>(*h.timeout)), a_);
      (*stage)->PushBack(v, a_);
      note(s, "hook", [&] { return h.hook_name + " " + h.path; });
    }
    return {};
  }

  Status intel_rdt(const EditSource& s) {
    const auto& rdt = s.edits().intel_rdt;
    if (!rdt) return {};
    auto lin = linux_section();
    if (!lin.ok()) return std::move(lin).error();
    JsonValue v(rapidjson::kObjectType);
    auto add = [&](const char* key, const std::string& value) {
      if (!value.empty()) v.AddMember(rapidjson::StringRef(key), json_string(value, a_), a_);
    };
    add("closID", rdt->clos_id);
    add("l3CacheSchema", rdt->l3_cache_schema);
    add("memBwSchema", rdt->mem_bw_schema);
    if (rdt->schemata && !rdt->schemata->empty()) {
      JsonValue arr(rapidjson::kArrayType);
      for (const auto& x : *rdt->schemata) arr.PushBack(json_string(x, a_), a_);
      v.AddMember("schemata", arr, a_);
    }
    if (rdt->enable_monitoring) v.AddMember("enableMonitoring", true, a_);
    auto found = find_member(**lin, "intelRdt", "linux");
    if (!found.ok()) return config_error(std::move(found).error());
    if (*found) {
      **found = v;
    } else {
      (*lin)->AddMember("intelRdt", v, a_);
    }
    note(s, "intelRdt", [&] { return "closID " + quote(rdt->clos_id); });
    return {};
  }

  Status additional_gids(const EditSource& s) {
    const auto& gids = s.edits().additional_gids;
    // GID 0 is never added: a list of zeros leaves the config as it is.
    if (std::all_of(gids.begin(), gids.end(), [](uint32_t g) { return g == 0; })) return {};
    auto proc = process();
    if (!proc.ok()) return std::move(proc).error();
    auto user = ensure_object(**proc, "user", "process", a_);
    if (!user.ok()) return config_error(std::move(user).error());
    auto arr_r = ensure_array(**user, "additionalGids", "process.user", a_);
    if (!arr_r.ok()) return config_error(std::move(arr_r).error());
    JsonValue& arr = **arr_r;
    for (uint32_t gid : gids) {
      if (gid == 0) continue;
      bool present = false;
      for (const auto& v : arr.GetArray()) present = present || (v.IsUint() && v.GetUint() == gid);
      if (present) continue;
      arr.PushBack(JsonValue(gid), a_);
      note(s, "additionalGid", [&] { return std::to_string(gid); });
    }
    return {};
  }

  rapidjson::Document& root_;
  JsonAllocator& a_;
  StatOnce fs_;
  std::vector<AppliedEdit>* explain_;
  std::map<std::string, SizeType> env_index_;
  bool env_index_built_ = false;
  bool mounts_added_ = false;
  std::map<std::string, size_t> destinations_;  // mount destination -> how many mounts have it
  bool destinations_built_ = false;
};

}  // namespace

Status apply_edits(OciDocument& config, const std::vector<EditSource>& sources, Fs& fs,
                   std::vector<AppliedEdit>* explain) {
  Applier applier(config, fs, explain);
  return applier.run(sources);
}

}  // namespace cdi
