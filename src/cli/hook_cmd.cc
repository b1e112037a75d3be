// cdi-hook hook: the OCI hook entry point.
//   stdin an OCI state (createRuntime, prestart): <bundle>/config.json is
//     injected and rewritten atomically; stdout stays empty.
//   stdin an OCI config (podman's precreate): the adjusted config on stdout.
// With --guest-map the result is then translated to the guest (even when no
// device is requested). A config without cdi.k8s.io/ annotations (and no
// --guest-map), or a Kata pod sandbox, passes through unchanged.
#include <memory>

#include "atomic_file.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "fs.h"
#include "injector.h"
#include "oci_document.h"
#include "text.h"

namespace cdi::cli {

namespace {

struct HookOptions {
  InjectionFlags flags;
};

// Injects into `config` unless it asks for nothing; true if it changed.
Result<bool> inject_config(OciDocument& config, Logger& logger, const InjectOptions& options) {
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

int run_state(const OciDocument& state, Logger& logger, const InjectOptions& options) {
  std::string bundle = state.string_member("bundle");
  if (bundle.empty() || bundle.front() != '/') {
    Error e("expected an absolute bundle path, got " + quote(bundle));
    e.field = "bundle";
    return report(std::move(e).with_context("OCI state on stdin"));
  }
  std::string path = path_join(bundle, "config.json");
  auto bytes = read_file_or_stdin(path, kMaxConfigBytes);
  if (!bytes.ok()) return report(bytes.error());
  auto config = OciDocument::parse(*bytes);
  if (!config.ok()) return report(std::move(config).error().in_file(path, config.error().line, config.error().column));
  auto changed = inject_config(*config, logger, options);
  if (!changed.ok()) {
    Error e = std::move(changed).error();
    if (e.file.empty()) e.in_file(path, e.line, e.column);
    return report(e);
  }
  if (!*changed) return kExitOk;
  if (auto st = write_file_atomic(path, config->serialize(true)); !st.ok()) return report(st.error());
  return kExitOk;
}

int run_precreate(std::string_view input, OciDocument& config, Logger& logger, const InjectOptions& options) {
  auto changed = inject_config(config, logger, options);
  if (!changed.ok()) return report(std::move(changed).error().with_context("OCI config on stdin"));
  auto st = *changed ? write_stdout(config.serialize(false)) : write_stdout(input);
  if (!st.ok()) return report(st.error());
  return kExitOk;
}

int run_hook(const HookOptions& o) {
  auto logger = make_logger(o.flags);
  if (!logger.ok()) {
    report(logger.error());
    return kExitUsage;
  }
  auto input = read_file_or_stdin("-", kMaxConfigBytes);
  if (!input.ok()) return report(input.error());
  if (input->find_first_not_of(" \t\r\n") == std::string::npos) {
    return report(Error("stdin is empty: expected an OCI state (createRuntime, prestart) or config (precreate)"));
  }
  auto doc = OciDocument::parse(*input);
  if (!doc.ok()) return report(std::move(doc).error().with_context("stdin"));
  auto options = o.flags.load_options();
  if (!options.ok()) return report(options.error());
  if (doc->is_state()) return run_state(*doc, **logger, *options);
  return run_precreate(*input, *doc, **logger, *options);
}

}  // namespace

void add_hook_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<HookOptions>();
  CLI::App* cmd = app.add_subcommand(
      "hook",
      "OCI hook: an OCI state on stdin rewrites <bundle>/config.json; an OCI config on stdin (podman precreate) "
      "prints the adjusted config");
  opts->flags.add_to(*cmd, 10.0);
  cmd->callback([opts, &exit_code] { exit_code = run_hook(*opts); });
}

}  // namespace cdi::cli
