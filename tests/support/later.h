// Runs an action on a thread after a delay; joins on destruction. For tests of
// waiting code: a spec written while the code under test waits.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace cdi::testing {

class Later {
 public:
  Later(std::chrono::milliseconds delay, std::function<void()> act)
      : thread_([delay, act = std::move(act)] {
          std::this_thread::sleep_for(delay);
          act();
        }) {}
  ~Later() { thread_.join(); }
  Later(const Later&) = delete;
  Later& operator=(const Later&) = delete;

 private:
  std::thread thread_;
};

}  // namespace cdi::testing
