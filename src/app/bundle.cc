#include "app/bundle.h"

#include <sys/stat.h>

#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/text.h"

namespace cdi::cli {

Error locate_config_error(Error error, const std::string& source) {
  if (error.file.empty() && !error.context.empty() && error.context.front() == "OCI config") {
    error.context.erase(error.context.begin());
    error.in_file(source, error.line, error.column);
  }
  return error;
}

Result<bool> adjust_requested(OciDocument& config, const std::string& source, Logger& logger,
                              const InjectOptions& options) {
  if (is_kata_pod_sandbox(config)) {
    logger.debug("Kata pod sandbox: nothing to inject");
    return false;
  }
  auto devices = requested_devices(config);
  if (!devices.ok()) {
    Error e = std::move(devices).error();
    return std::move(e.in_file(source, e.line, e.column));
  }
  if (devices->empty() && !options.guest_map) return false;
  RealFs fs;
  Registry registry(fs, logger, options.registry);  // one-shot: this injection's only
  auto report = adjust_config(config, *devices, registry, fs, logger, options);
  if (!report.ok()) return locate_config_error(std::move(report).error(), source);
  if (!report->devices.empty()) logger.info("injected " + join(report->devices, ", "));
  return true;
}

Result<bool> adjust_bundle(const std::string& bundle, Logger& logger, const InjectOptions& options) {
  std::string path = path_join(bundle, "config.json");
  // Only a regular config.json is rewritten: a link would hand the rewrite
  // (and its owner and mode) to whatever file it points at.
  if (struct stat st{}; ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
    return Error("is a symbolic link; only a regular config.json is injected, and it is left as it is").in_file(path);
  }
  RealFs fs;
  auto opened = fs.read_in(bundle, "config.json", kMaxConfigBytes, nullptr);
  if (!opened.ok()) return std::move(opened).error();
  auto config = OciDocument::parse(opened->bytes);
  if (!config.ok()) {
    Error e = std::move(config).error();
    return std::move(e.in_file(path, e.line, e.column));
  }
  auto changed = adjust_requested(*config, path, logger, options);
  if (!changed.ok()) return std::move(changed).error();
  if (!*changed) return false;
  // A config injected before gives the same bytes again: leave the file as it is.
  std::string out = config->serialize(true);
  if (out == opened->bytes) return false;
  AtomicWriteOptions write;
  write.logger = &logger;
  CDI_TRY(write_file_atomic(path, out, write));
  return true;
}

}  // namespace cdi::cli
