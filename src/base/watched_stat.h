// WatchedStatFs: an Fs whose stat() answers from memory for a path it has
// stat'ed before, and still gives what a fresh stat(2) would give. A
// long-lived process (the NRI plugin) stats the same host device nodes on
// every request, and the path walks are most of what a request costs there.
//
// Why the answer stays exact. A path is kept only when no component of it is
// a symbolic link, so what it names depends on nothing but (1) the entry for
// each component in the dir above it, (2) the mounts and (3) the file's own
// inode. Before such a path is first stat'ed, every dir on it gets an inotify
// watch (entries created, deleted or moved; the dir's own attributes, deletion
// and move), the file gets one (attributes changed through any of its names),
// and the mount table is watched by poll(2) on /proc/self/mountinfo. The
// kernel queues an inotify event, and counts a mount change, before the
// syscall that made the change returns; so refresh(), called at the start of
// a request, takes in every change made before the request was sent. An event
// drops the paths at and below the name it concerns, with their watches (the
// next stat watches whatever is there now); a mount change, a lost event
// (queue overflow) or a watch the kernel removed drops everything.
//
// Not kept, always forwarded: failures (asked again each time), relative or
// unclean paths, paths through a symbolic link, and everything once the
// watches run out. Without inotify or the mount table (no /proc) nothing is
// kept at all. Every other Fs call forwards.
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/fs.h"
#include "base/hash.h"

namespace cdi {

class WatchedStatFs final : public ForwardingFs {
 public:
  // `inner` must be the real filesystem: the watches are on real paths.
  explicit WatchedStatFs(Fs& inner, size_t max_watches = 1024, size_t max_paths = 4096);
  ~WatchedStatFs() override;
  WatchedStatFs(const WatchedStatFs&) = delete;
  WatchedStatFs& operator=(const WatchedStatFs&) = delete;

  // Takes in the changes made since the last call, without blocking (one
  // poll(2) when anything is kept). Call it before each request.
  void refresh();

  Result<FileStat> stat(const std::string& path) override;
  // Kept answers change only in refresh(), between requests.
  bool keeps_stats() const override { return caching(); }

  bool caching() const { return inotify_fd_ >= 0 && mounts_fd_ >= 0; }
  size_t paths() const { return kept_.size(); }
  size_t watches() const { return watched_.size(); }

 private:
  Result<FileStat> keep(const std::string& path);
  bool watch(const std::string& path, uint32_t mask);
  void take_events();
  void drop(const std::string& path);  // the path, everything below it, and their watches
  void drop_all();
  void forget_watch(int wd);

  int inotify_fd_ = -1;
  int mounts_fd_ = -1;
  size_t max_watches_;
  size_t max_paths_;
  std::unordered_map<std::string, FileStat, TableHash> kept_;
  std::unordered_map<std::string, int> watched_;          // path -> watch descriptor
  std::unordered_map<int, std::vector<std::string>> wd_;  // one inode can be watched by several paths
};

}  // namespace cdi
