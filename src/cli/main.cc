// cdi-hook: the command table. Each subcommand lives in its own file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "cli/common.h"

int main(int argc, char** argv) {
  std::string_view self = argc > 0 ? argv[0] : "";
  if (self.substr(self.rfind('/') + 1) == "cdi-hook-runtime") return cdi::cli::runtime_shim_main(argc, argv);
  CLI::App app{"cdi-hook: inject Container Device Interface (CDI) devices into OCI containers"};
  app.set_version_flag("--version", "cdi-hook " CDIHOOK_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  int exit_code = cdi::cli::kExitOk;
  cdi::cli::add_hook_command(app, exit_code);
  cdi::cli::add_inject_command(app, exit_code);
  cdi::cli::add_validate_command(app, exit_code);
  cdi::cli::add_list_command(app, exit_code);
  cdi::cli::add_annotate_command(app, exit_code);
  cdi::cli::add_runtime_command(app, exit_code);
  cdi::cli::add_guest_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = std::string("cdi-hook: ") + e.what() + "\nRun 'cdi-hook --help' for usage.\n";
    std::fputs(msg.c_str(), stderr);
    return cdi::cli::kExitUsage;
  }
  return exit_code;
}
