// ttrpc unary calls over one logical connection: a 10-byte header (u32
// big-endian data length, u32 big-endian stream id, u8 type, u8 flags) and the
// data, a protobuf Request or Response envelope (nri/ttrpc.proto). The caller
// picks the stream id (odd and strictly increasing per connection); the
// server echoes it in its response. Errors are gRPC status codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "nri/mux.h"

namespace cdi::nri {

inline constexpr size_t kTtrpcHeaderSize = 10;
inline constexpr uint32_t kMaxMessageData = 4u << 20;  // ttrpc's limit

enum class MessageType : uint8_t { request = 1, response = 2, data = 3 };

// The gRPC status codes ttrpc carries (the ones this plugin uses or may meet).
enum class Code : int32_t {
  ok = 0,
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  failed_precondition = 9,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
};

struct Message {
  uint32_t stream_id = 0;
  uint8_t type = 0;  // a MessageType value; others are kept so the caller can report them
  uint8_t flags = 0;
  std::string data;
};

// Appends the header and `data`; `data` must not exceed kMaxMessageData.
void append_message(std::string& out, uint32_t stream_id, MessageType type, std::string_view data);
// The header alone, of a message whose data is `size` bytes.
std::string message_header(uint32_t stream_id, MessageType type, size_t size);

// Takes one whole message off the front of `in`: nullopt while it is
// incomplete; an error (the stream is then unusable) for data over the limit.
Result<std::optional<Message>> take_message(ByteStream& in);

// A call: the Request envelope.
struct Call {
  std::string service;
  std::string method;
  std::string payload;
  int64_t timeout_nano = 0;
};

// A reply: the Response envelope. `code` ok carries `payload`; any other
// carries `message` (the runtime shows it as "rpc error: code = ... desc = ...").
struct Reply {
  Code code = Code::ok;
  std::string message;
  std::string payload;
  // Instead of `payload`: bytes the server keeps, valid until its next call
  // (a reply written in place in a buffer kept between calls). Not decoded into.
  std::string_view kept_payload;

  static Reply ok(std::string payload) { return {Code::ok, {}, std::move(payload), {}}; }
  static Reply ok_kept(std::string_view payload) { return {Code::ok, {}, {}, payload}; }
  static Reply failure(Code code, std::string message) { return {code, std::move(message), {}, {}}; }
};

std::string encode_call(const Call& call);
Result<Call> decode_call(std::string_view data);
std::string encode_reply(const Reply& reply);
// The bytes of encode_reply(reply) before the payload: encode_reply(reply) is
// reply_head(reply) followed by reply_payload(reply). A reply is sent from
// these two pieces, so its payload is copied once, into the outgoing frames.
std::string reply_head(const Reply& reply);
std::string_view reply_payload(const Reply& reply);
Result<Reply> decode_reply(std::string_view data);

// "Unimplemented" and friends, for logs.
std::string_view code_name(Code code);

}  // namespace cdi::nri
