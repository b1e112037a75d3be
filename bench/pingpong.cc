// pingpong: the machine's floor for a request/answer between two processes
// over a Unix stream socket, the transport NRI uses.
//
//   pingpong [-n RUNS] [-w WARMUP] [--request BYTES] [--answer BYTES] [--gap-us US] [--name NAME]
//
// A child answers each request of REQUEST bytes with ANSWER bytes and does
// nothing else; the parent times each round trip (CLOCK_MONOTONIC) from its
// first byte written to the answer's last byte read (with --gap-us, after a
// sleep of US microseconds before each). What this costs is what
// any plugin pays on top of its own work: two wake-ups, the copies, the
// scheduler. Run it as the NRI benchmark runs its client (pinned to one CPU or
// not) to tell the plugin's share from the machine's. Prints one line of
// key=value pairs: median_us, p90_us, p99_us.
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::write(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool read_all(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t k = ::read(fd, p, n);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

[[noreturn]] void usage() {
  std::fprintf(
      stderr, "usage: pingpong [-n RUNS] [-w WARMUP] [--request BYTES] [--answer BYTES] [--gap-us US] [--name NAME]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  size_t runs = 10000, warmup = 500, request = 1, answer = 1, gap_us = 0;
  std::string name = "pingpong";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const char* v = argv[++i];
    if (a == "-n")
      runs = std::strtoul(v, nullptr, 10);
    else if (a == "-w")
      warmup = std::strtoul(v, nullptr, 10);
    else if (a == "--request")
      request = std::strtoul(v, nullptr, 10);
    else if (a == "--answer")
      answer = std::strtoul(v, nullptr, 10);
    else if (a == "--gap-us")
      gap_us = std::strtoul(v, nullptr, 10);
    else if (a == "--name")
      name = v;
    else
      usage();
  }
  if (runs == 0 || request == 0 || answer == 0) usage();
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    std::perror("socketpair");
    return 1;
  }
  std::vector<char> buffer(std::max(request, answer));
  pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  if (child == 0) {
    ::close(sv[0]);
    while (read_all(sv[1], buffer.data(), request) && write_all(sv[1], buffer.data(), answer)) {
    }
    _exit(0);
  }
  ::close(sv[1]);
  std::vector<double> us;
  us.reserve(runs);
  for (size_t i = 0; i < warmup + runs; ++i) {
    if (gap_us > 0) ::usleep(static_cast<useconds_t>(gap_us));
    auto start = std::chrono::steady_clock::now();
    if (!write_all(sv[0], buffer.data(), request) || !read_all(sv[0], buffer.data(), answer)) {
      std::fprintf(stderr, "pingpong: the child went away\n");
      return 1;
    }
    auto end = std::chrono::steady_clock::now();
    if (i >= warmup) us.push_back(std::chrono::duration<double, std::micro>(end - start).count());
  }
  ::close(sv[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  std::sort(us.begin(), us.end());
  auto at = [&](double q) {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  };
  std::printf("name=%s runs=%zu request_bytes=%zu answer_bytes=%zu median_us=%.1f p90_us=%.1f p99_us=%.1f\n",
              name.c_str(), runs, request, answer, at(0.5), at(0.9), at(0.99));
  return 0;
}
