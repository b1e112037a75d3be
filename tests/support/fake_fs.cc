#include "support/fake_fs.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include "base/text.h"

namespace cdi::testing {

std::string posix_acl_value(const std::vector<AclEntry>& entries) {
  std::string out;
  auto put = [&](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  put(2, 4);
  for (const auto& e : entries) {
    put(e.tag, 2);
    put(e.perm, 2);
    put(e.id, 4);
  }
  return out;
}

std::string acl_with_user(uint32_t uid, uint16_t perm, uint16_t mask) {
  constexpr uint32_t kNoId = 0xFFFFFFFF;  // what the kernel stores for entries without an id
  return posix_acl_value({{AclEntry::user_obj, 6, kNoId},
                          {AclEntry::user, perm, uid},
                          {AclEntry::group_obj, 4, kNoId},
                          {AclEntry::mask, mask, kNoId},
                          {AclEntry::other, 4, kNoId}});
}

FakeFs::FakeFs() { add("/", S_IFDIR | 0755); }

FakeFs::Node& FakeFs::add(const std::string& path, uint32_t type_and_mode) {
  std::string parent = path_dirname(path);
  if (path != "/" && !nodes_.count(parent)) add_dir(parent);
  touch_parent(path);
  Node& n = nodes_[path];
  n = Node{};
  n.st.mode = type_and_mode;
  n.st.ino = next_ino_++;
  n.st.dev = 1;
  n.st.mtime_ns = n.st.ctime_ns = 1'000'000'000'000'000'000;
  return n;
}

// Adding or removing an entry changes the dir's mtime and ctime, as on Linux.
void FakeFs::touch_parent(const std::string& path) {
  if (path == "/") return;
  auto it = nodes_.find(path_dirname(path));
  if (it == nodes_.end()) return;
  ++dir_clock_;
  it->second.st.mtime_ns = it->second.st.ctime_ns = dir_clock_;
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

void FakeFs::remove(const std::string& path) {
  nodes_.erase(path);
  touch_parent(path);
}

FakeFs::Node* FakeFs::find(const std::string& path) {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

Status FakeFs::injected_error(const std::string& path, std::string_view what) const {
  auto it = errors_.find(path);
  if (it == errors_.end()) return {};
  return system_error(std::string(what) + " " + quote(path), it->second);
}

// The path with every symbolic link among its parents resolved, and the last
// component too when `follow`. A missing component ends the walk: the rest is
// appended as it is, and the lookup of the result fails with ENOENT.
Result<std::string> FakeFs::real_path(const std::string& path, bool follow, int depth) {
  if (depth > 16) return system_error("stat " + quote(path), ELOOP);
  std::string cur = "/";
  std::string clean = clean_path(path);
  auto parts = split(clean, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    std::string next = path_join(cur, std::string(parts[i]));
    auto it = nodes_.find(next);
    bool last = i + 1 == parts.size();
    if (it == nodes_.end()) {
      for (size_t k = i + 1; k < parts.size(); ++k) next = path_join(next, std::string(parts[k]));
      return next;
    }
    if (S_ISLNK(it->second.st.mode) && (!last || follow)) {
      const std::string& t = it->second.target;
      auto target = real_path(t.starts_with('/') ? t : path_join(cur, t), true, depth + 1);
      if (!target.ok()) return std::move(target).error();
      cur = *target;
    } else {
      cur = next;
    }
  }
  return cur;
}

Result<const FakeFs::Node*> FakeFs::resolve(const std::string& path, bool follow) {
  CDI_TRY(injected_error(path, "stat"));
  auto real = real_path(path, follow);
  if (!real.ok()) return std::move(real).error();
  auto it = nodes_.find(*real);
  if (it == nodes_.end()) return system_error("stat " + quote(path), ENOENT);
  return &it->second;
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
  if (auto it = list_errors_.find(path); it != list_errors_.end()) {
    return system_error("open directory " + quote(path), it->second);
  }
  auto n = resolve(path, true);
  if (!n.ok()) return std::move(n).error();
  if (!S_ISDIR((*n)->st.mode)) return system_error("open directory " + quote(path), ENOTDIR);
  std::string real = real_path(path, true).value();
  std::string prefix = real == "/" ? "/" : real + "/";
  std::vector<DirEntry> out;
  for (const auto& [p, node] : nodes_) {
    if (p.size() > prefix.size() && p.starts_with(prefix) && p.find('/', prefix.size()) == std::string::npos) {
      out.push_back({p.substr(prefix.size())});
    }
  }
  return out;
}

Result<FileStat> FakeFs::stat_in(const std::string& dir, const std::string& name) { return stat(path_join(dir, name)); }

Result<std::string> FakeFs::read_file(const std::string& path, size_t max_bytes) {
  ++read_count;
  ++reads_by_path[path];
  auto n = resolve(path, true);
  if (!n.ok()) return system_error("open " + quote(path), n.error().sys_errno ? n.error().sys_errno : ENOENT);
  if (!S_ISREG((*n)->st.mode)) return Error(quote(path) + " is not a regular file");
  if ((*n)->content.size() > max_bytes) return Error(quote(path) + " is larger than the limit");
  return (*n)->content;
}

FileFacts FakeFs::facts_of(const Node& n, const std::string& path) const {
  FileFacts f;
  f.path = path;
  f.st = n.st;
  if (n.st.mode & S_IWGRP) f.acl = n.acl;  // as RealFs: only when the ACL mask could allow writing
  return f;
}

Result<FileFacts> FakeFs::open_dir(const std::string& path, bool follow) {
  CDI_TRY(injected_error(path, "open directory"));
  auto real = real_path(path, follow);
  if (!real.ok()) return system_error("open directory " + quote(path), real.error().sys_errno);
  auto it = nodes_.find(*real);
  if (it == nodes_.end()) return system_error("open directory " + quote(path), ENOENT);
  if (S_ISLNK(it->second.st.mode)) return system_error("open directory " + quote(path), ELOOP);
  if (!S_ISDIR(it->second.st.mode)) return system_error("open directory " + quote(path), ENOTDIR);
  return facts_of(it->second, path);
}

Result<OpenedFile> FakeFs::read_in(const std::string& dir, const std::string& name, size_t max_bytes,
                                   const DirJudge* judge) {
  std::string path = path_join(dir, name);
  ++read_count;
  ++reads_by_path[path];
  if (before_read) before_read(path);
  CDI_TRY(injected_error(path, "open"));
  auto n = resolve(path, false);
  if (!n.ok()) return system_error("open " + quote(path), n.error().sys_errno ? n.error().sys_errno : ENOENT);
  if (S_ISLNK((*n)->st.mode)) {
    if (judge == nullptr) return Error(quote(path) + " is a symbolic link");
    return read_through_link(dir, name, max_bytes, *judge);
  }
  if (!S_ISREG((*n)->st.mode)) return Error(quote(path) + " is not a regular file");
  if ((*n)->content.size() > max_bytes) return Error(quote(path) + " is larger than the limit");
  OpenedFile out;
  out.file = facts_of(**n, path);
  out.bytes = (*n)->content;
  return out;
}

// RealFs's walk over the fake tree: `cur` is the real key of the dir reached,
// `shown` the path messages give for it.
Result<OpenedFile> FakeFs::read_through_link(const std::string& dir, const std::string& name, size_t max_bytes,
                                             const DirJudge& judge) {
  OpenedFile out;
  out.via_symlink = true;
  std::string link_path = path_join(dir, name);
  auto dir_real = real_path(dir, true);
  if (!dir_real.ok()) return std::move(dir_real).error();
  std::string cur = *dir_real;
  std::string shown = dir;
  auto enter = [&](const std::string& real, std::string display) {
    const Node& node = nodes_.at(real);
    if (auto why = judge(facts_of(node, display)); !why.empty()) {
      out.untrusted_dir = std::move(display);
      out.untrusted_reason = std::move(why);
      return false;
    }
    cur = real;
    shown = std::move(display);
    return true;
  };
  std::vector<std::string> todo;
  auto push = [&](const std::string& target) {
    std::vector<std::string> parts;
    for (auto part : split(target, '/')) {
      if (!part.empty() && part != ".") parts.emplace_back(part);
    }
    todo.insert(todo.end(), parts.rbegin(), parts.rend());
  };
  std::string first = nodes_.at(path_join(cur, name)).target;
  push(first);
  if (first.starts_with('/') && !enter("/", "/")) return out;
  int links = 1;
  while (!todo.empty()) {
    std::string comp = std::move(todo.back());
    todo.pop_back();
    bool last = todo.empty();
    if (comp == "..") {
      if (!enter(path_dirname(cur), path_dirname(shown))) return out;
      if (last) return Error(quote(link_path) + " resolves to a directory, not a regular file");
      continue;
    }
    std::string next = path_join(cur, comp);
    std::string next_shown = path_join(shown, comp);
    auto it = nodes_.find(next);
    if (it == nodes_.end()) {
      return system_error("open " + quote(next_shown) + " (reached from " + quote(link_path) + ")", ENOENT);
    }
    const Node& node = it->second;
    if (S_ISLNK(node.st.mode)) {
      if (++links > 40) return system_error("open " + quote(link_path), ELOOP);
      push(node.target);
      if (node.target.starts_with('/') && !enter("/", "/")) return out;
      continue;
    }
    if (S_ISDIR(node.st.mode)) {
      if (last) return Error(quote(link_path) + " resolves to a directory, not a regular file");
      if (!enter(next, next_shown)) return out;
      continue;
    }
    if (!last) return system_error("open " + quote(next_shown), ENOTDIR);
    if (!S_ISREG(node.st.mode)) {
      return Error(quote(link_path) + " resolves to " + quote(next_shown) + ", not a regular file");
    }
    if (node.content.size() > max_bytes) return Error(quote(next_shown) + " is larger than the limit");
    out.file = facts_of(node, next_shown);
    out.bytes = node.content;
    return out;
  }
  return system_error("open " + quote(link_path), ENOENT);
}

Result<std::string> FakeFs::read_link(const std::string& path) {
  auto n = resolve(path, false);
  if (!n.ok()) return std::move(n).error();
  if (!S_ISLNK((*n)->st.mode)) return system_error("readlink " + quote(path), EINVAL);
  return (*n)->target;
}

}  // namespace cdi::testing
