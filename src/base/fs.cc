#include "base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>

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
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

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
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return system_error("open " + quote(path), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return system_error("stat " + quote(path), errno);
  if (!S_ISREG(st.st_mode)) return Error(quote(path) + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    return Error(quote(path) + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
  std::string out;
  out.resize(static_cast<size_t>(st.st_size) + 1);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      if (out.size() > max_bytes) {
        return Error(quote(path) + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
      }
      out.resize(std::min(out.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("read " + quote(path), errno);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  if (used > max_bytes) return Error(quote(path) + " is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  out.resize(used);
  return out;
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
