#include "nri/mux.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace cdi::nri {
namespace {

struct Frame {
  uint32_t conn;
  std::string payload;
};

// Parses framed bytes back into frames (the test's own reader, independent of MuxReader).
std::vector<Frame> parse_frames(std::string_view bytes) {
  std::vector<Frame> out;
  while (bytes.size() >= kMuxHeaderSize) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    uint32_t conn = get_u32(p);
    uint32_t n = get_u32(p + 4);
    EXPECT_LE(kMuxHeaderSize + n, bytes.size());
    out.push_back({conn, std::string(bytes.substr(kMuxHeaderSize, n))});
    bytes.remove_prefix(kMuxHeaderSize + n);
  }
  EXPECT_TRUE(bytes.empty());
  return out;
}

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

struct SplitCase {
  const char* name;
  size_t data;         // bytes of data to frame
  size_t max_payload;  // 0: the default (4096)
  std::vector<size_t> frames;
};

class AppendFramesTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(AppendFramesTest, SplitsIntoFramesOfAtMostTheLimit) {
  const SplitCase& c = GetParam();
  std::string data = pattern(c.data);
  std::string out;
  if (c.max_payload) {
    append_frames(out, kRuntimeConn, data, c.max_payload);
  } else {
    append_frames(out, kRuntimeConn, data);
  }
  auto frames = parse_frames(out);
  std::vector<size_t> sizes;
  std::string joined;
  for (const auto& f : frames) {
    EXPECT_EQ(f.conn, kRuntimeConn);
    EXPECT_LE(f.payload.size(), kMaxSentPayload);
    sizes.push_back(f.payload.size());
    joined += f.payload;
  }
  EXPECT_EQ(sizes, c.frames);
  EXPECT_EQ(joined, data);
}

// The slices for one sendmsg are the bytes append_frames writes, whatever the
// pieces, as long as they fit in FrameSlices::kMaxFrames frames.
TEST_P(AppendFramesTest, SlicesAreTheFramedBytes) {
  const SplitCase& c = GetParam();
  std::string data = pattern(c.data);
  size_t cut = data.size() / 3;
  std::string_view a = std::string_view(data).substr(0, cut), b = std::string_view(data).substr(cut);
  std::string framed;
  append_frames(framed, kPluginConn, {a, "", b}, c.max_payload);
  FrameSlices slices;
  bool fits = c.frames.size() <= FrameSlices::kMaxFrames;
  ASSERT_EQ(slices.build(kPluginConn, {a, "", b}, c.max_payload), fits);
  if (!fits) {
    EXPECT_EQ(slices.size(), 0u);
    return;
  }
  std::string joined;
  for (std::string_view s : slices) joined += s;
  EXPECT_EQ(joined, framed);
}

// Whatever part of the slices a write took, what is left is the rest of the framed bytes.
TEST(FrameSlices, WhatAWriteLeftIsTheRestOfTheFramedBytes) {
  std::string data = pattern(9000);
  std::string_view a = std::string_view(data).substr(0, 10), b = std::string_view(data).substr(10);
  std::string framed;
  append_frames(framed, kPluginConn, {a, b});
  FrameSlices slices;
  ASSERT_TRUE(slices.build(kPluginConn, {a, b}));
  for (size_t sent = 0; sent <= framed.size(); ++sent) {
    std::string left = "queued";
    slices.append_unsent(left, sent);
    ASSERT_EQ(left, "queued" + framed.substr(sent)) << "after " << sent << " bytes";
  }
}

