// The filesystem seam: everything the library reads of the filesystem goes
// through Fs, so scanning, permission checks and sysfs walks can be tested with
// a fake tree and without root. RealFs is the real one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"

namespace cdi {

struct FileStat {
  uint32_t mode = 0;  // st_mode: type and permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t rdev = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  bool is_dir() const;
  bool is_regular() const;
  bool is_char_device() const;
  bool is_block_device() const;
  bool is_fifo() const;
  bool is_symlink() const;
  uint32_t rdev_major() const;
  uint32_t rdev_minor() const;
};

struct DirEntry {
  std::string name;
};

class Fs {
 public:
  virtual ~Fs() = default;
  // Follows symbolic links. Errors carry errno (sys_errno).
  virtual Result<FileStat> stat(const std::string& path) = 0;
  virtual Result<FileStat> lstat(const std::string& path) = 0;
  // Entries sorted by name, without "." and "..".
  virtual Result<std::vector<DirEntry>> list_dir(const std::string& path) = 0;
  // stat() of dir/name; may reuse an open handle on dir.
  virtual Result<FileStat> stat_in(const std::string& dir, const std::string& name) = 0;
  // Whole regular file, refusing more than max_bytes; never blocks on a FIFO.
  virtual Result<std::string> read_file(const std::string& path, size_t max_bytes) = 0;
  virtual Result<std::string> read_link(const std::string& path) = 0;
  virtual uint32_t euid() const = 0;
  // Wall-clock time in nanoseconds (compared with file timestamps).
  virtual int64_t now_ns() const = 0;
  // Drops cached directory handles, so a directory replaced since is seen anew.
  virtual void forget_handles() {}
};

class RealFs final : public Fs {
 public:
  RealFs() = default;
  ~RealFs() override;
  RealFs(const RealFs&) = delete;
  RealFs& operator=(const RealFs&) = delete;

  Result<FileStat> stat(const std::string& path) override;
  Result<FileStat> lstat(const std::string& path) override;
  Result<std::vector<DirEntry>> list_dir(const std::string& path) override;
  Result<FileStat> stat_in(const std::string& dir, const std::string& name) override;
  Result<std::string> read_file(const std::string& path, size_t max_bytes) override;
  Result<std::string> read_link(const std::string& path) override;
  uint32_t euid() const override;
  int64_t now_ns() const override;
  void forget_handles() override;

 private:
  int dir_fd(const std::string& dir);
  std::map<std::string, int> dir_fds_;
};

// Path join that keeps a single '/'.
std::string path_join(const std::string& dir, const std::string& name);
std::string path_dirname(const std::string& path);
std::string path_basename(const std::string& path);

}  // namespace cdi
