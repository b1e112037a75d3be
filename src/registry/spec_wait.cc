#include "registry/spec_wait.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/fs.h"
#include "base/text.h"

namespace cdi {

namespace {

constexpr uint32_t kDirEvents = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY |
                                IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_MASK_ADD;
constexpr uint32_t kAncestorEvents = IN_CREATE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_MASK_ADD;

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool spec_name(std::string_view name) { return name.ends_with(".json") || name.ends_with(".yaml"); }

bool under(const std::string& dir, const std::string& ancestor) {
  // "." is the nearest existing ancestor of a relative dir whose first part is not there yet.
  if (ancestor == ".") return !dir.empty() && dir.front() != '/' && dir != "." && !dir.starts_with("../");
  return dir.size() > ancestor.size() && dir.starts_with(ancestor) &&
         (ancestor.back() == '/' || dir[ancestor.size()] == '/');
}

}  // namespace

Result<std::unique_ptr<SpecDirWatch>> SpecDirWatch::create(std::vector<std::string> dirs, Logger& logger) {
  int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (fd < 0) return system_error("inotify_init1", errno);
  std::unique_ptr<SpecDirWatch> w(new SpecDirWatch(fd, std::move(dirs), logger));
  CDI_TRY(w->arm());
  return w;
}

Result<std::unique_ptr<SpecWatch>> make_inotify_watch(const std::vector<std::string>& dirs, Logger& logger) {
  auto w = SpecDirWatch::create(dirs, logger);
  if (!w.ok()) return std::move(w).error();
  return std::unique_ptr<SpecWatch>(std::move(*w));
}

SpecDirWatch::SpecDirWatch(int fd, std::vector<std::string> dirs, Logger& logger)
    : fd_(fd), dirs_(std::move(dirs)), logger_(logger) {}

SpecDirWatch::~SpecDirWatch() { ::close(fd_); }

Status SpecDirWatch::arm() {
  for (const auto& dir : dirs_) {
    // Watch the dir, or the nearest existing ancestor of a dir not there yet.
    // A dir created between that check and the watch raises no event, so look
    // again after each ancestor watch (a few rounds: each one goes deeper
    // unless dirs are being removed too, which the next event reports).
    std::string watched;
    for (int round = 0; round < 16; ++round) {
      std::string path = dir;
      uint32_t mask = kDirEvents;
      while (!is_dir(path)) {
        std::string parent = path_dirname(path);
        if (parent == path) break;
        path = parent;
        mask = kAncestorEvents;
      }
      if (path == watched) break;
      int wd = ::inotify_add_watch(fd_, path.c_str(), mask);
      if (wd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) break;  // raced with a removal; next event re-arms
        return system_error("inotify watch on " + quote(path), errno);
      }
      if (watched_[wd] != path) {
        watched_[wd] = path;
        logger_.debug("watching " + quote(path) + (path == dir ? "" : " for " + quote(dir)));
      }
      if (path == dir) break;
      watched = path;
    }
  }
  return {};
}

bool SpecDirWatch::take(const char* buffer, size_t length, DirtyPaths& dirty) {
  bool changed = false;
  for (size_t off = 0; off < length;) {
    const auto* ev = reinterpret_cast<const struct inotify_event*>(buffer + off);
    off += sizeof(struct inotify_event) + ev->len;
    if (ev->mask & IN_Q_OVERFLOW) {  // events were lost: everything may have changed
      dirty.everything = true;
      changed = true;
      continue;
    }
    auto w = watched_.find(ev->wd);
    if (w == watched_.end()) continue;
    const std::string path = w->second;
    if (ev->mask & IN_IGNORED) watched_.erase(w);
    std::string_view name = ev->len ? std::string_view(ev->name) : std::string_view();
    bool self = name.empty() || (ev->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF));
    for (const auto& dir : dirs_) {
      if (dir == path) {
        if (self) {  // the spec dir itself: its permissions, or it went
          dirty.dirs.insert(dir);
          changed = true;
        } else if (spec_name(name)) {
          dirty.names[dir].insert(std::string(name));
          changed = true;
        }
      } else if (under(dir, path) && (self || (ev->mask & IN_ISDIR))) {
        // A parent of a spec dir not there yet (or one that went): a dir on
        // its way may have appeared.
        dirty.dirs.insert(dir);
        changed = true;
      }
    }
  }
  return changed;
}

Result<bool> SpecDirWatch::drain(DirtyPaths& dirty) {
  alignas(struct inotify_event) char buffer[16384];
  bool changed = false;
  for (;;) {
    ssize_t len = ::read(fd_, buffer, sizeof buffer);
    if (len < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return system_error("read inotify", errno);
    }
    if (len == 0) break;
    changed = take(buffer, static_cast<size_t>(len), dirty) || changed;
  }
  if (changed) CDI_TRY(arm());
  return changed;
}

Result<bool> SpecDirWatch::wait(Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    struct pollfd pfd {
      fd_, POLLIN, 0
    };
    int n = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(left + 1, 1 << 30)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("poll inotify", errno);
    }
    if (n == 0) continue;
    DirtyPaths dirty;
    auto changed = drain(dirty);
    if (!changed.ok() || *changed) return changed;
  }
}

}  // namespace cdi
