// What the subcommands share: exit codes, the injection flags, the logger that
// writes through spdlog, and reporting an error as one line on stderr.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/error.h"
#include "base/logger.h"
#include "inject/injector.h"

namespace cdi::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Options shared by every command that injects (hook, inject, runtime).
struct InjectionFlags {
  std::vector<std::string> spec_dirs;
  double wait_seconds = 0;
  std::string log_file;
  std::string log_level = "warning";
  // The level when neither --log-level nor --log-file is given: the hook keeps
  // stderr to its one error line ("error"); the interactive tools show warnings.
  std::string stderr_log_level = "warning";
  bool log_level_given = false;
  std::string cache_dir = "auto";
  bool allow_insecure_specs = false;
  std::string guest_map;  // --guest-map: translate to the guest after injection
  std::string sysfs_root = "/sys";

  void add_to(CLI::App& cmd, double default_wait);
  // The options without the files the flags name (no guest map).
  InjectOptions to_options() const;
  // to_options() with the guest map read and checked; a bad map is one error.
  Result<InjectOptions> load_options() const;
};

// Logs through spdlog to a file or stderr; the sink is made on first use, so a
// run that logs nothing pays nothing.
class CliLogger final : public Logger {
 public:
  CliLogger(LogLevel level, std::string file);
  ~CliLogger() override;
  bool enabled(LogLevel level) const override;
  bool writes_to_file() const { return !file_.empty(); }
  void write(LogLevel level, std::string_view message) override;

 private:
  struct Impl;
  LogLevel level_;
  std::string file_;
  std::unique_ptr<Impl> impl_;
};

// Builds the logger from --log-level and --log-file; an unknown level is a usage error.
Result<std::unique_ptr<CliLogger>> make_logger(const InjectionFlags& flags);

// Prints "cdi-hook: <error>" on stderr; returns kExitFailure.
int report(const Error& error);
// report(), and the same line in the log file when there is one (podman
// discards a precreate hook's stderr: the log file is where the error shows).
int report(const Error& error, Logger& logger);
// Writes all of data to stdout.
Status write_stdout(std::string_view data);

}  // namespace cdi::cli
