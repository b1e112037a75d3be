#include "nri/session.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/text.h"
#include "nri/nri_api.pb.h"
#include "nri/protocol.h"

namespace cdi::nri {

namespace {

using Clock = std::chrono::steady_clock;

Status set_nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return system_error("fcntl O_NONBLOCK", errno);
  return {};
}

}  // namespace

Session::Session(int fd, Service& service, Logger& logger, SessionOptions options)
    : fd_(fd), service_(service), logger_(logger), options_(std::move(options)) {}

void Session::send(uint32_t conn, uint32_t stream_id, MessageType type, const std::string& data) {
  send_framed(conn, {message_header(stream_id, type, data.size()), data});
}

void Session::send_reply(uint32_t conn, uint32_t stream_id, const Reply& reply) {
  std::string head = reply_head(reply);
  std::string_view payload = reply_payload(reply);
  send_framed(conn, {message_header(stream_id, MessageType::response, head.size() + payload.size()), head, payload});
}

void Session::send_framed(uint32_t conn, std::initializer_list<std::string_view> pieces) {
  // With nothing queued, every frame goes out in one sendmsg straight from
  // the pieces; what the socket does not take now is queued for flush().
  FrameSlices frames;
  if (!out_.empty() || !frames.build(conn, pieces)) {
    append_frames(out_, conn, pieces);
    return;
  }
  iovec iov[FrameSlices::kMaxSlices];
  size_t count = 0;
  for (std::string_view s : frames) iov[count++] = {const_cast<char*>(s.data()), s.size()};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = count;
  ssize_t n;
  do {
    n = ::sendmsg(fd_, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  // An error other than a full socket comes again from flush(), which reports it.
  frames.append_unsent(out_, static_cast<size_t>(std::max<ssize_t>(n, 0)));
}

uint32_t Session::call_runtime(std::string_view method, const std::string& payload) {
  uint32_t id = next_stream_;
  next_stream_ += 2;
  Call call{std::string(kRuntimeService), std::string(method), payload, 0};
  send(kRuntimeConn, id, MessageType::request, encode_call(call));
  outstanding_.emplace(id, std::string(method));
  return id;
}

Status Session::flush() {
  while (out_sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
      return system_error("write to the runtime", errno);
    }
    out_sent_ += static_cast<size_t>(n);
  }
  out_.clear();
  out_sent_ = 0;
  return {};
}

// What has arrived is peeked, served, and only then taken off the socket.
// Taking bytes off frees the runtime's send buffer, and that wakes a runtime
// thread asleep on its socket (waiting for our answer) for nothing; taken
// after the answer is sent, it coincides with the wake-up the answer brings.
// On an idle machine whose CPUs halt, that first wake-up costs the plugin
// several microseconds of the round trip (docs/decisions.md).
Status Session::read_and_serve(bool& eof) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT | MSG_PEEK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ECONNRESET) eof = true;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNRESET) return dispatch();
      return system_error("read from the runtime", errno);
    }
    if (n == 0) {
      eof = true;
      return dispatch();
    }
    CDI_TRY(mux_.feed(std::string_view(buffer, static_cast<size_t>(n))));
    CDI_TRY(dispatch());
    CDI_TRY(take_off(buffer, sizeof buffer, static_cast<size_t>(n)));
    if (static_cast<size_t>(n) < sizeof buffer) return {};
  }
}

// Removes `count` bytes already peeked (and served) from the socket, reading
// them into `scratch` (their copy there is no longer needed).
Status Session::take_off(char* scratch, size_t size, size_t count) {
  while (count > 0) {
    ssize_t n = ::recv(fd_, scratch, std::min(count, size), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return system_error("read from the runtime", n < 0 ? errno : ECONNRESET);
    count -= static_cast<size_t>(n);
  }
  return {};
}

Status Session::serve_requests() {
  ByteStream& in = mux_.stream(kPluginConn);
  for (;;) {
    auto next = take_message(in);
    if (!next.ok()) return std::move(next).error();
    if (!next->has_value()) return {};
    Message& m = **next;
    if (m.type != static_cast<uint8_t>(MessageType::request)) {
      logger_.warn("NRI: ignoring a ttrpc message of type " + std::to_string(m.type) + " on stream " +
                   std::to_string(m.stream_id) + " of the plugin connection");
      continue;
    }
    auto call = decode_call(m.data);
    if (!call.ok()) return std::move(call).error();
    Reply reply;
    if (call->service != kPluginService) {
      reply = Reply::failure(Code::unimplemented, "service " + call->service);
    } else {
      reply = service_.call(call->method, call->payload);
    }
    if (reply.code != Code::ok) {
      logger_.debug("NRI: " + call->method + " -> " + std::string(code_name(reply.code)) + ": " + reply.message);
    }
    send_reply(kPluginConn, m.stream_id, reply);
  }
}

Status Session::take_responses() {
  ByteStream& in = mux_.stream(kRuntimeConn);
  for (;;) {
    auto next = take_message(in);
    if (!next.ok()) return std::move(next).error();
    if (!next->has_value()) return {};
    Message& m = **next;
    if (m.type == static_cast<uint8_t>(MessageType::request)) {
      // Nothing is served on the runtime connection.
      auto call = decode_call(m.data);
      std::string service = call.ok() ? call->service : std::string("?");
      send_reply(kRuntimeConn, m.stream_id, Reply::failure(Code::unimplemented, "service " + service));
      continue;
    }
    auto it = outstanding_.find(m.stream_id);
    if (m.type != static_cast<uint8_t>(MessageType::response) || it == outstanding_.end()) {
      logger_.warn("NRI: ignoring an unexpected ttrpc message (type " + std::to_string(m.type) + ", stream " +
                   std::to_string(m.stream_id) + ") on the runtime connection");
      continue;
    }
    auto reply = decode_reply(m.data);
    if (!reply.ok()) return std::move(reply).error();
    if (it->second == kRegisterPlugin) service_.registered(*reply);
    outstanding_.erase(it);
  }
}

Status Session::dispatch() {
  CDI_TRY(take_responses());
  return serve_requests();
}

Result<SessionEnd> Session::run() {
  CDI_TRY(set_nonblocking(fd_));
  mux_.reset();
  ::nri::pkg::api::v1alpha1::RegisterPluginRequest registration;
  registration.set_plugin_name(options_.plugin_name);
  registration.set_plugin_idx(options_.plugin_idx);
  call_runtime(kRegisterPlugin, registration.SerializeAsString());
  auto next_tick = Clock::now() + options_.tick;
  for (;;) {
    CDI_TRY(flush());
    if (service_.done() && out_.empty()) return SessionEnd::done;
    int timeout = -1;
    if (options_.tick.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - Clock::now()).count();
      timeout = static_cast<int>(std::max<int64_t>(0, left));
    }
    pollfd p{fd_, static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    int ready = ::poll(&p, 1, timeout);
    if (ready < 0 && errno != EINTR) return system_error("poll", errno);
    if (options_.tick.count() > 0 && Clock::now() >= next_tick) {
      if (options_.on_tick) options_.on_tick();
      next_tick = Clock::now() + options_.tick;
    }
    if (ready <= 0) continue;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      bool eof = false;
      if (options_.on_serve) options_.on_serve();
      Status served = read_and_serve(eof);
      if (options_.on_served) options_.on_served();
      CDI_TRY(std::move(served));
      if (eof) return SessionEnd::eof;
    }
  }
}

}  // namespace cdi::nri
