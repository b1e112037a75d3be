#include "app/try_run.h"

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace cdi {
namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// --- processes ---

TEST(TryProcess, CapturesOutputAndStatus) {
  auto r = run_process({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"}, 30, nullptr, [] {});
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->signal, 0);
  EXPECT_FALSE(r->timed_out);
}

TEST(TryProcess, CutsOutputAtTheLimit) {
  auto r = run_process(
      {"/bin/sh", "-c", "head -c 100000 /dev/zero"}, 30, nullptr, [] {}, 1000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), 1000u);
  EXPECT_TRUE(r->truncated);
}

TEST(TryProcess, MissingProgram) {
  auto r = run_process({"/nonexistent/program"}, 30, nullptr, [] {});
  EXPECT_FALSE(r.ok());
}

// The child ends when `stop` creates its stop file, as a runtime's container ends on `kill`.
std::vector<std::string> stoppable(const std::string& stop_file) {
  return {"/bin/sh", "-c", "while [ ! -e " + stop_file + " ]; do sleep 0.02; done; exit 5"};
}

TEST(TryProcess, TimeoutCallsStop) {
  testing::TempDir tmp("try-run");
  std::string stop_file = tmp.path() + "/stop";
  int stops = 0;
  auto r = run_process(stoppable(stop_file), 0.2, nullptr, [&] {
    ++stops;
    std::ofstream(stop_file) << "";
  });
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_GE(stops, 1);
  EXPECT_EQ(r->exit_code, 5);
}

TEST(TryProcess, SignalOnTheWatchCallsStop) {
  testing::TempDir tmp("try-run");
  std::string stop_file = tmp.path() + "/stop";
  SignalWatch watch;
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);  // blocked: it waits in the watch's signalfd
  auto r = run_process(stoppable(stop_file), 30, &watch, [&] { std::ofstream(stop_file) << ""; });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->interrupted_by, SIGTERM);
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 5);
  EXPECT_EQ(watch.received(), SIGTERM);
}

// --- the bundle ---

