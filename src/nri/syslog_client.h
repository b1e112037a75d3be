// SyslogClient: the plugin's own client of the local syslog socket (/dev/log,
// where journald or rsyslog listens), in place of syslog(3), for two reasons.
//
// - Never wait: the plugin logs while the runtime waits for its answer, and a
//   syslog daemon that is slow or stuck must not make the plugin miss the
//   runtime's request timeout. Lines go out on a non-blocking socket; one the
//   daemon's queue has no room for is dropped (the log file, when there is
//   one, still has it).
// - Cheap when nobody listens: syslog(3) tries to connect again on every line
//   while /dev/log is missing (a socket, a connect and a close each time).
//   Here a failed connect is tried again only after `retry`; the lines in
//   between are dropped. A daemon restarted at the same path is reconnected
//   to at the next line.
//
// Each line is one datagram in the classic local format glibc also writes:
// "<PRI>Mmm dd hh:mm:ss IDENT[PID]: MESSAGE", facility LOG_DAEMON.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace cdi::nri {

class SyslogClient {
 public:
  explicit SyslogClient(std::string ident, std::string path = "/dev/log",
                        std::chrono::milliseconds retry = std::chrono::seconds(5));
  ~SyslogClient();
  SyslogClient(const SyslogClient&) = delete;
  SyslogClient& operator=(const SyslogClient&) = delete;

  // `severity` is a syslog(3) level (LOG_ERR, LOG_INFO, ...).
  void send(int severity, std::string_view message);

 private:
  bool connect_now();
  bool send_line(const std::string& line);
  void disconnect();

  std::string ident_;
  std::string path_;
  std::chrono::milliseconds retry_;
  std::chrono::steady_clock::time_point next_attempt_{};
  int fd_ = -1;
  std::string line_;  // kept between lines: no allocation once it is large enough
};

}  // namespace cdi::nri
