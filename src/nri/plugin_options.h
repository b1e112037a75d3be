// The plugin's options, from one table: command-line flags (--name VALUE or
// --name=VALUE) and the "key = value" text of a config file use the same
// names. A pre-registered plugin gets that text from the runtime, the contents
// of /etc/nri/conf.d/NN-name.conf, in ConfigureRequest.config; an external one
// may read it from --config FILE. Unknown keys and bad values are refused.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/logger.h"

namespace cdi::nri {

enum class CdiMode {
  raw,        // resolve the devices here and return their edits
  reference,  // return the device names (ContainerAdjustment.CDI_devices) for the runtime to resolve
  automatic,  // reference where the runtime honours CDI_devices, raw elsewhere
};

std::string_view cdi_mode_name(CdiMode mode);

struct PluginOptions {
  // External launch only: where to connect, and the identity to register.
  std::string socket = "/var/run/nri/nri.sock";
  std::string name = "cdi-hook";
  std::string index = "10";
  // Resolution.
  std::vector<std::string> spec_dirs;  // empty: the defaults, /etc/cdi then /var/run/cdi
  CdiMode cdi_mode = CdiMode::raw;
  std::vector<std::string> skip_runtime_handlers = {"kata*"};  // shell patterns
  bool pod_annotations = false;
  std::chrono::milliseconds wait{1000};
  bool allow_insecure_specs = false;
  // Logs.
  std::string log_file;
  LogLevel log_level = LogLevel::info;
  std::optional<bool> syslog;  // unset: on when the runtime started the plugin, off otherwise
  // Liveness: a file rewritten every few seconds while the event loop runs.
  std::string health_file;
};

// Where a value came from, for the source-specific rules and messages.
enum class OptionSource { flag, config_file, runtime_config };

// One option. `value` is empty for a boolean (a flag alone means true).
struct OptionSpec {
  std::string_view name;
  std::string_view value;
  std::string_view help;
  bool repeatable;
  bool external_only;  // set by the runtime for a pre-registered plugin: refused in its conf.d text
  Status (*set)(PluginOptions& options, std::string_view value);
};

const std::vector<OptionSpec>& option_table();

// Applies "key = value" lines ('#' starts a comment, blank lines are skipped)
// to `options`. `origin` names the text in errors ("/etc/cdi-hook/nri.conf",
// "the runtime's config for 10-cdi-hook"). A repeatable key replaces the
// default at its first line and appends after.
Status apply_config_text(PluginOptions& options, std::string_view text, std::string_view origin, OptionSource source);

// What the command line asked for.
struct CommandLine {
  PluginOptions options;
  std::string config_file;  // --config FILE, already applied below the flags
  bool help = false;
  bool version = false;
  // `health` subcommand: check --health-file's age instead of running.
  bool health_check = false;
  std::chrono::seconds health_max_age{30};
  bool health_ready = false;  // --ready: also require the state "registered"
  // `check CONF` subcommand: what a pre-registered plugin would make of CONF.
  bool check = false;
  std::string check_file;
};

// Parses argv[1..]: --config FILE is read first (through `read_file`), the
// flags then override it. Errors are usage errors.
using ReadFile = Result<std::string> (*)(const std::string& path);
Result<CommandLine> parse_command_line(int argc, const char* const* argv, ReadFile read_file);

// The help text, from the table.
std::string usage();

}  // namespace cdi::nri
