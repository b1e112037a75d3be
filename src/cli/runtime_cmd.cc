// The OCI runtime wrapper (app/runtime_wrapper.h):
//   cdi-hook runtime [--runtime PATH] [options] -- ARGS...
//   cdi-hook-runtime ARGS...   (a link named so: runc's arguments unchanged,
//                               options from <sysconfdir>/cdi-hook/runtime.conf,
//                               /etc/cdi-hook/runtime.conf for /usr/bin, and
//                               CDI_HOOK_* variables)
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "app/install_paths.h"
#include "app/options.h"
#include "app/runtime_wrapper.h"
#include "cli/commands.h"
#include "cli/common.h"

extern char** environ;

namespace cdi::cli {

namespace {

int run_runtime(const app::Settings& settings, const std::vector<std::string>& args) {
  auto logger = make_logger(settings);
  Error e = app::run_runtime_wrapper(settings, args, *logger, environ);
  return report(e, *logger, *logger);
}

}  // namespace

void add_runtime_command(CLI::App& app, int& exit_code) {
  auto settings = std::make_shared<app::Settings>();
  settings->wait = std::chrono::seconds(10);
  CLI::App* cmd = app.add_subcommand(
      "runtime",
      "OCI runtime wrapper: on create and run, inject into <bundle>/config.json, then exec the real runtime "
      "with ARGS unchanged");
  add_table_options(*cmd, app::kRuntime, *settings);
  cmd->footer("Everything after -- is the real runtime's arguments, passed on untouched.");
  cmd->callback([settings, &exit_code] {
    if (!dashes_given() || args_after_dashes().empty()) {
      exit_code = usage("expected -- and the runtime's arguments, as in: cdi-hook runtime -- create --bundle B ID");
      return;
    }
    exit_code = run_runtime(*settings, args_after_dashes());
  });
}

int runtime_shim_main(int argc, char** argv) {
  set_command_path("cdi-hook runtime");
  app::Settings settings;
  settings.wait = std::chrono::seconds(10);
  const char* config = std::getenv("CDI_HOOK_RUNTIME_CONFIG");
  RealFs fs;
  if (!config || std::string_view(config) != "none") {
    // <sysconfdir>/cdi-hook/runtime.conf of this installation: /etc/cdi-hook/runtime.conf for /usr/bin.
    std::string path = config ? std::string(config) : runtime_config_of(this_binary());
    auto st = app::read_conf_file(fs, path, config != nullptr, app::kRuntime, settings);
    if (!st.ok()) return report(std::move(st).error());
  }
  if (auto st = app::read_env(app::kRuntime, settings, [](const char* n) -> const char* { return std::getenv(n); });
      !st.ok())
    return report(std::move(st).error());
  return run_runtime(settings, std::vector<std::string>(argv + 1, argv + argc));
}

}  // namespace cdi::cli
