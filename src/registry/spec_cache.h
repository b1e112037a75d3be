// A long-lived spec cache: a Registry kept fresh from inotify on the spec dirs
// (and on the nearest existing parent of a dir not there yet), so that a
// daemon answers without reading unchanged files. Only the files an event
// names are looked at again, and only those whose identity changed are read
// and parsed again (Registry::refresh). Without inotify (its instances or
// watches used up) it falls back to timed rescans and says so once.
//
// In a daemon's event loop: poll fd() for POLLIN and call refresh(), or just
// call refresh() before each request (it never blocks); resolve() waits, up to
// a deadline, for specs written late. The hook's --wait uses the same cache.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/logger.h"
#include "registry/registry.h"
#include "registry/spec_wait.h"

namespace cdi {

// What a refresh changed, for a monitor: spec files by path, devices by name.
struct SpecChanges {
  std::vector<std::string> files_added;
  std::vector<std::string> files_changed;  // another identity, or another status
  std::vector<std::string> files_removed;
  std::vector<std::string> files_invalid;  // now invalid or ignored (untrusted), not before
  std::vector<std::string> devices_added;
  std::vector<std::string> devices_removed;
  std::vector<std::string> devices_changed;  // another status, or defined by another file
  bool empty() const;
};

// The state of the spec dirs at one moment, for comparing two moments.
struct SpecSnapshot {
  std::map<std::string, SpecFileState> files;  // by path
  std::map<std::string, std::string> devices;  // name -> "ok <file>", "conflict <files>", ...
};
SpecSnapshot snapshot(const Registry& registry);
SpecChanges diff(const SpecSnapshot& before, const SpecSnapshot& after);

struct SpecCacheOptions {
  // After the first event, how long to gather more before looking (a spec
  // written in several steps, a flood of files) in resolve().
  std::chrono::milliseconds coalesce{30};
  // Without inotify: how often resolve() scans again while it waits.
  std::chrono::milliseconds rescan_interval{250};
  // The watch; empty: inotify.
  SpecWatchFactory watch_factory;
  // Compute what each refresh changed (for a monitor; it costs a snapshot).
  bool track_changes = false;
};

class SpecCache {
 public:
  using Clock = std::chrono::steady_clock;

  // Takes `registry` over (kept files, see Registry::keep_files) and watches
  // its spec dirs; then scans once, since what the registry holds may predate
  // the watch. The registry must outlive the cache.
  static std::unique_ptr<SpecCache> create(Registry& registry, Logger& logger, SpecCacheOptions options = {});
  ~SpecCache();
  SpecCache(const SpecCache&) = delete;
  SpecCache& operator=(const SpecCache&) = delete;

  // Readable when the spec dirs changed; -1 without inotify (then call
  // refresh() on a timer or before each request).
  int fd() const;
  bool watching() const { return watch_ != nullptr; }

  // Takes in what changed since the last refresh, without blocking: the
  // pending events (or, without inotify, a full rescan). Returns what changed
  // when options.track_changes (else nothing).
  SpecChanges refresh();

  // Resolves `names` (loading their kinds if need be); while some do not
  // resolve, waits for changes in the spec dirs until `deadline`.
  Resolution resolve(const std::vector<std::string>& names, Clock::time_point deadline);

  Registry& registry() { return registry_; }

 private:
  SpecCache(Registry& registry, Logger& logger, SpecCacheOptions options);
  // Waits until the watch says something changed (then `coalesce` more), or
  // `rescan_interval` without a watch, or the deadline. True unless the deadline passed.
  bool wait_for_change(Clock::time_point deadline);
  // Drains the watch into dirty_; true when anything is to be looked at again.
  bool collect();
  void lose_watch(const Error& why);

  Registry& registry_;
  Logger& logger_;
  SpecCacheOptions options_;
  std::unique_ptr<SpecWatch> watch_;
  DirtyPaths dirty_;
  SpecSnapshot last_;
};

}  // namespace cdi
