// A private temp directory for a test, removed with everything in it.
#pragma once

#include <string>

namespace cdi::testing {

class TempDir {
 public:
  // `tag` goes into the name (cdihook-<tag>-XXXXXX) to tell tests' dirs apart.
  explicit TempDir(const std::string& tag = "test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace cdi::testing
