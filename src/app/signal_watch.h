// Ctrl-C and friends as events: while a SignalWatch is alive, SIGINT, SIGTERM
// and SIGHUP are blocked and arrive on a signalfd that an event loop polls, so a
// long-running command stops at a point of its choosing and cleans up. A signal
// the process was started ignoring (nohup, a background job) stays ignored.
#pragma once

#include <csignal>

namespace cdi {

class SignalWatch {
 public:
  SignalWatch();
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;
  int fd() const { return fd_; }
  // The signal received since the last call (0: none); never blocks.
  int take();
  // The first signal received, 0 until then.
  int received() const { return received_; }

 private:
  int fd_ = -1;
  int received_ = 0;
  sigset_t old_{};
};

}  // namespace cdi
