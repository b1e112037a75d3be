// nri_inprocess: the plugin's CreateContainer path in one process, warm: the
// protobuf request parsed, the devices resolved from the spec cache, the plan
// made and the answer encoded, as cdi-hook-nri serves it, but with no socket,
// no mux or ttrpc framing and no second process to be scheduled. It isolates
// the plugin's own code from the machine's share of a round trip (what
// nri_bench measures), for work on the request path: a change that does not
// move this does not make the plugin faster.
//
//   nri_inprocess --spec-dir DIR --request FILE [-n RUNS] [-w WARMUP]
//
// FILE: a serialized CreateContainerRequest (bench/nri_bench.py writes
// request.bin with --keep). Configured as containerd 2.2.1 (NRI v0.11), as
// nri_bench does; the decision lines are built at level info, as deployed, and
// dropped. Output, one line: runs= median_us= p90_us= p99_us= answer_bytes=
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nri/cdi_adjuster.h"
#include "nri/nri_api.pb.h"
#include "nri/plugin.h"
#include "nri/protocol.h"

namespace {

using namespace cdi;
using namespace cdi::nri;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "nri_inprocess: %s\n", message.c_str());
  std::exit(1);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Level info, as deployed: the decision lines are built, then dropped.
class DroppingLogger final : public Logger {
 public:
  bool enabled(LogLevel level) const override { return level >= LogLevel::info; }
  void write(LogLevel, std::string_view) override {}
};

double now_us() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  std::string spec_dir, request_file;
  int runs = 20000, warmup = 1000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    const char* v = argv[i + 1];
    if (a == "--spec-dir") {
      spec_dir = v;
    } else if (a == "--request") {
      request_file = v;
    } else if (a == "-n") {
      runs = std::atoi(v);
    } else if (a == "-w") {
      warmup = std::atoi(v);
    } else {
      die("unknown argument " + a);
    }
  }
  if (spec_dir.empty() || request_file.empty() || runs < 1) {
    die("usage: nri_inprocess --spec-dir DIR --request FILE [-n RUNS] [-w WARMUP]");
  }
  std::string request = read_file(request_file);
  PluginOptions options;
  options.spec_dirs = {spec_dir};
  DroppingLogger logger;
  Plugin plugin(options, Launch{}, logger, make_cdi_adjuster, [](const PluginOptions&) { return Status(); });
  pb::ConfigureRequest configure;
  configure.set_runtime_name("v2");  // containerd 2.2.1: NRI v0.11, explicit cgroup rules applied
  configure.set_runtime_version("2.2.1");
  configure.set_request_timeout(2000);
  if (Reply r = plugin.call(kConfigure, configure.SerializeAsString()); r.code != Code::ok) {
    die("Configure: " + r.message);
  }
  size_t answer_bytes = 0;
  for (int i = 0; i < warmup; ++i) {
    Reply r = plugin.call(kCreateContainer, request);
    if (r.code != Code::ok) die("CreateContainer: " + r.message);
    answer_bytes = r.kept_payload.empty() ? r.payload.size() : r.kept_payload.size();
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(runs));
  for (int i = 0; i < runs; ++i) {
    double t0 = now_us();
    Reply r = plugin.call(kCreateContainer, request);
    us.push_back(now_us() - t0);
    if (r.code != Code::ok) die("CreateContainer: " + r.message);
  }
  std::sort(us.begin(), us.end());
  auto pct = [&](double p) { return us[static_cast<size_t>(p * static_cast<double>(us.size() - 1))]; };
  std::printf("runs=%d median_us=%.2f p90_us=%.2f p99_us=%.2f answer_bytes=%zu\n", runs, pct(0.5), pct(0.9), pct(0.99),
              answer_bytes);
  return 0;
}