TEST(FrameSlices, TooManyPiecesAreRefused) {
  FrameSlices slices;
  EXPECT_FALSE(slices.build(kPluginConn, {"1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  EXPECT_TRUE(slices.build(kPluginConn, {"1", "2", "3", "4", "5", "6", "7", "8"}));
  EXPECT_EQ(slices.size(), 9u);  // one header, eight slices
}

INSTANTIATE_TEST_SUITE_P(Table, AppendFramesTest,
                         ::testing::Values(SplitCase{"empty_adds_nothing", 0, 0, {}}, SplitCase{"one_byte", 1, 0, {1}},
                                           SplitCase{"exactly_the_limit", 4096, 0, {4096}},
                                           SplitCase{"one_over_the_limit", 4097, 0, {4096, 1}},
                                           SplitCase{"large_message",
                                                     70000,
                                                     0,
                                                     {4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096, 4096,
                                                      4096, 4096, 4096, 4096, 4096, 4096, 368}},
                                           SplitCase{"custom_limit_7", 20, 7, {7, 7, 6}},
                                           SplitCase{"custom_limit_1", 3, 1, {1, 1, 1}}),
                         [](const ::testing::TestParamInfo<SplitCase>& i) { return i.param.name; });

// Data given in pieces is framed byte for byte as its concatenation, however
// the pieces fall against the frame limit (empty pieces included).
TEST(AppendFramesTest, PiecesAreFramedAsTheirConcatenation) {
  std::string a = pattern(10), b, c = pattern(4090), d = pattern(9000);
  for (size_t limit : {size_t{1}, size_t{7}, size_t{10}, size_t{4096}}) {
    std::string whole, pieces;
    append_frames(whole, kPluginConn, a + b + c + d, limit);
    append_frames(pieces, kPluginConn, {a, b, c, d}, limit);
    EXPECT_EQ(pieces, whole) << "limit " << limit;
  }
  std::string none;
  append_frames(none, kPluginConn, {b, b});
  EXPECT_EQ(none, "");
}

// The trunk bytes of an interleaving of both connections, fed to a MuxReader in
// slices of every size in the table: each connection's stream comes out whole.
struct FeedCase {
  const char* name;
  size_t slice;  // 0: everything at once
};

class MuxReaderTest : public ::testing::TestWithParam<FeedCase> {};

TEST_P(MuxReaderTest, ReassemblesEachConnectionWhateverTheSlices) {
  std::string trunk;
  std::string one, two;
  for (size_t i = 0; i < 12; ++i) {
    std::string chunk = pattern(i * 37 % 11 + (i == 5 ? 5000 : 0));
    uint32_t conn = i % 3 == 0 ? kRuntimeConn : kPluginConn;
    append_frames(trunk, conn, chunk, 1 + i * 13);
    (conn == kPluginConn ? one : two) += chunk;
  }
  append_frames(trunk, 7, "dropped: unknown connection id");
  trunk += std::string("\0\0\0\1\0\0\0\0", 8);  // an empty frame on conn 1
  MuxReader reader;
  size_t slice = GetParam().slice ? GetParam().slice : trunk.size();
  for (size_t at = 0; at < trunk.size(); at += slice) {
    ASSERT_TRUE(reader.feed(std::string_view(trunk).substr(at, slice)).ok());
  }
  EXPECT_EQ(reader.stream(kPluginConn).view(), one);
  EXPECT_EQ(reader.stream(kRuntimeConn).view(), two);
}

INSTANTIATE_TEST_SUITE_P(Table, MuxReaderTest,
                         ::testing::Values(FeedCase{"byte_by_byte", 1}, FeedCase{"seven_bytes", 7},
                                           FeedCase{"header_size", 8}, FeedCase{"nine_bytes", 9},
                                           FeedCase{"odd_4099", 4099}, FeedCase{"all_at_once", 0}),
                         [](const ::testing::TestParamInfo<FeedCase>& i) { return i.param.name; });

TEST(MuxReader, RefusesAFrameOverTheLimit) {
  MuxReader reader;
  std::string header;
  put_u32(header, kPluginConn);
  put_u32(header, static_cast<uint32_t>(kMaxReceivedPayload + 1));
  auto st = reader.feed(header);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("exceeds"), std::string::npos) << st.error().message;
}

TEST(MuxReader, AcceptsAFrameAtTheLimitHeader) {
  MuxReader reader;
  std::string header;
  put_u32(header, kPluginConn);
  put_u32(header, static_cast<uint32_t>(kMaxReceivedPayload));
  EXPECT_TRUE(reader.feed(header).ok());
  EXPECT_EQ(reader.frames(), 1u);
}

TEST(ByteStream, ConsumesFromTheFrontAndCompacts) {
  ByteStream s;
  s.append(pattern(200000));
  s.consume(150000);
  EXPECT_EQ(s.size(), 50000u);
  EXPECT_EQ(s.view(), pattern(200000).substr(150000));
  s.consume(60000);
  EXPECT_TRUE(s.empty());
}

}  // namespace
}  // namespace cdi::nri
