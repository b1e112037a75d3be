#include "cli/common.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <spdlog/logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "base/fs.h"
#include "base/text.h"
#include "guest/guest_map.h"
#include "registry/kind_index.h"

namespace cdi::cli {

void InjectionFlags::add_to(CLI::App& cmd, double default_wait) {
  wait_seconds = default_wait;
  cmd.add_option("--spec-dir", spec_dirs,
                 "CDI spec directory, in increasing priority (repeatable; replaces /etc/cdi and /var/run/cdi)");
  cmd.add_option("--wait", wait_seconds, "Seconds to wait for unresolved devices to appear in the spec dirs")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--log-file", log_file, "Append logs to this file instead of stderr");
  cmd.add_option("--log-level", log_level, "trace, debug, info, warning, error or off")
      ->capture_default_str()
      ->each([this](const std::string&) { log_level_given = true; });
  cmd.add_option("--cache-dir", cache_dir,
                 "Where the spec kind index lives; 'auto' (/run/cdi-hook for root, $XDG_RUNTIME_DIR/cdi-hook "
                 "otherwise) or 'none'")
      ->capture_default_str();
  cmd.add_flag("--allow-insecure-specs", allow_insecure_specs,
               "Use spec files and dirs that users other than root and the current user can write");
  cmd.add_option("--guest-map", guest_map,
                 "After injection, translate host device numbers and PCI addresses to the guest's (a JSON guest "
                 "map, see schemas/guest-map.schema.json)");
  cmd.add_option("--sysfs-root", sysfs_root, "The guest's sysfs, for the guest map's PCI paths and SCSI disks")
      ->capture_default_str();
}

InjectOptions InjectionFlags::to_options() const {
  InjectOptions o;
  if (!spec_dirs.empty()) o.registry.spec_dirs = spec_dirs;
  o.registry.check_permissions = !allow_insecure_specs;
  o.registry.cache_dir = cache_dir == "auto" ? default_cache_dir() : cache_dir == "none" ? "" : cache_dir;
  o.wait = std::chrono::milliseconds(static_cast<long long>(wait_seconds * 1000.0 + 0.5));
  // Every command reads the config from bytes it keeps (a file, stdin) and
  // writes nothing on error, so the parsed copy can take the edits directly.
  o.discard_on_error = true;
  o.sysfs_root = sysfs_root;
  return o;
}

Result<InjectOptions> InjectionFlags::load_options() const {
  InjectOptions o = to_options();
  if (guest_map.empty()) return o;
  RealFs fs;
  auto map = load_guest_map(fs, guest_map);
  if (!map.ok()) return std::move(map).error();
  o.guest_map = std::make_shared<const GuestMap>(std::move(*map));
  return o;
}

struct CliLogger::Impl {
  std::shared_ptr<spdlog::logger> logger;
};

CliLogger::CliLogger(LogLevel level, std::string file) : level_(level), file_(std::move(file)) {}
CliLogger::~CliLogger() {
  if (impl_ && impl_->logger) impl_->logger->flush();
}

bool CliLogger::enabled(LogLevel level) const { return level_ != LogLevel::off && level >= level_; }

namespace {
spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return spdlog::level::trace;
    case LogLevel::debug:
      return spdlog::level::debug;
    case LogLevel::info:
      return spdlog::level::info;
    case LogLevel::warn:
      return spdlog::level::warn;
    case LogLevel::error:
      return spdlog::level::err;
    case LogLevel::off:
      return spdlog::level::off;
  }
  return spdlog::level::info;
}
}  // namespace

void CliLogger::write(LogLevel level, std::string_view message) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>();
    spdlog::sink_ptr sink;
    std::string fallback;
    if (!file_.empty()) {
      try {
        sink = std::make_shared<spdlog::sinks::basic_file_sink_st>(file_);
      } catch (const spdlog::spdlog_ex& e) {
        fallback = std::string("cannot open log file ") + quote(file_) + ": " + e.what();
      }
    }
    if (!sink) sink = std::make_shared<spdlog::sinks::stderr_sink_st>();
    impl_->logger = std::make_shared<spdlog::logger>("cdi-hook", sink);
    impl_->logger->set_level(to_spdlog(level_));
    impl_->logger->set_pattern(file_.empty() || !fallback.empty() ? "cdi-hook: %l: %v"
                                                                  : "%Y-%m-%dT%H:%M:%S.%e cdi-hook[%P] %l: %v");
    impl_->logger->flush_on(spdlog::level::trace);
    if (!fallback.empty()) impl_->logger->warn(fallback);
  }
  impl_->logger->log(to_spdlog(level), "{}", message);
}

Result<std::unique_ptr<CliLogger>> make_logger(const InjectionFlags& flags) {
  LogLevel level{};
  const std::string& wanted =
      flags.log_level_given || !flags.log_file.empty() ? flags.log_level : flags.stderr_log_level;
  if (!parse_log_level(wanted, level)) {
    return Error("invalid --log-level " + quote(flags.log_level) +
                 ": expected trace, debug, info, warning, error or off");
  }
  return std::make_unique<CliLogger>(level, flags.log_file);
}

int report(const Error& error) {
  std::string line = "cdi-hook: " + error.to_string() + "\n";
  (void)!::write(STDERR_FILENO, line.data(), line.size());
  return kExitFailure;
}

int report(const Error& error, Logger& logger) {
  auto* cli = dynamic_cast<CliLogger*>(&logger);
  if (cli && cli->writes_to_file()) logger.error(error.to_string());
  return report(error);
}

Status write_stdout(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("write stdout", errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace cdi::cli
