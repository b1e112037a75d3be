// The subcommands, each in its own file, registered on the top-level app.
#pragma once

#include <CLI/CLI.hpp>

namespace cdi::cli {

// Each adds its subcommand; its callback stores the exit code in `exit_code`.
void add_hook_command(CLI::App& app, int& exit_code);
void add_inject_command(CLI::App& app, int& exit_code);
void add_validate_command(CLI::App& app, int& exit_code);
void add_list_command(CLI::App& app, int& exit_code);
void add_annotate_command(CLI::App& app, int& exit_code);
void add_runtime_command(CLI::App& app, int& exit_code);
void add_guest_command(CLI::App& app, int& exit_code);
void add_try_command(CLI::App& app, int& exit_code);
void add_monitor_command(CLI::App& app, int& exit_code);

// cdi-hook-runtime: the runtime wrapper under a name of its own, taking runc's
// arguments unchanged (options from <sysconfdir>/cdi-hook/runtime.conf and CDI_HOOK_*).
int runtime_shim_main(int argc, char** argv);

// cdi-hook-try-agent: the copy of cdi-hook inside a `try` container (its probe and hook recorder).
int try_agent_main(int argc, char** argv);

}  // namespace cdi::cli
