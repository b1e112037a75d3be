#include "app/try_run.h"

#include <elf.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>

#include "app/bundle.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/text.h"
#include "spec/annotations.h"

extern char** environ;

namespace cdi {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kCapabilities[] = {"CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
                                         "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
                                         "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
                                         "CAP_KILL",    "CAP_AUDIT_WRITE"};

// The parts of `runc spec` that matter here, with a writable root (the probe writes its report there).
constexpr std::string_view kBaseConfig = R"({
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": [],
    "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": false},
  "hostname": "cdi-hook-try",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
  ],
  "annotations": {},
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                    "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
})";

std::string agent_in(const std::string& try_dir) { return path_join(try_dir, std::string(kTryAgentName)); }

std::string find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  const char* path = std::getenv("PATH");
  for (auto dir : split(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    std::string candidate = path_join(dir.empty() ? "." : std::string(dir), name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

Status make_dir(const std::string& path, mode_t mode) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) return system_error("mkdir " + quote(path), errno);
  if (::chmod(path.c_str(), mode) != 0) return system_error("chmod " + quote(path), errno);
  return {};
}

Status copy_file(const std::string& from, const std::string& to, mode_t mode) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return system_error("open " + quote(from), errno);
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return system_error("create " + quote(to), err);
  }
  Status st;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = system_error("read " + quote(from), errno);
      break;
    }
    if (n == 0) break;
    if (::write(out, buf, static_cast<size_t>(n)) != n) {
      st = system_error("write " + quote(to), errno);
      break;
    }
  }
  ::close(in);
  if (::fchmod(out, mode) != 0 && st.ok()) st = system_error("chmod " + quote(to), errno);
  ::close(out);
  return st;
}

std::string random_suffix() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 8; ++i) s += kHex[rd() % 16];
  return s;
}

void add_strings(JsonValue& array, const std::vector<std::string>& items, JsonAllocator& a) {
  for (const auto& s : items) array.PushBack(json_string(s, a), a);
}

// The overlay option string cannot carry these characters unescaped.
bool overlay_safe(const std::string& path) { return path.find_first_of(",:\\") == std::string::npos; }

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Everything run_try made, undone in reverse when it goes out of scope.
class Workspace {
 public:
  explicit Workspace(Logger& logger) : logger_(logger) {}
  ~Workspace() { clean(); }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  Status create(const std::string& parent) {
    std::string pattern = path_join(parent, "cdi-hook-try.XXXXXX");
    if (!::mkdtemp(pattern.data())) return system_error("mkdtemp " + quote(pattern), errno);
    dir = pattern;
    return {};
  }
  std::string path(const std::string& name) const { return path_join(dir, name); }

  std::string dir;
  std::string runtime;  // set once the container may exist
  std::string state_root;
  std::string id;
  std::string overlay;  // the mounted overlay, if any

  void delete_container() {
    if (runtime.empty()) return;
    auto r = run_process({runtime, "--root", state_root, "delete", "--force", id}, 30, nullptr, [] {});
    if (!r.ok()) logger_.warn("try: " + r.error().to_string());
    runtime.clear();
  }

 private:
  Logger& logger_;

  void clean() {
    delete_container();
    if (!overlay.empty() && ::umount2(overlay.c_str(), MNT_DETACH) != 0) {
      logger_.warn("try: " + system_error("umount " + quote(overlay), errno).to_string());
    }
    if (dir.empty()) return;
    if (auto st = remove_tree(dir); !st.ok()) logger_.warn("try: " + st.error().to_string());
  }
};

// The rootfs: an overlay on the author's dir (its files untouched: what runc
// and the probe write goes to the upper dir), in a mount namespace of this
// process's own so that no mount outlives it.
Status mount_overlay(const std::string& lower, Workspace& ws, const std::string& rootfs) {
  if (!overlay_safe(lower)) {
    return Error("--rootfs " + quote(lower) + ": an overlay cannot take a path with ',', ':' or '\\'");
  }
  if (::unshare(CLONE_NEWNS) != 0) return system_error("unshare(CLONE_NEWNS)", errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return system_error("make / private in try's mount namespace", errno);
  }
  CDI_TRY(make_dir(ws.path("upper"), 0755));
  CDI_TRY(make_dir(ws.path("work"), 0700));
  std::string options = "lowerdir=" + lower + ",upperdir=" + ws.path("upper") + ",workdir=" + ws.path("work");
  if (::mount("overlay", rootfs.c_str(), "overlay", 0, options.c_str()) != 0) {
    return system_error("mount an overlay of " + quote(lower) + " on " + quote(rootfs), errno);
  }
  ws.overlay = rootfs;
  return {};
}

