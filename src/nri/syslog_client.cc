#include "nri/syslog_client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace cdi::nri {

SyslogClient::SyslogClient(std::string ident, std::string path, std::chrono::milliseconds retry)
    : ident_(std::move(ident)), path_(std::move(path)), retry_(retry) {}

SyslogClient::~SyslogClient() { disconnect(); }

void SyslogClient::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SyslogClient::connect_now() {
  disconnect();
  sockaddr_un addr{};
  if (path_.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

bool SyslogClient::send_line(const std::string& line) {
  for (;;) {
    ssize_t n = ::send(fd_, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return true;
    if (errno == EINTR) continue;
    // A full queue drops the line but keeps the connection.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS || errno == EMSGSIZE) return true;
    return false;  // the daemon went away (or was restarted): connect again
  }
}

void SyslogClient::send(int severity, std::string_view message) {
  auto now = std::chrono::steady_clock::now();
  if (fd_ < 0 && now < next_attempt_) return;

  std::time_t t = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&t, &local);
  char stamp[32];
  size_t stamp_len = std::strftime(stamp, sizeof stamp, "%b %e %T", &local);
  line_.clear();
  line_ += '<';
  line_ += std::to_string(LOG_DAEMON | (severity & LOG_PRIMASK));
  line_ += '>';
  line_.append(stamp, stamp_len);
  line_ += ' ';
  line_ += ident_;
  line_ += '[';
  line_ += std::to_string(::getpid());
  line_ += "]: ";
  line_ += message;

  // A connection that fails is made again at once: the daemon may have been
  // restarted, with a new socket at the same path.
  if (fd_ >= 0 && send_line(line_)) return;
  if (connect_now() && send_line(line_)) return;
  disconnect();
  next_attempt_ = now + retry_;
}

}  // namespace cdi::nri
