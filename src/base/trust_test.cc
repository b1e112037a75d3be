#include "base/trust.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi {
namespace {

using testing::acl_with_user;
using testing::posix_acl_value;

// ---- the ACL's binary form ------------------------------------------------------

struct AclParseCase {
  const char* name;
  std::string value;
  const char* error;  // nullptr: parses
  size_t entries;
};

void PrintTo(const AclParseCase& c, std::ostream* os) { *os << c.name; }

class AclParseTest : public ::testing::TestWithParam<AclParseCase> {};

TEST_P(AclParseTest, Parses) {
  const AclParseCase& c = GetParam();
  auto acl = parse_posix_acl(c.value);
  if (c.error != nullptr) {
    ASSERT_FALSE(acl.ok());
    EXPECT_EQ(acl.error().message, c.error);
    return;
  }
  ASSERT_TRUE(acl.ok()) << acl.error().message;
  EXPECT_EQ(acl->size(), c.entries);
}

// What `getfattr -e hex -n system.posix_acl_access` shows after
// `setfacl -m u:65534:rw` on a 0644 file: version 2, then user_obj rw,
// user 65534 rw, group_obj r, mask rw, other r.
const std::string kSetfaclBytes(
    "\x02\x00\x00\x00"
    "\x01\x00\x06\x00\xff\xff\xff\xff"
    "\x02\x00\x06\x00\xfe\xff\x00\x00"
    "\x04\x00\x04\x00\xff\xff\xff\xff"
    "\x10\x00\x06\x00\xff\xff\xff\xff"
    "\x20\x00\x04\x00\xff\xff\xff\xff",
    44);

INSTANTIATE_TEST_SUITE_P(
    Table, AclParseTest,
    ::testing::Values(AclParseCase{"as_setfacl_writes_it", kSetfaclBytes, nullptr, 5},
                      AclParseCase{"header_only", std::string("\x02\x00\x00\x00", 4), nullptr, 0},
                      AclParseCase{"empty", "", "malformed access ACL (0 bytes)", 0},
                      AclParseCase{"short_header", std::string("\x02\x00", 2), "malformed access ACL (2 bytes)", 0},
                      AclParseCase{"ragged_entry", kSetfaclBytes.substr(0, 40), "malformed access ACL (40 bytes)", 0},
                      AclParseCase{"version_1", "\x01" + kSetfaclBytes.substr(1), "access ACL of unknown version 1", 0},
                      AclParseCase{"big_endian_version", std::string("\x00\x00\x00\x02", 4),
                                   "access ACL of unknown version 33554432", 0},
                      AclParseCase{"unknown_tag", posix_acl_value({{0x40, 6, 0}}), "access ACL entry of unknown tag 64",
                                   0}),
    [](const ::testing::TestParamInfo<AclParseCase>& i) { return i.param.name; });

TEST(AclParse, ReadsEachField) {
  auto acl = parse_posix_acl(kSetfaclBytes);
  ASSERT_TRUE(acl.ok());
  EXPECT_EQ((*acl)[1].tag, AclEntry::user);
  EXPECT_EQ((*acl)[1].perm, 6);
  EXPECT_EQ((*acl)[1].id, 65534u);
  EXPECT_EQ((*acl)[3].tag, AclEntry::mask);
}

// ---- the trust rule ---------------------------------------------------------------

struct TrustCase {
  const char* name;
  uint32_t mode;  // permission bits; with an ACL the group bits are its mask
  uint32_t uid;
  uint32_t gid;
  std::string acl;
  int acl_errno;
  const char* reason;  // nullptr: trusted
};

void PrintTo(const TrustCase& c, std::ostream* os) { *os << c.name; }

class TrustTest : public ::testing::TestWithParam<TrustCase> {};

constexpr uint32_t kEuid = 1000;  // the user running the tool

TEST_P(TrustTest, Judges) {
  const TrustCase& c = GetParam();
  FileFacts f;
  f.st.mode = S_IFREG | c.mode;
  f.st.uid = c.uid;
  f.st.gid = c.gid;
  f.acl = c.acl;
  f.acl_errno = c.acl_errno;
  std::string why = insecure_reason(f, kEuid);
  if (c.reason == nullptr) {
    EXPECT_EQ(why, "");
  } else {
    EXPECT_EQ(why, c.reason);
  }
}

std::string group_acl(uint16_t tag, uint16_t perm, uint32_t id, uint16_t mask) {
  return posix_acl_value({{AclEntry::user_obj, 6, 0},
                          {AclEntry::group_obj, 4, 0},
                          {tag, perm, id},
                          {AclEntry::mask, mask, 0},
                          {AclEntry::other, 4, 0}});
}

INSTANTIATE_TEST_SUITE_P(
    Table, TrustTest,
    ::testing::Values(
        TrustCase{"plain_root_file", 0644, 0, 0, "", 0, nullptr}, TrustCase{"ours", 0644, kEuid, kEuid, "", 0, nullptr},
        TrustCase{"world_writable", 0646, 0, 0, "", 0, "writable by every user (mode 0646)"},
        TrustCase{"group_writable_other_group", 0664, 0, 50, "", 0, "writable by group 50 (mode 0664)"},
        TrustCase{"another_owner", 0644, 7, 0, "", 0, "owned by uid 7"},
        TrustCase{"acl_user_write", 0664, 0, 0, acl_with_user(65534, 6, 6), 0, "writable by uid 65534 (access ACL)"},
        TrustCase{"acl_user_read_only", 0644, 0, 0, acl_with_user(65534, 4, 4), 0, nullptr},
        TrustCase{"acl_user_write_masked_out", 0644, 0, 0, acl_with_user(65534, 6, 4), 0, nullptr},
        TrustCase{"acl_root_write", 0664, 0, 0, acl_with_user(0, 6, 6), 0, nullptr},
        TrustCase{"acl_current_user_write", 0664, 0, 0, acl_with_user(kEuid, 6, 6), 0, nullptr},
        TrustCase{"acl_group_write", 0674, 0, 0, group_acl(AclEntry::group, 7, 44, 7), 0,
                  "writable by group 44 (access ACL)"},
        TrustCase{"acl_group_0_write", 0674, 0, 0, group_acl(AclEntry::group, 7, 0, 7), 0, nullptr},
        TrustCase{"acl_without_mask_owning_group_write", 0664, 0, 0,
                  posix_acl_value({{AclEntry::user_obj, 6, 0}, {AclEntry::group_obj, 6, 0}, {AclEntry::other, 4, 0}}),
                  0, nullptr},
        TrustCase{"acl_unreadable", 0664, 0, 0, "", 5, "under an access ACL that cannot be read (Input/output error)"},
        TrustCase{"acl_garbled", 0664, 0, 0, "xyz", 0,
                  "under an access ACL that cannot be parsed (malformed access ACL (3 bytes))"},
        // The mode is judged first: a reason from it stands whatever the ACL says.
        TrustCase{"mode_before_acl", 0666, 0, 0, acl_with_user(65534, 6, 6), 0, "writable by every user (mode 0666)"}),
    [](const ::testing::TestParamInfo<TrustCase>& i) { return i.param.name; });

TEST(Trust, StatOnlyRuleIgnoresAcls) {
  FileStat st;
  st.mode = S_IFDIR | 0775;
  EXPECT_EQ(insecure_reason(st, 0), "");
  st.mode = S_IFDIR | 01777;
  EXPECT_EQ(insecure_reason(st, 0), "writable by every user (mode 1777)");
}

}  // namespace
}  // namespace cdi
