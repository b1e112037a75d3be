// A per-spec-dir index of file identity -> kind, kept between runs, so that a
// scan for one kind parses neither the files of other kinds nor reads them.
// An entry counts only while the file's device, inode, size, mtime and ctime
// are unchanged, and files changed within the last second are never recorded
// (a change inside one timestamp tick could otherwise go unseen). The answer
// is therefore exactly what reading every file would give.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/fs.h"
#include "base/logger.h"

namespace cdi {

// The kind recorded for a file that holds no usable kind (it does not parse).
inline constexpr std::string_view kNoKind = "!";

class KindIndex {
 public:
  // cache_dir empty: the index is off (every lookup misses, nothing is written).
  KindIndex(Fs& fs, Logger& logger, std::string cache_dir);

  std::optional<std::string> lookup(const std::string& spec_dir, const std::string& name, const FileStat& st);
  void record(const std::string& spec_dir, const std::string& name, const FileStat& st, const std::string& kind);
  // Forgets entries of files no longer listed (call after a full listing;
  // `names` sorted, as Fs::list_dir gives them).
  void retain(const std::string& spec_dir, const std::vector<std::string>& names);
  // The spec-file names of the dir as last listed, while the dir itself is
  // unchanged (same device, inode, mtime and ctime: creating, removing or
  // renaming an entry changes them) and was not changed within the last second.
  std::optional<std::vector<std::string>> listing(const std::string& spec_dir, const FileStat& dir_st);
  void record_listing(const std::string& spec_dir, const FileStat& dir_st, const std::vector<std::string>& names);
  // Writes the indexes that changed, atomically; failures are logged, never fatal.
  void save();

  bool enabled() const { return !cache_dir_.empty(); }
  std::string index_path(const std::string& spec_dir) const;

 private:
  struct Entry {
    uint64_t dev = 0, ino = 0;
    int64_t size = 0, mtime_ns = 0, ctime_ns = 0;
    std::string kind;
  };
  // The index file is kept as read and searched in place; it is parsed into
  // `entries` only when something must change (a miss, a vanished file).
  struct DirIndex {
    std::string raw;
    std::vector<std::pair<std::string_view, std::string_view>> lines;  // name -> whole line, sorted
    std::map<std::string, Entry> entries;
    size_t cursor = 0;                 // where the next lookup is likely to be
    std::string listing_identity;      // of the dir when listed; empty: no listing kept
    std::vector<std::string> listing;  // spec-file names, sorted
    bool materialized = false;
    bool loaded = false;
    bool dirty = false;
  };
  DirIndex& load(const std::string& spec_dir);
  bool parse(DirIndex& idx, const std::string& spec_dir);
  DirIndex& materialize(DirIndex& idx);
  bool cache_dir_usable();

  Fs& fs_;
  Logger& logger_;
  std::string cache_dir_;
  std::optional<bool> usable_;
  std::map<std::string, DirIndex> dirs_;
};

// Default cache dir: /run/cdi-hook for root, $XDG_RUNTIME_DIR/cdi-hook otherwise.
std::string default_cache_dir();

}  // namespace cdi
