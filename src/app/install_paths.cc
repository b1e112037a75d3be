#include "app/install_paths.h"

#include <limits.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/text.h"

namespace cdi {

std::string sysconfdir_of(std::string_view binary) {
  std::string dir = path_dirname(clean_path(binary));
  std::string prefix = path_dirname(dir);
  if (prefix == "/usr" || prefix == "/") return "/etc";
  return path_join(prefix, "etc");
}

std::string runtime_config_of(std::string_view binary) {
  return path_join(sysconfdir_of(binary), "cdi-hook/runtime.conf");
}

std::string this_binary() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace cdi
