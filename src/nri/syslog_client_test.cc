#include "nri/syslog_client.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cdi::nri {
namespace {

using ::testing::MatchesRegex;

// A datagram socket bound at a path in a private temp dir: the syslog daemon's side.
class Daemon {
 public:
  explicit Daemon(const std::string& path) : path_(path) {
    ::unlink(path.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  }
  ~Daemon() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // The next datagram, or "" when none is queued.
  std::string next() {
    char buffer[65536];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

class SyslogClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/syslog-client-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/log";
  }
  void TearDown() override {
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string dir_, path_;
};

TEST_F(SyslogClientTest, ALineIsOneDatagramInTheLocalFormat) {
  Daemon daemon(path_);
  SyslogClient client("cdi-hook-nri", path_);
  client.send(LOG_INFO, "default/pod/ctr: injected vendor.com/gpu=0 from /etc/cdi/v.yaml");
  client.send(LOG_ERR, "second");
  // <30>: LOG_DAEMON | LOG_INFO; <27>: LOG_DAEMON | LOG_ERR.
  std::string pid = std::to_string(::getpid());
  EXPECT_THAT(daemon.next(),
              MatchesRegex("<30>[A-Z][a-z][a-z] [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9] "
                           "cdi-hook-nri\\[" +
                           pid + "\\]: default/pod/ctr: injected vendor.com/gpu=0 from /etc/cdi/v.yaml"));
  EXPECT_THAT(daemon.next(), MatchesRegex("<27>.* cdi-hook-nri\\[" + pid + "\\]: second"));
  EXPECT_EQ(daemon.next(), "");
}

TEST_F(SyslogClientTest, WithoutADaemonConnectIsRetriedOnlyAfterTheInterval) {
  SyslogClient client("x", path_, std::chrono::milliseconds(1000));
  client.send(LOG_INFO, "nobody listens");  // fails: nothing at the path
  Daemon daemon(path_);
  client.send(LOG_INFO, "within the interval");  // dropped, no connect tried
  EXPECT_EQ(daemon.next(), "");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  client.send(LOG_INFO, "after the interval");
  EXPECT_THAT(daemon.next(), MatchesRegex(".*x\\[[0-9]+\\]: after the interval"));
}

TEST_F(SyslogClientTest, ADaemonRestartedAtThePathIsReconnectedAtTheNextLine) {
  SyslogClient client("x", path_, std::chrono::hours(1));
  {
    Daemon first(path_);
    client.send(LOG_INFO, "one");
    EXPECT_THAT(first.next(), MatchesRegex(".*: one"));
  }
  Daemon second(path_);  // a new socket at the same path
  client.send(LOG_INFO, "two");
  EXPECT_THAT(second.next(), MatchesRegex(".*: two"));
}

TEST_F(SyslogClientTest, ADaemonThatDoesNotReadNeverBlocksTheSender) {
  Daemon daemon(path_);  // never read: its queue fills up
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SyslogClient client("x", path_);
    std::string line(1000, 'x');
    for (int i = 0; i < 5000; ++i) client.send(LOG_INFO, line);
    ::_exit(0);
  }
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &status, 0);
      FAIL() << "5000 lines to a daemon that does not read did not finish in 20 s: the sender blocked";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_NE(daemon.next(), "");  // what fitted was delivered
}

}  // namespace
}  // namespace cdi::nri
