#include "nri/ttrpc.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nri/nri_api.pb.h"
#include "nri/protocol.h"

namespace cdi::nri {
namespace {

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string unhex(std::string_view text) {
  std::string out;
  auto value = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i + 1 < text.size(); i += 2) out += static_cast<char>(value(text[i]) * 16 + value(text[i + 1]));
  return out;
}

// RegisterPlugin("cdi", "50") as the runtime receives it: one frame on
// connection 2 holding a ttrpc request on stream 1.
TEST(Ttrpc, RegisterPluginOnTheWire) {
  ::nri::pkg::api::v1alpha1::RegisterPluginRequest r;
  r.set_plugin_name("cdi");
  r.set_plugin_idx("50");
  std::string message;
  append_message(message, 1, MessageType::request,
                 encode_call({std::string(kRuntimeService), std::string(kRegisterPlugin), r.SerializeAsString(), 0}));
  std::string frame;
  append_frames(frame, kRuntimeConn, message);
  EXPECT_EQ(hex(frame),
            "00000002"
            "00000043"
            "00000039"
            "00000001"
            "01"
            "00"
            "0a1c" +
                hex("nri.pkg.api.v1alpha1.Runtime") + "120e" + hex("RegisterPlugin") +
                "1a09"
                "0a03" +
                hex("cdi") + "1202" + hex("50"));
}

// ConfigureResponse{events = 0x8} in its envelope: field 2 only (there is no field 1).
TEST(Ttrpc, ConfigureReplyOnTheWire) {
  ::nri::pkg::api::v1alpha1::ConfigureResponse c;
  c.set_events(kSubscribedEvents);
  EXPECT_EQ(hex(c.SerializeAsString()), "1008");
  std::string message;
  append_message(message, 5, MessageType::response, encode_reply(Reply::ok(c.SerializeAsString())));
  // Status {code 0} is sent as "0a 00", as ttrpc's Go server does.
  EXPECT_EQ(hex(message),
            "00000006"
            "00000005"
            "02"
            "00"
            "0a00"
            "12021008");
}

struct ReplyCase {
  const char* name;
  const char* wire;  // hex of a Response envelope
  Code code;
  const char* message;
  const char* payload;
};

class DecodeReplyTest : public ::testing::TestWithParam<ReplyCase> {};

TEST_P(DecodeReplyTest, Decodes) {
  const ReplyCase& c = GetParam();
  auto r = decode_reply(unhex(c.wire));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->code, c.code);
  EXPECT_EQ(r->message, c.message);
  EXPECT_EQ(r->payload, c.payload);
}

INSTANTIATE_TEST_SUITE_P(Table, DecodeReplyTest,
                         ::testing::Values(ReplyCase{"empty_is_ok", "", Code::ok, "", ""},
                                           ReplyCase{"status_absent", "12021008", Code::ok, "", "\x10\x08"},
                                           ReplyCase{"status_code_zero", "0a0012021008", Code::ok, "", "\x10\x08"},
                                           ReplyCase{"unimplemented",
                                                     "0a0c080c1208"
                                                     "6d6574686f642058",
                                                     Code::unimplemented, "method X", ""},
                                           ReplyCase{"unknown_field_skipped",
                                                     "0a00"
                                                     "1a03616263",
                                                     Code::ok, "", ""}),
                         [](const ::testing::TestParamInfo<ReplyCase>& i) { return i.param.name; });

TEST(Ttrpc, CallRoundTrip) {
  Call c{"nri.pkg.api.v1alpha1.Plugin", "CreateContainer", std::string("\0\x01\xff", 3), 2000000000};
  auto back = decode_call(encode_call(c));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->service, c.service);
  EXPECT_EQ(back->method, c.method);
  EXPECT_EQ(back->payload, c.payload);
  EXPECT_EQ(back->timeout_nano, c.timeout_nano);
}

TEST(Ttrpc, FailureReplyCarriesNoPayload) {
  Reply r = Reply::failure(Code::invalid_argument, "bad");
  r.payload = "ignored";
  auto back = decode_reply(encode_reply(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->code, Code::invalid_argument);
  EXPECT_EQ(back->message, "bad");
  EXPECT_EQ(back->payload, "");
}

TEST(Ttrpc, GarbageEnvelopeIsAnError) {
  EXPECT_FALSE(decode_call("\xff\xff\xff").ok());
  EXPECT_FALSE(decode_reply("\x0a\x05\x08").ok());
}

// Messages split over frames, and frames split over reads, in slices of 1 and
// 7 bytes and others: every message comes out whole, in order, with its id.
struct SliceCase {
  const char* name;
  size_t slice;
  size_t frame_payload;
};

class TakeMessageTest : public ::testing::TestWithParam<SliceCase> {};

TEST_P(TakeMessageTest, ReassemblesMessagesSplitAnywhere) {
  const SliceCase& c = GetParam();
  std::vector<std::string> payloads = {"", "x", std::string(9, 'y'), std::string(70000, 'z'), "last"};
  std::string stream;
  uint32_t id = 1;
  for (const auto& p : payloads) {
    append_message(stream, id, MessageType::request, p);
    id += 2;
  }
  std::string trunk;
  append_frames(trunk, kPluginConn, stream, c.frame_payload);
  MuxReader mux;
  std::vector<Message> got;
  for (size_t at = 0; at < trunk.size(); at += c.slice) {
    ASSERT_TRUE(mux.feed(std::string_view(trunk).substr(at, c.slice)).ok());
    for (;;) {
      auto m = take_message(mux.stream(kPluginConn));
      ASSERT_TRUE(m.ok());
      if (!m->has_value()) break;
      got.push_back(std::move(**m));
    }
  }
  ASSERT_EQ(got.size(), payloads.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].stream_id, 1 + 2 * i);
    EXPECT_EQ(got[i].type, static_cast<uint8_t>(MessageType::request));
    EXPECT_EQ(got[i].data, payloads[i]);
  }
  EXPECT_TRUE(mux.stream(kPluginConn).empty());
}

INSTANTIATE_TEST_SUITE_P(Table, TakeMessageTest,
                         ::testing::Values(SliceCase{"reads_of_1_frames_of_4096", 1, 4096},
                                           SliceCase{"reads_of_7_frames_of_4096", 7, 4096},
                                           SliceCase{"reads_of_4096_frames_of_1", 4096, 1},
                                           SliceCase{"reads_of_4096_frames_of_7", 4096, 7},
                                           SliceCase{"reads_of_7_frames_of_7", 7, 7},
                                           SliceCase{"reads_of_65536_frames_of_4096", 65536, 4096},
                                           SliceCase{"reads_of_10_frames_of_10", 10, 10}),
                         [](const ::testing::TestParamInfo<SliceCase>& i) { return i.param.name; });

TEST(Ttrpc, RefusesAMessageOverFourMebibytes) {
  ByteStream in;
  std::string header;
  put_u32(header, kMaxMessageData + 1);
  put_u32(header, 1);
  header += std::string("\x01\x00", 2);
  in.append(header);
  auto m = take_message(in);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(Ttrpc, IncompleteMessageWaits) {
  std::string bytes;
  append_message(bytes, 3, MessageType::response, "abcdef");
  ByteStream in;
  in.append(std::string_view(bytes).substr(0, bytes.size() - 1));
  auto m = take_message(in);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_value());
  in.append(bytes.substr(bytes.size() - 1));
  m = take_message(in);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->has_value());
  EXPECT_EQ((*m)->data, "abcdef");
  EXPECT_EQ((*m)->stream_id, 3u);
}

}  // namespace
}  // namespace cdi::nri
