#include "base/watched_stat.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace cdi {

namespace {

constexpr uint32_t kDirEvents =
    IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
constexpr uint32_t kFileEvents = IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;

// Absolute, and without empty, "." or ".." components: the dirs on the way
// are then exactly its prefixes.
bool is_clean_absolute(const std::string& path) {
  if (path.size() < 2 || path[0] != '/' || path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

bool is_at_or_below(const std::string& path, const std::string& top) {
  if (top == "/") return true;
  return path.size() >= top.size() && path.compare(0, top.size(), top) == 0 &&
         (path.size() == top.size() || path[top.size()] == '/');
}

std::string child(const std::string& dir, const char* name) {
  return dir == "/" ? "/" + std::string(name) : dir + "/" + name;
}

}  // namespace

WatchedStatFs::WatchedStatFs(Fs& inner, size_t max_watches, size_t max_paths)
    : ForwardingFs(inner), max_watches_(max_watches), max_paths_(max_paths) {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  // Readable at any time; poll(2) gives POLLPRI once after each change of this
  // process's mount table.
  mounts_fd_ = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
  if (!caching()) {
    if (inotify_fd_ >= 0) ::close(inotify_fd_);
    if (mounts_fd_ >= 0) ::close(mounts_fd_);
    inotify_fd_ = mounts_fd_ = -1;
  }
}

WatchedStatFs::~WatchedStatFs() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (mounts_fd_ >= 0) ::close(mounts_fd_);
}

void WatchedStatFs::refresh() {
  if (!caching() || (kept_.empty() && watched_.empty())) return;
  pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {mounts_fd_, POLLPRI, 0}};
  int n = ::poll(fds, 2, 0);
  if (n <= 0) {
    if (n < 0) drop_all();  // cannot tell what changed: keep nothing
    return;
  }
  if (fds[1].revents & (POLLPRI | POLLERR)) {
    drop_all();
  }
  if (fds[0].revents & POLLIN) take_events();
}

Result<FileStat> WatchedStatFs::stat(const std::string& path) {
  if (!caching()) return ForwardingFs::stat(path);
  auto it = kept_.find(path);
  if (it != kept_.end()) return it->second;
  return keep(path);
}

// Watches first, then the stat: a change made in between is both seen by the
// stat and queued, so at worst the path is dropped once too often.
Result<FileStat> WatchedStatFs::keep(const std::string& path) {
  if (!is_clean_absolute(path) || kept_.size() >= max_paths_) return ForwardingFs::stat(path);
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    // IN_DONT_FOLLOW with IN_ONLYDIR fails on a symbolic link: such a path is not kept.
    if (!watch(path.substr(0, slash), kDirEvents | IN_ONLYDIR | IN_DONT_FOLLOW)) return ForwardingFs::stat(path);
  }
  if (!watch("/", kDirEvents | IN_ONLYDIR) || !watch(path, kFileEvents | IN_DONT_FOLLOW)) {
    return ForwardingFs::stat(path);
  }
  auto st = ForwardingFs::lstat(path);
  if (!st.ok() || st->is_symlink()) return ForwardingFs::stat(path);
  kept_.emplace(path, *st);
  return st;
}

bool WatchedStatFs::watch(const std::string& path, uint32_t mask) {
  if (watched_.count(path)) return true;
  if (watched_.size() >= max_watches_) return false;
  // IN_MASK_ADD: one inode watched as a dir and as a file (or by two paths) keeps both masks.
  int wd = ::inotify_add_watch(inotify_fd_, path.c_str(), mask | IN_MASK_ADD);
  if (wd < 0) return false;
  watched_.emplace(path, wd);
  wd_[wd].push_back(path);
  return true;
}

void WatchedStatFs::take_events() {
  alignas(inotify_event) char buf[8192];
  for (;;) {
    ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN) drop_all();
      return;
    }
    for (ssize_t off = 0; off < n;) {
      const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
      off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
      if (ev->mask & IN_Q_OVERFLOW) {
        drop_all();
        continue;
      }
      auto it = wd_.find(ev->wd);
      if (it == wd_.end()) continue;  // a watch already dropped
      if (ev->mask & IN_IGNORED) {
        drop_all();  // the kernel removed a watch (its inode is gone or unmounted)
        continue;
      }
      std::vector<std::string> paths = it->second;  // drop() edits wd_
      for (const auto& p : paths) drop(ev->len > 0 ? child(p, ev->name) : p);
    }
  }
}

void WatchedStatFs::drop(const std::string& path) {
  if (path == "/") {
    drop_all();
    return;
  }
  for (auto it = kept_.begin(); it != kept_.end();) {
    it = is_at_or_below(it->first, path) ? kept_.erase(it) : std::next(it);
  }
  std::vector<int> gone;
  for (auto it = watched_.begin(); it != watched_.end();) {
    if (!is_at_or_below(it->first, path)) {
      ++it;
      continue;
    }
    auto& paths = wd_[it->second];
    paths.erase(std::remove(paths.begin(), paths.end(), it->first), paths.end());
    if (paths.empty()) gone.push_back(it->second);
    it = watched_.erase(it);
  }
  for (int wd : gone) forget_watch(wd);
}

void WatchedStatFs::drop_all() {
  kept_.clear();
  for (const auto& [wd, paths] : wd_) ::inotify_rm_watch(inotify_fd_, wd);
  wd_.clear();
  watched_.clear();
}

void WatchedStatFs::forget_watch(int wd) {
  wd_.erase(wd);
  ::inotify_rm_watch(inotify_fd_, wd);  // fails harmlessly when the kernel removed it already
}

}  // namespace cdi
