#include "nri/cdi_adjuster.h"

#include <algorithm>
#include <chrono>
#include <set>

#include "base/fs.h"
#include "base/text.h"
#include "base/watched_stat.h"
#include "edits/edit_plan.h"
#include "nri/adjustment_sink.h"
#include "nri/nri_api.pb.h"
#include "registry/registry.h"
#include "registry/spec_cache.h"
#include "spec/qualified_name.h"

namespace cdi::nri {

RegistryOptions registry_options(const PluginOptions& o) {
  RegistryOptions r;
  if (!o.spec_dirs.empty()) r.spec_dirs = o.spec_dirs;
  r.check_permissions = !o.allow_insecure_specs;
  return r;
}

namespace {

// The container has this node as a runtime's own CDI injection makes it: the
// same path, type and numbers; mode and owners count only where the container
// sets them, since the Go CDI library leaves them unset when the spec does
// (containerd 2.1.9 with enable_cdi writes `{"path", "type", "major",
// "minor"}`), where the plan takes the mode from the host node.
bool container_has_node(const ContainerView& container, const ResolvedDeviceNode& n) {
  return std::any_of(container.device_nodes.begin(), container.device_nodes.end(), [&](const ResolvedDeviceNode& c) {
    return c.path == n.path && c.type == n.type && c.major == n.major && c.minor == n.minor &&
           (!c.file_mode || c.file_mode == n.file_mode) && (!c.uid || c.uid == n.uid) && (!c.gid || c.gid == n.gid);
  });
}

// A device whose own nodes the container has, each of them: the plan left
// out those it has identically, the rest it has as a runtime injected them.
bool container_has_all_nodes(const DeviceDefinition& def, const EditPlan& plan, const ContainerView& container) {
  if (def.device->edits.device_nodes.empty()) return false;
  return std::all_of(plan.device_nodes.begin(), plan.device_nodes.end(), [&](const PlannedDeviceNode& n) {
    return n.origin.source.device != def.device || container_has_node(container, n.node);
  });
}

// The decision line's lists, appended in place (a line per request: no
// vector of strings to join): "vendor/class=a, vendor/class=b" and the spec
// files they come from, each file once.
void append_names(std::string& line, const std::vector<const DeviceDefinition*>& defs) {
  for (size_t i = 0; i < defs.size(); ++i) {
    if (i > 0) line += ", ";
    line += defs[i]->spec->kind;
    line += '=';
    line += defs[i]->device->name;
  }
}

void append_spec_files(std::string& line, const std::vector<const DeviceDefinition*>& defs) {
  for (size_t i = 0; i < defs.size(); ++i) {
    const std::string& path = defs[i]->spec->path;
    bool seen = std::any_of(defs.begin(), defs.begin() + static_cast<std::ptrdiff_t>(i),
                            [&](const DeviceDefinition* d) { return d->spec->path == path; });
    if (seen) continue;
    if (i > 0) line += ", ";
    line += path;
  }
}

std::vector<std::string> names_of(const std::vector<const DeviceDefinition*>& defs) {
  std::vector<std::string> out;
  out.reserve(defs.size());
  for (const auto* d : defs) out.push_back(d->qualified_name());
  return out;
}

std::set<std::string> kinds_of(const std::vector<std::string>& names) {
  std::set<std::string> kinds;
  for (const auto& n : names) {
    if (auto q = parse_qualified_name(n); q.ok()) kinds.insert(q->kind());
  }
  return kinds;
}

// The specs, kept between requests by the library's spec cache (inotify on the
// spec dirs; only the files that change are read again). Resolution, waiting
// and errors are the hook's: one error naming every unresolved device, as
// inject_devices gives.
class Specs {
 public:
  Specs(RegistryOptions options, Logger& logger) : registry_(fs_, logger, std::move(options)), logger_(logger) {}

