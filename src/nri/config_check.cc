#include "nri/config_check.h"

#include <cerrno>

#include "base/text.h"
#include "nri/cdi_adjuster.h"
#include "nri/plugin_log.h"
#include "nri/plugin_options.h"
#include "registry/registry.h"

namespace cdi::nri {

namespace {

std::string on_off(bool on) { return on ? "on" : "off"; }

std::string settings(const PluginOptions& o) {
  std::string out =
      "  cdi-mode " + std::string(cdi_mode_name(o.cdi_mode)) + ", wait " + std::to_string(o.wait.count()) +
      " ms (capped below the runtime's request timeout)" + ", skip-runtime-handler " +
      (o.skip_runtime_handlers.empty() ? "(none)" : join(o.skip_runtime_handlers, " ")) + ", pod-annotations " +
      on_off(o.pod_annotations) + ", allow-insecure-specs " + on_off(o.allow_insecure_specs) + "\n";
  out += "  log: level " + std::string(log_level_name(o.log_level)) + ", file " +
         (o.log_file.empty() ? "(none)" : o.log_file) + ", syslog " + on_off(log_sinks(o, true).syslog) + "\n";
  return out;
}

// Each spec dir with what is in it, as the plugin's scans see it.
std::string spec_dirs(const RegistryOptions& r, Fs& fs) {
  std::string out;
  for (const auto& dir : r.spec_dirs) {
    auto files = list_spec_files(fs, dir);
    if (files.ok()) {
      out += "spec dir " + dir + ": " + std::to_string(files->size()) + " spec file" + (files->size() == 1 ? "" : "s") +
             "\n";
    } else if (files.error().sys_errno == ENOENT) {
      out += "spec dir " + dir + ": not there (watched: a spec written there later is seen)\n";
    } else {
      out += "spec dir " + dir + ": " + files.error().message + "\n";
    }
  }
  return out;
}

}  // namespace

CheckReport check_config(std::string_view text, std::string_view origin, Fs& fs, Logger& logger) {
  CheckReport report;
  PluginOptions options;
  if (auto st = apply_config_text(options, text, origin, OptionSource::runtime_config); !st.ok()) {
    report.text = "refused: " + st.error().to_string() +
                  "\nThe runtime's Configure would fail: the plugin would not run, and containers would start "
                  "without their CDI devices.\n";
    return report;
  }
  report.text = std::string(origin) + ": accepted, as the runtime's Configure would take it\n" + settings(options);
  RegistryOptions ro = registry_options(options);
  report.text += spec_dirs(ro, fs);
  Registry registry(fs, logger, ro);
  registry.load_all();
  std::vector<std::string> usable, unusable;
  for (const auto& [name, defs] : registry.definitions()) {
    for (const auto& d : defs) {
      if (d.status == DefinitionStatus::ok) usable.push_back(name);
      if (d.status == DefinitionStatus::conflict) {
        unusable.push_back(name + ": defined at the same priority in " + join(d.same_priority, ", "));
        break;
      }
    }
  }
  report.text +=
      "devices (" + std::to_string(usable.size()) + "): " + (usable.empty() ? "none" : join(usable, ", ")) + "\n";
  size_t problems = unusable.size();
  for (const auto& p : registry.problems()) problems += p.errors.size();
  if (problems == 0) {
    report.text += "problems: none\n";
    report.ok = true;
    return report;
  }
  report.text += "problems (" + std::to_string(problems) + "):\n";
  for (const auto& p : registry.problems()) {
    for (const auto& e : p.errors) report.text += "  " + e.located() + "\n";
  }
  for (const auto& u : unusable) report.text += "  " + u + " (unusable)\n";
  return report;
}

}  // namespace cdi::nri
