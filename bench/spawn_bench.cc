// spawn_bench: times whole-process runs of a command with a file on stdin.
//   spawn_bench [-n RUNS] [-w WARMUP] [--stdin FILE] -- COMMAND ARGS...
// Prints one line: "median_ms=... p10_ms=... p90_ms=... mean_ms=... max_rss_kb=... runs=..."
// Each run is posix_spawn + wait4 timed with CLOCK_MONOTONIC; peak memory is
// the largest ru_maxrss of the children. Exit status: 1 if any run failed.
#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

extern char** environ;

namespace {

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// One run; returns elapsed ms, or a negative value when the command failed.
double run_once(char** argv, const char* stdin_path, long& max_rss_kb) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_path) posix_spawn_file_actions_addopen(&actions, 0, stdin_path, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  double start = now_ms();
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ) != 0) {
    posix_spawn_file_actions_destroy(&actions);
    return -1;
  }
  int status = 0;
  rusage ru{};
  wait4(pid, &status, 0, &ru);
  double elapsed = now_ms() - start;
  posix_spawn_file_actions_destroy(&actions);
  max_rss_kb = std::max(max_rss_kb, ru.ru_maxrss);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return elapsed;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200, warmup = 20;
  const char* stdin_path = nullptr;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-n" && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (a == "-w" && i + 1 < argc) warmup = std::atoi(argv[++i]);
    else if (a == "--stdin" && i + 1 < argc) stdin_path = argv[++i];
    else if (a == "--") { ++i; break; }
    else { std::fprintf(stderr, "spawn_bench: unknown argument %s\n", argv[i]); return 2; }
  }
  if (i >= argc || runs < 1) {
    std::fprintf(stderr, "usage: spawn_bench [-n RUNS] [-w WARMUP] [--stdin FILE] -- COMMAND ARGS...\n");
    return 2;
  }
  char** cmd = argv + i;
  long rss = 0;
  for (int k = 0; k < warmup; ++k) {
    if (run_once(cmd, stdin_path, rss) < 0) { std::fprintf(stderr, "spawn_bench: %s failed\n", cmd[0]); return 1; }
  }
  rss = 0;
  std::vector<double> times;
  for (int k = 0; k < runs; ++k) {
    double t = run_once(cmd, stdin_path, rss);
    if (t < 0) { std::fprintf(stderr, "spawn_bench: %s failed\n", cmd[0]); return 1; }
    times.push_back(t);
  }
  double mean = 0;
  for (double t : times) mean += t;
  mean /= static_cast<double>(times.size());
  std::printf("median_ms=%.3f p10_ms=%.3f p90_ms=%.3f mean_ms=%.3f max_rss_kb=%ld runs=%d\n", percentile(times, 0.5),
              percentile(times, 0.1), percentile(times, 0.9), mean, rss, runs);
  return 0;
}
