#include "guest/host_devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/fake_fs.h"

namespace cdi {
namespace {

using ::testing::HasSubstr;

using testing::FakeFs;

std::string host_path(Fs& fs, char type, uint32_t major, uint32_t minor, const HostPathOptions& options = {}) {
  auto p = host_device_path(fs, DeviceNumber{type, major, minor}, options);
  return p.ok() ? *p : "error: " + p.error().to_string();
}

// ---- host paths ------------------------------------------------------------------------

TEST(HostDevicePath, DevnameFromUevent) {
  FakeFs fs;
  fs.add_file("/sys/dev/char/195:0/uevent", "MAJOR=195\nMINOR=0\nDEVNAME=nvidia0\n");
  fs.add_file("/sys/dev/char/226:0/uevent", "MAJOR=226\nMINOR=0\nDEVNAME=dri/card0\nDEVTYPE=drm_minor\n");
  fs.add_file("/sys/dev/block/8:1/uevent", "MAJOR=8\nMINOR=1\nDEVNAME=sda1\nDEVTYPE=partition\n");
  EXPECT_EQ(host_path(fs, 'c', 195, 0), "/dev/nvidia0");
  EXPECT_EQ(host_path(fs, 'c', 226, 0), "/dev/dri/card0");
  EXPECT_EQ(host_path(fs, 'b', 8, 1), "/dev/sda1");
  // Char and block numbers are different devices.
  EXPECT_TRUE(host_path(fs, 'b', 195, 0).starts_with("error: ")) << host_path(fs, 'b', 195, 0);
}

TEST(HostDevicePath, NoSysfsEntryFallsBackOrFails) {
  FakeFs fs;
  HostPathOptions with_fallback;
  with_fallback.fallback_path = "/dev/fuse";
  EXPECT_EQ(host_path(fs, 'c', 10, 229, with_fallback), "/dev/fuse");
  std::string r = host_path(fs, 'c', 10, 229);
  EXPECT_EQ(r, "error: device c 10:229 has no entry in \"/sys/dev\" and no fallback path was given");
}

TEST(HostDevicePath, BadUevents) {
  FakeFs fs;
  fs.add_file("/sys/dev/char/1:1/uevent", "MAJOR=1\nMINOR=1\n");
  fs.add_file("/sys/dev/char/1:2/uevent", "DEVNAME=../etc/passwd\n");
  fs.add_dir("/sys/dev/char/1:3/uevent");
  EXPECT_THAT(host_path(fs, 'c', 1, 1), HasSubstr("no DEVNAME in \"/sys/dev/char/1:1/uevent\""));
  EXPECT_THAT(host_path(fs, 'c', 1, 2), HasSubstr("leaves /dev"));
  EXPECT_THAT(host_path(fs, 'c', 1, 3), HasSubstr("not a regular file"));
  EXPECT_THAT(host_path(fs, 'p', 1, 1), HasSubstr("invalid device type \"p\""));
}

TEST(HostDevicePath, SysfsRootIsHonoured) {
  FakeFs fs;
  fs.add_file("/fake/sys/dev/char/195:0/uevent", "DEVNAME=nvidia0\n");
  HostPathOptions options;
  options.sysfs_root = "/fake/sys";
  EXPECT_EQ(host_path(fs, 'c', 195, 0, options), "/dev/nvidia0");
  EXPECT_TRUE(host_path(fs, 'c', 195, 0).starts_with("error: "));
}

TEST(HostDevicePath, VhostUserDisksResolveThroughTheStore) {
  FakeFs fs;
  fs.add_block_device("/run/vhost/block/devices/disk-a", kVhostUserBlkMajor, 0);
  fs.add_block_device("/run/vhost/block/devices/disk-b", kVhostUserScsiMajor, 3);
  fs.add_char_device("/run/vhost/block/devices/not-a-disk", kVhostUserBlkMajor, 1);
  fs.add_file("/run/vhost/block/sockets/disk-a", "");
  fs.add_file("/run/vhost/block/sockets/not-a-disk", "");
  fs.add_file("/sys/dev/block/241:0/uevent", "DEVNAME=vhost-sysfs\n");
  HostPathOptions store;
  store.vhost_user_store = "/run/vhost";
  EXPECT_EQ(host_path(fs, 'b', 241, 0, store), "/run/vhost/block/sockets/disk-a");
  // Without a store the majors are ordinary.
  EXPECT_EQ(host_path(fs, 'b', 241, 0), "/dev/vhost-sysfs");
  // A node without its socket, a char node with the numbers, and no node at all.
  EXPECT_THAT(host_path(fs, 'b', 242, 3, store), HasSubstr("vhost-user socket of b 242:3"));
  EXPECT_THAT(host_path(fs, 'b', 241, 1, store),
              HasSubstr("no vhost-user device node b 241:1 in \"/run/vhost/block/devices\""));
  // Other majors in the store's presence still come from sysfs.
  fs.add_file("/sys/dev/block/8:0/uevent", "DEVNAME=sda\n");
  EXPECT_EQ(host_path(fs, 'b', 8, 0, store), "/dev/sda");
}

// ---- names from indexes ----------------------------------------------------------------

TEST(VirtioBlkName, KernelNames) {
  const std::pair<int64_t, const char*> cases[] = {
      {0, "vda"},   {1, "vdb"},    {25, "vdz"},    {26, "vdaa"},     {27, "vdab"},      {51, "vdaz"},
      {52, "vdba"}, {701, "vdzz"}, {702, "vdaaa"}, {18277, "vdzzz"}, {18278, "vdaaaa"}, {65535, "vdcrxp"}};
  for (const auto& [index, name] : cases) {
    auto n = virtio_blk_name(index);
    ASSERT_TRUE(n.ok()) << index;
    EXPECT_EQ(*n, name) << index;
  }
}

TEST(VirtioBlkName, EveryIndexHasItsOwnNameInOrder) {
  // Bijective base 26: shorter names first, then alphabetical; no two indexes share a name.
  std::string previous;
  std::set<std::string> seen;
  for (int64_t i = 0; i <= kMaxVirtioBlkIndex; ++i) {
    auto n = virtio_blk_name(i);
    ASSERT_TRUE(n.ok()) << i;
    ASSERT_TRUE(n->starts_with("vd")) << *n;
    ASSERT_TRUE(n->size() > previous.size() || (n->size() == previous.size() && *n > previous))
        << previous << " " << *n;
    ASSERT_TRUE(seen.insert(*n).second) << *n;
    previous = *n;
  }
}

TEST(VirtioBlkName, OutOfRange) {
  for (int64_t bad : {int64_t{-1}, int64_t{65536}, int64_t{1} << 40}) {
    auto n = virtio_blk_name(bad);
    ASSERT_FALSE(n.ok()) << bad;
    EXPECT_THAT(n.error().message, HasSubstr("out of range (0 to 65535)"));
  }
}

TEST(ScsiAddress, IdAndLun) {
  const std::tuple<int64_t, uint32_t, uint32_t, const char*> cases[] = {
      {0, 0, 0, "0:0"}, {255, 0, 255, "0:255"}, {256, 1, 0, "1:0"}, {65534, 255, 254, "255:254"}};
  for (const auto& [index, id, lun, text] : cases) {
    auto a = scsi_address(index);
    ASSERT_TRUE(a.ok()) << index;
    EXPECT_EQ(a->id, id);
    EXPECT_EQ(a->lun, lun);
    EXPECT_EQ(a->str(), text);
  }
  for (int64_t bad : {int64_t{-1}, int64_t{65535}}) {
    auto a = scsi_address(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_THAT(a.error().message, HasSubstr("at most 65535 disks"));
  }
}

TEST(ScsiDiskPath, FromTheGuestSysfs) {
  FakeFs fs;
  fs.add_dir("/sys/bus/scsi/devices/0:0:1:2/block/sdd");
  auto p = scsi_disk_path(fs, "/sys", 258);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(*p, "/dev/sdd");
  auto missing = scsi_disk_path(fs, "/sys", 3);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("no SCSI disk at 0:0:0:3 (index 3)"));
  fs.add_dir("/sys/bus/scsi/devices/0:0:1:2/block/sde");
  auto two = scsi_disk_path(fs, "/sys", 258);
  ASSERT_FALSE(two.ok());
  EXPECT_THAT(two.error().message, HasSubstr("expected one block device"));
}

// ---- the block device of a path ----------------------------------------------------------

uint64_t dev(uint32_t major, uint32_t minor) { return makedev(major, minor); }

TEST(BlockDeviceForPath, WalksUpToTheMountPoint) {
  FakeFs fs;
  fs.find("/")->st.dev = dev(254, 1);
  fs.add_dir("/mnt").st.dev = dev(254, 1);
  fs.add_dir("/mnt/data").st.dev = dev(8, 17);
  fs.add_dir("/mnt/data/sub").st.dev = dev(8, 17);
  fs.add_file("/mnt/data/sub/file", "x").st.dev = dev(8, 17);
  fs.add_symlink("/link", "mnt/data/sub");
  fs.add_file("/sys/dev/block/8:17/uevent", "DEVNAME=sdb1\n");
  auto b = block_device_for_path(fs, "/link/./file");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(b->real_path, "/mnt/data/sub/file");
  EXPECT_EQ(b->mount_point, "/mnt/data");
  EXPECT_EQ(b->major, 8u);
  EXPECT_EQ(b->minor, 17u);
  EXPECT_EQ(b->device_path, "/dev/sdb1");
  // The root file system: up to "/", and no sysfs entry leaves the device path empty.
  auto root = block_device_for_path(fs, "/mnt");
  ASSERT_TRUE(root.ok()) << root.error().to_string();
  EXPECT_EQ(root->mount_point, "/");
  EXPECT_EQ(root->major, 254u);
  EXPECT_EQ(root->device_path, "");
}

TEST(BlockDeviceForPath, ABlockNodeIsItsOwnDevice) {
  FakeFs fs;
  fs.add_block_device("/dev/vdb", 254, 16).st.dev = dev(0, 5);
  auto b = block_device_for_path(fs, "/dev/vdb");
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  EXPECT_EQ(b->major, 254u);
  EXPECT_EQ(b->minor, 16u);
  EXPECT_EQ(b->mount_point, "/dev/vdb");
}

TEST(BlockDeviceForPath, Errors) {
  FakeFs fs;
  auto missing = block_device_for_path(fs, "/nope/x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().sys_errno, ENOENT);
  auto relative = block_device_for_path(fs, "nope");
  ASSERT_FALSE(relative.ok());
  EXPECT_THAT(relative.error().message, HasSubstr("expected an absolute path"));
  fs.add_symlink("/loop-a", "/loop-b");
  fs.add_symlink("/loop-b", "/loop-a");
  auto loop = block_device_for_path(fs, "/loop-a");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().sys_errno, ELOOP);
}

TEST(BlockDeviceForPath, RealFileSystem) {
  // Whatever this machine has: the mount point holds the path on the same device,
  // and its parent is on another one (or it is "/").
  RealFs fs;
  std::string here = std::filesystem::current_path().string();
  auto b = block_device_for_path(fs, here);
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  struct stat path_st {};
  struct stat mount_st {};
  ASSERT_EQ(::stat(here.c_str(), &path_st), 0);
  ASSERT_EQ(::stat(b->mount_point.c_str(), &mount_st), 0);
  EXPECT_EQ(major(path_st.st_dev), b->major);
  EXPECT_EQ(minor(path_st.st_dev), b->minor);
  EXPECT_EQ(mount_st.st_dev, path_st.st_dev);
  EXPECT_TRUE(b->real_path.starts_with(b->mount_point)) << b->real_path << " " << b->mount_point;
  if (b->mount_point != "/") {
    struct stat parent_st {};
    ASSERT_EQ(::stat(std::filesystem::path(b->mount_point).parent_path().c_str(), &parent_st), 0);
    EXPECT_NE(parent_st.st_dev, path_st.st_dev);
  }
}

TEST(ResolveLinks, RelativeAbsoluteAndDotDot) {
  FakeFs fs;
  fs.add_dir("/a/b/c");
  fs.add_symlink("/a/rel", "b/c");
  fs.add_symlink("/a/b/up", "../rel");
  fs.add_symlink("/abs", "/a/b/up");
  EXPECT_EQ(resolve_links(fs, "/abs").value(), "/a/b/c");
  EXPECT_EQ(resolve_links(fs, "/abs/../c/.").value(), "/a/b/c");
  EXPECT_EQ(resolve_links(fs, "/a/b/../../a").value(), "/a");
  EXPECT_EQ(resolve_links(fs, "/").value(), "/");
}

// ---- device-mapper ----------------------------------------------------------------------

TEST(IsDeviceMapper, DmDirectory) {
  FakeFs fs;
  fs.add_dir("/sys/dev/block/253:0/dm");
  fs.add_file("/sys/dev/block/8:0/uevent", "DEVNAME=sda\n");
  auto dm = is_device_mapper(fs, 253, 0);
  ASSERT_TRUE(dm.ok());
  EXPECT_TRUE(*dm);
  auto plain = is_device_mapper(fs, 8, 0);
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(*plain);
  auto none = is_device_mapper(fs, 9, 9);
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message, HasSubstr("no block device 9:9"));
}

TEST(HostDevicePath, RealSysfsTreeWithLinks) {
  // The layout of /sys/dev: <type>/<M:m> links into /sys/devices.
  std::string tmpl = (std::filesystem::temp_directory_path() / "cdi-sysfs-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  std::filesystem::path root(tmpl);
  std::filesystem::create_directories(root / "devices/virtual/misc/fake0");
  std::filesystem::create_directories(root / "dev/char");
  std::ofstream(root / "devices/virtual/misc/fake0/uevent") << "MAJOR=10\nMINOR=99\nDEVNAME=fake0\n";
  std::filesystem::create_directory_symlink("../../devices/virtual/misc/fake0", root / "dev/char/10:99");
  RealFs fs;
  HostPathOptions options;
  options.sysfs_root = root.string();
  EXPECT_EQ(host_path(fs, 'c', 10, 99, options), "/dev/fake0");
  EXPECT_TRUE(host_path(fs, 'c', 10, 98, options).starts_with("error: "));
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
}

}  // namespace
}  // namespace cdi
