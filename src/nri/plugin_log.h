// Where the plugin's log goes: stderr (external launch, e.g. under systemd or
// in a pod), a file (--log-file), syslog/journald (--syslog; the default when
// the runtime starts the plugin, which gives it no stderr). spdlog's sinks;
// syslog through nri/syslog_client.h.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/logger.h"

namespace cdi::nri {

struct LogSinks {
  bool to_stderr = false;
  std::string file;     // empty: none
  bool syslog = false;  // LOG_DAEMON, ident `ident`, with the pid
  std::string syslog_path = "/dev/log";
  std::string ident = "cdi-hook-nri";
};

class PluginLogger final : public Logger {
 public:
  // Fails when the log file cannot be opened.
  static Result<std::unique_ptr<PluginLogger>> create(LogLevel level, const LogSinks& sinks);
  ~PluginLogger() override;
  bool enabled(LogLevel level) const override { return level >= level_ && level_ != LogLevel::off; }
  void write(LogLevel level, std::string_view message) override;

 private:
  struct Impl;
  PluginLogger(LogLevel level, std::unique_ptr<Impl> impl);
  LogLevel level_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cdi::nri

namespace cdi::nri {

// A logger whose destination can change while the plugin runs: a
// pre-registered plugin learns its log options only from Configure.
//
// Between hold() and release() lines are kept in memory and then written in
// order: the session holds them while it answers, so that writing the log
// (a file, syslog) happens after the answer is sent, not while the runtime
// waits for it.
class SwitchingLogger final : public Logger {
 public:
  explicit SwitchingLogger(std::unique_ptr<Logger> target) : target_(std::move(target)) {}
  // Lines held so far go to the old target, the ones after to the new.
  void set(std::unique_ptr<Logger> target) {
    write_pending();
    target_ = std::move(target);
  }
  bool enabled(LogLevel level) const override { return target_ && target_->enabled(level); }
  void write(LogLevel level, std::string_view message) override {
    if (!target_) return;
    if (held_) {
      pending_.emplace_back(level, std::string(message));
      return;
    }
    target_->write(level, message);
  }
  void hold() { held_ = true; }
  void release() {
    held_ = false;
    write_pending();
  }

 private:
  void write_pending() {
    if (target_) {
      for (const auto& [level, line] : pending_) target_->write(level, line);
    }
    pending_.clear();
  }

  std::unique_ptr<Logger> target_;
  bool held_ = false;
  std::vector<std::pair<LogLevel, std::string>> pending_;
};

}  // namespace cdi::nri
