// cdi-hook inject: inject devices into a config file (or stdin) and print the
// result, or rewrite the file in place.
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

struct InjectCmdOptions {
  InjectionFlags flags;
  std::string config;
  std::vector<std::string> devices;
  bool in_place = false;
};

int run_inject(const InjectCmdOptions& o) {
  auto logger = make_logger(o.flags);
  if (!logger.ok()) {
    report(logger.error());
    return kExitUsage;
  }
  if (o.in_place && o.config == "-") {
    report(Error("--in-place needs a file, not stdin"));
    return kExitUsage;
  }
  std::string source = o.config == "-" ? "stdin" : o.config;
  auto bytes = read_file_or_stdin(o.config, kMaxConfigBytes);
  if (!bytes.ok()) return report(bytes.error());
  auto config = OciDocument::parse(*bytes);
  if (!config.ok()) return report(std::move(config).error().in_file(source, config.error().line, config.error().column));

  std::vector<std::string> devices = o.devices;
  if (devices.empty()) {
    auto requested = requested_devices(*config);
    if (!requested.ok()) return report(std::move(requested).error().in_file(source));
    devices = std::move(*requested);
  }
  bool changed = false;
  if (!devices.empty()) {
    RealFs fs;
    auto result = inject_devices(*config, devices, fs, **logger, o.flags.to_options());
    if (!result.ok()) return report(result.error());
    changed = true;
  }
  if (o.in_place) {
    if (!changed) return kExitOk;
    if (auto st = write_file_atomic(o.config, config->serialize(true)); !st.ok()) return report(st.error());
    return kExitOk;
  }
  if (auto st = write_stdout(config->serialize(true)); !st.ok()) return report(st.error());
  return kExitOk;
}

}  // namespace

void add_inject_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<InjectCmdOptions>();
  CLI::App* cmd = app.add_subcommand("inject", "Inject CDI devices into an OCI config and print the result");
  cmd->add_option("--config", opts->config, "OCI config.json to read ('-' for stdin)")->required();
  cmd->add_option("--device", opts->devices,
                  "Qualified device name vendor/class=name (repeatable); default: the config's cdi.k8s.io/ "
                  "annotations");
  cmd->add_flag("--in-place", opts->in_place, "Rewrite the config file atomically instead of printing it");
  opts->flags.add_to(*cmd, 0.0);
  cmd->callback([opts, &exit_code] { exit_code = run_inject(*opts); });
}

}  // namespace cdi::cli
