#include "base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <utility>

#include "base/text.h"

namespace cdi {

bool FileStat::is_dir() const { return S_ISDIR(mode); }
bool FileStat::is_regular() const { return S_ISREG(mode); }
bool FileStat::is_char_device() const { return S_ISCHR(mode); }
bool FileStat::is_block_device() const { return S_ISBLK(mode); }
bool FileStat::is_fifo() const { return S_ISFIFO(mode); }
bool FileStat::is_symlink() const { return S_ISLNK(mode); }
uint32_t FileStat::rdev_major() const { return major(static_cast<dev_t>(rdev)); }
uint32_t FileStat::rdev_minor() const { return minor(static_cast<dev_t>(rdev)); }

namespace {

FileStat from_stat(const struct stat& st) {
  FileStat f;
  f.mode = st.st_mode;
  f.uid = st.st_uid;
  f.gid = st.st_gid;
  f.dev = st.st_dev;
  f.ino = st.st_ino;
  f.rdev = st.st_rdev;
  f.size = st.st_size;
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  f.ctime_ns = static_cast<int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return f;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

constexpr const char* kAclName = "system.posix_acl_access";
constexpr int kMaxLinks = 40;  // the kernel's own limit on links in one lookup

// Reads the access ACL into `f` when the mode's group bits allow writing (only
// then can an ACL entry grant write). `o_path`: fd is an O_PATH handle, which
// fgetxattr refuses; its /proc/self/fd link reaches the same inode.
void read_acl(int fd, bool o_path, FileFacts& f) {
  if (!(f.st.mode & S_IWGRP)) return;
  std::string proc = o_path ? "/proc/self/fd/" + std::to_string(fd) : std::string();
  auto get = [&](void* buf, size_t size) {
    return o_path ? ::getxattr(proc.c_str(), kAclName, buf, size) : ::fgetxattr(fd, kAclName, buf, size);
  };
  for (int attempt = 0; attempt < 4; ++attempt) {
    ssize_t size = get(nullptr, 0);
    if (size >= 0) {
      f.acl.resize(static_cast<size_t>(size));
      ssize_t n = get(f.acl.data(), f.acl.size());
      if (n >= 0) {
        f.acl.resize(static_cast<size_t>(n));
        return;
      }
    }
    if (errno == ENODATA || errno == ENOTSUP) {
      f.acl.clear();
      return;
    }
    if (errno != ERANGE) break;  // ERANGE: the ACL grew between the two calls
  }
  f.acl.clear();
  f.acl_errno = errno != 0 ? errno : EIO;
}

Result<FileFacts> facts_of(int fd, bool o_path, const std::string& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return system_error("stat " + quote(path), errno);
  FileFacts f;
  f.path = path;
  f.st = from_stat(st);
  read_acl(fd, o_path, f);
  return f;
}

Result<std::string> too_large(const std::string& path, size_t max_bytes) {
  return Error(quote(path) + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
}

// The whole of an open regular file of `size` bytes (as fstat said), refusing more than max_bytes.
Result<std::string> read_open_file(int fd, int64_t size, const std::string& path, size_t max_bytes) {
  if (static_cast<uint64_t>(size) > max_bytes) return too_large(path, max_bytes);
  std::string out;
  out.resize(static_cast<size_t>(size) + 1);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() > max_bytes) return too_large(path, max_bytes);
      out.resize(std::min(out.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("read " + quote(path), errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) return too_large(path, max_bytes);
  out.resize(used);
  return out;
}

constexpr int kReadFlags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

// Reads an open descriptor into `out` (facts, then bytes), refusing anything
// but a regular file.
Status read_opened(int fd, const std::string& path, size_t max_bytes, OpenedFile& out) {
  auto facts = facts_of(fd, false, path);
  if (!facts.ok()) return std::move(facts).error();
  if (!facts->st.is_regular()) return Error(quote(path) + " is not a regular file");
  out.file = std::move(*facts);
  auto bytes = read_open_file(fd, out.file.st.size, path, max_bytes);
  if (!bytes.ok()) return std::move(bytes).error();
  out.bytes = std::move(*bytes);
  return {};
}

Result<std::string> read_link_at(int fd, const char* name, const std::string& path) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlinkat(fd, name, buf.data(), buf.size());
  if (n < 0) return system_error("readlink " + quote(path), errno);
  if (static_cast<size_t>(n) == buf.size()) return system_error("readlink " + quote(path), ENAMETOOLONG);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

// Pushes the components of a link target onto `todo` (a stack: the next
// component last).
void push_components(std::vector<std::string>& todo, std::string_view target) {
  std::vector<std::string> parts;
  for (auto part : split(target, '/')) {
    if (!part.empty() && part != ".") parts.emplace_back(part);
  }
  todo.insert(todo.end(), parts.rbegin(), parts.rend());
}

}  // namespace

RealFs::~RealFs() {
  for (auto& [path, fd] : dir_fds_) {
    if (fd >= 0) ::close(fd);
  }
}

void RealFs::forget_handles() {
  for (auto& [path, fd] : dir_fds_) {
    if (fd >= 0) ::close(fd);
  }
  dir_fds_.clear();
}

Result<FileStat> RealFs::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return system_error("stat " + quote(path), errno);
  return from_stat(st);
}

Result<FileStat> RealFs::lstat(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return system_error("lstat " + quote(path), errno);
  return from_stat(st);
}

int RealFs::dir_fd(const std::string& dir) {
  auto it = dir_fds_.find(dir);
  if (it != dir_fds_.end()) return it->second;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  dir_fds_[dir] = fd;
  return fd;
}

Result<std::vector<DirEntry>> RealFs::list_dir(const std::string& path) {
  int fd = dir_fd(path);
  if (fd < 0) {
    int err = errno;
    dir_fds_.erase(path);
    return system_error("open directory " + quote(path), err);
  }
  int dup_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) return system_error("read directory " + quote(path), errno);
  DIR* d = ::fdopendir(dup_fd);
  if (!d) {
    int err = errno;
    ::close(dup_fd);
    return system_error("read directory " + quote(path), err);
  }
  ::rewinddir(d);
  std::vector<DirEntry> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string_view name(e->d_name);
    if (name == "." || name == "..") continue;
    out.push_back({std::string(name)});
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) return system_error("read directory " + quote(path), err);
  std::sort(out.begin(), out.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return out;
}

Result<FileStat> RealFs::stat_in(const std::string& dir, const std::string& name) {
  int fd = dir_fd(dir);
  if (fd < 0) {
    dir_fds_.erase(dir);
    return stat(path_join(dir, name));
  }
  struct stat st {};
  if (::fstatat(fd, name.c_str(), &st, 0) != 0) return system_error("stat " + quote(path_join(dir, name)), errno);
  return from_stat(st);
}

Result<std::string> RealFs::read_file(const std::string& path, size_t max_bytes) {
  Fd fd(::open(path.c_str(), kReadFlags));
  if (fd.get() < 0) return system_error("open " + quote(path), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return system_error("stat " + quote(path), errno);
  if (!S_ISREG(st.st_mode)) return Error(quote(path) + " is not a regular file");
  return read_open_file(fd.get(), st.st_size, path, max_bytes);
}

Result<FileFacts> RealFs::open_dir(const std::string& path, bool follow) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (fd < 0) return system_error("open directory " + quote(path), errno);
  // The handle judged is the one later calls on this dir go through.
  if (auto it = dir_fds_.find(path); it != dir_fds_.end() && it->second >= 0) ::close(it->second);
  dir_fds_[path] = fd;
  return facts_of(fd, false, path);
}

Result<OpenedFile> RealFs::read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                                   const DirJudge* judge) {
  std::string path = path_join(dir, name);
  int dfd = dir_fd(dir);
  if (dfd < 0) {
    int err = errno;
    dir_fds_.erase(dir);
    return system_error("open " + quote(path), err);
  }
  Fd fd(::openat(dfd, name.c_str(), kReadFlags | O_NOFOLLOW));
  if (fd.get() < 0) {
    int err = errno;
    if (err == ELOOP && judge != nullptr) return read_through_link(dfd, dir, name, max_bytes, *judge);
    if (err == ELOOP) return Error(quote(path) + " is a symbolic link");
    return system_error("open " + quote(path), err);
  }
  OpenedFile out;
  CDI_TRY(read_opened(fd.get(), path, max_bytes, out));
  return out;
}

// Resolves dir/name, a symbolic link, one component at a time from handles
// already judged: a link is read only from a dir that passed, every dir the
// resolution enters must pass, and the file is opened relative to the last.
Result<OpenedFile> RealFs::read_through_link(int dir_fd, const std::string& dir, const std::string& name,
                                             size_t max_bytes, const DirJudge& judge) {
  OpenedFile out;
  out.via_symlink = true;
  std::string link_path = path_join(dir, name);
  Fd cur(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (cur.get() < 0) return system_error("open directory " + quote(dir), errno);
  std::string cur_path = dir;
  // Enters a dir (a handle on it) once it passes the judge; false: it failed.
  auto enter = [&](Fd fd, std::string path) -> Result<bool> {
    auto facts = facts_of(fd.get(), true, path);
    if (!facts.ok()) return std::move(facts).error();
    if (auto why = judge(*facts); !why.empty()) {
      out.untrusted_dir = std::move(path);
      out.untrusted_reason = std::move(why);
      return false;
    }
    cur = std::move(fd);
    cur_path = std::move(path);
    return true;
  };
  auto start_at_root = [&]() -> Result<bool> {
    Fd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (root.get() < 0) return system_error("open directory \"/\"", errno);
    return enter(std::move(root), "/");
  };
  std::vector<std::string> todo;
  auto first = read_link_at(dir_fd, name.c_str(), link_path);
  if (!first.ok()) return std::move(first).error();
  if (first->empty()) return system_error("readlink " + quote(link_path), ENOENT);
  push_components(todo, *first);
  if (first->front() == '/') {
    auto entered = start_at_root();
    if (!entered.ok()) return std::move(entered).error();
    if (!*entered) return out;
  }
  int links = 1;
  while (!todo.empty()) {
    std::string comp = std::move(todo.back());
    todo.pop_back();
    bool last = todo.empty();
    if (comp == "..") {
      Fd parent(::openat(cur.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (parent.get() < 0) return system_error("open directory " + quote(path_join(cur_path, "..")), errno);
      auto entered = enter(std::move(parent), path_dirname(cur_path));
      if (!entered.ok()) return std::move(entered).error();
      if (!*entered) return out;
      if (last) return Error(quote(link_path) + " resolves to a directory, not a regular file");
      continue;
    }
    std::string next_path = path_join(cur_path, comp);
    Fd fd(::openat(cur.get(), comp.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0)
      return system_error("open " + quote(next_path) + " (reached from " + quote(link_path) + ")", errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return system_error("stat " + quote(next_path), errno);
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxLinks) return system_error("open " + quote(link_path), ELOOP);
      auto target = read_link_at(fd.get(), "", next_path);
      if (!target.ok()) return std::move(target).error();
      if (target->empty()) return system_error("readlink " + quote(next_path), ENOENT);
      push_components(todo, *target);
      if (target->front() == '/') {
        auto entered = start_at_root();
        if (!entered.ok()) return std::move(entered).error();
        if (!*entered) return out;
      }
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (last) return Error(quote(link_path) + " resolves to a directory, not a regular file");
      auto entered = enter(std::move(fd), next_path);
      if (!entered.ok()) return std::move(entered).error();
      if (!*entered) return out;
      continue;
    }
    if (!last) return system_error("open " + quote(next_path), ENOTDIR);
    if (!S_ISREG(st.st_mode))
      return Error(quote(link_path) + " resolves to " + quote(next_path) + ", not a regular file");
    Fd file(::openat(cur.get(), comp.c_str(), kReadFlags | O_NOFOLLOW));
    if (file.get() < 0) return system_error("open " + quote(next_path), errno);
    CDI_TRY(read_opened(file.get(), next_path, max_bytes, out));
    if (out.file.st.dev != st.st_dev || out.file.st.ino != st.st_ino) {
      return Error(quote(next_path) + " changed while it was being opened");
    }
    return out;
  }
  return system_error("open " + quote(link_path), ENOENT);
}

Result<std::string> RealFs::read_link(const std::string& path) {
  std::string buf(4096, '\0');
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0) return system_error("readlink " + quote(path), errno);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

uint32_t RealFs::euid() const {
  static const uint32_t euid = ::geteuid();  // asked for every spec file scanned
  return euid;
}

int64_t RealFs::now_ns() const {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::string path_join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

std::string path_dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string path_basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace cdi
