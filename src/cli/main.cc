// cdi-hook: the command table. Each subcommand lives in its own file.
#include <cstdio>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "app/install_paths.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "spec/spec.h"

extern const char* const kCdiHookGitCommit;  // generated at build time (cmake/CdiHookGitVersion.cmake)

namespace {

struct Command {
  std::string_view name;
  void (*add)(CLI::App&, int&);
};

constexpr Command kCommands[] = {
    {"hook", cdi::cli::add_hook_command},         {"inject", cdi::cli::add_inject_command},
    {"validate", cdi::cli::add_validate_command}, {"list", cdi::cli::add_list_command},
    {"annotate", cdi::cli::add_annotate_command}, {"runtime", cdi::cli::add_runtime_command},
    {"guest", cdi::cli::add_guest_command},       {"try", cdi::cli::add_try_command},
    {"monitor", cdi::cli::add_monitor_command},
};

// --version: the release, the commit, the cdiVersions the spec reader accepts and
// where cdi-hook-runtime reads its options.
std::string version_text() {
  std::string versions;
  for (int major = 0; major <= cdi::kNewestVersion.major; ++major) {
    for (int minor = 0; minor <= 99; ++minor) {
      std::string v = std::to_string(major) + "." + std::to_string(minor) + ".0";
      if (cdi::parse_spec_version(v).ok()) versions += (versions.empty() ? "" : ", ") + v;
    }
  }
  return std::string("cdi-hook " CDIHOOK_VERSION " (git ") + kCdiHookGitCommit + ")\nCDI spec versions: " + versions +
         "\ncdi-hook-runtime options: " + cdi::runtime_config_of(cdi::this_binary());
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view self = argc > 0 ? argv[0] : "";
  if (self.substr(self.rfind('/') + 1) == "cdi-hook-runtime") return cdi::cli::runtime_shim_main(argc, argv);
  if (self.substr(self.rfind('/') + 1) == "cdi-hook-try-agent") return cdi::cli::try_agent_main(argc, argv);
  CLI::App app{"cdi-hook: inject Container Device Interface (CDI) devices into OCI containers"};
  app.set_version_flag("--version", version_text);
  app.require_subcommand(1);
  app.fallthrough(false);
  int exit_code = cdi::cli::kExitOk;
  // The hook runs on every container start: when argv[1] names a command, only
  // that one is built (the others cost start-up time and memory for nothing).
  std::string_view first = argc > 1 ? argv[1] : "";
  bool known = false;
  for (const auto& c : kCommands) known = known || c.name == first;
  for (const auto& c : kCommands) {
    if (!known || c.name == first) c.add(app, exit_code);
  }
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
