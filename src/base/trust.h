// Whether root may trust a file or directory it is about to read: one that a
// user other than root and the current user can write is not root's to trust.
#pragma once

#include <cstdint>
#include <string>

#include "base/fs.h"

namespace cdi {

// Why a file or dir with this stat may not be trusted (writable by users other
// than root and `euid`), or empty when it may.
std::string insecure_reason(const FileStat& st, uint32_t euid);

}  // namespace cdi
