#include "cli/common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <mutex>

#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "base/text.h"

namespace cdi::cli {

namespace {

std::string g_command_path = "cdi-hook";
std::vector<std::string> g_args_after_dashes;
bool g_dashes_given = false;

// Writes each formatted line with one write(2) to a descriptor opened
// O_APPEND | O_CLOEXEC: lines of concurrent runs do not interleave, and a
// runtime the wrapper execs does not inherit the file.
class AppendFileSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  explicit AppendFileSink(int fd) : fd_(fd) {}
  ~AppendFileSink() override { ::close(fd_); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    (void)!::write(fd_, buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  int fd_;
};

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

void write_stderr(const std::string& text) { (void)!::write(STDERR_FILENO, text.data(), text.size()); }

}  // namespace

CLI::Option* describe(CLI::Option* option, std::string_view value_name, std::string default_text, bool repeatable) {
  std::string text = option->get_description();
  if (!default_text.empty()) text += " (default: " + default_text + ")";
  if (repeatable) text += " (repeatable)";
  option->description(text);
  // A positional is named by itself; a list of them says so.
  if (value_name.empty() && option->get_positional()) {
    value_name = option->get_expected_max() > 1 ? "..." : " ";
  }
  option->option_text(std::string(value_name));
  return option;
}

CLI::Option* add_table_option(CLI::App& cmd, std::string_view name, app::Settings& settings) {
  const app::OptionSpec* spec = app::find_option(name);
  std::string flag = "--" + std::string(name);
  std::string help(spec->help);
  if (spec->value_name.empty()) {
    return cmd.add_flag_callback(
        flag, [spec, &settings] { (void)app::set_from_flag(*spec, "true", settings); }, help);
  }
  CLI::Option* opt = cmd.add_option(flag)->description(help);
  opt->each([spec, &settings](const std::string& value) {
    auto st = app::set_from_flag(*spec, value, settings);
    if (!st.ok()) throw CLI::ValidationError(st.error().message);
  });
  opt->multi_option_policy(spec->repeatable ? CLI::MultiOptionPolicy::TakeAll : CLI::MultiOptionPolicy::TakeLast);
  return describe(opt, spec->value_name, spec->shown_default(settings), spec->repeatable);
}

void add_table_options(CLI::App& cmd, unsigned scope, app::Settings& settings) {
  for (const auto& o : app::option_table()) {
    if ((o.scopes & scope) != 0) add_table_option(cmd, o.name, settings);
  }
}

struct CliLogger::Impl {
  std::shared_ptr<spdlog::logger> logger;
};

CliLogger::CliLogger(LogLevel level, std::string file) : level_(level), file_(std::move(file)) {}
CliLogger::~CliLogger() {
  if (impl_ && impl_->logger) impl_->logger->flush();
}

bool CliLogger::enabled(LogLevel level) const { return level_ != LogLevel::off && level >= level_; }

void CliLogger::write(LogLevel level, std::string_view message) {
  if (!impl_) {
    impl_ = std::make_unique<Impl>();
    spdlog::sink_ptr sink;
    std::string fallback;
    if (!file_.empty()) {
      int fd = ::open(file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
      if (fd >= 0) {
        sink = std::make_shared<AppendFileSink>(fd);
      } else {
        fallback = "cannot open log file " + quote(file_) + ": " + std::strerror(errno);
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

void CliLogger::notice(std::string_view message) {
  if (level_ == LogLevel::off) return;
  write_stderr("cdi-hook: " + std::string(message) + "\n");
  if (!file_.empty() && enabled(LogLevel::warn)) write(LogLevel::warn, message);
}

std::unique_ptr<CliLogger> make_logger(const app::Settings& settings, LogLevel quiet) {
  return std::make_unique<CliLogger>(app::log_level_of(settings, quiet), settings.log_file);
}

int report(const Error& error) {
  std::string text = app::error_line(error) + "\n";
  if (error.kind == ErrorKind::usage) text += "Run '" + g_command_path + " --help' for usage.\n";
  write_stderr(text);
  return app::exit_code(error);
}

int report(const Error& error, const CliLogger& sink, Logger& logger) {
  if (sink.writes_to_file()) logger.error(error.to_string());
  return report(error);
}

int usage(std::string message) { return report(Error(std::move(message)).of_kind(ErrorKind::usage)); }

void print_stderr(const std::string& line) { write_stderr("cdi-hook: " + line + "\n"); }

std::string no_spec_dir_exists(Fs& fs, const std::vector<std::string>& dirs) {
  std::vector<std::string> quoted;
  for (const auto& d : dirs) {
    auto st = fs.stat(d);
    if (st.ok() || st.error().sys_errno != ENOENT) return {};
    quoted.push_back(quote(d));
  }
  return "no spec dir exists (" + join(quoted, ", ") + ")";
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

void set_command_path(std::string path) { g_command_path = std::move(path); }
const std::string& command_path() { return g_command_path; }

const std::vector<std::string>& args_after_dashes() { return g_args_after_dashes; }
void set_args_after_dashes(std::vector<std::string> args, bool present) {
  g_args_after_dashes = std::move(args);
  g_dashes_given = present;
}
bool dashes_given() { return g_dashes_given; }

}  // namespace cdi::cli
