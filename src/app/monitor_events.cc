#include "app/monitor_events.h"

#include <algorithm>
#include <set>

namespace cdi {

namespace {

using Type = MonitorEvent::Type;

bool contains(const std::vector<std::string>& list, const std::string& s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

MonitorEvent spec_event(Type type, const std::string& path, const MonitorState::File* file) {
  MonitorEvent e;
  e.type = type;
  e.subject = path;
  if (file) {
    e.kind = file->kind;
    e.devices = file->devices;
    if (type == Type::spec_invalid) e.errors = file->errors;
  }
  return e;
}

MonitorEvent device_event(Type type, const std::string& name, const MonitorState::Name& state) {
  MonitorEvent e;
  e.type = type;
  e.subject = name;
  e.spec = state.spec;
  if (type == Type::device_conflict) e.others = state.others;
  if (type == Type::device_shadowed) e.others = state.shadowed;
  return e;
}

template <class Map>
const typename Map::mapped_type* find(const Map& map, const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

// A name that is still defined but stands otherwise: conflicting now, shadowing
// a file it did not shadow before, or usable again (or from another file).
MonitorEvent changed_device(const std::string& name, const MonitorState::Name* was, const MonitorState::Name& now) {
  if (now.status == DefinitionStatus::conflict) return device_event(Type::device_conflict, name, now);
  bool shadows_more = false;
  for (const auto& f : now.shadowed) shadows_more = shadows_more || !was || !contains(was->shadowed, f);
  if (shadows_more) return device_event(Type::device_shadowed, name, now);
  return device_event(Type::device_ok, name, now);
}

}  // namespace

std::string_view event_name(MonitorEvent::Type type) {
  switch (type) {
    case Type::spec_added:
      return "spec-added";
    case Type::spec_changed:
      return "spec-changed";
    case Type::spec_removed:
      return "spec-removed";
    case Type::spec_invalid:
      return "spec-invalid";
    case Type::device_appeared:
      return "device-appeared";
    case Type::device_disappeared:
      return "device-disappeared";
    case Type::device_shadowed:
      return "device-shadowed";
    case Type::device_conflict:
      return "device-conflict";
    case Type::device_ok:
      return "device-ok";
  }
  return "unknown";
}

MonitorState monitor_state(const Registry& registry) {
  MonitorState s;
  for (const auto& f : registry.files()) {
    MonitorState::File& file = s.files[f.path];
    file.kind = f.kind;
    file.usable = f.status == SpecFileState::Status::valid || f.status == SpecFileState::Status::unread;
  }
  for (const auto& spec : registry.specs()) {
    MonitorState::File& file = s.files[spec->path];
    file.kind = spec->kind;
    file.devices = spec->devices.size();
  }
  for (const auto& p : registry.problems()) {
    if (p.is_dir) continue;
    MonitorState::File& file = s.files[p.path];
    if (file.kind.empty()) file.kind = p.kind;
    file.usable = false;
    file.errors.insert(file.errors.end(), p.errors.begin(), p.errors.end());
  }
  for (const auto& [name, definitions] : registry.definitions()) {
    const DefinitionEntry& top = definitions.front();
    MonitorState::Name& n = s.names[name];
    n.status = top.status;
    n.spec = top.spec->path;
    n.others = top.others;
    for (const auto& d : definitions) {
      if (d.status == DefinitionStatus::shadowed && !contains(n.shadowed, d.spec->path))
        n.shadowed.push_back(d.spec->path);
    }
  }
  return s;
}

std::vector<MonitorEvent> describe_changes(const SpecChanges& changes, const MonitorState& before,
                                           const MonitorState& after) {
  std::vector<MonitorEvent> out;
  for (const auto& p : changes.files_removed) out.push_back(spec_event(Type::spec_removed, p, find(before.files, p)));
  for (const auto& p : changes.files_added) {
    const MonitorState::File* now = find(after.files, p);
    out.push_back(spec_event(now && !now->usable ? Type::spec_invalid : Type::spec_added, p, now));
  }
  for (const auto& p : changes.files_changed) {
    const MonitorState::File* now = find(after.files, p);
    out.push_back(spec_event(now && !now->usable ? Type::spec_invalid : Type::spec_changed, p, now));
  }
  for (const auto& name : changes.devices_removed) {
    const MonitorState::Name* was = find(before.names, name);
    out.push_back(device_event(Type::device_disappeared, name, was ? *was : MonitorState::Name{}));
  }
  for (const auto& name : changes.devices_added) {
    const MonitorState::Name* now = find(after.names, name);
    if (!now) continue;
    out.push_back(device_event(
        now->status == DefinitionStatus::conflict ? Type::device_conflict : Type::device_appeared, name, *now));
  }
  for (const auto& name : changes.devices_changed) {
    const MonitorState::Name* now = find(after.names, name);
    if (now) out.push_back(changed_device(name, find(before.names, name), *now));
  }
  return out;
}

std::unique_ptr<SpecMonitor> SpecMonitor::create(Fs& fs, Logger& logger, RegistryOptions options,
                                                 SpecCacheOptions cache_options) {
  options.record_positions = true;  // every problem as file:line:column
  std::unique_ptr<SpecMonitor> m(new SpecMonitor(fs, logger, std::move(options)));
  m->registry_.keep_files();
  m->registry_.load_all();
  cache_options.track_changes = true;
  m->cache_ = SpecCache::create(m->registry_, logger, std::move(cache_options));
  m->state_ = monitor_state(m->registry_);
  return m;
}

SpecMonitor::SpecMonitor(Fs& fs, Logger& logger, RegistryOptions options) : registry_(fs, logger, std::move(options)) {}

SpecMonitor::~SpecMonitor() = default;

std::vector<MonitorEvent> SpecMonitor::changes() {
  SpecChanges changed = cache_->refresh();
  if (changed.empty()) return {};
  MonitorState now = monitor_state(registry_);
  auto events = describe_changes(changed, state_, now);
  state_ = std::move(now);
  return events;
}

}  // namespace cdi
