// cdi-hook-nri: cdi-hook as an NRI plugin for containerd and CRI-O.
//
// Pre-registered: the runtime starts /opt/nri/plugins/NN-name with no
// arguments, NRI_PLUGIN_SOCKET=3, NRI_PLUGIN_NAME and NRI_PLUGIN_IDX, and
// stdout/stderr on /dev/null; the plugin serves fd 3 and exits 0 when the
// runtime closes it (it is never restarted). External: it connects to
// --socket, and whenever the runtime is absent or goes away (containerd
// closes the connection on restart and never sends Shutdown) it connects and
// registers again, with capped exponential backoff, forever.
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/text.h"
#include "nri/cdi_adjuster.h"
#include "nri/config_check.h"
#include "nri/plugin.h"
#include "nri/plugin_log.h"
#include "nri/plugin_options.h"
#include "nri/protocol.h"
#include "nri/session.h"

namespace {

using namespace cdi;
using namespace cdi::nri;
using Clock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr auto kTick = std::chrono::seconds(5);
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::seconds(30);

void print(FILE* stream, const std::string& text) { std::fputs(text.c_str(), stream); }

Result<std::string> read_config_file(const std::string& path) {
  RealFs fs;
  return fs.read_file(path, 1u << 20);
}

const char* env(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  return v && *v ? v : nullptr;
}

// The identity of a pre-registered plugin: NRI_PLUGIN_NAME and NRI_PLUGIN_IDX,
// or else its own file name NN-name (split at the first '-').
Launch pre_registered_launch(const char* argv0) {
  Launch l;
  l.pre_registered = true;
  std::string_view self = argv0 ? argv0 : "";
  self = self.substr(self.rfind('/') + 1);
  size_t dash = self.find('-');
  if (dash != std::string_view::npos) {
    l.plugin_idx = self.substr(0, dash);
    l.plugin_name = self.substr(dash + 1);
  }
  if (auto v = env(kEnvPluginName)) l.plugin_name = v;
  if (auto v = env(kEnvPluginIdx)) l.plugin_idx = v;
  return l;
}

void write_health(const std::string& path, std::string_view state) {
  if (path.empty()) return;
  AtomicWriteOptions w;
  w.mode = 0644;
  w.keep_owner = false;
  w.durable = false;
  (void)write_file_atomic(path, std::string(state) + "\n", w);
}

// Sleeps `d` in slices, rewriting the health file between them.
void sleep_alive(std::chrono::milliseconds d, const std::string& health_file) {
  auto until = Clock::now() + d;
  while (Clock::now() < until) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(left, kTick));
    write_health(health_file, "connecting");
  }
}

Result<int> connect_socket(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return Error("socket path too long: " + quote(path));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return system_error("socket", errno);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int err = errno;
    ::close(fd);
    return system_error("connect to " + quote(path), err);
  }
  return fd;
}

SessionOptions session_options(const Launch& launch, const Plugin& plugin, const std::string& health_file,
                               SwitchingLogger& logger) {
  SessionOptions s;
  s.plugin_name = launch.plugin_name;
  s.plugin_idx = launch.plugin_idx;
  // The lines of a request are written once its answer is sent: the runtime does not wait for the log.
  s.on_serve = [&logger] { logger.hold(); };
  s.on_served = [&logger] { logger.release(); };
  if (!health_file.empty()) {
    s.tick = kTick;
    s.on_tick = [&plugin, health_file] {
      write_health(health_file, plugin.is_registered() ? "registered" : "connected");
    };
  }
  return s;
}

// `check CONF`: the report on stdout; 1 for a refused config or a spec problem.
int check_main(const std::string& file) {
  auto text = read_config_file(file);
  if (!text.ok()) {
    print(stderr, "cdi-hook-nri: " + text.error().to_string() + "\n");
    return kExitFailure;
  }
  RealFs fs;
  NullLogger quiet;  // every problem is in the report
  CheckReport report = check_config(*text, file, fs, quiet);
  print(stdout, report.text);
  return report.ok ? kExitOk : kExitFailure;
}

int run_pre_registered(Plugin& plugin, const Launch& launch, SwitchingLogger& logger, const std::string& health_file) {
  const char* fd_text = env(kEnvPluginSocket);
  int fd = -1;
  if (!fd_text || std::sscanf(fd_text, "%d", &fd) != 1 || fd < 0) {
    logger.error("NRI_PLUGIN_SOCKET=" + quote(fd_text ? fd_text : "") + " is not a file descriptor");
    return kExitFailure;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) {
    logger.error("NRI_PLUGIN_SOCKET=" + std::string(fd_text) + ": descriptor " + std::to_string(fd) +
                 " is not a socket");
    return kExitFailure;
  }
  logger.info("started by the runtime as " + launch.plugin_idx + "-" + launch.plugin_name + " on fd " +
              std::to_string(fd));
  write_health(health_file, "connected");
  plugin.begin_session();
  Session session(fd, plugin, logger, session_options(launch, plugin, health_file, logger));
  auto end = session.run();
  ::close(fd);
  if (!end.ok()) {
    logger.error("connection to the runtime failed: " + end.error().to_string());
    return kExitFailure;
  }
  if (plugin.refused()) return kExitFailure;
  logger.info(*end == SessionEnd::eof ? "the runtime closed the connection; exiting" : "shut down; exiting");
  return kExitOk;
}

