// The library never prints: it logs through a Logger the caller hands in.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace cdi {

enum class LogLevel { trace = 0, debug, info, warn, error, off };

// Parses "trace", "debug", "info", "warn"/"warning", "error", "off".
bool parse_log_level(std::string_view text, LogLevel& out);
std::string_view log_level_name(LogLevel level);

class Logger {
 public:
  virtual ~Logger() = default;
  virtual bool enabled(LogLevel level) const = 0;
  virtual void write(LogLevel level, std::string_view message) = 0;
  // A line written later than it was logged, stamped with `when` where the
  // destination stamps lines; elsewhere the same as write().
  virtual void write_at(LogLevel level, std::string_view message, std::chrono::system_clock::time_point when) {
    (void)when;
    write(level, message);
  }

  void log(LogLevel level, std::string_view message) {
    if (enabled(level)) write(level, message);
  }
  void debug(std::string_view m) { log(LogLevel::debug, m); }
  void info(std::string_view m) { log(LogLevel::info, m); }
  void warn(std::string_view m) { log(LogLevel::warn, m); }
  void error(std::string_view m) { log(LogLevel::error, m); }
  // A line for the person waiting on this run, shown at the default level
  // (the start of a wait for late specs): a front end shows it on stderr and
  // in its log file. Elsewhere it is a warning.
  virtual void notice(std::string_view m) { log(LogLevel::warn, m); }
};

class NullLogger final : public Logger {
 public:
  bool enabled(LogLevel) const override { return false; }
  void write(LogLevel, std::string_view) override {}
};

// Keeps every message; for tests and for callers that report warnings themselves.
class MemoryLogger final : public Logger {
 public:
  struct Entry {
    LogLevel level;
    std::string message;
  };
  explicit MemoryLogger(LogLevel min = LogLevel::trace) : min_(min) {}
  bool enabled(LogLevel level) const override { return level >= min_; }
  void write(LogLevel level, std::string_view message) override { entries.push_back({level, std::string(message)}); }
  // True if some entry at `level` contains `needle`.
  bool contains(LogLevel level, std::string_view needle) const;
  std::vector<Entry> entries;

 private:
  LogLevel min_;
};

}  // namespace cdi
