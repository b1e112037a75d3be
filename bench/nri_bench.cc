// nri_bench: CreateContainer round trips through the NRI socket, the runtime's
// side played by this program (the plugin's own mux and ttrpc code, the
// project's .proto), timed per request.
//
//   nri_bench --plugin PATH --config FILE --request FILE [-n RUNS] [-w WARMUP] [--gap-us US] [--name NAME]
//
// The plugin is started as a runtime starts a pre-registered plugin: no
// arguments, NRI_PLUGIN_SOCKET=3 (a socketpair end), NRI_PLUGIN_NAME and
// NRI_PLUGIN_IDX only, stdout and stderr on /dev/null. FILE of --config is the
// text handed over in ConfigureRequest.config; FILE of --request a serialized
// CreateContainerRequest (bench/nri_bench.py writes it from an OCI config).
// After RegisterPlugin, Configure and Synchronize, WARMUP requests, then RUNS
// timed ones, one at a time: CLOCK_MONOTONIC from the request's encoding (the
// ttrpc envelope and mux frames) to the reply read and decoded (its status;
// about 2 us of the span); with --gap-us, a sleep of US microseconds
// before each (requests that find the plugin idle, as on a real node). Every
// reply must be OK.
//
// Output, one line: name=NAME runs= median_us= p90_us= p99_us= max_us= mean_us=
// reply_bytes= plugin_cpu_us= (the plugin's CPU time per timed request) rss_warm_kb= (VmRSS after the warm-up)
// rss_end_kb= (after the timed runs) hwm_kb= (VmHWM at the end).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "nri/mux.h"
#include "nri/nri_api.pb.h"
#include "nri/protocol.h"
#include "nri/ttrpc.h"

namespace {

using namespace cdi::nri;
namespace pb = ::nri::pkg::api::v1alpha1;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "nri_bench: %s\n", message.c_str());
  std::exit(1);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) die("cannot read " + path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

double now_us() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

long proc_status_kb(pid_t pid, const char* key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  }
  return -1;
}

// The process's user + system CPU time in microseconds (/proc/PID/stat, clock ticks).
double cpu_us(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream rest(text.substr(paren + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::atof(field.c_str());
    if (i == 15) stime = std::atof(field.c_str());
  }
  return (utime + stime) * 1e6 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

class Runtime {
 public:
  explicit Runtime(int fd) : fd_(fd) {}

  void send(uint32_t conn, uint32_t stream, MessageType type, const std::string& data) {
    std::string message, framed;
    append_message(message, stream, type, data);
    append_frames(framed, conn, message, 1u << 30);  // the runtime's side sends whole messages
    for (size_t at = 0; at < framed.size();) {
      ssize_t n = ::write(fd_, framed.data() + at, framed.size() - at);
      if (n < 0 && errno != EINTR) die(std::string("write: ") + std::strerror(errno));
      if (n > 0) at += static_cast<size_t>(n);
    }
  }

  // The next message on `conn`, reading as needed.
  Message next(uint32_t conn) {
    for (;;) {
      auto m = take_message(mux_.stream(conn));
      if (!m.ok()) die(m.error().to_string());
      if (m->has_value()) return std::move(**m);
      char buffer[65536];
      ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n == 0) die("the plugin closed the connection");
      if (n < 0) {
        if (errno == EINTR) continue;
        die(std::string("read: ") + std::strerror(errno));
      }
      if (auto st = mux_.feed(std::string_view(buffer, static_cast<size_t>(n))); !st.ok()) {
        die(st.error().to_string());
      }
    }
  }

  Reply call(const std::string& method, const std::string& payload) {
    uint32_t id = next_stream_;
    next_stream_ += 2;
    send(kPluginConn, id, MessageType::request,
         encode_call({std::string(kPluginService), method, payload, 2000000000}));
    Message m = next(kPluginConn);
    if (m.stream_id != id) die("reply on stream " + std::to_string(m.stream_id) + ", expected " + std::to_string(id));
    auto reply = decode_reply(m.data);
    if (!reply.ok()) die(reply.error().to_string());
    return std::move(*reply);
  }

 private:
  int fd_;
  MuxReader mux_;
  uint32_t next_stream_ = 1;
};

}  // namespace

