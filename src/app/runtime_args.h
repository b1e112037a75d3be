// Reading an OCI runtime command line the way runc (and crun) take it: global
// flags, then the command, then its flags and arguments. The runtime wrapper
// needs only the command and, for create and run, the bundle.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace cdi {

struct RuntimeCommand {
  std::string command;                // empty when none (e.g. only --version)
  std::optional<std::string> bundle;  // --bundle/-b of create and run; unset: the working directory
  std::string log_file;               // the global --log, where runc-style runtimes report errors
  std::string log_format;             // the global --log-format
  bool injects() const { return command == "create" || command == "run"; }
};

// `args` excludes argv[0]. A bundle flag without a value is an error.
Result<RuntimeCommand> parse_runtime_command(const std::vector<std::string>& args);

}  // namespace cdi
