#include "cli/bundle.h"

#include "atomic_file.h"
#include "fs.h"
#include "text.h"

namespace cdi::cli {

Result<bool> adjust_requested(OciDocument& config, Logger& logger, const InjectOptions& options) {
  if (is_kata_pod_sandbox(config)) {
    logger.debug("Kata pod sandbox: nothing to inject");
    return false;
  }
  auto devices = requested_devices(config);
  if (!devices.ok()) return std::move(devices).error();
  if (devices->empty() && !options.guest_map) return false;
  RealFs fs;
  auto report = adjust_config(config, *devices, fs, logger, options);
  if (!report.ok()) return std::move(report).error();
  if (!report->devices.empty()) logger.info("injected " + join(report->devices, ", "));
  return true;
}

Result<bool> adjust_bundle(const std::string& bundle, Logger& logger, const InjectOptions& options) {
  std::string path = path_join(bundle, "config.json");
  auto bytes = read_file_or_stdin(path, kMaxConfigBytes);
  if (!bytes.ok()) return std::move(bytes).error();
  auto config = OciDocument::parse(*bytes);
  if (!config.ok()) {
    Error e = std::move(config).error();
    return std::move(e.in_file(path, e.line, e.column));
  }
  auto changed = adjust_requested(*config, logger, options);
  if (!changed.ok()) {
    Error e = std::move(changed).error();
    if (e.file.empty()) e.in_file(path, e.line, e.column);
    return e;
  }
  if (!*changed) return false;
  CDI_TRY(write_file_atomic(path, config->serialize(true)));
  return true;
}

}  // namespace cdi::cli
