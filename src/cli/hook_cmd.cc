// cdi-hook hook: the OCI hook entry point.
//   stdin an OCI state (createRuntime, prestart): <bundle>/config.json is
//     injected and rewritten atomically; stdout stays empty.
//   stdin an OCI config (podman's precreate): the adjusted config on stdout.
// With --guest-map the result is then translated to the guest (even when no
// device is requested). A config without cdi.k8s.io/ annotations (and no
// --guest-map), or a Kata pod sandbox, passes through unchanged.
#include <memory>

#include "app/bundle.h"
#include "base/atomic_file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "edits/oci_document.h"
#include "inject/injector.h"

namespace cdi::cli {

namespace {

struct HookOptions {
  InjectionFlags flags;
};

int run_state(const OciDocument& state, Logger& logger, const InjectOptions& options) {
  std::string bundle = state.string_member("bundle");
  if (bundle.empty() || bundle.front() != '/') {
    Error e("expected an absolute bundle path, got " + quote(bundle));
    e.field = "bundle";
    return report(std::move(e).with_context("OCI state on stdin"), logger);
  }
  auto changed = adjust_bundle(bundle, logger, options);
  if (!changed.ok()) return report(changed.error(), logger);
  return kExitOk;
}

int run_precreate(std::string_view input, OciDocument& config, Logger& logger, const InjectOptions& options) {
  auto changed = adjust_requested(config, "stdin", logger, options);
  if (!changed.ok()) return report(changed.error(), logger);
  auto st = *changed ? write_stdout(config.serialize(false)) : write_stdout(input);
  if (!st.ok()) return report(st.error(), logger);
  return kExitOk;
}

int run_hook(const HookOptions& o) {
  auto logger = make_logger(o.flags);
  if (!logger.ok()) {
    report(logger.error());
    return kExitUsage;
  }
  Logger& log = **logger;
  auto input = read_file_or_stdin("-", kMaxConfigBytes);
  if (!input.ok()) return report(input.error(), log);
  if (input->find_first_not_of(" \t\r\n") == std::string::npos) {
    return report(Error("stdin is empty: expected an OCI state (createRuntime, prestart) or config (precreate)"), log);
  }
  auto doc = OciDocument::parse(*input);
  if (!doc.ok()) {
    Error e = std::move(doc).error();
    return report(e.in_file("stdin", e.line, e.column), log);
  }
  auto options = o.flags.load_options();
  if (!options.ok()) return report(options.error(), log);
  if (doc->is_state()) return run_state(*doc, log, *options);
  return run_precreate(*input, *doc, log, *options);
}

}  // namespace

void add_hook_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<HookOptions>();
  CLI::App* cmd = app.add_subcommand(
      "hook",
      "OCI hook: an OCI state on stdin rewrites <bundle>/config.json; an OCI config on stdin (podman precreate) "
      "prints the adjusted config");
  opts->flags.add_to(*cmd, 10.0);
  opts->flags.stderr_log_level = "error";
  cmd->callback([opts, &exit_code] { exit_code = run_hook(*opts); });
}

}  // namespace cdi::cli
