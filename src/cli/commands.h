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

}  // namespace cdi::cli
