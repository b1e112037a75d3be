// What the subcommands share: the table's options on a CLI11 command, the
// logger that writes through spdlog, reporting an error as one line on stderr
// with the exit code its kind gives (app/error_report.h), and the arguments
// after "--".
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/error_report.h"
#include "app/options.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/logger.h"

namespace cdi::cli {

using app::kExitFailure;
using app::kExitOk;
using app::kExitUsage;

// Adds the options of app::option_table() that belong to `scope`, writing into
// `settings`; a bad value is a usage error ("--wait: expected ...").
void add_table_options(CLI::App& cmd, unsigned scope, app::Settings& settings);
// One row of the table, by name (for a command that takes a few of them).
CLI::Option* add_table_option(CLI::App& cmd, std::string_view name, app::Settings& settings);
// Help text, in the form every option of the table shows: the value's name
// instead of the parser's type, the default and repeatability in words.
CLI::Option* describe(CLI::Option* option, std::string_view value_name, std::string default_text = {},
                      bool repeatable = false);

// Logs through spdlog to a file (opened close-on-exec, so no runtime it execs
// inherits it) or stderr; the sink is made on first use, so a run that logs
// nothing pays nothing. A notice goes to stderr and, with a file, to the file.
class CliLogger final : public Logger {
 public:
  CliLogger(LogLevel level, std::string file);
  ~CliLogger() override;
  bool enabled(LogLevel level) const override;
  bool writes_to_file() const { return !file_.empty(); }
  void write(LogLevel level, std::string_view message) override;
  void notice(std::string_view message) override;

 private:
  struct Impl;
  LogLevel level_;
  std::string file_;
  std::unique_ptr<Impl> impl_;
};

// The logger --log-level and --log-file ask for; `quiet` is the level when
// neither is given.
std::unique_ptr<CliLogger> make_logger(const app::Settings& settings, LogLevel quiet = LogLevel::warn);

// Prints "cdi-hook: <error>" on stderr (and, for a usage error, where the
// command's help is); returns the exit code the error's kind gives.
int report(const Error& error);
// report(), and the same line through `logger` (which writes to `sink`) when
// `sink` writes to a file (podman discards a precreate hook's stderr: the log
// file is where the error shows).
int report(const Error& error, const CliLogger& sink, Logger& logger);
// report() of a usage error.
int usage(std::string message);
// Prints "cdi-hook: <line>" on stderr.
void print_stderr(const std::string& line);
// "no spec dir exists ("/etc/cdi", "/var/run/cdi")" when none of `dirs`
// exists; empty when one does.
std::string no_spec_dir_exists(Fs& fs, const std::vector<std::string>& dirs);
// Writes all of data to stdout.
Status write_stdout(std::string_view data);

// The command being run ("cdi-hook inject"), for the help hint of usage errors.
void set_command_path(std::string path);
const std::string& command_path();

// What followed the first "--" on the command line, for commands that pass
// arguments on untouched (the runtime wrapper): main takes them out before
// CLI11 parses the rest.
const std::vector<std::string>& args_after_dashes();
void set_args_after_dashes(std::vector<std::string> args, bool present);
bool dashes_given();

}  // namespace cdi::cli
