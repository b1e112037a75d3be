#include "base/logger.h"

namespace cdi {

bool parse_log_level(std::string_view text, LogLevel& out) {
  struct Name {
    std::string_view name;
    LogLevel level;
  };
  static constexpr Name names[] = {
      {"trace", LogLevel::trace},  {"debug", LogLevel::debug}, {"info", LogLevel::info}, {"warn", LogLevel::warn},
      {"warning", LogLevel::warn}, {"error", LogLevel::error}, {"off", LogLevel::off},
  };
  for (const auto& n : names) {
    if (n.name == text) {
      out = n.level;
      return true;
    }
  }
  return false;
}

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::trace:
      return "trace";
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warning";
    case LogLevel::error:
      return "error";
    case LogLevel::off:
      return "off";
  }
  return "?";
}

bool MemoryLogger::contains(LogLevel level, std::string_view needle) const {
  for (const auto& e : entries) {
    if (e.level == level && e.message.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace cdi
