#include "nri/ttrpc.h"

#include "nri/ttrpc.pb.h"
#include "nri/wire.h"

namespace cdi::nri {

std::string message_header(uint32_t stream_id, MessageType type, size_t size) {
  std::string out;
  put_u32(out, static_cast<uint32_t>(size));
  put_u32(out, stream_id);
  out.push_back(static_cast<char>(type));
  out.push_back('\0');
  return out;
}

void append_message(std::string& out, uint32_t stream_id, MessageType type, std::string_view data) {
  out.append(message_header(stream_id, type, data.size()));
  out.append(data);
}

Result<std::optional<Message>> take_message(ByteStream& in) {
  std::string_view bytes = in.view();
  if (bytes.size() < kTtrpcHeaderSize) return std::optional<Message>();
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  uint32_t length = get_u32(p);
  if (length > kMaxMessageData) {
    return Error("ttrpc: message of " + std::to_string(length) + " bytes exceeds the limit of " +
                 std::to_string(kMaxMessageData));
  }
  if (bytes.size() < kTtrpcHeaderSize + length) return std::optional<Message>();
  Message m;
  m.stream_id = get_u32(p + 4);
  m.type = p[8];
  m.flags = p[9];
  m.data.assign(bytes.substr(kTtrpcHeaderSize, length));
  in.consume(kTtrpcHeaderSize + length);
  return std::optional<Message>(std::move(m));
}

std::string encode_call(const Call& call) {
  ::ttrpc::Request r;
  r.set_service(call.service);
  r.set_method(call.method);
  r.set_payload(call.payload);
  r.set_timeout_nano(call.timeout_nano);
  return r.SerializeAsString();
}

Result<Call> decode_call(std::string_view data) {
  ::ttrpc::Request r;
  if (!r.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return Error("ttrpc: request envelope does not parse");
  }
  Call c;
  c.service = std::move(*r.mutable_service());
  c.method = std::move(*r.mutable_method());
  c.payload = std::move(*r.mutable_payload());
  c.timeout_nano = r.timeout_nano();
  return c;
}

std::string encode_reply(const Reply& reply) {
  std::string out = reply_head(reply);
  out.append(reply_payload(reply));
  return out;
}

std::string reply_head(const Reply& reply) {
  // Response {1 Status {1 code, 2 message}, 2 payload}. The status is always
  // present, as ttrpc's Go server sends it ({code 0} is "0a 00").
  std::string status;
  WireWriter s(status);
  s.signed_varint(1, static_cast<int32_t>(reply.code));
  s.string(2, reply.message);
  std::string out;
  out.reserve(status.size() + 16);
  WireWriter r(out);
  r.message(1, status);
  if (auto payload = reply_payload(reply); !payload.empty()) r.head(2, payload.size());
  return out;
}

std::string_view reply_payload(const Reply& reply) {
  if (reply.code != Code::ok) return {};
  return reply.kept_payload.empty() ? std::string_view(reply.payload) : reply.kept_payload;
}

Result<Reply> decode_reply(std::string_view data) {
  ::ttrpc::Response r;
  if (!r.ParseFromArray(data.data(), static_cast<int>(data.size()))) {
    return Error("ttrpc: response envelope does not parse");
  }
  Reply reply;
  reply.code = static_cast<Code>(r.status().code());
  reply.message = r.status().message();
  reply.payload = std::move(*r.mutable_payload());
  return reply;
}

std::string_view code_name(Code code) {
  switch (code) {
    case Code::ok:
      return "OK";
    case Code::cancelled:
      return "Canceled";
    case Code::unknown:
      return "Unknown";
    case Code::invalid_argument:
      return "InvalidArgument";
    case Code::deadline_exceeded:
      return "DeadlineExceeded";
    case Code::not_found:
      return "NotFound";
    case Code::failed_precondition:
      return "FailedPrecondition";
    case Code::unimplemented:
      return "Unimplemented";
    case Code::internal:
      return "Internal";
    case Code::unavailable:
      return "Unavailable";
  }
  return "unrecognised code";
}

}  // namespace cdi::nri
