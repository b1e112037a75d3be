#include "base/trust.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

namespace cdi {

namespace {

constexpr uint32_t kAclVersion = 2;

uint32_t little_endian(std::string_view bytes, size_t at, size_t width) {
  uint32_t v = 0;
  for (size_t i = 0; i < width; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

bool known_tag(uint16_t tag) {
  switch (tag) {
    case AclEntry::user_obj:
    case AclEntry::user:
    case AclEntry::group_obj:
    case AclEntry::group:
    case AclEntry::mask:
    case AclEntry::other:
      return true;
    default:
      return false;
  }
}

// Why an ACL grants write to someone untrusted, or empty.
std::string acl_reason(const std::vector<AclEntry>& acl, const FileStat& st, uint32_t euid) {
  uint16_t mask = 07;
  for (const auto& e : acl) {
    if (e.tag == AclEntry::mask) mask = e.perm;
  }
  for (const auto& e : acl) {
    if (!(e.perm & mask & AclEntry::kWrite)) continue;
    if (e.tag == AclEntry::user && e.id != 0 && e.id != euid) {
      return "writable by uid " + std::to_string(e.id) + " (access ACL)";
    }
    if (e.tag == AclEntry::group && e.id != 0) return "writable by group " + std::to_string(e.id) + " (access ACL)";
    if (e.tag == AclEntry::group_obj && st.gid != 0) {
      return "writable by group " + std::to_string(st.gid) + " (access ACL)";
    }
  }
  return {};
}

}  // namespace

Result<std::vector<AclEntry>> parse_posix_acl(std::string_view value) {
  if (value.size() < 4 || (value.size() - 4) % 8 != 0) {
    return Error("malformed access ACL (" + std::to_string(value.size()) + " bytes)");
  }
  if (uint32_t version = little_endian(value, 0, 4); version != kAclVersion) {
    return Error("access ACL of unknown version " + std::to_string(version));
  }
  std::vector<AclEntry> out;
  for (size_t at = 4; at < value.size(); at += 8) {
    AclEntry e;
    e.tag = static_cast<uint16_t>(little_endian(value, at, 2));
    e.perm = static_cast<uint16_t>(little_endian(value, at + 2, 2));
    e.id = little_endian(value, at + 4, 4);
    if (!known_tag(e.tag)) return Error("access ACL entry of unknown tag " + std::to_string(e.tag));
    out.push_back(e);
  }
  return out;
}

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

std::string insecure_reason(const FileFacts& facts, uint32_t euid) {
  if (auto why = insecure_reason(facts.st, euid); !why.empty()) return why;
  if (facts.acl_errno != 0) {
    return std::string("under an access ACL that cannot be read (") + std::strerror(facts.acl_errno) + ")";
  }
  if (facts.acl.empty()) return {};
  auto acl = parse_posix_acl(facts.acl);
  if (!acl.ok()) return "under an access ACL that cannot be parsed (" + acl.error().message + ")";
  return acl_reason(*acl, facts.st, euid);
}

std::string not_private_reason(const FileFacts& facts, uint32_t euid) {
  if (auto why = insecure_reason(facts, euid); !why.empty()) return why;
  if (facts.st.mode & S_IWGRP) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", facts.st.mode & 07777);
    return "writable by group " + std::to_string(facts.st.gid) + " (mode " + text + ")";
  }
  return {};
}

}  // namespace cdi
