// cdi-hook hook: the OCI hook entry point.
//   stdin an OCI state (createRuntime, prestart): <bundle>/config.json is
//     injected and rewritten atomically; stdout stays empty.
//   stdin an OCI config (podman's precreate): the adjusted config on stdout.
// With --guest-map the result is then translated to the guest (even when no
// device is requested). A config without cdi.k8s.io/ annotations (and no
// --guest-map), or a Kata pod sandbox, passes through unchanged. Every log
// line names the container (app/logging.h).
#include <memory>

#include "app/bundle.h"
#include "app/logging.h"
#include "app/options.h"
#include "base/atomic_file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "edits/oci_document.h"
#include "inject/injector.h"

namespace cdi::cli {

namespace {

int run_state(const OciDocument& state, const CliLogger& sink, Logger& logger, const InjectOptions& options) {
  std::string bundle = state.string_member("bundle");
  if (bundle.empty() || bundle.front() != '/') {
    Error e("expected an absolute bundle path, got " + quote(bundle));
    e.field = "bundle";
    return report(std::move(e).with_context("OCI state on stdin").of_kind(ErrorKind::invalid_request), sink, logger);
  }
  auto changed = adjust_bundle(bundle, logger, options);
  if (!changed.ok()) return report(changed.error(), sink, logger);
  return kExitOk;
}

int run_precreate(std::string_view input, OciDocument& config, const CliLogger& sink, Logger& logger,
                  const InjectOptions& options) {
  auto changed = adjust_requested(config, "stdin", logger, options);
  if (!changed.ok()) return report(changed.error(), sink, logger);
  auto st = *changed ? write_stdout(config.serialize(false)) : write_stdout(input);
  if (!st.ok()) return report(st.error(), sink, logger);
  return kExitOk;
}

int run_hook(const app::Settings& settings) {
  // The hook keeps stderr to its one error line unless asked for more.
  auto sink = make_logger(settings, LogLevel::error);
  auto input = read_file_or_stdin("-", kMaxConfigBytes);
  if (!input.ok()) return report(input.error(), *sink, *sink);
  if (input->find_first_not_of(" \t\r\n") == std::string::npos) {
    return report(Error("stdin is empty: expected an OCI state (createRuntime, prestart) or config (precreate)")
                      .of_kind(ErrorKind::invalid_request),
                  *sink, *sink);
  }
  auto doc = OciDocument::parse(*input);
  if (!doc.ok()) {
    Error e = std::move(doc).error();
    return report(e.in_file("stdin", e.line, e.column).of_kind(ErrorKind::invalid_request), *sink, *sink);
  }
  bool state = doc->is_state();
  app::LabelledLogger logger(*sink, state ? app::state_label(*doc) : app::config_label(*doc, "", ""));
  auto options = app::load_inject_options(settings);
  if (!options.ok()) return report(options.error(), *sink, logger);
  if (state) return run_state(*doc, *sink, logger, *options);
  return run_precreate(*input, *doc, *sink, logger, *options);
}

}  // namespace

void add_hook_command(CLI::App& app, int& exit_code) {
  auto settings = std::make_shared<app::Settings>();
  settings->wait = std::chrono::seconds(10);
  CLI::App* cmd = app.add_subcommand(
      "hook",
      "OCI hook: an OCI state on stdin rewrites <bundle>/config.json; an OCI config on stdin (podman precreate) "
      "prints the adjusted config");
  add_table_options(*cmd, app::kHook, *settings);
  cmd->callback([settings, &exit_code] { exit_code = run_hook(*settings); });
}

}  // namespace cdi::cli