Status prepare_rootfs(const TryRequest& request, Workspace& ws, const std::string& rootfs) {
  CDI_TRY(make_dir(rootfs, 0755));
  if (request.rootfs.empty()) return build_busybox_rootfs(request.busybox, rootfs);
  struct stat st {};
  if (::stat(request.rootfs.c_str(), &st) != 0) return system_error("--rootfs " + quote(request.rootfs), errno);
  if (!S_ISDIR(st.st_mode)) return Error("--rootfs " + quote(request.rootfs) + " is not a directory");
  char buf[PATH_MAX];
  if (!::realpath(request.rootfs.c_str(), buf)) return system_error("realpath " + quote(request.rootfs), errno);
  return mount_overlay(buf, ws, rootfs);
}

std::vector<SourceSeen> stat_sources(const TryPlan& plan) {
  std::vector<SourceSeen> out;
  for (const auto& m : plan.mounts) {
    SourceSeen s;
    struct stat st {};
    if (!m.bind) {
    } else if (::stat(m.source.c_str(), &st) != 0) {
      s.err = errno;
    } else {
      s.dev = st.st_dev;
      s.ino = st.st_ino;
    }
    out.push_back(s);
  }
  return out;
}

std::string last_line(const std::string& text) {
  std::string_view t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.remove_suffix(1);
  size_t nl = t.rfind('\n');
  return std::string(nl == std::string_view::npos ? t : t.substr(nl + 1));
}

