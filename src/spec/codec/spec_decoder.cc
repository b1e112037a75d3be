#include "spec/codec/spec_decoder.h"

#include <span>

#include "spec/codec/tape_reader.h"

namespace cdi::codec {

namespace {

std::string spec_unknown_key(std::string_view key, std::string message) {
  if (key == "<<") return "YAML merge keys (<<) are not supported";
  if (key == "enableCMT" || key == "enableMBM") message += " (removed in CDI v1.1.0)";
  return message;
}

constexpr Dialect kSpecDialect{"a mapping", "a sequence", true, true, spec_unknown_key};

// ---- typed fields -------------------------------------------------------

Status i64(TapeReader& r, int64_t& out) {
  Integer v;
  bool present = false;
  CDI_TRY(r.integer(kInt64Range, v, present));
  out = present ? v.as_int64() : 0;
  return {};
}

Status opt_i64(TapeReader& r, std::optional<int64_t>& out) {
  Integer v;
  bool present = false;
  CDI_TRY(r.integer(kInt64Range, v, present));
  out = present ? std::optional<int64_t>(v.as_int64()) : std::nullopt;
  return {};
}

Status opt_u32(TapeReader& r, std::optional<uint32_t>& out) {
  Integer v;
  bool present = false;
  CDI_TRY(r.integer(kUint32Range, v, present));
  out = present ? std::optional<uint32_t>(static_cast<uint32_t>(v.magnitude)) : std::nullopt;
  return {};
}

// A sequence of objects, each decoded by `item`; the vector sized once.
template <class T>
Status list(TapeReader& r, std::vector<T>& out, Status (*item)(TapeReader&, T&)) {
  out.reserve(out.size() + r.sequence_length());
  return r.sequence([&] { return item(r, out.emplace_back()); });
}

// ---- the CDI schema -----------------------------------------------------

constexpr Field<DeviceNode> kDeviceNodeFields[] = {
    {"path", [](TapeReader& r, DeviceNode& n) { return r.string(n.path); }},
    {"hostPath", [](TapeReader& r, DeviceNode& n) { return r.string(n.host_path); }},
    {"type", [](TapeReader& r, DeviceNode& n) { return r.string(n.type); }},
    {"major", [](TapeReader& r, DeviceNode& n) { return i64(r, n.major); }},
    {"minor", [](TapeReader& r, DeviceNode& n) { return i64(r, n.minor); }},
    {"fileMode", [](TapeReader& r, DeviceNode& n) { return opt_u32(r, n.file_mode); }},
    {"permissions", [](TapeReader& r, DeviceNode& n) { return r.string(n.permissions); }},
    {"uid", [](TapeReader& r, DeviceNode& n) { return opt_u32(r, n.uid); }},
    {"gid", [](TapeReader& r, DeviceNode& n) { return opt_u32(r, n.gid); }},
};
Status device_node(TapeReader& r, DeviceNode& n) { return r.object(kDeviceNodeFields, n); }

constexpr Field<Mount> kMountFields[] = {
    {"hostPath", [](TapeReader& r, Mount& m) { return r.string(m.host_path); }},
    {"containerPath", [](TapeReader& r, Mount& m) { return r.string(m.container_path); }},
    {"options", [](TapeReader& r, Mount& m) { return r.strings(m.options); }},
    {"type", [](TapeReader& r, Mount& m) { return r.string(m.type); }},
};
Status mount(TapeReader& r, Mount& m) { return r.object(kMountFields, m); }

constexpr Field<Hook> kHookFields[] = {
    {"hookName", [](TapeReader& r, Hook& h) { return r.string(h.hook_name); }},
    {"path", [](TapeReader& r, Hook& h) { return r.string(h.path); }},
    {"args", [](TapeReader& r, Hook& h) { return r.strings(h.args); }},
    {"env", [](TapeReader& r, Hook& h) { return r.strings(h.env); }},
    {"timeout", [](TapeReader& r, Hook& h) { return opt_i64(r, h.timeout); }},
};
Status hook(TapeReader& r, Hook& h) { return r.object(kHookFields, h); }

constexpr Field<IntelRdt> kIntelRdtFields[] = {
    {"closID", [](TapeReader& r, IntelRdt& d) { return r.string(d.clos_id); }},
    {"l3CacheSchema", [](TapeReader& r, IntelRdt& d) { return r.string(d.l3_cache_schema); }},
    {"memBwSchema", [](TapeReader& r, IntelRdt& d) { return r.string(d.mem_bw_schema); }},
    {"schemata",
     [](TapeReader& r, IntelRdt& d) -> Status {
       if (!r.is_null(r.peek())) return r.strings(d.schemata.emplace());
       r.take();
       d.schemata.reset();
       return {};
     }},
    {"enableMonitoring", [](TapeReader& r, IntelRdt& d) { return r.boolean(d.enable_monitoring); }},
};
Status intel_rdt(TapeReader& r, std::optional<IntelRdt>& out) {
  if (r.is_null(r.peek())) {
    r.take();
    out.reset();
    return {};
  }
  return r.object(kIntelRdtFields, out.emplace());
}

constexpr Field<NetDevice> kNetDeviceFields[] = {
    {"hostInterfaceName", [](TapeReader& r, NetDevice& d) { return r.string(d.host_interface_name); }},
    {"name", [](TapeReader& r, NetDevice& d) { return r.string(d.name); }},
};
Status net_device(TapeReader& r, NetDevice& d) { return r.object(kNetDeviceFields, d); }

Status gids(TapeReader& r, std::vector<uint32_t>& out) {
  out.clear();
  out.reserve(r.sequence_length());
  return r.sequence([&]() -> Status {
    std::optional<uint32_t> gid;
    CDI_TRY(opt_u32(r, gid));
    out.push_back(gid.value_or(0));
    return {};
  });
}

constexpr Field<ContainerEdits> kEditsFields[] = {
    {"env", [](TapeReader& r, ContainerEdits& e) { return r.strings(e.env); }},
    {"deviceNodes", [](TapeReader& r, ContainerEdits& e) { return list(r, e.device_nodes, device_node); }},
    {"hooks", [](TapeReader& r, ContainerEdits& e) { return list(r, e.hooks, hook); }},
    {"mounts", [](TapeReader& r, ContainerEdits& e) { return list(r, e.mounts, mount); }},
    {"intelRdt", [](TapeReader& r, ContainerEdits& e) { return intel_rdt(r, e.intel_rdt); }},
    {"additionalGids", [](TapeReader& r, ContainerEdits& e) { return gids(r, e.additional_gids); }},
    {"netDevices", [](TapeReader& r, ContainerEdits& e) { return list(r, e.net_devices, net_device); }},
};
Status edits(TapeReader& r, ContainerEdits& e) { return r.object(kEditsFields, e); }

constexpr Field<Device> kDeviceFields[] = {
    {"name", [](TapeReader& r, Device& d) { return r.string(d.name); }},
    {"annotations", [](TapeReader& r, Device& d) { return r.string_map(d.annotations); }},
    {"containerEdits", [](TapeReader& r, Device& d) { return edits(r, d.edits); }},
};
Status device(TapeReader& r, Device& d) {
  const Event& start = r.peek();
  CDI_TRY(r.object(kDeviceFields, d));
  if (r.is_null(start)) return r.fail(start, "expected a device mapping, got null");
  if (d.name.empty()) return r.fail(start, "missing required field \"name\"");
  return {};
}

enum SpecField : size_t { kVersionField, kKindField, kAnnotationsField, kDevicesField, kEditsField };
constexpr Field<Spec> kSpecFields[] = {
    {"cdiVersion", [](TapeReader& r, Spec& s) { return r.string(s.version); }},
    {"kind", [](TapeReader& r, Spec& s) { return r.string(s.kind); }},
    {"annotations", [](TapeReader& r, Spec& s) { return r.string_map(s.annotations); }},
    {"devices", [](TapeReader& r, Spec& s) { return list(r, s.devices, device); }},
    {"containerEdits", [](TapeReader& r, Spec& s) { return edits(r, s.edits); }},
};

Status spec_root(TapeReader& r, Spec& spec) {
  const Event& start = r.peek();
  FieldSet seen = 0;
  CDI_TRY(r.object(kSpecFields, spec, &seen));
  for (size_t required : {kVersionField, kKindField, kDevicesField}) {
    if (has_field(seen, required)) continue;
    std::string_view name = kSpecFields[required].key;
    Error e = r.fail(start, "missing required field " + quote(name));
    e.field = name;
    CDI_TRY(r.recover(std::move(e)));
  }
  return {};
}

Status decode(const Tape& tape, Spec& spec, const ReaderOptions& options) {
  TapeReader r(tape, kSpecDialect, options);
  const auto& events = tape.events;
  if (events.empty() || (events.size() == 1 && r.is_null(events[0]))) {
    return Error("the file holds no spec (it is empty or null)");
  }
  if (events[0].type != EventType::map_start) {
    return r.fail(events[0], "a spec must be a mapping, got " + r.describe(events[0]));
  }
  return spec_root(r, spec);
}

}  // namespace

Result<Spec> decode_spec(const Tape& tape, const DecodeOptions& options) {
  Spec spec;
  ReaderOptions reader;
  reader.collect = options.collect;
  reader.positions = options.record_positions ? &spec.positions : nullptr;
  reader.warnings = options.warnings;
  CDI_TRY(decode(tape, spec, reader));
  return spec;
}

std::map<std::string, SourcePos> locate_fields(const Tape& tape, const std::set<std::string>& fields) {
  std::map<std::string, SourcePos> positions;
  if (fields.empty()) return positions;
  Spec spec;
  std::vector<Error> ignored;
  ReaderOptions reader;
  reader.collect = &ignored;
  reader.positions = &positions;
  reader.only = &fields;
  (void)decode(tape, spec, reader);
  return positions;
}

void locate_errors(const Tape& tape, std::vector<Error>& errors) {
  std::set<std::string> fields;
  for (const auto& e : errors) {
    if (e.line == 0 && !e.field.empty()) fields.insert(e.field);
  }
  auto positions = locate_fields(tape, fields);
  for (auto& e : errors) {
    if (e.line != 0) continue;
    auto it = positions.find(e.field);
    if (it != positions.end()) e.at(it->second.line, it->second.column);
  }
}

}  // namespace cdi::codec
