// An in-memory Fs for unit tests: files, dirs, device nodes and symlinks with
// any owner and mode, so permission and scan logic is testable without root.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "base/fs.h"
#include "base/trust.h"

namespace cdi::testing {

// The system.posix_acl_access value of these entries (as the kernel stores it).
std::string posix_acl_value(const std::vector<AclEntry>& entries);

// A minimal ACL plus a named `user` entry with `perm`, the mask `mask`: what
// `setfacl -m u:UID:PERM,m::MASK` leaves on a file of mode 0644.
std::string acl_with_user(uint32_t uid, uint16_t perm, uint16_t mask);

class FakeFs final : public Fs {
 public:
  struct Node {
    FileStat st;
    std::string content;  // regular files
    std::string target;   // symlinks
    std::string acl;      // raw system.posix_acl_access value (see base/trust.h)
  };

  FakeFs();

  // Creates parent dirs (mode 0755, root-owned) as needed. Returns the node for tweaks.
  Node& add_dir(const std::string& path, uint32_t mode = 0755);
  Node& add_file(const std::string& path, std::string content, uint32_t mode = 0644);
  Node& add_char_device(const std::string& path, uint32_t major, uint32_t minor, uint32_t mode = 0666);
  Node& add_block_device(const std::string& path, uint32_t major, uint32_t minor, uint32_t mode = 0660);
  Node& add_fifo(const std::string& path, uint32_t mode = 0644);
  Node& add_symlink(const std::string& path, std::string target);
  void remove(const std::string& path);
  Node* find(const std::string& path);

  Result<FileStat> stat(const std::string& path) override;
  Result<FileStat> lstat(const std::string& path) override;
  Result<std::vector<DirEntry>> list_dir(const std::string& path) override;
  Result<FileStat> stat_in(const std::string& dir, const std::string& name) override;
  Result<std::string> read_file(const std::string& path, size_t max_bytes) override;
  Result<FileFacts> open_dir(const std::string& path, bool follow) override;
  Result<OpenedFile> read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                             const DirJudge* judge) override;
  Result<std::string> read_link(const std::string& path) override;
  uint32_t euid() const override { return euid_; }
  int64_t now_ns() const override { return now_ns_; }

  void set_euid(uint32_t uid) { euid_ = uid; }
  void set_now_ns(int64_t ns) { now_ns_ = ns; }
  // Makes every call on exactly `path` fail with errno `err` (EACCES, EIO, ...).
  void set_error(const std::string& path, int err) { errors_[path] = err; }
  // Makes only list_dir(path) fail with errno `err` (a dir that can be stat'ed, not read).
  void set_list_error(const std::string& path, int err) { list_errors_[path] = err; }
  // Called at the start of each read_in (after the caller's stat_in): a test
  // changes the tree here to play a file swapped between the two.
  std::function<void(const std::string& path)> before_read;
  // Counts of calls, to check what a scan reads (read_file and read_in).
  int read_count = 0;
  int stat_count = 0;
  std::map<std::string, int> reads_by_path;

 private:
  Node& add(const std::string& path, uint32_t type_and_mode);
  void touch_parent(const std::string& path);
  Result<std::string> real_path(const std::string& path, bool follow, int depth = 0);
  Result<const Node*> resolve(const std::string& path, bool follow);

  Status injected_error(const std::string& path, std::string_view what) const;
  FileFacts facts_of(const Node& n, const std::string& path) const;
  Result<OpenedFile> read_through_link(const std::string& dir, const std::string& name, size_t max_bytes,
                                       const DirJudge& judge);

  std::map<std::string, Node> nodes_;
  std::map<std::string, int> errors_;
  std::map<std::string, int> list_errors_;
  uint64_t next_ino_ = 100;
  int64_t dir_clock_ = 1'000'000'000'000'000'000;
  uint32_t euid_ = 0;
  int64_t now_ns_ = 2'000'000'000'000'000'000;
};

}  // namespace cdi::testing
