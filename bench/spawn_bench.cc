// spawn_bench: times whole-process runs of commands and measures their peak memory.
//
//   spawn_bench CASE [--- CASE]...
//   CASE: [-n RUNS] [-w WARMUP] [-m MEM_RUNS] [--stdin FILE] [--stdout FILE] [--name NAME] -- COMMAND ARGS...
//
// Options carry over from one case to the next unless given again (defaults:
// -n 200 -w 20 -m 5, stdin and stdout /dev/null, name = the case's number).
//
// Time: each run is posix_spawn + wait4, timed with CLOCK_MONOTONIC, stdin
// opened from FILE, stdout to FILE (truncated), stderr inherited. WARMUP runs
// of each case come first, untimed. Several cases are interleaved: the runs
// of all cases are spread evenly over one sequence of rounds, so that a burst
// of background load falls on every case alike and ratios between cases stay
// fair on a busy machine. The figures of a case are the median, p10, p90, min
// and mean of its RUNS runs, and the medians of the children's CPU time (user
// + system, from wait4's rusage) and of its user and system parts. The kernel
// keeps the total exactly (the scheduler's runtime) but may split it between
// user and system by sampling ticks, so on a short run the total is the figure
// to read; unlike wall-clock time it leaves out time spent waiting for a CPU.
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
// Output: one line of key=value pairs per case, in the order given, starting
// with name=NAME. Exit status 1 if any run failed (the command exited non-zero
// or by a signal), 2 on a usage error.
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
  std::string name;
  std::vector<char*> command;  // null-terminated
};

struct TimedRun {
  double wall_ms = 0;
  double user_ms = 0;
  double sys_ms = 0;
  long maxrss_kb = 0;
};

struct MemoryRun {
  long hwm_kb = 0;  // VmHWM: peak resident set of the child's own mm
  long rss_anon_kb = 0;
  long rss_file_kb = 0;
  long vm_peak_kb = 0;
};

double now_ms() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double tv_ms(const timeval& tv) { return static_cast<double>(tv.tv_sec) * 1e3 + static_cast<double>(tv.tv_usec) / 1e3; }

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
  int rc = posix_spawn(&pid, o.command[0], &actions, nullptr, o.command.data(), environ);
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
  execve(o.command[0], o.command.data(), environ);  // stops with SIGTRAP once the new image is in place
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
               "usage: spawn_bench CASE [--- CASE]...\n"
               "  CASE: [-n RUNS] [-w WARMUP] [-m MEM_RUNS] [--stdin FILE] [--stdout FILE] [--name NAME] -- "
               "COMMAND ARGS...\n");
  return 2;
}

// Parses the cases; options carry over to later cases. False on a usage error.
bool parse_cases(int argc, char** argv, std::vector<Options>& cases) {
  Options next;
  int i = 1;
  while (i < argc) {
    std::string a = argv[i];
    if (a == "--") {
      Options c = next;
      for (++i; i < argc && std::strcmp(argv[i], "---") != 0; ++i) c.command.push_back(argv[i]);
      if (c.command.empty() || c.runs < 1) return false;
      if (c.name.empty()) c.name = std::to_string(cases.size() + 1);
      c.command.push_back(nullptr);
      cases.push_back(std::move(c));
      next.name.clear();
      if (i < argc) ++i;  // the "---"
      continue;
    }
    if (i + 1 >= argc) return false;
    const char* v = argv[i + 1];
    if (a == "-n") {
      if (!parse_int(v, next.runs)) return false;
    } else if (a == "-w") {
      if (!parse_int(v, next.warmup)) return false;
    } else if (a == "-m") {
      if (!parse_int(v, next.mem_runs)) return false;
    } else if (a == "--stdin") {
      next.stdin_path = v;
    } else if (a == "--stdout") {
      next.stdout_path = v;
    } else if (a == "--name") {
      next.name = v;
    } else {
      std::fprintf(stderr, "spawn_bench: unknown argument %s\n", argv[i]);
      return false;
    }
    i += 2;
  }
  return !cases.empty();
}

struct Samples {
  std::vector<double> wall, cpu, user, sys;
  long maxrss_kb = 0;
};

// Runs `count[i]` runs of each case, spread evenly over max(count) rounds.
bool run_interleaved(const std::vector<Options>& cases, const std::vector<int>& count, std::vector<Samples>* out) {
  int rounds = *std::max_element(count.begin(), count.end());
  for (int r = 0; r < rounds; ++r) {
    for (size_t c = 0; c < cases.size(); ++c) {
      // Case c runs in round r when its share of runs steps up here.
      long due = static_cast<long>(r + 1) * count[c] / rounds - static_cast<long>(r) * count[c] / rounds;
      for (long k = 0; k < due; ++k) {
        TimedRun run;
        if (!run_timed(cases[c], run)) return false;
        if (!out) continue;
        Samples& s = (*out)[c];
        s.wall.push_back(run.wall_ms);
        s.cpu.push_back(run.user_ms + run.sys_ms);
        s.user.push_back(run.user_ms);
        s.sys.push_back(run.sys_ms);
        s.maxrss_kb = std::max(s.maxrss_kb, run.maxrss_kb);
      }
    }
  }
  return true;
}

void print_case(const Options& o, const Samples& s, const MemoryRun& peak) {
  double mean = 0;
  for (double t : s.wall) mean += t;
  mean /= static_cast<double>(s.wall.size());
  std::printf(
      "name=%s median_ms=%.3f p10_ms=%.3f p90_ms=%.3f min_ms=%.3f mean_ms=%.3f cpu_ms=%.3f user_ms=%.3f "
      "sys_ms=%.3f runs=%d maxrss_kb=%ld",
      o.name.c_str(), percentile(s.wall, 0.5), percentile(s.wall, 0.1), percentile(s.wall, 0.9),
      percentile(s.wall, 0.0), mean, percentile(s.cpu, 0.5), percentile(s.user, 0.5), percentile(s.sys, 0.5), o.runs,
      s.maxrss_kb);
  if (o.mem_runs > 0) {
    std::printf(" hwm_kb=%ld exit_anon_kb=%ld exit_file_kb=%ld vmpeak_kb=%ld mem_runs=%d", peak.hwm_kb,
                peak.rss_anon_kb, peak.rss_file_kb, peak.vm_peak_kb, o.mem_runs);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Options> cases;
  if (!parse_cases(argc, argv, cases)) return usage();

  std::vector<int> warmups, runs;
  for (const auto& c : cases) {
    warmups.push_back(c.warmup);
    runs.push_back(c.runs);
  }
  if (*std::max_element(warmups.begin(), warmups.end()) > 0 && !run_interleaved(cases, warmups, nullptr)) return 1;
  std::vector<Samples> samples(cases.size());
  if (!run_interleaved(cases, runs, &samples)) return 1;

  for (size_t c = 0; c < cases.size(); ++c) {
    MemoryRun peak;
    for (int k = 0; k < cases[c].mem_runs; ++k) {
      MemoryRun m;
      if (!run_traced(cases[c], m)) return 1;
      peak.hwm_kb = std::max(peak.hwm_kb, m.hwm_kb);
      peak.rss_anon_kb = std::max(peak.rss_anon_kb, m.rss_anon_kb);
      peak.rss_file_kb = std::max(peak.rss_file_kb, m.rss_file_kb);
      peak.vm_peak_kb = std::max(peak.vm_peak_kb, m.vm_peak_kb);
    }
    print_case(cases[c], samples[c], peak);
  }
  return 0;
}
