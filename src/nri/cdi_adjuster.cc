#include "nri/cdi_adjuster.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "base/fs.h"
#include "base/text.h"
#include "edits/edit_plan.h"
#include "inject/injector.h"
#include "nri/adjustment_sink.h"
#include "nri/nri_api.pb.h"
#include "registry/registry.h"
#include "registry/spec_wait.h"
#include "spec/qualified_name.h"

namespace cdi::nri {

namespace {

RegistryOptions registry_options(const PluginOptions& o) {
  RegistryOptions r;
  if (!o.spec_dirs.empty()) r.spec_dirs = o.spec_dirs;
  r.check_permissions = !o.allow_insecure_specs;
  return r;
}

// A device whose own nodes the plan leaves out entirely: the container has
// each of them already, as the runtime's own CDI injection would have made it.
bool container_has_all_nodes(const DeviceDefinition& def, const EditPlan& plan) {
  if (def.device->edits.device_nodes.empty()) return false;
  return std::none_of(plan.device_nodes.begin(), plan.device_nodes.end(),
                      [&](const PlannedDeviceNode& n) { return n.origin.source.device == def.device; });
}

std::vector<std::string> spec_files(const std::vector<DeviceDefinition>& defs) {
  std::vector<std::string> out;
  for (const auto& d : defs) {
    if (std::find(out.begin(), out.end(), d.spec->path) == out.end()) out.push_back(d.spec->path);
  }
  return out;
}

std::vector<std::string> names_of(const std::vector<DeviceDefinition>& defs) {
  std::vector<std::string> out;
  for (const auto& d : defs) out.push_back(d.qualified_name());
  return out;
}

// The specs of the last resolution, kept between requests: reused while the
// spec dirs report no change through inotify and every spec file the devices
// came from keeps its identity (a symlinked spec's target can change without an
// event in the dir). Anything else, and every failure, goes through the
// library's resolution afresh, so errors and waiting are the hook's.
class SpecMemory {
 public:
  SpecMemory(RegistryOptions options, Logger& logger) : options_(std::move(options)), logger_(logger) {}

  Result<std::vector<DeviceDefinition>> resolve(const std::vector<std::string>& names, std::chrono::milliseconds wait) {
    if (auto kept = from_memory(names)) return std::move(*kept);
    if (!watch_) {
      auto w = SpecDirWatch::create(options_.spec_dirs, logger_);
      if (w.ok()) {
        watch_ = std::move(*w);
      } else {
        logger_.warn("no spec dir watch (" + w.error().to_string() + "): every request scans the spec dirs");
      }
    }
    registry_.reset();
    resolved_.clear();
    fs_.forget_handles();
    auto registry = std::make_unique<Registry>(fs_, logger_, options_);
    auto defs = resolve_devices(*registry, names, fs_, logger_, wait);
    if (!defs.ok()) return defs;
    files_.clear();
    for (const auto& d : *defs) {
      auto st = fs_.stat(d.spec->path);
      if (!st.ok()) return defs;  // gone already: not kept
      files_.emplace(d.spec->path, *st);
    }
    kinds_ = kinds_of(names);
    for (const auto& d : *defs) resolved_.emplace(d.qualified_name(), d);
    if (watch_) registry_ = std::move(registry);
    return defs;
  }

 private:
  static std::set<std::string> kinds_of(const std::vector<std::string>& names) {
    std::set<std::string> kinds;
    for (const auto& n : names) kinds.insert(split_qualified_name(n).kind());
    return kinds;
  }

  static bool same_file(const FileStat& a, const FileStat& b) {
    return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_ns == b.mtime_ns &&
           a.ctime_ns == b.ctime_ns && a.mode == b.mode && a.uid == b.uid && a.gid == b.gid;
  }

  std::optional<std::vector<DeviceDefinition>> from_memory(const std::vector<std::string>& names) {
    if (!registry_) return std::nullopt;
    auto changed = watch_->changed();
    if (!changed.ok() || *changed) return std::nullopt;
    auto kinds = kinds_of(names);
    if (!std::includes(kinds_.begin(), kinds_.end(), kinds.begin(), kinds.end())) return std::nullopt;
    std::vector<DeviceDefinition> defs;
    for (const auto& n : names) {
      auto d = resolved_.find(n);  // what the registry gave for this name, while nothing changed
      if (d == resolved_.end()) {
        auto found = registry_->resolve(n);
        if (!found.ok() || !files_.contains(found->spec->path)) return std::nullopt;
        d = resolved_.emplace(n, std::move(*found)).first;
      }
      defs.push_back(d->second);
    }
    for (const auto& [path, identity] : files_) {
      auto st = fs_.stat(path);
      if (!st.ok() || !same_file(*st, identity)) return std::nullopt;
    }
    return defs;
  }

  RegistryOptions options_;
  Logger& logger_;
  RealFs fs_;
  std::unique_ptr<SpecDirWatch> watch_;
  std::unique_ptr<Registry> registry_;
  std::set<std::string> kinds_;
  std::map<std::string, FileStat> files_;
  std::map<std::string, DeviceDefinition, std::less<>> resolved_;  // name -> definition, while nothing changed
};

class CdiAdjuster final : public Adjuster {
 public:
  CdiAdjuster(RegistryOptions options, Logger& logger) : specs_(std::move(options), logger), logger_(logger) {}

  Status adjust(const AdjustRequest& request, std::string& adjustment) override {
    auto defs = specs_.resolve(request.devices, request.wait);
    if (!defs.ok()) return std::move(defs).error();
    RealFs fs;
    ContainerView view = nri_container_view(*request.container);
    auto plan = plan_devices(*defs, fs, view);
    if (!plan.ok()) return std::move(plan).error();
    std::vector<DeviceDefinition> wanted;
    for (const auto& d : *defs) {
      if (container_has_all_nodes(d, *plan)) {
        logger_.info(request.who + ": skipped " + d.qualified_name() +
                     ": the container has all its device nodes (the runtime injected it)");
      } else {
        wanted.push_back(d);
      }
    }
    if (wanted.empty()) return {};
    if (wanted.size() != defs->size()) {
      plan = plan_devices(wanted, fs, view);
      if (!plan.ok()) return std::move(plan).error();
    }
    std::string names = join(names_of(wanted), ", ");
    std::string files = join(spec_files(wanted), ", ");
    if (request.references) {
      write_cdi_devices(names_of(wanted), adjustment);
      logger_.info(request.who + ": passed " + names + " to the runtime by name (resolved from " + files + ")");
      return {};
    }
    AdjustmentSink sink(request.capabilities);
    CDI_TRY(apply_plan(*plan, sink));
    sink.finish(adjustment);
    std::string line = request.who + ": injected " + names + " from " + files;
    if (!sink.not_carried().empty()) {
      line += "; not carried (" + request.capabilities.describe() + "): " + join(sink.not_carried(), ", ");
    }
    logger_.info(line);
    return {};
  }

 private:
  SpecMemory specs_;
  Logger& logger_;
};

}  // namespace

Result<std::unique_ptr<Adjuster>> make_cdi_adjuster(const PluginOptions& options, Logger& logger) {
  return std::unique_ptr<Adjuster>(new CdiAdjuster(registry_options(options), logger));
}

}  // namespace cdi::nri
