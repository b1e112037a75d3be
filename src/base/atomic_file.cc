#include "base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/fs.h"
#include "base/text.h"

namespace cdi {

namespace {

Status write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return system_error("write " + quote(what), errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return system_error("open directory " + quote(dir), errno);
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) return system_error("fsync directory " + quote(dir), err);
  return {};
}

}  // namespace

Status write_file_atomic(const std::string& path, std::string_view data, const AtomicWriteOptions& options) {
  struct stat old {};
  bool exists = ::stat(path.c_str(), &old) == 0;
  if (exists && !S_ISREG(old.st_mode)) return Error(quote(path) + " is not a regular file");
  mode_t mode = options.mode.value_or(exists ? (old.st_mode & 07777) : 0644);

  std::string dir = path_dirname(path);
  std::string tmpl = path_join(dir, "." + path_basename(path) + ".cdi-hook-XXXXXX");
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) return system_error("create temporary file in " + quote(dir), errno);
  auto fail = [&](Error e) -> Status {
    ::close(fd);
    ::unlink(tmpl.c_str());
    return e;
  };
  if (auto st = write_all(fd, data, tmpl); !st.ok()) return fail(std::move(st).error());
  if (::fchmod(fd, mode) != 0) return fail(system_error("chmod " + quote(tmpl), errno));
  if (exists && options.keep_owner && (old.st_uid != ::geteuid() || old.st_gid != ::getegid())) {
    if (::fchown(fd, old.st_uid, old.st_gid) != 0) return fail(system_error("chown " + quote(tmpl), errno));
  }
  if (options.durable && ::fsync(fd) != 0) return fail(system_error("fsync " + quote(tmpl), errno));
  if (::close(fd) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return system_error("close " + quote(tmpl), err);
  }
  if (::rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return system_error("rename " + quote(tmpl) + " to " + quote(path), err);
  }
  return options.durable ? fsync_dir(dir) : Status();
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
