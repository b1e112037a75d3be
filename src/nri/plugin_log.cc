#include "nri/plugin_log.h"

#include <syslog.h>

#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include "nri/syslog_client.h"

namespace cdi::nri {

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

// Lines to syslog/journald through the plugin's own client
// (nri/syslog_client.h: never blocks, cheap while no daemon listens).
class SyslogSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  SyslogSink(const std::string& ident, const std::string& path) : client_(ident, path) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    int severity = LOG_INFO;
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug:
        severity = LOG_DEBUG;
        break;
      case spdlog::level::warn:
        severity = LOG_WARNING;
        break;
      case spdlog::level::err:
        severity = LOG_ERR;
        break;
      case spdlog::level::critical:
        severity = LOG_CRIT;
        break;
      default:
        break;
    }
    client_.send(severity, std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  SyslogClient client_;
};

}  // namespace

LogSinks log_sinks(const PluginOptions& options, bool pre_registered) {
  LogSinks s;
  s.to_stderr = !pre_registered;
  s.file = options.log_file;
  s.syslog = options.syslog.value_or(pre_registered);
  return s;
}

struct PluginLogger::Impl {
  std::shared_ptr<spdlog::logger> logger;
};

PluginLogger::PluginLogger(LogLevel level, std::unique_ptr<Impl> impl) : level_(level), impl_(std::move(impl)) {}

PluginLogger::~PluginLogger() = default;

Result<std::unique_ptr<PluginLogger>> PluginLogger::create(LogLevel level, const LogSinks& sinks) {
  auto impl = std::make_unique<Impl>();
  std::vector<spdlog::sink_ptr> list;
  try {
    if (!sinks.file.empty()) {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_st>(sinks.file, false);
      file->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z " + sinks.ident + "[%P] %l: %v");
      list.push_back(file);
    }
    if (sinks.syslog) {
      list.push_back(std::make_shared<SyslogSink>(sinks.ident, sinks.syslog_path));
    }
    if (sinks.to_stderr) {
      auto err = std::make_shared<spdlog::sinks::stderr_sink_st>();
      err->set_pattern(sinks.ident + ": %l: %v");
      list.push_back(err);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return Error(std::string("log file: ") + e.what());
  }
  impl->logger = std::make_shared<spdlog::logger>("cdi-hook-nri", list.begin(), list.end());
  impl->logger->set_level(to_spdlog(level));
  impl->logger->flush_on(spdlog::level::trace);  // every line at once: the plugin may be SIGKILLed
  return std::unique_ptr<PluginLogger>(new PluginLogger(level, std::move(impl)));
}

void PluginLogger::write(LogLevel level, std::string_view message) {
  impl_->logger->log(to_spdlog(level), spdlog::string_view_t(message.data(), message.size()));
}

void PluginLogger::write_at(LogLevel level, std::string_view message, std::chrono::system_clock::time_point when) {
  impl_->logger->log(when, spdlog::source_loc{}, to_spdlog(level),
                     spdlog::string_view_t(message.data(), message.size()));
}

}  // namespace cdi::nri
