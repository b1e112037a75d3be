// Watching the spec dirs for spec files generated late: inotify on the spec
// dirs, and on the nearest existing ancestor of a dir that does not exist yet.
// No sleep loops. The watch says which dirs and names changed, so that only
// those are looked at again (Registry::refresh, spec_cache.h).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/logger.h"
#include "registry/registry.h"

namespace cdi {

// What tells a SpecCache that the spec dirs changed. Injectable for tests.
class SpecWatch {
 public:
  virtual ~SpecWatch() = default;
  // Readable when events are pending.
  virtual int fd() const = 0;
  // Reads every pending event without blocking and adds what they touch to
  // `dirty`; re-arms the watches (a dir that appeared, a parent that went).
  // True when an event may change what a scan finds.
  virtual Result<bool> drain(DirtyPaths& dirty) = 0;
};

// Makes the watch for these spec dirs.
using SpecWatchFactory =
    std::function<Result<std::unique_ptr<SpecWatch>>(const std::vector<std::string>& dirs, Logger& logger)>;

// The inotify watch.
class SpecDirWatch final : public SpecWatch {
 public:
  using Clock = std::chrono::steady_clock;

  // Fails when inotify cannot be had (EMFILE: the user's inotify instances
  // are used up; ENOSPC: its watches) or a dir cannot be watched.
  static Result<std::unique_ptr<SpecDirWatch>> create(std::vector<std::string> dirs, Logger& logger);
  ~SpecDirWatch() override;
  SpecDirWatch(const SpecDirWatch&) = delete;
  SpecDirWatch& operator=(const SpecDirWatch&) = delete;

  int fd() const override { return fd_; }
  Result<bool> drain(DirtyPaths& dirty) override;

  // Blocks until a spec file in a spec dir is created, written, renamed or
  // removed, or a missing spec dir (or one of its parents) appears: true. False
  // when the deadline passes first.
  Result<bool> wait(Clock::time_point deadline);

 private:
  SpecDirWatch(int fd, std::vector<std::string> dirs, Logger& logger);
  Status arm();
  // Adds what the events in the buffer touch to `dirty`; true if any may
  // change what a scan finds.
  bool take(const char* buffer, size_t length, DirtyPaths& dirty);

  int fd_;
  std::vector<std::string> dirs_;
  Logger& logger_;
  std::map<int, std::string> watched_;  // watch descriptor -> path
};

// The factory of SpecDirWatch.
Result<std::unique_ptr<SpecWatch>> make_inotify_watch(const std::vector<std::string>& dirs, Logger& logger);

}  // namespace cdi
