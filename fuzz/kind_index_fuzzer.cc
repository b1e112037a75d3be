// The kind index file: whatever a cache file holds, reading it never crashes,
// an entry recorded after reading it survives a save and a fresh read, a
// listing recorded likewise comes back whole, and saving what was read is a
// fixed point (read, save, read, save gives the same bytes).
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/fs.h"
#include "base/logger.h"
#include "fuzz_check.h"
#include "registry/kind_index.h"
#include "spec/codec/spec_codec.h"

namespace {

constexpr const char* kSpecDir = "/etc/cdi";

// A private cache dir (in memory where /dev/shm exists: the target writes a file per run), made once
// per process and removed at exit.
char g_cache_dir[64];

void remove_cache_dir() {
  std::string cmd = std::string("rm -rf '") + g_cache_dir + "'";
  (void)std::system(cmd.c_str());
}

const char* cache_dir() {
  static const bool made = [] {
    bool shm = ::access("/dev/shm", W_OK) == 0;
    std::strcpy(g_cache_dir, shm ? "/dev/shm/cdihook-fuzz-index-XXXXXX" : "/tmp/cdihook-fuzz-index-XXXXXX");
    if (::mkdtemp(g_cache_dir) == nullptr) cdi::fuzz::fail("mkdtemp", "cannot make a cache dir");
    std::atexit(remove_cache_dir);
    return true;
  }();
  (void)made;
  return g_cache_dir;
}

void write(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) cdi::fuzz::fail("write", path);
}

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A file and a dir last changed long ago (the index records only those).
cdi::FileStat old_stat(uint64_t ino) {
  cdi::FileStat st;
  st.mode = 0100644;
  st.dev = 0x803;
  st.ino = ino;
  st.size = 123;
  st.mtime_ns = 1'000'000'000;
  st.ctime_ns = 1'000'000'001;
  return st;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = cdi::fuzz::as_view(data, size);
  cdi::RealFs fs;
  cdi::NullLogger log;
  const std::string spec_dir = kSpecDir;

  // The lines of the input double as file names for lookups and a listing.
  std::vector<std::string> names{"fuzz.yaml"};  // a scan lists every file it records a kind for
  for (std::string& line : cdi::fuzz::split(bytes, '\n')) {
    // Names as a scan keeps them from a directory listing: spec file names, no '/', no NUL.
    bool listable = line.find_first_of(std::string_view("/\0", 2)) == std::string::npos &&
                    cdi::codec::spec_format_for(line).has_value();
    if (listable && names.size() < 64) names.push_back(std::move(line));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());

  cdi::FileStat file_st = old_stat(7);
  cdi::FileStat dir_st = old_stat(2);
  dir_st.mode = 040755;
  std::string saved;
  {
    cdi::KindIndex index(fs, log, cache_dir());
    write(index.index_path(spec_dir), bytes);
    (void)index.listing(spec_dir, dir_st);
    for (const std::string& n : names) (void)index.lookup(spec_dir, n, file_st);
    index.retain(spec_dir, names);
    index.record(spec_dir, "fuzz.yaml", file_st, "vendor.com/fuzz");
    index.record_listing(spec_dir, dir_st, names);
    index.save();
    saved = read(index.index_path(spec_dir));
  }
  cdi::KindIndex reread(fs, log, cache_dir());
  std::optional<std::string> kind = reread.lookup(spec_dir, "fuzz.yaml", file_st);
  FUZZ_CHECK(kind == "vendor.com/fuzz", "the recorded entry did not survive:\n" + saved);
  std::optional<std::vector<std::string>> listing = reread.listing(spec_dir, dir_st);
  FUZZ_CHECK(listing == names, "the recorded listing did not survive:\n" + saved);
  reread.record(spec_dir, "fuzz.yaml", file_st, "vendor.com/fuzz");
  reread.save();
  std::string again = read(reread.index_path(spec_dir));
  FUZZ_CHECK(again == saved, "saving what was read changed it:\n" + saved + "\n----\n" + again);
  return 0;
}
