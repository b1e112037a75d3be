// Atomic file replacement: the new bytes go to an unnamed temporary file
// (O_TMPFILE) in the target's directory, which is written, given the mode and
// owner wanted, fsync'd, linked under a temporary name and renamed over the
// target at once, then the directory is fsync'd. Readers see the old bytes or
// the new, never a mix; a process killed before the commit leaves nothing
// behind (a filesystem without O_TMPFILE gets a named temporary file instead).
// The target is replaced only when it is a regular file: never a symbolic
// link, which is refused rather than followed or replaced.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/logger.h"

namespace cdi {

// The steps of a write, in order, as named to AtomicWriteOptions::fault.
// "link" and "rename" are the commit: the target changes at "rename", and
// nothing after it can undo that ("fsync-dir" only makes it durable).
inline constexpr std::string_view kAtomicWriteSteps[] = {"create", "write", "chmod",  "chown",
                                                         "fsync",  "link",  "rename", "fsync-dir"};

struct AtomicWriteOptions {
  // Mode of the new file; unset: the existing file's mode, or 0644 for a new one.
  std::optional<mode_t> mode;
  // Keep the existing file's owner and group (needs the privilege to chown).
  bool keep_owner = true;
  // fsync the file and its directory; off for caches that may be lost.
  bool durable = true;
  // Told of a failure after the commit (the directory fsync): the file has
  // changed, so the write reports success and this logger gets a warning.
  Logger* logger = nullptr;
  // For tests: called before each step (kAtomicWriteSteps); a non-zero errno
  // makes that step fail with it. "create" also stands for O_TMPFILE being
  // refused: EOPNOTSUPP there takes the named-temporary-file path.
  std::function<int(std::string_view step)> fault;
};

// Changed ⇔ success: an error means the target is as it was, with no
// temporary file left beside it.
Status write_file_atomic(const std::string& path, std::string_view data, const AtomicWriteOptions& options = {});

// Reads a whole file (or stdin for "-"), refusing more than max_bytes.
Result<std::string> read_file_or_stdin(const std::string& path, size_t max_bytes);

}  // namespace cdi
