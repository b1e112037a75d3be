#include "spec/codec/spec_writer.h"

namespace cdi::codec {

namespace {

using Value = rapidjson::Value;
using Alloc = rapidjson::Document::AllocatorType;

Value str(const std::string& s, Alloc& a) { return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a); }

void add_str(Value& obj, const char* key, const std::string& s, Alloc& a) {
  if (!s.empty()) obj.AddMember(rapidjson::StringRef(key), str(s, a), a);
}

void add_list(Value& obj, const char* key, const std::vector<std::string>& items, Alloc& a) {
  if (items.empty()) return;
  Value arr(rapidjson::kArrayType);
  for (const auto& i : items) arr.PushBack(str(i, a), a);
  obj.AddMember(rapidjson::StringRef(key), arr, a);
}

Value annotations(const AnnotationList& list, Alloc& a) {
  Value obj(rapidjson::kObjectType);
  for (const auto& [k, v] : list) obj.AddMember(str(k, a), str(v, a), a);
  return obj;
}

Value device_node(const DeviceNode& n, Alloc& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("path", str(n.path, a), a);
  add_str(v, "hostPath", n.host_path, a);
  add_str(v, "type", n.type, a);
  if (n.major) v.AddMember("major", Value(static_cast<int64_t>(n.major)), a);
  if (n.minor) v.AddMember("minor", Value(static_cast<int64_t>(n.minor)), a);
  if (n.file_mode) v.AddMember("fileMode", Value(*n.file_mode), a);
  add_str(v, "permissions", n.permissions, a);
  if (n.uid) v.AddMember("uid", Value(*n.uid), a);
  if (n.gid) v.AddMember("gid", Value(*n.gid), a);
  return v;
}

Value hook(const Hook& h, Alloc& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("hookName", str(h.hook_name, a), a);
  v.AddMember("path", str(h.path, a), a);
  add_list(v, "args", h.args, a);
  add_list(v, "env", h.env, a);
  if (h.timeout) v.AddMember("timeout", Value(static_cast<int64_t>(*h.timeout)), a);
  return v;
}

Value mount(const Mount& m, Alloc& a) {
  Value v(rapidjson::kObjectType);
  v.AddMember("hostPath", str(m.host_path, a), a);
  v.AddMember("containerPath", str(m.container_path, a), a);
  add_list(v, "options", m.options, a);
  add_str(v, "type", m.type, a);
  return v;
}

Value intel_rdt(const IntelRdt& r, Alloc& a) {
  Value v(rapidjson::kObjectType);
  add_str(v, "closID", r.clos_id, a);
  add_str(v, "l3CacheSchema", r.l3_cache_schema, a);
  add_str(v, "memBwSchema", r.mem_bw_schema, a);
  if (r.schemata) {
    Value arr(rapidjson::kArrayType);
    for (const auto& s : *r.schemata) arr.PushBack(str(s, a), a);
    v.AddMember("schemata", arr, a);
  }
  if (r.enable_monitoring) v.AddMember("enableMonitoring", true, a);
  return v;
}

template <class T, class F>
void add_objects(Value& obj, const char* key, const std::vector<T>& items, F&& to_json, Alloc& a) {
  if (items.empty()) return;
  Value arr(rapidjson::kArrayType);
  for (const auto& i : items) arr.PushBack(to_json(i, a), a);
  obj.AddMember(rapidjson::StringRef(key), arr, a);
}

}  // namespace

Value edits_to_json(const ContainerEdits& e, Alloc& a) {
  Value v(rapidjson::kObjectType);
  add_list(v, "env", e.env, a);
  add_objects(v, "deviceNodes", e.device_nodes, device_node, a);
  add_objects(v, "hooks", e.hooks, hook, a);
  add_objects(v, "mounts", e.mounts, mount, a);
  if (e.intel_rdt) v.AddMember("intelRdt", intel_rdt(*e.intel_rdt, a), a);
  if (!e.additional_gids.empty()) {
    Value arr(rapidjson::kArrayType);
    for (uint32_t g : e.additional_gids) arr.PushBack(Value(g), a);
    v.AddMember("additionalGids", arr, a);
  }
  add_objects(
      v, "netDevices", e.net_devices,
      [](const NetDevice& d, Alloc& al) {
        Value n(rapidjson::kObjectType);
        n.AddMember("hostInterfaceName", str(d.host_interface_name, al), al);
        n.AddMember("name", str(d.name, al), al);
        return n;
      },
      a);
  return v;
}

rapidjson::Document spec_to_json(const Spec& spec) {
  rapidjson::Document d(rapidjson::kObjectType);
  Alloc& a = d.GetAllocator();
  d.AddMember("cdiVersion", str(spec.version, a), a);
  d.AddMember("kind", str(spec.kind, a), a);
  if (!spec.annotations.empty()) d.AddMember("annotations", annotations(spec.annotations, a), a);
  Value devices(rapidjson::kArrayType);
  for (const auto& dev : spec.devices) {
    Value v(rapidjson::kObjectType);
    v.AddMember("name", str(dev.name, a), a);
    if (!dev.annotations.empty()) v.AddMember("annotations", annotations(dev.annotations, a), a);
    v.AddMember("containerEdits", edits_to_json(dev.edits, a), a);
    devices.PushBack(v, a);
  }
  d.AddMember("devices", devices, a);
  if (!spec.edits.empty()) d.AddMember("containerEdits", edits_to_json(spec.edits, a), a);
  return d;
}

}  // namespace cdi::codec
