#include "app/signal_watch.h"

#include <sys/signalfd.h>
#include <unistd.h>

#include <initializer_list>

namespace cdi {

SignalWatch::SignalWatch() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  ::sigprocmask(SIG_BLOCK, &set, &old_);
  fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

SignalWatch::~SignalWatch() {
  if (fd_ >= 0) ::close(fd_);
  // A signal read through fd() is gone; one not read yet is delivered once the old mask is back.
  ::sigprocmask(SIG_SETMASK, &old_, nullptr);
}

int SignalWatch::take() {
  signalfd_siginfo info{};
  int got = 0;
  while (fd_ >= 0 && ::read(fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    got = static_cast<int>(info.ssi_signo);
  }
  if (got != 0 && received_ == 0) received_ = got;
  return got;
}

}  // namespace cdi