TEST(TryBundle, StaticAndDynamicExecutables) {
  auto busybox = is_static_elf("/bin/busybox");
  ASSERT_TRUE(busybox.ok()) << "busybox-static is not installed (scripts/install-deps.sh installs it)";
  EXPECT_TRUE(*busybox);
  auto sh = is_static_elf("/bin/sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_FALSE(*sh);
  testing::TempDir tmp("try-run");
  std::ofstream(tmp.path() + "/script") << "#!/bin/sh\n";
  EXPECT_FALSE(is_static_elf(tmp.path() + "/script").ok());
  EXPECT_FALSE(is_static_elf(tmp.path() + "/absent").ok());
}

TEST(TryBundle, BusyboxRootfs) {
  testing::TempDir tmp("try-run");
  std::string rootfs = tmp.path() + "/rootfs";
  ASSERT_EQ(::mkdir(rootfs.c_str(), 0755), 0);
  auto st = build_busybox_rootfs("/bin/busybox", rootfs);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_TRUE(exists(rootfs + "/bin/busybox"));
  char target[64] = {};
  ASSERT_GT(::readlink((rootfs + "/bin/sh").c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "busybox");
  EXPECT_TRUE(exists(rootfs + "/bin/stat"));
  EXPECT_TRUE(exists(rootfs + "/etc/passwd"));
  struct stat tmp_dir {};
  ASSERT_EQ(::stat((rootfs + "/tmp").c_str(), &tmp_dir), 0);
  EXPECT_EQ(tmp_dir.st_mode & 07777, 01777u);
}

TEST(TryBundle, DynamicBusyboxIsRefused) {
  testing::TempDir tmp("try-run");
  auto st = build_busybox_rootfs("/bin/sh", tmp.path());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("install busybox-static, or give --rootfs DIR"), std::string::npos)
      << st.error().message;
}

TEST(TryBundle, InterpreterAndLibraries) {
  auto interpreter = elf_interpreter("/bin/sh");
  ASSERT_TRUE(interpreter.ok());
  EXPECT_EQ(*interpreter, "/lib64/ld-linux-x86-64.so.2");
  auto libs = shared_libraries(*interpreter, "/bin/sh");
  ASSERT_TRUE(libs.ok()) << libs.error().to_string();
  EXPECT_EQ(libs->back(), "/lib64/ld-linux-x86-64.so.2");
  bool has_libc = false;
  for (const auto& l : *libs) has_libc = has_libc || l.ends_with("/libc.so.6");
  EXPECT_TRUE(has_libc);
  auto busybox = elf_interpreter("/bin/busybox");
  ASSERT_TRUE(busybox.ok());
  EXPECT_EQ(*busybox, "");
}

TEST(TryBundle, StaticAgentRunsAsItself) {
  testing::TempDir tmp("try-run");
  auto launch = bundle_agent("/bin/busybox", tmp.path() + "/try");
  ASSERT_TRUE(launch.ok()) << launch.error().to_string();
  EXPECT_EQ(*launch, std::vector<std::string>{"/.cdi-hook-try/cdi-hook-try-agent"});
  EXPECT_TRUE(exists(tmp.path() + "/try/cdi-hook-try-agent"));
  EXPECT_TRUE(exists(tmp.path() + "/try/hooks"));
  EXPECT_FALSE(exists(tmp.path() + "/try/lib"));
}

// A dynamic agent (a debug or sanitizer build) brings its loader and libraries along: here /bin/true,
// started on the host the way the container starts it, through the copied loader and libraries only.
TEST(TryBundle, DynamicAgentRunsThroughItsCopiedLoader) {
  testing::TempDir tmp("try-run");
  std::string dir = tmp.path() + "/try";
  auto launch = bundle_agent("/bin/true", dir);
  ASSERT_TRUE(launch.ok()) << launch.error().to_string();
  EXPECT_EQ(*launch,
            (std::vector<std::string>{"/.cdi-hook-try/lib/ld-linux-x86-64.so.2", "--library-path", "/.cdi-hook-try/lib",
                                      "--argv0", "cdi-hook-try-agent", "/.cdi-hook-try/cdi-hook-try-agent"}));
  EXPECT_TRUE(exists(dir + "/lib/libc.so.6"));
  auto ran = run_process({dir + "/lib/ld-linux-x86-64.so.2", "--library-path", dir + "/lib", "--argv0",
                          "cdi-hook-try-agent", dir + "/cdi-hook-try-agent"},
                         30, nullptr, [] {});
  ASSERT_TRUE(ran.ok());
  EXPECT_EQ(ran->exit_code, 0) << ran->err;
}

TEST(TryBundle, BaseConfigRequestsTheDevicesAndRunsTheProbe) {
  auto config = try_base_config({"vendor.com/gpu=0", "vendor.com/gpu=1"}, {"nvidia-smi", "-L"},
                                {"/.cdi-hook-try/cdi-hook-try-agent"});
  ASSERT_TRUE(config.ok()) << config.error().to_string();
  auto requested = requested_devices(*config);
  ASSERT_TRUE(requested.ok());
  EXPECT_EQ(*requested, (std::vector<std::string>{"vendor.com/gpu=0", "vendor.com/gpu=1"}));
  std::string text = config->serialize(false);
  EXPECT_NE(
      text.find(
          R"("args":["/.cdi-hook-try/cdi-hook-try-agent","probe","/.cdi-hook-try/probe.json","--","nvidia-smi","-L"])"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("\"CAP_MKNOD\""), std::string::npos);
  EXPECT_NE(text.find(R"("devices":[{"allow":false,"access":"rwm"}])"), std::string::npos);
}

TEST(TryBundle, BaseConfigRefusesAnInvalidName) { EXPECT_FALSE(try_base_config({"gpu0"}, {}, {"/agent"}).ok()); }

TEST(TryBundle, HooksRunThroughTheRecorder) {
  auto config = OciDocument::parse(R"({"hooks": {
    "createContainer": [{"path": "/usr/bin/own"}, {"path": "/usr/bin/cdi", "args": ["cdi", "x"], "timeout": 5}],
    "startContainer": [{"path": "/bin/inside"}]}})");
  ASSERT_TRUE(config.ok());
  TryPlan plan;
  plan.hooks = {{"createContainer", 1, "/usr/bin/cdi", {"cdi", "x"}}, {"startContainer", 0, "/bin/inside", {}}};
  record_hooks(*config, plan, "/tmp/b/rootfs/.cdi-hook-try",
               {"/.cdi-hook-try/ld.so", "/.cdi-hook-try/cdi-hook-try-agent"});
  EXPECT_EQ(
      config->serialize(false),
      R"({"hooks":{"createContainer":[{"path":"/usr/bin/own"},{"path":"/tmp/b/rootfs/.cdi-hook-try/cdi-hook-try-agent",)"
      R"("timeout":5,"args":["cdi-hook-try-agent","hook","/tmp/b/rootfs/.cdi-hook-try/hooks/0.json","/usr/bin/cdi","cdi","x"]}],)"
      R"("startContainer":[{"path":"/.cdi-hook-try/ld.so","args":["/.cdi-hook-try/ld.so",)"
      R"("/.cdi-hook-try/cdi-hook-try-agent","hook","/.cdi-hook-try/hooks/1.json","/bin/inside"]}]}})"
      "\n");
}

TEST(TryBundle, RemoveTreeDoesNotFollowLinks) {
  testing::TempDir tmp("try-run");
  std::string outside = tmp.path() + "/outside";
  std::string tree = tmp.path() + "/tree";
  ASSERT_EQ(::mkdir(outside.c_str(), 0755), 0);
  std::ofstream(outside + "/keep") << "keep";
  ASSERT_EQ(::mkdir(tree.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir((tree + "/a").c_str(), 0755), 0);
  std::ofstream(tree + "/a/file") << "x";
  ASSERT_EQ(::symlink(outside.c_str(), (tree + "/a/link").c_str()), 0);
  auto st = remove_tree(tree);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_FALSE(exists(tree));
  EXPECT_TRUE(exists(outside + "/keep"));
  EXPECT_TRUE(remove_tree(tree).ok());  // gone already: nothing to do
}

}  // namespace
}  // namespace cdi
