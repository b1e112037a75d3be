// spawn_bench: times whole-process runs of a command and measures its peak memory.
//
//   spawn_bench [-n RUNS] [-w WARMUP] [-m MEM_RUNS] [--stdin FILE] [--stdout FILE] -- COMMAND ARGS...
//
// Time: each run is posix_spawn + wait4, timed with CLOCK_MONOTONIC, stdin
// opened from FILE (or /dev/null), stdout to /dev/null (or FILE), stderr
// inherited. WARMUP runs first, untimed. The figures are the median, p10, p90,
// min and mean of RUNS runs, and the medians of the children's CPU time
// (user + system, from wait4's rusage) and of its user and system parts. The
// kernel keeps the total exactly (the scheduler's runtime) but may split it
// between user and system by sampling ticks, so on a short run the total is
// the figure to read; unlike wall-clock time it leaves out time spent waiting
// for a CPU, which makes it the steadier figure on a busy machine.
//
// Memory: ru_maxrss from wait4 is the largest RSS the child's *task* had, and a
// posix_spawn child starts on the parent's address space (vfork semantics), so
// the parent's RSS leaks into it. It is printed (maxrss_kb) only for
// comparison. The child's own peak is VmHWM of the mm that exec made, read
// from /proc/PID/status while the child sits in its ptrace exit stop
// (PTRACE_TRACEME, PTRACE_O_TRACEEXIT): the process has finished but its
// address space still exists. That needs MEM_RUNS separate runs, traced and
// therefore not timed. hwm_kb is the largest VmHWM seen; exit_anon_kb and
// exit_file_kb the largest RssAnon and RssFile at the exit stop (what is still
// resident then, not a peak: the anonymous part is the process's own memory,
// the file part mostly the binary's pages, shared with every other run of it).
//
// Output: one line of key=value pairs. Exit status 1 if any run failed (the
// command exited non-zero or by a signal), 2 on a usage error.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

extern char** environ;

namespace {

struct Options {
  int runs = 200;
  int warmup = 20;
  int mem_runs = 5;
  const char* stdin_path = "/dev/null";
  const char* stdout_path = "/dev/null";
  char** command = nullptr;
};

struct TimedRun {
  double wall_ms = 0;
  double user_ms = 0;
  double sys_ms = 0;
  long maxrss_kb = 0;
};

struct MemoryRun {
  long hwm_kb = 0;     // VmHWM: peak resident set of the child's own mm
  long rss_anon_kb = 0;
  long rss_file_kb = 0;
  long vm_peak_kb = 0;
};

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double tv_ms(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3;
}

bool exited_ok(int status, const char* what) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status)) {
    std::fprintf(stderr, "spawn_bench: %s exited with status %d\n", what, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    std::fprintf(stderr, "spawn_bench: %s killed by signal %d\n", what, WTERMSIG(status));
  } else {
    std::fprintf(stderr, "spawn_bench: %s ended with wait status %#x\n", what, status);
  }
  return false;
}

// One timed run; false when the command could not be started or failed.
bool run_timed(const Options& o, TimedRun& out) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, o.stdin_path, O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, o.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  double start = now_ms();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, o.command[0], &actions, nullptr, o.command, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    std::fprintf(stderr, "spawn_bench: cannot start %s: %s\n", o.command[0], std::strerror(rc));
    return false;
  }
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      std::perror("spawn_bench: wait4");
      return false;
    }
  }
  out.wall_ms = now_ms() - start;
  out.user_ms = tv_ms(ru.ru_utime);
  out.sys_ms = tv_ms(ru.ru_stime);
  out.maxrss_kb = ru.ru_maxrss;
  return exited_ok(status, o.command[0]);
}

// The "Name:   123 kB" fields of /proc/PID/status that we report.
MemoryRun read_status(pid_t pid) {
  MemoryRun m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  auto field = [&line](const char* name, long& value) {
    size_t n = std::strlen(name);
    if (line.compare(0, n, name) == 0) value = std::atol(line.c_str() + n);
  };
  while (std::getline(in, line)) {
    field("VmHWM:", m.hwm_kb);
    field("VmPeak:", m.vm_peak_kb);
    field("RssAnon:", m.rss_anon_kb);
    field("RssFile:", m.rss_file_kb);
  }
  return m;
}

