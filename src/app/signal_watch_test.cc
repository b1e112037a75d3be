#include "app/signal_watch.h"

#include <unistd.h>

#include <gtest/gtest.h>

namespace cdi {
namespace {

TEST(SignalWatch, TakesABlockedSignalOnce) {
  SignalWatch watch;
  EXPECT_EQ(watch.take(), 0);
  ASSERT_EQ(::kill(::getpid(), SIGHUP), 0);
  EXPECT_EQ(watch.take(), SIGHUP);
  EXPECT_EQ(watch.take(), 0);
  EXPECT_EQ(watch.received(), SIGHUP);
}

TEST(SignalWatch, FirstSignalIsKept) {
  SignalWatch watch;
  ASSERT_EQ(::kill(::getpid(), SIGINT), 0);
  EXPECT_EQ(watch.take(), SIGINT);
  ASSERT_EQ(::kill(::getpid(), SIGTERM), 0);
  EXPECT_EQ(watch.take(), SIGTERM);
  EXPECT_EQ(watch.received(), SIGINT);
}

}  // namespace
}  // namespace cdi
