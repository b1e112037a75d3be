#include "nri/plugin_log.h"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace cdi::nri {
namespace {

TEST(SwitchingLogger, HeldLinesAreWrittenInOrderOnRelease) {
  auto memory = std::make_unique<MemoryLogger>();
  MemoryLogger* lines = memory.get();
  SwitchingLogger logger(std::move(memory));
  logger.info("before");
  logger.hold();
  logger.info("one");
  logger.warn("two");
  EXPECT_EQ(lines->entries.size(), 1u);
  logger.release();
  ASSERT_EQ(lines->entries.size(), 3u);
  EXPECT_EQ(lines->entries[1].message, "one");
  EXPECT_EQ(lines->entries[2].message, "two");
  EXPECT_EQ(lines->entries[2].level, LogLevel::warn);
  logger.info("after");  // released: straight through
  EXPECT_EQ(lines->entries.size(), 4u);
}

// Records each line with the time stamp it was written with.
class Stamped final : public Logger {
 public:
  bool enabled(LogLevel) const override { return true; }
  void write(LogLevel, std::string_view message) override { write_at(LogLevel::info, message, {}); }
  void write_at(LogLevel, std::string_view message, std::chrono::system_clock::time_point when) override {
    lines.emplace_back(std::string(message), when);
  }
  std::vector<std::pair<std::string, std::chrono::system_clock::time_point>> lines;
};

TEST(SwitchingLogger, AHeldLineKeepsTheTimeItWasLogged) {
  auto stamped = std::make_unique<Stamped>();
  Stamped* target = stamped.get();
  SwitchingLogger logger(std::move(stamped));
  logger.hold();
  auto before = std::chrono::system_clock::now();
  logger.info("waiting up to 1000 ms for a spec");
  auto after = std::chrono::system_clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  logger.release();
  ASSERT_EQ(target->lines.size(), 1u);
  EXPECT_GE(target->lines[0].second, before);
  EXPECT_LE(target->lines[0].second, after);
}

TEST(PluginLogger, ALineWrittenLateCarriesItsOwnTimeStamp) {
  char tmpl[] = "/tmp/plugin-log-test.XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string file = std::string(tmpl) + "/plugin.log";
  {
    LogSinks sinks;
    sinks.file = file;
    auto logger = PluginLogger::create(LogLevel::info, sinks);
    ASSERT_TRUE(logger.ok());
    std::tm then{};
    then.tm_year = 101;  // 2001
    then.tm_mon = 1;
    then.tm_mday = 3;
    then.tm_hour = 12;
    then.tm_isdst = -1;
    (*logger)->write_at(LogLevel::info, "late line", std::chrono::system_clock::from_time_t(std::mktime(&then)));
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str().rfind("2001-02-03T12:00:00.000", 0), 0u) << text.str();
  EXPECT_NE(text.str().find("info: late line"), std::string::npos) << text.str();
  ::unlink(file.c_str());
  ::rmdir(tmpl);
}

// Passes lines to a logger the test owns (the SwitchingLogger owns and drops its targets).
class Forwarding final : public Logger {
 public:
  explicit Forwarding(Logger& to) : to_(to) {}
  bool enabled(LogLevel level) const override { return to_.enabled(level); }
  void write(LogLevel level, std::string_view message) override { to_.write(level, message); }

 private:
  Logger& to_;
};

TEST(SwitchingLogger, ANewTargetGetsOnlyTheLinesAfterIt) {
  MemoryLogger old_lines, new_lines;
  SwitchingLogger logger(std::make_unique<Forwarding>(old_lines));
  logger.hold();
  logger.info("for the old target");
  logger.set(std::make_unique<Forwarding>(new_lines));  // the held line goes where it was logged
  EXPECT_EQ(old_lines.entries.size(), 1u);
  logger.info("for the new target");  // still held
  EXPECT_EQ(new_lines.entries.size(), 0u);
  logger.release();
  ASSERT_EQ(old_lines.entries.size(), 1u);
  EXPECT_EQ(old_lines.entries[0].message, "for the old target");
  ASSERT_EQ(new_lines.entries.size(), 1u);
  EXPECT_EQ(new_lines.entries[0].message, "for the new target");
}

}  // namespace
}  // namespace cdi::nri