// Child side of a traced run: only async-signal-safe calls between fork and exec.
[[noreturn]] void exec_traced(const Options& o) {
  int in = open(o.stdin_path, O_RDONLY);
  int out = open(o.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (in < 0 || out < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0) _exit(126);
  if (in != STDIN_FILENO) close(in);
  if (out != STDOUT_FILENO) close(out);
  if (ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) _exit(126);
  execve(o.command[0], o.command, environ);  // stops with SIGTRAP once the new image is in place
  _exit(127);
}

// One traced run: the child's memory at its exit stop; false on failure.
bool run_traced(const Options& o, MemoryRun& out) {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("spawn_bench: fork");
    return false;
  }
  if (pid == 0) exec_traced(o);
  int status = 0;
  bool options_set = false;
  bool seen_exit = false;
  for (;;) {
    if (waitpid(pid, &status, 0) < 0) {
      if (errno == EINTR) continue;
      std::perror("spawn_bench: waitpid");
      return false;
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) break;
    if (!WIFSTOPPED(status)) continue;
    int sig = WSTOPSIG(status);
    int deliver = 0;
    if (!options_set && sig == SIGTRAP) {
      // The stop after exec: from here on, stop again just before exit.
      ptrace(PTRACE_SETOPTIONS, pid, nullptr, PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL);
      options_set = true;
    } else if (sig == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXIT) {
      out = read_status(pid);
      seen_exit = true;
    } else if (sig != SIGTRAP) {
      deliver = sig;  // an ordinary signal: pass it on
    }
    ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(deliver)));
  }
  if (!exited_ok(status, o.command[0])) return false;
  if (!seen_exit || out.hwm_kb == 0) {
    std::fprintf(stderr, "spawn_bench: no exit stop seen for %s (ptrace not permitted?)\n", o.command[0]);
    return false;
  }
  return true;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[i];
}

bool parse_int(const char* s, int& out) {
  char* end = nullptr;
  long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < 0 || v > 1000000) return false;
  out = static_cast<int>(v);
  return true;
}

int usage() {
  std::fprintf(stderr,
               "usage: spawn_bench [-n RUNS] [-w WARMUP] [-m MEM_RUNS] [--stdin FILE] [--stdout FILE] -- COMMAND "
               "ARGS...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    bool has_value = i + 1 < argc;
    if (a == "--") {
      ++i;
      break;
    }
    if (!has_value) return usage();
    if (a == "-n") {
      if (!parse_int(argv[++i], o.runs)) return usage();
    } else if (a == "-w") {
      if (!parse_int(argv[++i], o.warmup)) return usage();
    } else if (a == "-m") {
      if (!parse_int(argv[++i], o.mem_runs)) return usage();
    } else if (a == "--stdin") {
      o.stdin_path = argv[++i];
    } else if (a == "--stdout") {
      o.stdout_path = argv[++i];
    } else {
      std::fprintf(stderr, "spawn_bench: unknown argument %s\n", argv[i]);
      return usage();
    }
  }
  if (i >= argc || o.runs < 1) return usage();
  o.command = argv + i;

  TimedRun run;
  for (int k = 0; k < o.warmup; ++k) {
    if (!run_timed(o, run)) return 1;
  }
  std::vector<double> wall, cpu, user, sys;
  long maxrss = 0;
  for (int k = 0; k < o.runs; ++k) {
    if (!run_timed(o, run)) return 1;
    wall.push_back(run.wall_ms);
    cpu.push_back(run.user_ms + run.sys_ms);
    user.push_back(run.user_ms);
    sys.push_back(run.sys_ms);
    maxrss = std::max(maxrss, run.maxrss_kb);
  }
  MemoryRun peak;
  for (int k = 0; k < o.mem_runs; ++k) {
    MemoryRun m;
    if (!run_traced(o, m)) return 1;
    peak.hwm_kb = std::max(peak.hwm_kb, m.hwm_kb);
    peak.rss_anon_kb = std::max(peak.rss_anon_kb, m.rss_anon_kb);
    peak.rss_file_kb = std::max(peak.rss_file_kb, m.rss_file_kb);
    peak.vm_peak_kb = std::max(peak.vm_peak_kb, m.vm_peak_kb);
  }
  double mean = 0;
  for (double t : wall) mean += t;
  mean /= static_cast<double>(wall.size());
  std::printf(
      "median_ms=%.3f p10_ms=%.3f p90_ms=%.3f min_ms=%.3f mean_ms=%.3f cpu_ms=%.3f user_ms=%.3f sys_ms=%.3f "
      "runs=%d maxrss_kb=%ld",
      percentile(wall, 0.5), percentile(wall, 0.1), percentile(wall, 0.9), percentile(wall, 0.0), mean,
      percentile(cpu, 0.5), percentile(user, 0.5), percentile(sys, 0.5), o.runs, maxrss);
  if (o.mem_runs > 0) {
    std::printf(" hwm_kb=%ld exit_anon_kb=%ld exit_file_kb=%ld vmpeak_kb=%ld mem_runs=%d", peak.hwm_kb,
                peak.rss_anon_kb, peak.rss_file_kb, peak.vm_peak_kb, o.mem_runs);
  }
  std::printf("\n");
  return 0;
}
