// Waiting for spec files generated late: inotify on the spec dirs, and on the
// nearest existing ancestor of a dir that does not exist yet. No sleep loops.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/logger.h"

namespace cdi {

class SpecDirWatch {
 public:
  using Clock = std::chrono::steady_clock;

  static Result<std::unique_ptr<SpecDirWatch>> create(std::vector<std::string> dirs, Logger& logger);
  ~SpecDirWatch();
  SpecDirWatch(const SpecDirWatch&) = delete;
  SpecDirWatch& operator=(const SpecDirWatch&) = delete;

  // Blocks until a spec file in a spec dir is created, written, renamed or
  // removed, or a missing spec dir (or one of its parents) appears: true. False
  // when the deadline passes first.
  Result<bool> wait(Clock::time_point deadline);

 private:
  SpecDirWatch(int fd, std::vector<std::string> dirs, Logger& logger);
  Status arm();
  // True if the buffer holds an event that may change what a scan finds.
  bool relevant(const char* buffer, size_t length);

  int fd_;
  std::vector<std::string> dirs_;
  Logger& logger_;
  std::map<int, std::string> watched_;  // watch descriptor -> path
};

}  // namespace cdi
