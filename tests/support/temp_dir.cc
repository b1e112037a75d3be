#include "support/temp_dir.h"

#include <stdlib.h>

#include <filesystem>
#include <system_error>

namespace cdi::testing {

TempDir::TempDir(const std::string& tag) {
  std::string tmpl = (std::filesystem::temp_directory_path() / ("cdihook-" + tag + "-XXXXXX")).string();
  path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

}  // namespace cdi::testing
