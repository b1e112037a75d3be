#include "edits/oci_sink.h"

#include <utility>
#include <vector>

namespace cdi {

using rapidjson::SizeType;

// ---- the view ---------------------------------------------------------------------

namespace {

const JsonValue* member(const JsonValue& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

std::vector<std::string> strings_of(const JsonValue* array) {
  std::vector<std::string> out;
  if (!array || !array->IsArray()) return out;
  for (const auto& v : array->GetArray()) {
    if (v.IsString()) out.emplace_back(json_view(v));
  }
  return out;
}

std::optional<uint32_t> uint_of(const JsonValue* v) {
  if (!v || !v->IsUint()) return std::nullopt;
  return v->GetUint();
}

std::optional<int64_t> int_of(const JsonValue* v) {
  if (!v || !v->IsInt64()) return std::nullopt;
  return v->GetInt64();
}

void read_user(const JsonValue& root, ContainerView& view) {
  const JsonValue* process = member(root, "process");
  const JsonValue* user = process ? member(*process, "user") : nullptr;
  if (!user) return;
  view.uid = uint_of(member(*user, "uid"));
  view.gid = uint_of(member(*user, "gid"));
  const JsonValue* gids = member(*user, "additionalGids");
  if (!gids || !gids->IsArray()) return;
  for (const auto& g : gids->GetArray()) {
    if (g.IsUint()) view.additional_gids.push_back(g.GetUint());
  }
}

std::string string_of(const JsonValue* v) { return v ? std::string(json_view(*v)) : std::string(); }

// The view keeps its own copy: it may outlive the document, or see it change
// (RapidJSON keeps short strings inside values, which move when an array changes).
std::string_view kept_text(ContainerView& view, const JsonValue* v) { return v ? view.keep(json_view(*v)) : ""; }

void read_device_nodes(const JsonValue& lin, ContainerView& view) {
  const JsonValue* nodes = member(lin, "devices");
  if (!nodes || !nodes->IsArray()) return;
  for (const auto& d : nodes->GetArray()) {
    if (!d.IsObject()) continue;
    ResolvedDeviceNode n;
    n.path = kept_text(view, member(d, "path"));
    n.type = kept_text(view, member(d, "type"));
    n.major = int_of(member(d, "major")).value_or(-1);
    n.minor = int_of(member(d, "minor")).value_or(-1);
    n.file_mode = uint_of(member(d, "fileMode"));
    n.uid = uint_of(member(d, "uid"));
    n.gid = uint_of(member(d, "gid"));
    view.device_nodes.push_back(std::move(n));
  }
}

void read_mounts(const JsonValue& root, ContainerView& view) {
  const JsonValue* mounts = member(root, "mounts");
  if (!mounts || !mounts->IsArray()) return;
  for (const auto& m : mounts->GetArray()) {
    if (!m.IsObject()) continue;
    Mount mount;
    mount.container_path = string_of(member(m, "destination"));
    mount.host_path = string_of(member(m, "source"));
    mount.type = string_of(member(m, "type"));
    mount.options = strings_of(member(m, "options"));
    view.mounts.push_back(std::move(mount));
  }
}

void read_linux(const JsonValue& root, ContainerView& view) {
  const JsonValue* lin = member(root, "linux");
  if (!lin) return;
  read_device_nodes(*lin, view);
  const JsonValue* res = member(*lin, "resources");
  const JsonValue* rules = res ? member(*res, "devices") : nullptr;
  if (!rules || !rules->IsArray()) return;
  for (const auto& r : rules->GetArray()) {
    DeviceCgroupRule rule;
    const JsonValue* allow = member(r, "allow");
    rule.allow = allow && allow->IsBool() && allow->GetBool();  // anything else counts as a deny
    rule.type = kept_text(view, member(r, "type"));
    rule.major = int_of(member(r, "major"));
    rule.minor = int_of(member(r, "minor"));
    rule.access = kept_text(view, member(r, "access"));
    view.cgroup_rules.push_back(std::move(rule));
  }
}

void read_hooks(const JsonValue& root, ContainerView& view) {
  const JsonValue* hooks = member(root, "hooks");
  if (!hooks || !hooks->IsObject()) return;
  for (const auto& stage : hooks->GetObject()) {
    if (!stage.value.IsArray()) continue;
    auto& list = view.hooks[std::string(json_view(stage.name))];
    for (const auto& h : stage.value.GetArray()) {
      const JsonValue* path = member(h, "path");
      if (!path || !path->IsString()) continue;
      Hook hook;
      hook.path = json_view(*path);
      hook.args = strings_of(member(h, "args"));
      hook.env = strings_of(member(h, "env"));
      hook.timeout = int_of(member(h, "timeout"));
      list.push_back(std::move(hook));
    }
  }
}

}  // namespace

ContainerView oci_container_view(const OciDocument& config) {
  ContainerView view;
  const JsonValue& root = config.json();
  read_user(root, view);
  read_linux(root, view);
  read_mounts(root, view);
  read_hooks(root, view);
  return view;
}

// ---- the sink ---------------------------------------------------------------------

namespace {

// Errors about the config itself name config.json's field path.
Error config_error(Error e) {
  e.with_context("OCI config");
  return e;
}

template <class T>
Result<T> in_config(Result<T> r) {
  if (!r.ok()) return config_error(std::move(r).error());
  return r;
}

JsonValue string_array(const std::vector<std::string>& items, JsonAllocator& a) {
  JsonValue arr(rapidjson::kArrayType);
  for (const auto& x : items) arr.PushBack(json_string(x, a), a);
  return arr;
}

bool has_destination(const JsonValue& mount, std::string_view destination) {
  if (!mount.IsObject()) return false;
  auto d = mount.FindMember("destination");
  return d != mount.MemberEnd() && json_view(d->value) == destination;
}

}  // namespace

OciSink::OciSink(OciDocument& config) : root_(config.json()), a_(config.allocator()) {}

Result<JsonValue*> OciSink::process() { return in_config(ensure_object(root_, "process", "", a_)); }

Result<JsonValue*> OciSink::linux_section() { return in_config(ensure_object(root_, "linux", "", a_)); }

Status OciSink::set_env(const PlannedEnv& env) {
  auto proc = process();
  if (!proc.ok()) return std::move(proc).error();
  auto env_r = in_config(ensure_array(**proc, "env", "process", a_));
  if (!env_r.ok()) return std::move(env_r).error();
  JsonValue& arr = **env_r;
  if (!env_checked_) {
    for (SizeType i = 0; i < arr.Size(); ++i) {
      if (!arr[i].IsString()) {
        Error e("expected strings, got " + json_type_name(arr[i]));
        e.field = "process.env";
        return config_error(std::move(e));
      }
      std::string_view kv = json_view(arr[i]);
      env_index_[std::string(kv.substr(0, kv.find('=')))] = i;
    }
    env_checked_ = true;
  }
  auto it = env_index_.find(env.key());
  if (it != env_index_.end()) {
    arr[it->second] = json_string(env.entry, a_);
  } else {
    arr.PushBack(json_string(env.entry, a_), a_);
    env_index_.emplace(std::string(env.key()), arr.Size() - 1);
  }
  return {};
}

Status OciSink::add_device_node(const PlannedDeviceNode& planned) {
  const ResolvedDeviceNode& n = planned.node;
  auto lin = linux_section();
  if (!lin.ok()) return std::move(lin).error();
  auto devs = in_config(ensure_array(**lin, "devices", "linux", a_));
  if (!devs.ok()) return std::move(devs).error();
  JsonValue& arr = **devs;
  for (auto it = arr.Begin(); it != arr.End(); ++it) {
    if (!it->IsObject()) continue;
    auto p = it->FindMember("path");
    if (p != it->MemberEnd() && json_view(p->value) == n.path) {
      arr.Erase(it);
      break;
    }
  }
  JsonValue d(rapidjson::kObjectType);
  d.AddMember("path", json_string(n.path, a_), a_);
  d.AddMember("type", json_string(n.type, a_), a_);
  d.AddMember("major", JsonValue(static_cast<int64_t>(n.major)), a_);
  d.AddMember("minor", JsonValue(static_cast<int64_t>(n.minor)), a_);
  if (n.file_mode) d.AddMember("fileMode", JsonValue(*n.file_mode), a_);
  if (n.uid) d.AddMember("uid", JsonValue(*n.uid), a_);
  if (n.gid) d.AddMember("gid", JsonValue(*n.gid), a_);
  arr.PushBack(d, a_);
  return {};
}

Status OciSink::add_cgroup_rule(const PlannedCgroupRule& planned) {
  const DeviceCgroupRule& r = planned.rule;
  auto lin = linux_section();
  if (!lin.ok()) return std::move(lin).error();
  auto res = in_config(ensure_object(**lin, "resources", "linux", a_));
  if (!res.ok()) return std::move(res).error();
  auto rules = in_config(ensure_array(**res, "devices", "linux.resources", a_));
  if (!rules.ok()) return std::move(rules).error();
  JsonValue rule(rapidjson::kObjectType);
  rule.AddMember("allow", r.allow, a_);
  rule.AddMember("type", json_string(r.type, a_), a_);
  if (r.major) rule.AddMember("major", JsonValue(static_cast<int64_t>(*r.major)), a_);
  if (r.minor) rule.AddMember("minor", JsonValue(static_cast<int64_t>(*r.minor)), a_);
  if (!r.access.empty()) rule.AddMember("access", json_string(r.access, a_), a_);
  (*rules)->PushBack(rule, a_);
  return {};
}

Status OciSink::add_net_device(const PlannedNetDevice& planned) {
  const NetDevice& d = *planned.device;
  auto lin = linux_section();
  if (!lin.ok()) return std::move(lin).error();
  auto nets = in_config(ensure_object(**lin, "netDevices", "linux", a_));
  if (!nets.ok()) return std::move(nets).error();
  JsonValue v(rapidjson::kObjectType);
  v.AddMember("name", json_string(d.name, a_), a_);
  auto it = (*nets)->FindMember(rapidjson::StringRef(d.host_interface_name.c_str()));
  if (it != (*nets)->MemberEnd()) {
    it->value = v;
  } else {
    (*nets)->AddMember(json_string(d.host_interface_name, a_), v, a_);
  }
  return {};
}

Status OciSink::add_mount(const PlannedMount& planned) {
  const Mount& m = *planned.mount;
  auto arr_r = in_config(ensure_array(root_, "mounts", "", a_));
  if (!arr_r.ok()) return std::move(arr_r).error();
  JsonValue& arr = **arr_r;
  if (!destinations_counted_) {
    for (const auto& v : arr.GetArray()) {
      if (!v.IsObject()) continue;
      auto d = v.FindMember("destination");
      if (d != v.MemberEnd()) ++destinations_[std::string(json_view(d->value))];
    }
    destinations_counted_ = true;
  }
  auto known = destinations_.find(m.container_path);
  if (known != destinations_.end() && known->second > 0) {
    for (auto it = arr.Begin(); it != arr.End(); ++it) {
      if (has_destination(*it, m.container_path)) {
        arr.Erase(it);
        --known->second;
        break;
      }
    }
  }
  ++destinations_[m.container_path];
  JsonValue v(rapidjson::kObjectType);
  v.AddMember("destination", json_string(m.container_path, a_), a_);
  if (!m.type.empty()) v.AddMember("type", json_string(m.type, a_), a_);
  v.AddMember("source", json_string(m.host_path, a_), a_);
  if (!m.options.empty()) v.AddMember("options", string_array(m.options, a_), a_);
  arr.PushBack(v, a_);
  return {};
}

Status OciSink::order_mounts() {
  auto found = in_config(find_member(root_, "mounts", ""));
  if (!found.ok()) return std::move(found).error();
  if (!*found || !(*found)->IsArray()) return {};
  JsonValue& arr = **found;
  std::vector<std::string_view> destinations;
  destinations.reserve(arr.Size());
  for (const auto& v : arr.GetArray()) {
    std::string_view d;
    if (v.IsObject()) {
      auto it = v.FindMember("destination");
      if (it != v.MemberEnd()) d = json_view(it->value);
    }
    destinations.push_back(d);
  }
  std::vector<size_t> order = mount_order(destinations);
  std::vector<JsonValue> items(arr.Size());
  for (SizeType i = 0; i < arr.Size(); ++i) items[i].Swap(arr[i]);
  for (SizeType i = 0; i < arr.Size(); ++i) arr[i].Swap(items[order[i]]);
  return {};
}

Status OciSink::add_hook(const PlannedHook& planned) {
  const Hook& h = *planned.hook;
  auto hooks = in_config(ensure_object(root_, "hooks", "", a_));
  if (!hooks.ok()) return std::move(hooks).error();
  auto stage = in_config(ensure_array(**hooks, h.hook_name, "hooks", a_));
  if (!stage.ok()) return std::move(stage).error();
  JsonValue v(rapidjson::kObjectType);
  v.AddMember("path", json_string(h.path, a_), a_);
  if (!h.args.empty()) v.AddMember("args", string_array(h.args, a_), a_);
  if (!h.env.empty()) v.AddMember("env", string_array(h.env, a_), a_);
  if (h.timeout) v.AddMember("timeout", JsonValue(static_cast<int64_t>(*h.timeout)), a_);
  (*stage)->PushBack(v, a_);
  return {};
}

Status OciSink::set_intel_rdt(const PlannedIntelRdt& planned) {
  const IntelRdt& rdt = *planned.rdt;
  auto lin = linux_section();
  if (!lin.ok()) return std::move(lin).error();
  JsonValue v(rapidjson::kObjectType);
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty()) v.AddMember(rapidjson::StringRef(key), json_string(value, a_), a_);
  };
  add("closID", rdt.clos_id);
  add("l3CacheSchema", rdt.l3_cache_schema);
  add("memBwSchema", rdt.mem_bw_schema);
  if (rdt.schemata && !rdt.schemata->empty()) v.AddMember("schemata", string_array(*rdt.schemata, a_), a_);
  if (rdt.enable_monitoring) v.AddMember("enableMonitoring", true, a_);
  auto found = in_config(find_member(**lin, "intelRdt", "linux"));
  if (!found.ok()) return std::move(found).error();
  if (*found) {
    **found = v;
  } else {
    (*lin)->AddMember("intelRdt", v, a_);
  }
  return {};
}

Status OciSink::add_additional_gid(const PlannedGid& planned) {
  auto proc = process();
  if (!proc.ok()) return std::move(proc).error();
  auto user = in_config(ensure_object(**proc, "user", "process", a_));
  if (!user.ok()) return std::move(user).error();
  auto gids = in_config(ensure_array(**user, "additionalGids", "process.user", a_));
  if (!gids.ok()) return std::move(gids).error();
  (*gids)->PushBack(JsonValue(planned.gid), a_);
  return {};
}

}  // namespace cdi
