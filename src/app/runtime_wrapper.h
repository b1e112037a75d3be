// The OCI runtime wrapper, for engines that read config.json before any hook
// runs (containerd, Docker, CRI-O): on create and run it injects the devices
// that <bundle>/config.json requests, then replaces itself with the real
// runtime, its arguments unchanged; every other command goes straight through.
//
// The rule it keeps: the bundle is changed if and only if the real runtime is
// started. So it finds and checks the runtime first (it exists, is executable
// and is not cdi-hook itself by inode), injects, and, should exec still fail,
// puts the config back as it was. It fails closed: a command line it cannot
// read (an unknown global flag of the runtime) is refused when the config it
// may be about requests devices. It refuses to run under itself: the runtime
// it starts gets CDI_HOOK_WRAPPED in its environment, and a wrapper that finds
// it set was reached again through a script, a link or a copy.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "app/options.h"
#include "base/error.h"
#include "base/logger.h"

namespace cdi::app {

inline constexpr std::string_view kWrappedMarker = "CDI_HOOK_WRAPPED";

// The wrapper's run: on success the real runtime has replaced this process and
// this never returns. On failure the runtime was not started, the bundle is
// as it was, and the error (also appended to the runtime's --log as a JSON
// line when --log-format json) is returned. `environ` is the environment to
// pass on.
Error run_runtime_wrapper(const Settings& settings, const std::vector<std::string>& args, Logger& logger,
                          char* const* environ);

// The path execvp would run for `name` (a regular, executable file), or an error.
Result<std::string> find_runtime(const std::string& name, std::string_view path_env);

}  // namespace cdi::app
