// Where the plugin's log goes: stderr (external launch, e.g. under systemd or
// in a pod), a file (--log-file), syslog/journald (--syslog; the default when
// the runtime starts the plugin, which gives it no stderr). spdlog's sinks;
// syslog through nri/syslog_client.h.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/logger.h"
#include "nri/plugin_options.h"

namespace cdi::nri {

struct LogSinks {
  bool to_stderr = false;
  std::string file;     // empty: none
  bool syslog = false;  // LOG_DAEMON, ident `ident`, with the pid
  std::string syslog_path = "/dev/log";
  std::string ident = "cdi-hook-nri";
};

// Where the options send the log: stderr unless the runtime started the plugin
// (it points a pre-registered plugin's stderr at /dev/null), the log file, and
// syslog when asked or, by default, when pre-registered.
LogSinks log_sinks(const PluginOptions& options, bool pre_registered);

class PluginLogger final : public Logger {
 public:
  // Fails when the log file cannot be opened.
  static Result<std::unique_ptr<PluginLogger>> create(LogLevel level, const LogSinks& sinks);
  ~PluginLogger() override;
  bool enabled(LogLevel level) const override { return level >= level_ && level_ != LogLevel::off; }
  void write(LogLevel level, std::string_view message) override;
  void write_at(LogLevel level, std::string_view message, std::chrono::system_clock::time_point when) override;

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
// order, each stamped with the time it was logged: the session holds them
// while it answers, so that writing the log (a file, syslog) happens after
// the answer is sent, not while the runtime waits for it.
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
      pending_.push_back({level, std::string(message), std::chrono::system_clock::now()});
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
      for (const auto& p : pending_) target_->write_at(p.level, p.line, p.when);
    }
    pending_.clear();
  }

  std::unique_ptr<Logger> target_;
  bool held_ = false;
  struct Pending {
    LogLevel level;
    std::string line;
    std::chrono::system_clock::time_point when;  // its time stamp: when it was logged
  };
  std::vector<Pending> pending_;
};

}  // namespace cdi::nri
