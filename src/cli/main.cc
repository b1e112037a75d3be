// cdi-hook: the command table. Each subcommand lives in its own file.
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/install_paths.h"
#include "app/options.h"
#include "base/atomic_file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/docgen.h"
#include "spec/spec.h"

extern const char* const kCdiHookGitCommit;  // generated at build time (cmake/CdiHookGitVersion.cmake)

namespace {

struct Command {
  std::string_view name;
  void (*add)(CLI::App&, int&);
  // Takes "-- ARGS": everything after the first "--" is passed on untouched.
  bool takes_args_after_dashes = false;
};

constexpr Command kCommands[] = {
    {"hook", cdi::cli::add_hook_command},         {"inject", cdi::cli::add_inject_command},
    {"validate", cdi::cli::add_validate_command}, {"list", cdi::cli::add_list_command},
    {"annotate", cdi::cli::add_annotate_command}, {"runtime", cdi::cli::add_runtime_command, true},
    {"guest", cdi::cli::add_guest_command},       {"try", cdi::cli::add_try_command, true},
    {"monitor", cdi::cli::add_monitor_command},
};

const Command* find_command(std::string_view name) {
  for (const auto& c : kCommands) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string command_names() {
  std::vector<std::string> names;
  for (const auto& c : kCommands) names.emplace_back(c.name);
  return cdi::join(names, ", ");
}

// "cdi-hook guest translate": the deepest command CLI11 got to.
std::string parsed_path(const CLI::App& app) {
  std::string path = app.get_name();
  const CLI::App* cur = &app;
  while (!cur->get_subcommands().empty()) {
    cur = cur->get_subcommands().front();
    path += " " + cur->get_name();
  }
  return path;
}

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

// cdi-hook __generate man|man-runtime|bash|zsh|fish [FILE]: the man page or a
// completion script, from the full command tree (what --help shows), on
// stdout or into FILE.
int generate(CLI::App& app, int& exit_code, std::string_view what, const char* file) {
  for (const auto& c : kCommands) c.add(app, exit_code);
  std::string out;
  if (what == "man-runtime") {
    out = ".so man1/cdi-hook.1\n";
  } else if (what == "man") {
    out = cdi::cli::man_page(app, CDIHOOK_VERSION);
  } else if (what == "bash") {
    out = cdi::cli::bash_completion(app);
  } else if (what == "zsh") {
    out = cdi::cli::zsh_completion(app);
  } else if (what == "fish") {
    out = cdi::cli::fish_completion(app);
  } else {
    return cdi::cli::usage("expected man, man-runtime, bash, zsh or fish, got " + cdi::quote(what));
  }
  cdi::AtomicWriteOptions plain;
  plain.mode = 0644;
  plain.keep_owner = false;
  plain.durable = false;
  auto st = file != nullptr ? cdi::write_file_atomic(file, out, plain) : cdi::cli::write_stdout(out);
  if (!st.ok()) return cdi::cli::report(st.error());
  return cdi::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  using cdi::cli::usage;
  std::string_view self = argc > 0 ? argv[0] : "";
  if (self.substr(self.rfind('/') + 1) == "cdi-hook-runtime") return cdi::cli::runtime_shim_main(argc, argv);
  if (self.substr(self.rfind('/') + 1) == "cdi-hook-try-agent") return cdi::cli::try_agent_main(argc, argv);
  CLI::App app{"cdi-hook: inject Container Device Interface (CDI) devices into OCI containers", "cdi-hook"};
  app.set_version_flag("--version", version_text);
  app.require_subcommand(1);
  app.fallthrough(false);
  int exit_code = cdi::cli::kExitOk;

  // The hook runs on every container start: when argv[1] names a command, only
  // that one is built (the others cost start-up time and memory for nothing).
  std::string_view first = argc > 1 ? argv[1] : "";
  const Command* command = find_command(first);
  if (argc < 2) return usage("expected a command: " + command_names());
  if (first == cdi::cli::kGenerateCommand) {
    return generate(app, exit_code, argc > 2 ? argv[2] : "", argc > 3 ? argv[3] : nullptr);
  }
  if (command == nullptr && !first.starts_with('-')) {
    std::vector<std::string_view> names;
    for (const auto& c : kCommands) names.push_back(c.name);
    std::string_view hint = cdi::app::closest_name(first, names);
    return usage("unknown command " + cdi::quote(first) +
                 (hint.empty() ? ": expected one of " + command_names() : " (did you mean " + cdi::quote(hint) + "?)"));
  }
  for (const auto& c : kCommands) {
    if (command == nullptr || &c == command) c.add(app, exit_code);
  }
  app.footer("Run 'cdi-hook COMMAND --help' for the options of a command.\n");
  if (command != nullptr) cdi::cli::set_command_path("cdi-hook " + std::string(command->name));

  // What follows the first "--" is the command's own arguments, whatever
  // option stands before it: CLI11 never sees them.
  if (command != nullptr && command->takes_args_after_dashes) {
    for (int i = 2; i < argc; ++i) {
      if (std::string_view(argv[i]) != "--") continue;
      cdi::cli::set_args_after_dashes(std::vector<std::string>(argv + i + 1, argv + argc), true);
      argc = i;
      break;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    cdi::cli::set_command_path(parsed_path(app));
    return usage(e.what());
  }
  return exit_code;
}
