#include "base/trust.h"

#include <sys/stat.h>

#include <cstdio>

namespace cdi {

std::string insecure_reason(const FileStat& st, uint32_t euid) {
  auto mode = [&] {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", st.mode & 07777);
    return std::string(text);
  };
  if (st.mode & S_IWOTH) return "writable by every user (mode " + mode() + ")";
  if ((st.mode & S_IWGRP) && st.gid != 0)
    return "writable by group " + std::to_string(st.gid) + " (mode " + mode() + ")";
  if (st.uid != 0 && st.uid != euid) return "owned by uid " + std::to_string(st.uid);
  return {};
}

}  // namespace cdi
