#include "inject/injector.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "base/text.h"
#include "registry/spec_wait.h"
#include "spec/annotations.h"
#include "spec/qualified_name.h"

namespace cdi {

Result<std::vector<std::string>> requested_devices(const OciDocument& config) {
  const auto& root = config.json();
  auto it = root.FindMember("annotations");
  if (it != root.MemberEnd() && !it->value.IsObject() && !it->value.IsNull()) {
    Error e("expected an object, got " + json_type_name(it->value));
    e.field = "annotations";
    return e;
  }
  if (it != root.MemberEnd() && it->value.IsObject()) {
    CDI_TRY(check_unique_keys(it->value, "annotations"));
    for (const auto& m : it->value.GetObject()) {
      if (json_view(m.name).starts_with(kAnnotationPrefix) && !m.value.IsString()) {
        Error e("expected a string value, got " + json_type_name(m.value));
        e.field = "annotations." + std::string(json_view(m.name));
        return e;
      }
    }
  }
  return parse_annotations(config.annotations());
}

bool is_kata_pod_sandbox(const OciDocument& config) {
  for (const auto& [k, v] : config.annotations()) {
    if (k == kKataContainerTypeAnnotation && v == "pod_sandbox") return true;
  }
  return false;
}

namespace {

std::vector<std::string> unique_in_order(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& n : names) {
    if (seen.insert(n).second) out.push_back(n);
  }
  return out;
}

struct Resolved {
  std::vector<DeviceDefinition> defs;
  std::vector<Error> errors;
};

Resolved resolve_all(Registry& registry, const std::vector<std::string>& names, const std::set<std::string>& kinds) {
  registry.load(kinds);
  Resolved r;
  for (const auto& n : names) {
    auto def = registry.resolve(n);
    if (def.ok()) {
      r.defs.push_back(*def);
    } else {
      r.errors.push_back(std::move(def).error().for_device(n));
    }
  }
  return r;
}

// Rescans on every change in the spec dirs until all names resolve or time is up.
Result<Resolved> wait_for_devices(Registry& registry, Resolved first, const std::vector<std::string>& names,
                                  const std::set<std::string>& kinds, Fs& fs, Logger& logger,
                                  const InjectOptions& options) {
  auto deadline = SpecDirWatch::Clock::now() + options.wait;
  auto watch = SpecDirWatch::create(options.registry.spec_dirs, logger);
  if (!watch.ok()) return std::move(watch).error().with_context("waiting for CDI specs");
  logger.info("waiting up to " + std::to_string(options.wait.count()) + " ms for " + first.errors.front().to_string());
  Resolved r = std::move(first);
  for (;;) {
    fs.forget_handles();
    r = resolve_all(registry, names, kinds);  // the watch is armed: no change between scans is missed
    if (r.errors.empty()) return r;
    auto changed = (*watch)->wait(deadline);
    if (!changed.ok()) return std::move(changed).error().with_context("waiting for CDI specs");
    if (!*changed) return r;
    logger.debug("spec dirs changed; scanning again");
  }
}

}  // namespace

Result<InjectReport> inject_devices(OciDocument& config, const std::vector<std::string>& requested, Fs& fs,
                                    Logger& logger, const InjectOptions& options) {
  std::vector<std::string> names = unique_in_order(requested);
  std::set<std::string> kinds;
  for (const auto& n : names) {
    auto q = parse_qualified_name(n);
    if (!q.ok()) return std::move(q).error();
    kinds.insert(q->kind());
  }
  Registry registry(fs, logger, options.registry);
  Resolved r = resolve_all(registry, names, kinds);
  if (!r.errors.empty() && options.wait.count() > 0) {
    auto waited = wait_for_devices(registry, std::move(r), names, kinds, fs, logger, options);
    if (!waited.ok()) return std::move(waited).error();
    r = std::move(*waited);
  }
  if (!r.errors.empty()) {
    for (size_t i = 1; i < r.errors.size(); ++i) logger.error(r.errors[i].to_string());
    return std::move(r.errors.front());
  }

  InjectReport report;
  for (const auto& d : r.defs) {
    report.devices.push_back(d.qualified_name());
    if (std::find(report.spec_files.begin(), report.spec_files.end(), d.spec->path) == report.spec_files.end()) {
      report.spec_files.push_back(d.spec->path);
    }
  }
  auto plan = plan_devices(r.defs, fs, oci_container_view(config));
  if (!plan.ok()) return std::move(plan).error();
  if (options.discard_on_error) {
    CDI_TRY(apply_plan_to_config(config, *plan));
  } else {
    OciDocument edited = config.clone();
    CDI_TRY(apply_plan_to_config(edited, *plan));
    config = std::move(edited);
  }
  if (options.explain) report.edits = explain_plan(*plan);
  return report;
}

Result<InjectReport> adjust_config(OciDocument& config, const std::vector<std::string>& devices, Fs& fs, Logger& logger,
                                   const InjectOptions& options) {
  if (!options.guest_map) {
    if (devices.empty()) return InjectReport{};
    return inject_devices(config, devices, fs, logger, options);
  }
  // The map's lookups first: a bad map fails before any wait for specs.
  auto resolved = resolve_guest_map(*options.guest_map, fs, options.sysfs_root);
  if (!resolved.ok()) return std::move(resolved).error();
  OciDocument copy = options.discard_on_error ? OciDocument() : config.clone();
  OciDocument& edited = options.discard_on_error ? config : copy;
  InjectOptions inner = options;
  inner.discard_on_error = true;  // `edited` is already the copy
  InjectReport report;
  if (!devices.empty()) {
    auto injected = inject_devices(edited, devices, fs, logger, inner);
    if (!injected.ok()) return std::move(injected).error();
    report = std::move(*injected);
  }
  GuestTranslateOptions guest_options;
  guest_options.sysfs_root = options.sysfs_root;
  guest_options.explain = options.explain;
  auto guest = apply_guest_map(edited, *options.guest_map, *resolved, logger, guest_options);
  if (!guest.ok()) return std::move(guest).error();
  std::move(guest->edits.begin(), guest->edits.end(), std::back_inserter(report.edits));
  guest->edits.clear();
  logger.info("translated to the guest: " + std::to_string(guest->devices) + " devices, " +
              std::to_string(guest->cgroup_rules) + " cgroup rules, " + std::to_string(guest->env) + " env entries");
  report.guest = std::move(*guest);
  if (!options.discard_on_error) config = std::move(copy);
  return report;
}

}  // namespace cdi
