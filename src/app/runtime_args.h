// Reading an OCI runtime command line the way the runtimes take it: global
// flags, then the command, then its flags and arguments. The runtime wrapper
// needs the command and, for create and run, the bundle, the container ID and
// the runtime's --log/--log-format.
//
// The command can be told only when every global flag before it is known to
// take a value or not. The flags of runc, crun, runsc, youki and kata-runtime
// are known (by the runtime's file name; runc's for any other name), and the
// wrapper's configuration adds more. An unknown flag without "=VALUE" makes the
// command line ambiguous; when one reading of it is create or run, the wrapper
// must not guess (runtime_wrapper.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace cdi::app {

// The global flags of a runtime, without their dashes.
struct RuntimeFlags {
  std::vector<std::string> with_value;
  std::vector<std::string> without_value;
};

// The known global flags of the runtime at `path` (by its file name).
RuntimeFlags known_runtime_flags(std::string_view path);

struct RuntimeCommand {
  std::string command;                // empty when none (e.g. only --version)
  std::optional<std::string> bundle;  // --bundle/-b of create and run; unset: the working directory
  std::optional<std::string> config;  // --config/-f of create and run (crun): another config file
  std::string container_id;           // the first argument of create and run
  std::string log_file;               // the global --log, where runc-style runtimes report errors
  std::string log_format;             // the global --log-format
  bool injects() const { return command == "create" || command == "run"; }
};

struct RuntimeCommandLine {
  // The reading when the command line is unambiguous; otherwise the first
  // reading that injects (or the first one).
  RuntimeCommand command;
  // Set when unknown global flags allow readings that disagree about
  // injecting: the first such flag ("--platform").
  std::string ambiguous_flag;
  // Every reading that injects (several only when ambiguous).
  std::vector<RuntimeCommand> injecting;
};

// `args` excludes argv[0]. A known flag without its value, or a bundle flag
// without a path, is an error.
Result<RuntimeCommandLine> parse_runtime_command(const std::vector<std::string>& args, const RuntimeFlags& flags);

}  // namespace cdi::app