int run_external(Plugin& plugin, const Launch& launch, SwitchingLogger& logger, const PluginOptions& options) {
  auto backoff = kFirstBackoff;
  int attempts_at_cap = 0;
  for (;;) {
    auto fd = connect_socket(options.socket);
    if (!fd.ok()) {
      // One line per backoff step; at the cap, one line per ten attempts.
      if (backoff < kMaxBackoff || attempts_at_cap++ % 10 == 0) {
        logger.warn("cannot reach the runtime: " + fd.error().to_string() + "; retrying in " +
                    std::to_string(backoff.count()) + " ms");
      }
      sleep_alive(backoff, options.health_file);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
      continue;
    }
    logger.info("connected to " + options.socket);
    write_health(options.health_file, "connected");
    plugin.begin_session();
    Session session(*fd, plugin, logger, session_options(launch, plugin, options.health_file, logger));
    auto end = session.run();
    ::close(*fd);
    if (plugin.refused()) return kExitFailure;
    if (!end.ok()) {
      logger.error("connection to the runtime failed: " + end.error().to_string() + "; reconnecting");
    } else {
      logger.info(*end == SessionEnd::eof ? "the runtime closed the connection; reconnecting"
                                          : "the runtime asked the plugin to shut down; reconnecting");
    }
    if (plugin.is_registered()) {
      backoff = kFirstBackoff;
      attempts_at_cap = 0;
    }
    write_health(options.health_file, "connecting");
    sleep_alive(backoff, options.health_file);
  }
}

std::string trim_newline(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

int health_main(const CommandLine& cl) {
  const std::string& path = cl.options.health_file;
  if (path.empty()) {
    print(stderr, "cdi-hook-nri health: --health-file is required\n");
    return kExitUsage;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    print(stderr, "cdi-hook-nri health: " + system_error("stat " + quote(path), errno).to_string() + "\n");
    return kExitFailure;
  }
  auto age = std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtime);
  if (cl.health_ready) {
    auto text = RealFs().read_file(path, 4096);
    if (!text.ok() || *text != "registered\n") {
      print(stderr, "cdi-hook-nri health: not registered with the runtime (" +
                        (text.ok() ? quote(trim_newline(*text)) : text.error().to_string()) + ")\n");
      return kExitFailure;
    }
  }
  if (age > cl.health_max_age) {
    print(stderr, "cdi-hook-nri health: " + quote(path) + " was last written " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
                      " s ago (more than " + std::to_string(cl.health_max_age.count()) + " s): the plugin is stuck\n");
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  bool pre_registered = env(kEnvPluginSocket) != nullptr;
  auto cl = parse_command_line(argc, argv, read_config_file);
  if (!cl.ok()) {
    print(stderr, "cdi-hook-nri: " + cl.error().to_string() + "\nRun 'cdi-hook-nri --help' for usage.\n");
    return kExitUsage;
  }
  if (cl->help) {
    print(stdout, usage());
    return kExitOk;
  }
  if (cl->version) {
    print(stdout, "cdi-hook-nri " CDIHOOK_VERSION "\n");
    return kExitOk;
  }
  if (cl->health_check) return health_main(*cl);
  if (cl->check) return check_main(cl->check_file);
  const PluginOptions& options = cl->options;
  auto first = PluginLogger::create(options.log_level, log_sinks(options, pre_registered));
  if (!first.ok()) {
    print(stderr, "cdi-hook-nri: " + first.error().to_string() + "\n");
    return kExitFailure;
  }
  SwitchingLogger logger(std::move(*first));
  Launch launch;
  if (pre_registered) {
    launch = pre_registered_launch(argc > 0 ? argv[0] : nullptr);
  } else {
    launch.plugin_name = options.name;
    launch.plugin_idx = options.index;
  }
  auto apply_log_options = [&logger, pre_registered](const PluginOptions& o) -> Status {
    auto made = PluginLogger::create(o.log_level, log_sinks(o, pre_registered));
    if (!made.ok()) return std::move(made).error();
    logger.set(std::move(*made));
    return {};
  };
  Plugin plugin(options, launch, logger, make_cdi_adjuster, apply_log_options);
  plugin.on_registered([health_file = options.health_file] { write_health(health_file, "registered"); });
  return pre_registered ? run_pre_registered(plugin, launch, logger, options.health_file)
                        : run_external(plugin, launch, logger, options);
}
