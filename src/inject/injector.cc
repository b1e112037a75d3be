#include "inject/injector.h"

#include <algorithm>
#include <iterator>
#include <set>

#include "base/text.h"
#include "registry/spec_cache.h"
#include "spec/annotations.h"
#include "spec/qualified_name.h"

namespace cdi {

namespace {

Result<std::vector<std::string>> annotated_devices(const OciDocument& config) {
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

}  // namespace

Result<std::vector<std::string>> requested_devices(const OciDocument& config) {
  auto devices = annotated_devices(config);
  if (!devices.ok()) return std::move(devices).error().of_kind(ErrorKind::invalid_request);
  return devices;
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

// "10 s", "2.5 s", "0.25 s".
std::string duration_text(std::chrono::milliseconds ms) {
  auto n = ms.count();
  std::string out = std::to_string(n / 1000);
  if (n % 1000 != 0) {
    std::string frac = std::to_string(1000 + n % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out + " s";
}

// The start of a wait, as a notice: the devices, the dirs and the window.
void announce_wait(const Resolution& r, const Registry& registry, std::chrono::milliseconds wait, Logger& logger) {
  std::vector<std::string> missing;
  for (const auto& e : r.errors) missing.push_back(quote(e.device));
  std::vector<std::string> dirs;
  for (const auto& d : registry.options().spec_dirs) dirs.push_back(quote(d));
  logger.notice("waiting up to " + duration_text(wait) + " for the spec of " + join(missing, ", ") + " to appear in " +
                join(dirs, ", "));
  logger.debug("unresolved: " + r.errors.front().to_string());
}

}  // namespace

Result<Resolution> resolve_devices(Registry& registry, const std::vector<std::string>& names,
                                   std::chrono::milliseconds wait, Logger& logger, const SpecCacheOptions& cache) {
  std::set<std::string> kinds;
  for (const auto& n : names) {
    auto q = parse_qualified_name(n);
    if (!q.ok()) return std::move(q).error().of_kind(ErrorKind::invalid_request);
    kinds.insert(q->kind());
  }
  registry.load(kinds);
  Resolution r = registry.resolve_all(names);
  if (r.complete() || wait.count() <= 0) return r;
  auto deadline = SpecCache::Clock::now() + wait;
  announce_wait(r, registry, wait, logger);
  // The cache watches the dirs before it looks again, so no change is missed,
  // and then reads only the files that change.
  auto watched = SpecCache::create(registry, logger, cache);
  return watched->resolve(names, deadline);
}

Result<InjectReport> inject_devices(OciDocument& config, const std::vector<std::string>& requested, Registry& registry,
                                    Fs& fs, Logger& logger, const InjectOptions& options) {
  auto resolved = resolve_devices(registry, unique_in_order(requested), options.wait, logger, options.cache);
  if (!resolved.ok()) return std::move(resolved).error();
  Resolution& r = *resolved;
  bool waited = !r.complete() && options.wait.count() > 0;  // resolve_devices waits only when incomplete
  if (!r.errors.empty()) {
    Error e = r.error();
    if (waited)
      e.message += " (waited " + duration_text(options.wait) + (r.errors.size() > 1 ? " for them)" : " for it)");
    return e;
  }

  InjectReport report;
  for (const auto& d : r.devices) {
    report.devices.push_back(d.qualified_name());
    if (std::find(report.spec_files.begin(), report.spec_files.end(), d.spec->path) == report.spec_files.end()) {
      report.spec_files.push_back(d.spec->path);
    }
  }
  auto plan = plan_devices(r.devices, fs, oci_container_view(config));
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

Result<InjectReport> adjust_config(OciDocument& config, const std::vector<std::string>& devices, Registry& registry,
                                   Fs& fs, Logger& logger, const InjectOptions& options) {
  if (!options.guest_map) {
    if (devices.empty()) return InjectReport{};
    return inject_devices(config, devices, registry, fs, logger, options);
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
    auto injected = inject_devices(edited, devices, registry, fs, logger, inner);
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
