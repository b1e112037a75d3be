#include "support/fake_fs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "text.h"

namespace cdi::testing {

FakeFs::FakeFs() { add("/", S_IFDIR | 0755); }

FakeFs::Node& FakeFs::add(const std::string& path, uint32_t type_and_mode) {
  std::string parent = path_dirname(path);
  if (path != "/" && !nodes_.count(parent)) add_dir(parent);
  Node& n = nodes_[path];
  n = Node{};
  n.st.mode = type_and_mode;
  n.st.ino = next_ino_++;
  n.st.dev = 1;
  n.st.mtime_ns = n.st.ctime_ns = 1'000'000'000'000'000'000;
  return n;
}

FakeFs::Node& FakeFs::add_dir(const std::string& path, uint32_t mode) { return add(path, S_IFDIR | mode); }

FakeFs::Node& FakeFs::add_file(const std::string& path, std::string content, uint32_t mode) {
  Node& n = add(path, S_IFREG | mode);
  n.st.size = static_cast<int64_t>(content.size());
  n.content = std::move(content);
  return n;
}

FakeFs::Node& FakeFs::add_char_device(const std::string& path, uint32_t maj, uint32_t min, uint32_t mode) {
  Node& n = add(path, S_IFCHR | mode);
  n.st.rdev = makedev(maj, min);
  return n;
}

FakeFs::Node& FakeFs::add_block_device(const std::string& path, uint32_t maj, uint32_t min, uint32_t mode) {
  Node& n = add(path, S_IFBLK | mode);
  n.st.rdev = makedev(maj, min);
  return n;
}

FakeFs::Node& FakeFs::add_fifo(const std::string& path, uint32_t mode) { return add(path, S_IFIFO | mode); }

FakeFs::Node& FakeFs::add_symlink(const std::string& path, std::string target) {
  Node& n = add(path, S_IFLNK | 0777);
  n.target = std::move(target);
  return n;
}

void FakeFs::remove(const std::string& path) { nodes_.erase(path); }

FakeFs::Node* FakeFs::find(const std::string& path) {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

Result<const FakeFs::Node*> FakeFs::resolve(const std::string& path, bool follow, int depth) {
  if (depth > 16) return system_error("stat " + quote(path), ELOOP);
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return system_error("stat " + quote(path), ENOENT);
  const Node& n = it->second;
  if (follow && S_ISLNK(n.st.mode)) {
    std::string target = n.target.starts_with('/') ? n.target : path_join(path_dirname(path), n.target);
    return resolve(clean_path(target), true, depth + 1);
  }
  return &n;
}

Result<FileStat> FakeFs::stat(const std::string& path) {
  ++stat_count;
  auto n = resolve(path, true);
  if (!n.ok()) return std::move(n).error();
  return (*n)->st;
}

Result<FileStat> FakeFs::lstat(const std::string& path) {
  ++stat_count;
  auto n = resolve(path, false);
  if (!n.ok()) return std::move(n).error();
  return (*n)->st;
}

Result<std::vector<DirEntry>> FakeFs::list_dir(const std::string& path) {
  auto n = resolve(path, true);
  if (!n.ok()) return std::move(n).error();
  if (!S_ISDIR((*n)->st.mode)) return system_error("open directory " + quote(path), ENOTDIR);
  std::string prefix = path == "/" ? "/" : path + "/";
  std::vector<DirEntry> out;
  for (const auto& [p, node] : nodes_) {
    if (p.size() > prefix.size() && p.starts_with(prefix) && p.find('/', prefix.size()) == std::string::npos) {
      out.push_back({p.substr(prefix.size())});
    }
  }
  return out;
}

Result<FileStat> FakeFs::stat_in(const std::string& dir, const std::string& name) {
  return stat(path_join(dir, name));
}

Result<std::string> FakeFs::read_file(const std::string& path, size_t max_bytes) {
  ++read_count;
  auto n = resolve(path, true);
  if (!n.ok()) return system_error("open " + quote(path), ENOENT);
  if (!S_ISREG((*n)->st.mode)) return Error(quote(path) + " is not a regular file");
  if ((*n)->content.size() > max_bytes) return Error(quote(path) + " is larger than the limit");
  return (*n)->content;
}

Result<std::string> FakeFs::read_link(const std::string& path) {
  auto n = resolve(path, false);
  if (!n.ok()) return std::move(n).error();
  if (!S_ISLNK((*n)->st.mode)) return system_error("readlink " + quote(path), EINVAL);
  return (*n)->target;
}

}  // namespace cdi::testing