// A runc-style log line (time="..." level=error msg="...") as its message alone.
std::string runtime_message(const std::string& line) {
  size_t at = line.find("msg=\"");
  if (at == std::string::npos) return line;
  std::string out;
  for (size_t i = at + 5; i < line.size() && line[i] != '"'; ++i) {
    if (line[i] == '\\' && i + 1 < line.size()) ++i;
    out += line[i];
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// What the container left behind: the probe's report and the hook records.
void collect(const TryPlan& plan, const std::string& try_dir, TryObservations& seen, Logger& logger) {
  RealFs fs;
  if (auto bytes = fs.read_file(path_join(try_dir, "report.json"), 64u << 20); bytes.ok()) {
    auto report = parse_probe_report(*bytes);
    if (report.ok()) {
      seen.probe = std::move(*report);
    } else {
      logger.warn("try: " + report.error().to_string());
    }
  }
  for (size_t i = 0; i < plan.hooks.size(); ++i) {
    std::optional<HookRecord> record;
    if (auto bytes = fs.read_file(path_join(try_dir, "hooks/" + std::to_string(i) + ".json"), 1u << 20); bytes.ok()) {
      if (auto r = parse_hook_record(*bytes); r.ok()) record = std::move(*r);
    }
    seen.hooks.push_back(std::move(record));
  }
}

struct Stage {
  Workspace& ws;
  SignalWatch& watch;
  TryResult& result;
  // True when a signal asked try to stop before the next step.
  bool interrupted() {
    watch.take();
    result.interrupted_by = watch.received();
    return result.interrupted_by != 0;
  }
};

Result<OciDocument> read_config(const std::string& path) {
  auto bytes = read_file_or_stdin(path, kMaxConfigBytes);
  if (!bytes.ok()) return std::move(bytes).error();
  return OciDocument::parse(*bytes);
}

// The injected config, with try's control node and hook recorders; the plan from both.
Result<TryPlan> finish_config(const OciDocument& base, const std::string& config_path, const std::string& try_dir,
                              const std::vector<std::string>& launch) {
  auto injected = read_config(config_path);
  if (!injected.ok()) return std::move(injected).error();
  TryPlan plan = plan_try(base, *injected);
  auto& a = injected->allocator();
  if (plan.control) {
    auto linux_obj = ensure_object(injected->json(), "linux", "linux", a);
    if (!linux_obj.ok()) return std::move(linux_obj).error();
    auto devices = ensure_array(**linux_obj, "devices", "linux.devices", a);
    if (!devices.ok()) return std::move(devices).error();
    (*devices)->PushBack(control_node_json(*plan.control, a), a);
  }
  record_hooks(*injected, plan, try_dir, launch);
  CDI_TRY(write_file_atomic(config_path, injected->serialize(true)));
  CDI_TRY(write_file_atomic(path_join(try_dir, "probe.json"), probe_request_json(probe_request(plan))));
  return plan;
}

}  // namespace

// --- processes ---

Result<ProcessOutcome> run_process(const std::vector<std::string>& argv, double timeout_seconds, SignalWatch* watch,
                                   const std::function<void()>& stop, size_t max_output) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return system_error("pipe", errno);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return system_error("pipe", err);
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return system_error("run " + quote(argv[0]), rc);
  }
  int pidfd = pidfd_open(pid);
  for (int fd : {out_pipe[0], err_pipe[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);

  ProcessOutcome outcome;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&outcome.out, &outcome.err};
  bool exited = false;
  int status = 0;
  auto start = Clock::now();
  std::optional<Clock::time_point> stopping, exited_at, last_stop;
  auto begin_stop = [&] {
    if (stopping) return;
    stopping = Clock::now();
    last_stop = stopping;
    stop();
  };
  for (;;) {
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      exited_at = Clock::now();
    }
    // Output still open after the process ended belongs to something it left behind: a second is enough.
    bool pipes_open = fds[0] >= 0 || fds[1] >= 0;
    if (exited && (!pipes_open || seconds_since(*exited_at) > 1.0)) break;
    pollfd p[4];
    int n = 0;
    for (int fd : fds) {
      if (fd >= 0) p[n++] = {fd, POLLIN, 0};
    }
    if (!exited && pidfd >= 0) p[n++] = {pidfd, POLLIN, 0};
    if (watch && watch->fd() >= 0) p[n++] = {watch->fd(), POLLIN, 0};
    int wait_ms = 200;
    if (!stopping && timeout_seconds > 0) {
      double left = timeout_seconds - seconds_since(start);
      wait_ms = left <= 0 ? 0 : static_cast<int>(std::min(left * 1000.0, 200.0)) + 1;
    }
    if (::poll(p, static_cast<nfds_t>(n), wait_ms) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0) continue;
      char buf[65536];
      ssize_t got = ::read(fds[i], buf, sizeof buf);
      if (got > 0) {
        size_t room = max_output > sinks[i]->size() ? max_output - sinks[i]->size() : 0;
        sinks[i]->append(buf, std::min(room, static_cast<size_t>(got)));
        if (static_cast<size_t>(got) > room) outcome.truncated = true;
      } else if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
        ::close(fds[i]);
        fds[i] = -1;
      }
    }
    if (watch && watch->take() != 0) {
      outcome.interrupted_by = watch->received();
      begin_stop();
    }
    if (!stopping && timeout_seconds > 0 && seconds_since(start) >= timeout_seconds) {
      outcome.timed_out = true;
      begin_stop();
    }
    if (stopping && !exited) {
      if (seconds_since(*stopping) > 10.0) {
        ::kill(-pid, SIGKILL);
      } else if (seconds_since(*last_stop) > 0.5) {
        last_stop = Clock::now();
        stop();
      }
    }
  }
  for (int fd : fds) {
    if (fd >= 0) ::close(fd);
  }
  if (pidfd >= 0) ::close(pidfd);
  if (!exited) {
    ::kill(-pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

// --- the bundle ---

Result<std::string> elf_interpreter(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return system_error("open " + quote(path), errno);
  Elf64_Ehdr eh{};
  bool ok = ::pread(fd, &eh, sizeof eh, 0) == static_cast<ssize_t>(sizeof eh) &&
            std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64 &&
            eh.e_phentsize == sizeof(Elf64_Phdr);
  std::string interpreter;
  for (unsigned i = 0; ok && i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    ok = ::pread(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph)) == static_cast<ssize_t>(sizeof ph);
    if (!ok || ph.p_type != PT_INTERP) continue;
    std::string buf(std::min<uint64_t>(ph.p_filesz, PATH_MAX), '\0');
    ok = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(ph.p_offset)) == static_cast<ssize_t>(buf.size());
    interpreter = buf.substr(0, buf.find('\0'));
    ok = ok && !interpreter.empty();
  }
  ::close(fd);
  if (!ok) return Error(quote(path) + " is not a 64-bit ELF executable");
  return interpreter;
}

