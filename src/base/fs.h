// The filesystem seam: everything the library reads of the filesystem goes
// through Fs, so scanning, permission checks and sysfs walks can be tested with
// a fake tree and without root. RealFs is the real one.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
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

// A file or dir as opened: the stat of its descriptor and, when the group bits
// of its mode allow writing, the raw value of its POSIX access ACL (with an ACL
// those bits are the ACL's mask, so only then can an entry grant write).
struct FileFacts {
  std::string path;  // as reached, for messages
  FileStat st;
  std::string acl;    // system.posix_acl_access; empty: none, or not needed
  int acl_errno = 0;  // the ACL could not be read
};

// Judges a dir met while resolving a symbolic link: why it may not be
// trusted, or empty when it may.
using DirJudge = std::function<std::string(const FileFacts&)>;

// A file opened once and read from that descriptor.
struct OpenedFile {
  FileFacts file;  // the descriptor the bytes came from
  bool via_symlink = false;
  // Set when a dir on a symbolic link's way failed the judge: then nothing
  // was opened through it, and `file` and `bytes` are empty.
  std::string untrusted_dir;
  std::string untrusted_reason;
  std::string bytes;
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
  // Opens a dir afresh, keeping the handle for list_dir, stat_in and read_in
  // on it, and gives the facts of that handle. `follow`: the last component may be a
  // symbolic link.
  virtual Result<FileFacts> open_dir(const std::string& path, bool follow) = 0;
  // dir/name opened once (non-blocking, no controlling terminal), refused
  // unless a regular file of at most max_bytes, and read from that descriptor,
  // whose facts come with the bytes. A symbolic link is refused without a
  // judge; with one it is resolved a component at a time, each link read from
  // a dir already judged, every dir on the way (the spec dir excepted: the
  // caller judged it) must pass, and nothing is opened through one that fails.
  virtual Result<OpenedFile> read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                                     const DirJudge* judge) = 0;
  virtual Result<std::string> read_link(const std::string& path) = 0;
  virtual uint32_t euid() const = 0;
  // Wall-clock time in nanoseconds (compared with file timestamps).
  virtual int64_t now_ns() const = 0;
  // Drops cached directory handles, so a directory replaced since is seen anew.
  virtual void forget_handles() {}
  // True when stat() answers from memory and gives the same answer for a path
  // until the caller's next request: callers then need no cache of their own.
  virtual bool keeps_stats() const { return false; }
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
  Result<FileFacts> open_dir(const std::string& path, bool follow) override;
  Result<OpenedFile> read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                             const DirJudge* judge) override;
  Result<std::string> read_link(const std::string& path) override;
  uint32_t euid() const override;
  int64_t now_ns() const override;
  void forget_handles() override;

 private:
  int dir_fd(const std::string& dir);
  Result<OpenedFile> read_through_link(int dir_fd, const std::string& dir, const std::string& name, size_t max_bytes,
                                       const DirJudge& judge);
  std::map<std::string, int> dir_fds_;
};

// An Fs that passes every call to another: derive from it to change a few.
class ForwardingFs : public Fs {
 public:
  explicit ForwardingFs(Fs& inner) : inner_(inner) {}
  Result<FileStat> stat(const std::string& path) override { return inner_.stat(path); }
  Result<FileStat> lstat(const std::string& path) override { return inner_.lstat(path); }
  Result<std::vector<DirEntry>> list_dir(const std::string& path) override { return inner_.list_dir(path); }
  Result<FileStat> stat_in(const std::string& dir, const std::string& name) override {
    return inner_.stat_in(dir, name);
  }
  Result<std::string> read_file(const std::string& path, size_t max_bytes) override {
    return inner_.read_file(path, max_bytes);
  }
  Result<FileFacts> open_dir(const std::string& path, bool follow) override { return inner_.open_dir(path, follow); }
  Result<OpenedFile> read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                             const DirJudge* judge) override {
    return inner_.read_in(dir, name, max_bytes, judge);
  }
  Result<std::string> read_link(const std::string& path) override { return inner_.read_link(path); }
  uint32_t euid() const override { return inner_.euid(); }
  int64_t now_ns() const override { return inner_.now_ns(); }
  void forget_handles() override { inner_.forget_handles(); }
  bool keeps_stats() const override { return inner_.keeps_stats(); }

 private:
  Fs& inner_;
};

// Path join that keeps a single '/'.
std::string path_join(const std::string& dir, const std::string& name);
std::string path_dirname(const std::string& path);
std::string path_basename(const std::string& path);

}  // namespace cdi
