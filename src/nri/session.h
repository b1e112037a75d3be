// One connection to a runtime, from the plugin's side: the NRI mux over a
// non-blocking socket, one poll() loop, the ttrpc server of the Plugin
// service on kPluginConn and the ttrpc client of the Runtime service on
// kRuntimeConn. It registers first (RegisterPlugin, stream 1) and serves calls
// as they come: the runtime may send Configure before it answers
// RegisterPlugin, so neither connection ever waits for the other.
#pragma once

#include <chrono>
#include <functional>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/logger.h"
#include "nri/mux.h"
#include "nri/ttrpc.h"

namespace cdi::nri {

// What the session serves: the Plugin service's methods.
class Service {
 public:
  virtual ~Service() = default;
  // Answers one call of the Plugin service (`method` without the service name).
  // A Reply::ok_kept payload stays valid until the next call (it is sent before).
  virtual Reply call(std::string_view method, std::string_view payload) = 0;
  // The runtime's answer to RegisterPlugin.
  virtual void registered(const Reply& reply) = 0;
  // True once the session should end as soon as its replies are sent (after
  // Shutdown, or a Configure it refused).
  virtual bool done() const = 0;
};

struct SessionOptions {
  std::string plugin_name;
  std::string plugin_idx;
  // on_tick runs at least this often, connected or idle (a liveness signal); 0: never.
  std::chrono::milliseconds tick{0};
  std::function<void()> on_tick;
  // on_serve runs before the calls that arrived are served, on_served once
  // their answers are written (or queued, when the socket is full), also when
  // serving failed: what can wait for the answers (the log) goes there.
  std::function<void()> on_serve;
  std::function<void()> on_served;
};

enum class SessionEnd {
  eof,   // the runtime closed the connection (containerd never sends Shutdown)
  done,  // Service::done() after the replies were sent
};

class Session {
 public:
  // Takes `fd` (a connected AF_UNIX stream) without owning it.
  Session(int fd, Service& service, Logger& logger, SessionOptions options);

  // Registers and serves until EOF or done. An error is a broken connection or
  // a protocol violation: the caller closes the socket.
  Result<SessionEnd> run();

 private:
  Status read_and_serve(bool& eof);
  Status take_off(char* scratch, size_t size, size_t count);
  Status dispatch();
  Status serve_requests();
  Status take_responses();
  void send(uint32_t conn, uint32_t stream_id, MessageType type, const std::string& data);
  void send_reply(uint32_t conn, uint32_t stream_id, const Reply& reply);
  void send_framed(uint32_t conn, std::initializer_list<std::string_view> pieces);
  uint32_t call_runtime(std::string_view method, const std::string& payload);
  Status flush();

  int fd_;
  Service& service_;
  Logger& logger_;
  SessionOptions options_;
  MuxReader mux_;
  std::string out_;  // framed bytes not yet written
  size_t out_sent_ = 0;
  uint32_t next_stream_ = 1;                     // our calls: odd, strictly increasing
  std::map<uint32_t, std::string> outstanding_;  // stream id -> method awaiting its reply
};

}  // namespace cdi::nri