Result<bool> is_static_elf(const std::string& path) {
  auto interpreter = elf_interpreter(path);
  if (!interpreter.ok()) return std::move(interpreter).error();
  return interpreter->empty();
}

Result<std::vector<std::string>> shared_libraries(const std::string& interpreter, const std::string& binary) {
  auto listed = run_process({interpreter, "--list", binary}, 30, nullptr, [] {});
  if (!listed.ok()) return std::move(listed).error();
  if (listed->exit_code != 0)
    return Error(quote(interpreter) + " --list " + quote(binary) + ": " + last_line(listed->err));
  std::vector<std::string> out;
  for (auto line : split(listed->out, '\n')) {
    // "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "\t/lib64/ld-linux-x86-64.so.2 (0x...)";
    // the vDSO has no file.
    size_t arrow = line.find("=> ");
    std::string_view rest = arrow == std::string_view::npos ? line : line.substr(arrow + 3);
    size_t start = rest.find('/');
    size_t end = rest.find(" (");
    if (start == std::string_view::npos || end == std::string_view::npos || end < start) continue;
    out.emplace_back(rest.substr(start, end - start));
  }
  return out;
}

Result<std::vector<std::string>> bundle_agent(const std::string& agent_path, const std::string& host_try_dir) {
  // The file itself: /proc/self/exe would name another program in the loader's --list.
  char buf[PATH_MAX];
  if (!::realpath(agent_path.c_str(), buf)) return system_error("realpath " + quote(agent_path), errno);
  std::string agent = buf;
  auto interpreter = elf_interpreter(agent);
  if (!interpreter.ok()) return std::move(interpreter).error();
  CDI_TRY(make_dir(host_try_dir, 0755));
  CDI_TRY(make_dir(path_join(host_try_dir, "hooks"), 0755));
  CDI_TRY(copy_file(agent, agent_in(host_try_dir), 0755));
  std::string container_dir(kTryDir);
  if (interpreter->empty()) return std::vector<std::string>{agent_in(container_dir)};
  auto libraries = shared_libraries(*interpreter, agent);
  if (!libraries.ok()) return std::move(libraries).error();
  CDI_TRY(make_dir(path_join(host_try_dir, "lib"), 0755));
  for (const auto& lib : *libraries) {
    CDI_TRY(copy_file(lib, path_join(host_try_dir, "lib/" + path_basename(lib)), 0755));
  }
  std::string lib_dir = path_join(container_dir, "lib");
  return std::vector<std::string>{path_join(lib_dir, path_basename(*interpreter)),
                                  "--library-path",
                                  lib_dir,
                                  "--argv0",
                                  std::string(kTryAgentName),
                                  agent_in(container_dir)};
}

