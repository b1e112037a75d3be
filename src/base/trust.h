// Whether root may trust a file or directory it is about to read: one that a
// user other than root and the current user can write is not root's to trust.
// The one home of that rule: mode bits, owner, group and POSIX access ACLs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"

namespace cdi {

// One entry of a POSIX access ACL, as the kernel stores it in the
// system.posix_acl_access extended attribute.
struct AclEntry {
  enum Tag : uint16_t { user_obj = 0x01, user = 0x02, group_obj = 0x04, group = 0x08, mask = 0x10, other = 0x20 };
  static constexpr uint16_t kWrite = 0x02;
  uint16_t tag = 0;
  uint16_t perm = 0;  // read 4, write 2, execute 1
  uint32_t id = 0;    // uid for `user`, gid for `group`; unused otherwise
};

// The value of system.posix_acl_access: a little-endian 32-bit version (2),
// then 8-byte entries (16-bit tag, 16-bit permissions, 32-bit id). Anything
// else (a short or ragged value, another version, an unknown tag) is an error.
Result<std::vector<AclEntry>> parse_posix_acl(std::string_view value);

// Why a file or dir with this stat may not be trusted (writable by users other
// than root and `euid`), or empty when it may. Mode bits and owner only.
std::string insecure_reason(const FileStat& st, uint32_t euid);

// The same for a file or dir as opened, its access ACL included: an entry that
// grants write (after the ACL mask) to a user other than root and `euid`, or to
// a group other than 0, makes it untrusted, and so does an ACL that cannot be
// read or parsed.
std::string insecure_reason(const FileFacts& facts, uint32_t euid);

// Why a file or dir may not be treated as private to root and `euid` (a cache
// whose content is believed): insecure_reason, and group write even for group 0.
std::string not_private_reason(const FileFacts& facts, uint32_t euid);

}  // namespace cdi
