#include "base/atomic_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <ctime>

#include "base/fs.h"
#include "base/text.h"

namespace cdi {

namespace {

// The name of a temporary file of `target` made by process `pid`; the pid lets
// a later write tell a dead writer's leftover from a live writer's file.
std::string temp_prefix(const std::string& target) { return "." + path_basename(target) + ".cdi-hook-"; }

class Writer {
 public:
  Writer(const std::string& path, const AtomicWriteOptions& options)
      : path_(path), dir_(path_dirname(path)), options_(options) {}
  ~Writer() { abandon(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  Status run(std::string_view data) {
    CDI_TRY(inspect_target());
    remove_dead_writers_files();
    CDI_TRY(create());
    CDI_TRY(write_all(data));
    CDI_TRY(step(
        "chmod", [&] { return ::fchmod(fd_, mode_); }, "chmod"));
    if (keep_owner_)
      CDI_TRY(step(
          "chown", [&] { return ::fchown(fd_, uid_, gid_); }, "chown"));
    if (options_.durable)
      CDI_TRY(step(
          "fsync", [&] { return ::fsync(fd_); }, "fsync"));
    CDI_TRY(link());
    CDI_TRY(step(
        "rename", [&] { return ::rename(temp_name_.c_str(), path_.c_str()); }, "rename"));
    temp_name_.clear();  // renamed: nothing left to remove
    close_fd();
    if (options_.durable) fsync_dir();
    return {};
  }

 private:
  int fault(std::string_view what) const { return options_.fault ? options_.fault(what) : 0; }

  // Runs a system call unless a fault is injected; errors name the temp file.
  template <class F>
  Status step(std::string_view what, F call, const std::string& verb) {
    int err = fault(what);
    if (err == 0 && call() != 0) err = errno;
    if (err == 0) return {};
    return system_error(verb + " " + temp_text(), err);
  }

  std::string temp_text() const { return temp_name_.empty() ? "temporary file in " + quote(dir_) : quote(temp_name_); }

  Status inspect_target() {
    struct stat old {};
    if (::lstat(path_.c_str(), &old) != 0) {
      if (errno != ENOENT) return system_error("stat " + quote(path_), errno);
      mode_ = options_.mode.value_or(0644);
      return {};
    }
    if (S_ISLNK(old.st_mode)) return Error(quote(path_) + " is a symbolic link; only a regular file is replaced");
    if (!S_ISREG(old.st_mode)) return Error(quote(path_) + " is not a regular file");
    mode_ = options_.mode.value_or(old.st_mode & 07777);
    keep_owner_ = options_.keep_owner && (old.st_uid != ::geteuid() || old.st_gid != ::getegid());
    uid_ = old.st_uid;
    gid_ = old.st_gid;
    return {};
  }

  // An unnamed file when the filesystem has O_TMPFILE, else a named one.
  Status create() {
    int err = fault("create");
    if (err == 0) {
      fd_ = ::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
      if (fd_ >= 0) return {};
      err = errno;
    }
    // EOPNOTSUPP (no O_TMPFILE on this filesystem), EISDIR/EINVAL (a kernel without it).
    if (err != EOPNOTSUPP && err != EISDIR && err != EINVAL) {
      return system_error("create temporary file in " + quote(dir_), err);
    }
    std::string tmpl = path_join(dir_, temp_prefix(path_) + std::to_string(::getpid()) + "-XXXXXX");
    fd_ = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd_ < 0) return system_error("create temporary file in " + quote(dir_), errno);
    temp_name_ = std::move(tmpl);
    named_ = true;
    return {};
  }

  Status write_all(std::string_view data) {
    while (!data.empty()) {
      int err = fault("write");
      ssize_t n = err != 0 ? -1 : ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (err == 0) err = errno;
        if (err == EINTR) continue;
        return system_error("write " + temp_text(), err);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }

  // Gives an unnamed file a temporary name beside the target, just before the rename.
  Status link() {
    int err = fault("link");
    if (err != 0) return system_error("link temporary file in " + quote(dir_), err);
    if (named_) return {};
    std::string proc = "/proc/self/fd/" + std::to_string(fd_);
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::string name = path_join(dir_, temp_prefix(path_) + std::to_string(::getpid()) + "-" + unique_suffix());
      // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc/self/fd works for anyone.
      int rc = ::linkat(fd_, "", AT_FDCWD, name.c_str(), AT_EMPTY_PATH);
      if (rc != 0 && (errno == ENOENT || errno == EPERM)) {
        rc = ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, name.c_str(), AT_SYMLINK_FOLLOW);
      }
      if (rc == 0) {
        temp_name_ = std::move(name);
        return {};
      }
      if (errno != EEXIST) return system_error("link temporary file in " + quote(dir_), errno);
    }
    return system_error("link temporary file in " + quote(dir_), EEXIST);
  }

  static std::string unique_suffix() {
    static unsigned counter = 0;
    struct timespec ts {};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::to_string(static_cast<unsigned long long>(ts.tv_nsec) ^ (++counter * 2654435761u));
  }

  // The directory fsync makes the rename durable. It runs after the commit,
  // so its failure cannot be reported as a failed write: a warning.
  void fsync_dir() {
    int err = fault("fsync-dir");
    if (err == 0) {
      int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd < 0) {
        err = errno;
      } else {
        if (::fsync(fd) != 0 && errno != EINVAL) err = errno;
        ::close(fd);
      }
    }
    if (err != 0 && options_.logger != nullptr) {
      options_.logger->warn(quote(path_) + " was replaced, but the directory could not be synced: " +
                            system_error("fsync directory " + quote(dir_), err).message);
    }
  }

  // Temporary files of this target whose writer is gone (killed between the
  // link and the rename, or during a named-file write) are removed.
  void remove_dead_writers_files() {
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return;
    std::string prefix = temp_prefix(path_);
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name(e->d_name);
      if (!name.starts_with(prefix)) continue;
      std::string_view rest = name.substr(prefix.size());
      pid_t pid = 0;
      auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
      if (ec != std::errc() || end == rest.data() + rest.size() || *end != '-' || pid <= 0) continue;
      if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask about)
      ::unlinkat(::dirfd(d), e->d_name, 0);
    }
    ::closedir(d);
  }

  void close_fd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Undoes an unfinished write: the temporary name (if any) goes, the
  // unnamed file vanishes with its descriptor.
  void abandon() {
    if (!temp_name_.empty()) ::unlink(temp_name_.c_str());
    temp_name_.clear();
    close_fd();
  }

  const std::string& path_;
  std::string dir_;
  const AtomicWriteOptions& options_;
  mode_t mode_ = 0644;
  bool keep_owner_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  int fd_ = -1;
  bool named_ = false;
  std::string temp_name_;
};

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view data, const AtomicWriteOptions& options) {
  Writer writer(path, options);
  return writer.run(data);
}

Result<std::string> read_file_or_stdin(const std::string& path, size_t max_bytes) {
  if (path != "-") {
    RealFs fs;
    return fs.read_file(path, max_bytes);
  }
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("read stdin", errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) return Error("stdin is larger than " + std::to_string(max_bytes >> 20) + " MiB");
  }
  return out;
}

}  // namespace cdi