  Result<std::vector<DeviceDefinition>> resolve(const std::vector<std::string>& names, std::chrono::milliseconds wait) {
    if (!cache_) {
      // Only the requested kinds are parsed (later requests add theirs), as
      // for the hook; the cache then keeps them fresh.
      registry_.keep_files();
      registry_.load(kinds_of(names));
      cache_ = SpecCache::create(registry_, logger_);
    }
    auto start = SpecCache::Clock::now();
    Resolution r = cache_->resolve(names, start);  // what the cache holds, no wait
    if (!r.complete() && wait.count() > 0) {
      logger_.info("waiting up to " + std::to_string(wait.count()) + " ms for " + r.errors.front().to_string());
      r = cache_->resolve(names, start + wait);
    }
    if (!r.complete()) {
      return r.error();
    }
    return std::move(r.devices);
  }

 private:
  RealFs fs_;
  Registry registry_;
  Logger& logger_;
  std::unique_ptr<SpecCache> cache_;
};

class CdiAdjuster final : public Adjuster {
 public:
  CdiAdjuster(RegistryOptions options, Logger& logger) : specs_(std::move(options), logger), logger_(logger) {
    if (!node_fs_.caching()) {
      logger_.info("host device nodes are stat'ed for every request: no inotify instance or no /proc/self/mountinfo");
    }
  }

  Status adjust(const AdjustRequest& request, std::string& adjustment) override {
    auto defs = specs_.resolve(request.devices, request.wait);
    if (!defs.ok()) return std::move(defs).error();
    WatchedStatFs& fs = node_fs_;
    fs.refresh();  // the host nodes' changes since the last request
    ContainerView view = nri_container_view(*request.container);
    auto plan = plan_devices(*defs, fs, view);
    if (!plan.ok()) return std::move(plan).error();
    std::vector<const DeviceDefinition*> wanted;
    wanted.reserve(defs->size());
    for (const auto& d : *defs) {
      if (container_has_all_nodes(d, *plan, view)) {
        logger_.info(request.who + ": skipped " + d.qualified_name() +
                     ": the container has all its device nodes (the runtime injected it)");
      } else {
        wanted.push_back(&d);
      }
    }
    if (wanted.empty()) return {};
    if (wanted.size() != defs->size()) {
      std::vector<DeviceDefinition> kept;
      for (const auto* d : wanted) kept.push_back(*d);
      plan = plan_devices(kept, fs, view);
      if (!plan.ok()) return std::move(plan).error();
    }
    bool log = logger_.enabled(LogLevel::info);  // the decision lines are built only when written
    if (request.references) {
      write_cdi_devices(names_of(wanted), adjustment);
      if (log) {
        std::string line = request.who + ": passed ";
        append_names(line, wanted);
        line += " to the runtime by name (resolved from ";
        append_spec_files(line, wanted);
        logger_.info(line + ")");
      }
      return {};
    }
    encoded_.use(plan->specs);
    AdjustmentSink sink(request.capabilities, &encoded_);
    CDI_TRY(apply_plan(*plan, sink));
    sink.finish(adjustment);
    if (log) {
      std::string line = request.who + ": injected ";
      line.reserve(256);
      append_names(line, wanted);
      line += " from ";
      append_spec_files(line, wanted);
      if (!sink.not_carried().empty()) {
        line += "; not carried (" + request.capabilities.describe() + "): " + join(sink.not_carried(), ", ");
      }
      logger_.info(line);
    }
    return {};
  }

 private:
  Specs specs_;
  Logger& logger_;
  // The host device nodes are stat'ed for every request; this keeps their
  // stats, exact by inotify and the mount table (base/watched_stat.h).
  RealFs real_fs_;
  WatchedStatFs node_fs_{real_fs_};
  // The mounts and hooks of the specs in use, encoded once per spec.
  EncodedEdits encoded_;
};

}  // namespace

Result<std::unique_ptr<Adjuster>> make_cdi_adjuster(const PluginOptions& options, Logger& logger) {
  return std::unique_ptr<Adjuster>(new CdiAdjuster(registry_options(options), logger));
}

}  // namespace cdi::nri
