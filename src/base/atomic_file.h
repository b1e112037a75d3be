// Atomic file replacement: a temporary file in the same directory, written,
// fsync'd, given the mode (and owner) wanted, renamed over the target, and the
// directory fsync'd. Readers see the old bytes or the new, never a mix.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace cdi {

struct AtomicWriteOptions {
  // Mode of the new file; unset: the existing file's mode, or 0644 for a new one.
  std::optional<mode_t> mode;
  // Keep the existing file's owner and group (needs the privilege to chown).
  bool keep_owner = true;
  // fsync the file and its directory; off for caches that may be lost.
  bool durable = true;
};

Status write_file_atomic(const std::string& path, std::string_view data, const AtomicWriteOptions& options = {});

// Reads a whole file (or stdin for "-"), refusing more than max_bytes.
Result<std::string> read_file_or_stdin(const std::string& path, size_t max_bytes);

}  // namespace cdi