Status build_busybox_rootfs(const std::string& busybox, const std::string& rootfs) {
  auto is_static = is_static_elf(busybox);
  if (!is_static.ok()) {
    return Error("no usable busybox at " + quote(busybox) + " (" + is_static.error().message +
                 "): install busybox-static, or give --rootfs DIR");
  }
  if (!*is_static) {
    return Error(quote(busybox) + " is dynamically linked: install busybox-static, or give --rootfs DIR");
  }
  for (const char* d : {"bin", "dev", "proc", "sys", "etc", "root", "tmp"}) {
    CDI_TRY(make_dir(path_join(rootfs, d), std::string_view(d) == "tmp" ? 01777 : 0755));
  }
  CDI_TRY(copy_file(busybox, path_join(rootfs, "bin/busybox"), 0755));
  auto list = run_process({busybox, "--list"}, 30, nullptr, [] {});
  if (!list.ok()) return std::move(list).error();
  if (list->exit_code != 0) return Error(quote(busybox) + " --list failed: " + last_line(list->err));
  for (auto applet : split(list->out, '\n')) {
    if (applet.empty() || applet == "busybox" || applet.find('/') != std::string_view::npos) continue;
    std::string link = path_join(rootfs, "bin/" + std::string(applet));
    if (::symlink("busybox", link.c_str()) != 0 && errno != EEXIST)
      return system_error("symlink " + quote(link), errno);
  }
  CDI_TRY(write_file_atomic(path_join(rootfs, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n"));
  CDI_TRY(write_file_atomic(path_join(rootfs, "etc/group"), "root:x:0:\n"));
  return {};
}

Result<OciDocument> try_base_config(const std::vector<std::string>& devices, const std::vector<std::string>& command,
                                    const std::vector<std::string>& launch) {
  auto config = OciDocument::parse(kBaseConfig);
  if (!config.ok()) return std::move(config).error();
  auto& doc = config->json();
  auto& a = config->allocator();
  JsonValue caps(rapidjson::kArrayType);
  for (const char* c : kCapabilities) caps.PushBack(JsonValue(rapidjson::StringRef(c)), a);
  JsonValue capabilities(rapidjson::kObjectType);
  for (const char* set : {"bounding", "effective", "permitted"}) {
    JsonValue copy(caps, a);
    capabilities.AddMember(JsonValue(rapidjson::StringRef(set)), copy, a);
  }
  doc["process"].AddMember("capabilities", capabilities, a);
  std::string try_dir(kTryDir);
  JsonValue& args = doc["process"]["args"];
  add_strings(args, launch, a);
  add_strings(args, {"probe", path_join(try_dir, "probe.json")}, a);
  if (!command.empty()) {
    args.PushBack(JsonValue("--"), a);
    add_strings(args, command, a);
  }
  auto value = annotation_value(devices);
  if (!value.ok()) return std::move(value).error();
  auto key = annotation_key("cdi-hook", "try");
  if (!key.ok()) return std::move(key).error();
  doc["annotations"].AddMember(json_string(*key, a), json_string(*value, a), a);
  return config;
}

void record_hooks(OciDocument& config, const TryPlan& plan, const std::string& host_try_dir,
                  const std::vector<std::string>& launch) {
  auto& a = config.allocator();
  std::string container_try_dir(kTryDir);
  for (size_t n = 0; n < plan.hooks.size(); ++n) {
    const ExpectedHook& h = plan.hooks[n];
    JsonValue& entry = config.json()["hooks"][h.stage.c_str()][static_cast<rapidjson::SizeType>(h.index)];
    bool inside = h.stage == "startContainer";
    std::string record = path_join(inside ? container_try_dir : host_try_dir, "hooks/" + std::to_string(n) + ".json");
    // On the host the agent runs as itself; in the container as the container starts it.
    std::vector<std::string> start = inside ? launch : std::vector<std::string>{std::string(kTryAgentName)};
    JsonValue args(rapidjson::kArrayType);
    add_strings(args, start, a);
    add_strings(args, {"hook", record, h.path}, a);
    add_strings(args, h.args, a);
    entry.RemoveMember("args");
    entry.AddMember("args", args, a);
    entry["path"] = json_string(inside ? launch.front() : agent_in(host_try_dir), a);
  }
}

Status remove_tree(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status() : system_error("lstat " + quote(path), errno);
  static thread_local int first_error;
  first_error = 0;
  auto remove_one = [](const char* p, const struct stat*, int flag, FTW*) -> int {
    int rc = flag == FTW_DP ? ::rmdir(p) : ::unlink(p);
    if (rc != 0 && first_error == 0) first_error = errno;
    return 0;
  };
  if (::nftw(path.c_str(), remove_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) != 0) {
    return system_error("remove " + quote(path), errno);
  }
  if (first_error != 0) return system_error("remove " + quote(path), first_error);
  return {};
}

// --- the whole run ---

Result<TryResult> run_try(const TryRequest& request, Logger& logger) {
  SignalWatch watch;
  TryResult result;
  result.command = request.command;
  result.runtime = find_program(request.runtime);
  if (result.runtime.empty()) {
    return Error("runtime " + quote(request.runtime) + " not found" +
                 (request.runtime.find('/') == std::string::npos ? " in PATH" : "") +
                 " (install runc, or give --runtime PATH)");
  }
  Workspace ws(logger);
  Stage stage{ws, watch, result};
  const char* tmpdir = std::getenv("TMPDIR");
  std::string parent = !request.temp_parent.empty() ? request.temp_parent : tmpdir && *tmpdir ? tmpdir : "/tmp";
  CDI_TRY(ws.create(parent));
  // The agent runs from the rootfs made here: a noexec mount would stop the container at its first exec.
  if (struct statvfs vfs{}; ::statvfs(ws.dir.c_str(), &vfs) == 0 && (vfs.f_flag & ST_NOEXEC) != 0) {
    return Error(quote(parent) +
                 " is mounted noexec, so the container could not run from it: set TMPDIR to a "
                 "dir on another file system");
  }
  std::string bundle = ws.path("bundle");
  std::string rootfs = path_join(bundle, "rootfs");
  std::string try_dir = rootfs + std::string(kTryDir);
  CDI_TRY(make_dir(bundle, 0700));
  CDI_TRY(prepare_rootfs(request, ws, rootfs));
  auto launch = bundle_agent(request.agent, try_dir);
  if (!launch.ok()) return std::move(launch).error();
  if (stage.interrupted()) return result;

  auto base = try_base_config(request.devices, request.command, *launch);
  if (!base.ok()) return std::move(base).error();
  std::string config_path = path_join(bundle, "config.json");
  CDI_TRY(write_file_atomic(config_path, base->serialize(true)));
  logger.debug("try: bundle " + bundle);
  // Exactly what the hook does with a bundle (its state mode).
  auto injected = cli::adjust_bundle(bundle, logger, request.inject);
  if (!injected.ok()) return std::move(injected).error();
  auto plan = finish_config(*base, config_path, try_dir, *launch);
  if (!plan.ok()) return std::move(plan).error();
  result.plan = std::move(*plan);
  if (stage.interrupted()) return result;

  TryObservations seen;
  seen.runtime = path_basename(result.runtime);
  seen.command = request.command;
  seen.timeout_seconds = request.timeout_seconds;
  seen.sources = stat_sources(result.plan);
  ws.runtime = result.runtime;
  ws.state_root = ws.path("state");
  ws.id = result.container_id = "cdi-hook-try-" + std::to_string(::getpid()) + "-" + random_suffix();
  std::vector<std::string> argv = {result.runtime, "--root", ws.state_root, "run", "--bundle", bundle, ws.id};
  logger.debug("try: " + join(argv, " "));
  auto stop = [&] {
    auto r = run_process({result.runtime, "--root", ws.state_root, "kill", ws.id, "KILL"}, 10, nullptr, [] {});
    (void)r;
  };
  auto ran = run_process(argv, request.timeout_seconds, &watch, stop);
  if (!ran.ok()) return std::move(ran).error();
  ws.delete_container();  // poststop hooks run here when the runtime left the container behind
  result.exit_code = ran->exit_code;
  result.signal = ran->signal;
  result.timed_out = ran->timed_out;
  result.stdout_text = std::move(ran->out);
  result.stderr_text = std::move(ran->err);
  result.output_truncated = ran->truncated;
  if (ran->interrupted_by != 0 || stage.interrupted()) {
    result.interrupted_by = ran->interrupted_by != 0 ? ran->interrupted_by : watch.received();
    return result;
  }
  seen.exit_code = ran->exit_code;
  seen.signal = ran->signal;
  seen.timed_out = ran->timed_out;
  collect(result.plan, try_dir, seen, logger);
  result.started = seen.probe.has_value();
  if (!seen.probe) seen.runtime_error = runtime_message(last_line(result.stderr_text));
  result.checks = evaluate_try(result.plan, seen);
  return result;
}

}  // namespace cdi
