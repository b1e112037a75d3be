#include "nri/session.h"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "nri/mux.h"
#include "nri/plugin_log.h"
#include "nri/protocol.h"
#include "nri/ttrpc.h"

namespace cdi::nri {
namespace {

// A Plugin service whose every call logs a line and answers OK.
class LoggingService final : public Service {
 public:
  explicit LoggingService(Logger& logger) : logger_(logger) {}
  Reply call(std::string_view method, std::string_view) override {
    logger_.info("answering " + std::string(method));
    ++calls;
    if (on_call) on_call();
    return Reply::ok("");
  }
  void registered(const Reply&) override {}
  bool done() const override { return false; }
  int calls = 0;
  std::function<void()> on_call;

 private:
  Logger& logger_;
};

// The runtime's end of the socket, driven by hand.
class RuntimeEnd {
 public:
  explicit RuntimeEnd(int fd) : fd_(fd) {}
  void send(uint32_t conn, uint32_t stream, MessageType type, const std::string& data) {
    std::string message, framed;
    append_message(message, stream, type, data);
    append_frames(framed, conn, message);
    ASSERT_EQ(::write(fd_, framed.data(), framed.size()), static_cast<ssize_t>(framed.size()));
  }
  // The next message on `conn`, waiting up to 5 s.
  Message next(uint32_t conn) {
    for (;;) {
      auto m = take_message(mux_.stream(conn));
      if (m.ok() && m->has_value()) return std::move(**m);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) return {};
      char buffer[65536];
      ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) return {};
      if (!mux_.feed(std::string_view(buffer, static_cast<size_t>(n))).ok()) return {};
    }
  }

 private:
  int fd_;
  MuxReader mux_;
};

TEST(Session, TheLinesOfACallAreWrittenAfterItsAnswerIsSent) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  auto memory = std::make_unique<MemoryLogger>();
  MemoryLogger* lines = memory.get();
  SwitchingLogger logger(std::move(memory));
  LoggingService service(logger);

  // At the on_served after the call: was the answer already readable on the
  // runtime's end, and was the call's line still held?
  bool checked = false;
  bool answer_readable = false;
  size_t lines_before_release = 99;
  SessionOptions options;
  options.plugin_name = "test";
  options.plugin_idx = "10";
  options.on_serve = [&] { logger.hold(); };
  options.on_served = [&] {
    if (service.calls == 1 && !checked) {
      checked = true;
      pollfd p{sv[0], POLLIN, 0};
      answer_readable = ::poll(&p, 1, 0) == 1;
      lines_before_release = lines->entries.size();
    }
    logger.release();
  };
  Session session(sv[1], service, logger, options);
  std::thread plugin([&] { (void)session.run(); });

  RuntimeEnd runtime(sv[0]);
  Message registration = runtime.next(kRuntimeConn);
  EXPECT_EQ(registration.stream_id, 1u);
  runtime.send(kRuntimeConn, registration.stream_id, MessageType::response, encode_reply(Reply::ok("")));
  runtime.send(kPluginConn, 1, MessageType::request, encode_call({std::string(kPluginService), "Synchronize", "", 0}));
  Message answer = runtime.next(kPluginConn);
  ::close(sv[0]);  // EOF: the session ends
  plugin.join();
  ::close(sv[1]);

  EXPECT_EQ(answer.stream_id, 1u);
  EXPECT_TRUE(answer_readable) << "on_served ran before the answer was written";
  EXPECT_EQ(lines_before_release, 0u) << "the call's line was written before its answer was sent";
  ASSERT_EQ(lines->entries.size(), 1u);
  EXPECT_EQ(lines->entries[0].message, "answering Synchronize");
}

// Bytes the runtime sent that the plugin has not taken off the socket yet.
int unread_by_plugin(int runtime_fd) {
  int queued = -1;
  return ::ioctl(runtime_fd, SIOCOUTQ, &queued) == 0 ? queued : -1;
}

TEST(Session, ACallsBytesLeaveTheSocketOnlyOnceItIsAnswered) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  SwitchingLogger logger(std::make_unique<MemoryLogger>());
  LoggingService service(logger);
  int unread_during_call = -1;
  service.on_call = [&] { unread_during_call = unread_by_plugin(sv[0]); };
  SessionOptions options;
  options.plugin_name = "test";
  options.plugin_idx = "10";
  Session session(sv[1], service, logger, options);
  std::thread plugin([&] { (void)session.run(); });

  RuntimeEnd runtime(sv[0]);
  Message registration = runtime.next(kRuntimeConn);
  runtime.send(kRuntimeConn, registration.stream_id, MessageType::response, encode_reply(Reply::ok("")));
  std::string call = encode_call({std::string(kPluginService), "Synchronize", "", 0});
  runtime.send(kPluginConn, 1, MessageType::request, call);
  Message answer = runtime.next(kPluginConn);
  // Once answered, the call's bytes are taken off.
  int unread_after = -1;
  for (int i = 0; i < 500 && (unread_after = unread_by_plugin(sv[0])) != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::close(sv[0]);
  plugin.join();
  ::close(sv[1]);

  EXPECT_EQ(answer.stream_id, 1u);
  // The call's message and its frame header at least were still in the socket while it was served.
  EXPECT_GE(unread_during_call, static_cast<int>(call.size() + kMuxHeaderSize)) << "taken off before the answer";
  EXPECT_EQ(unread_after, 0);
}

}  // namespace
}  // namespace cdi::nri