int main(int argc, char** argv) {
  std::string plugin, config_path, request_path, name = "nri";
  int runs = 10000, warmup = 200, gap_us = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(a + " needs a value");
      return argv[++i];
    };
    if (a == "--plugin") {
      plugin = value();
    } else if (a == "--config") {
      config_path = value();
    } else if (a == "--request") {
      request_path = value();
    } else if (a == "-n") {
      runs = std::atoi(value().c_str());
    } else if (a == "-w") {
      warmup = std::atoi(value().c_str());
    } else if (a == "--gap-us") {
      gap_us = std::atoi(value().c_str());
    } else if (a == "--name") {
      name = value();
    } else {
      die("unknown argument " + a);
    }
  }
  if (plugin.empty() || request_path.empty() || runs <= 0) {
    die("usage: nri_bench --plugin PATH --config FILE --request FILE [-n RUNS] [-w WARMUP] [--gap-us US] [--name "
        "NAME]");
  }
  std::string config = config_path.empty() ? "" : read_file(config_path);
  std::string request = read_file(request_path);

  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) die("socketpair");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
  std::string argv0 = "/opt/nri/plugins/10-cdi-hook";
  char* child_argv[] = {argv0.data(), nullptr};
  std::string e1 = "NRI_PLUGIN_SOCKET=3", e2 = "NRI_PLUGIN_NAME=cdi-hook", e3 = "NRI_PLUGIN_IDX=10";
  char* child_env[] = {e1.data(), e2.data(), e3.data(), nullptr};
  pid_t pid = 0;
  if (int err = posix_spawn(&pid, plugin.c_str(), &fa, nullptr, child_argv, child_env); err != 0) {
    die("posix_spawn " + plugin + ": " + std::strerror(err));
  }
  ::close(sv[1]);
  Runtime rt(sv[0]);

  Message reg = rt.next(kRuntimeConn);
  rt.send(kRuntimeConn, reg.stream_id, MessageType::response, encode_reply(Reply::ok(pb::Empty().SerializeAsString())));
  pb::ConfigureRequest cfg;
  cfg.set_config(config);
  cfg.set_runtime_name("v2");  // containerd 2.2.1: NRI v0.11, explicit cgroup rules applied
  cfg.set_runtime_version("2.2.1");
  cfg.set_registration_timeout(5000);
  cfg.set_request_timeout(2000);
  if (auto r = rt.call("Configure", cfg.SerializeAsString()); r.code != Code::ok) die("Configure: " + r.message);
  if (auto r = rt.call("Synchronize", pb::SynchronizeRequest().SerializeAsString()); r.code != Code::ok) {
    die("Synchronize: " + r.message);
  }
  size_t reply_bytes = 0;
  for (int i = 0; i < warmup; ++i) {
    auto r = rt.call("CreateContainer", request);
    if (r.code != Code::ok) die("CreateContainer: " + r.message);
    reply_bytes = r.payload.size();
  }
  long rss_warm = proc_status_kb(pid, "VmRSS:");
  double cpu_start = cpu_us(pid);
  std::vector<double> us;
  // The same allocation whatever RUNS is (mmap'ed: over glibc's threshold): with the timings on the
  // heap, the harness's own memory layout, and so its cache behaviour, would change with RUNS (a
  // 2,000-request run measured 53 us where a 10,000-request run measured 48 us, pinned).
  us.reserve(static_cast<size_t>(std::max(runs, 100000)));
  for (int i = 0; i < runs; ++i) {
    if (gap_us > 0) ::usleep(static_cast<useconds_t>(gap_us));
    double t0 = now_us();
    auto r = rt.call("CreateContainer", request);
    double t1 = now_us();
    if (r.code != Code::ok) die("CreateContainer: " + r.message);
    us.push_back(t1 - t0);
  }
  long rss_end = proc_status_kb(pid, "VmRSS:");
  double cpu_per_request = (cpu_us(pid) - cpu_start) / runs;
  long hwm = proc_status_kb(pid, "VmHWM:");
  ::close(sv[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  std::vector<double> sorted = us;
  std::sort(sorted.begin(), sorted.end());
  auto pct = [&](double p) { return sorted[static_cast<size_t>(p * static_cast<double>(sorted.size() - 1))]; };
  double mean = 0;
  for (double v : us) mean += v;
  mean /= static_cast<double>(us.size());
  std::printf(
      "name=%s runs=%d median_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f mean_us=%.1f reply_bytes=%zu "
      "plugin_cpu_us=%.1f rss_warm_kb=%ld rss_end_kb=%ld hwm_kb=%ld exit=%d\n",
      name.c_str(), runs, pct(0.5), pct(0.9), pct(0.99), sorted.back(), mean, reply_bytes, cpu_per_request, rss_warm,
      rss_end, hwm, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  return 0;
}
