// NRI's connection multiplexer: one AF_UNIX stream carries two logical
// connections as frames of an 8-byte header (u32 big-endian connection id, u32
// big-endian payload length) and the payload, the next slice of that
// connection's byte stream. Frame boundaries mean nothing: a ttrpc message may
// be split over frames or share one, so each connection is reassembled on its
// own. There is no open or close signalling; unknown ids are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "base/error.h"

namespace cdi::nri {

// Runtime -> plugin calls (the plugin serves nri.pkg.api.v1alpha1.Plugin here).
inline constexpr uint32_t kPluginConn = 1;
// Plugin -> runtime calls (the plugin is a client of nri.pkg.api.v1alpha1.Runtime here).
inline constexpr uint32_t kRuntimeConn = 2;

inline constexpr size_t kMuxHeaderSize = 8;
// The most a frame we send may carry: the runtime's Go reader hands each frame
// to a 4096-byte buffer and drops the whole connection (ENOMEM) on a longer one.
inline constexpr size_t kMaxSentPayload = 4096;
// The most a frame we receive may carry: a ttrpc header plus its largest message.
inline constexpr size_t kMaxReceivedPayload = 10 + (4u << 20);

// Bytes received but not yet consumed, in order; cheap to append and to consume from the front.
class ByteStream {
 public:
  void append(std::string_view bytes) { buffer_.append(bytes); }
  std::string_view view() const { return std::string_view(buffer_).substr(start_); }
  size_t size() const { return buffer_.size() - start_; }
  bool empty() const { return size() == 0; }
  void consume(size_t n);
  void clear();

 private:
  std::string buffer_;
  size_t start_ = 0;
};

// Appends `data` for logical connection `conn` to `out`, as frames of at most
// `max_payload` bytes each (an empty `data` adds nothing).
void append_frames(std::string& out, uint32_t conn, std::string_view data, size_t max_payload = kMaxSentPayload);
// The same for data given in pieces: framed as their concatenation, without
// copying them together first.
void append_frames(std::string& out, uint32_t conn, std::initializer_list<std::string_view> pieces,
                   size_t max_payload = kMaxSentPayload);

// The frames append_frames writes, as slices for one writev/sendmsg, without
// copying the data: the frame headers are kept here, the payload slices point
// into the pieces (which must outlive this).
class FrameSlices {
 public:
  static constexpr size_t kMaxFrames = 16;  // 64 KiB of payload at the default limit
  static constexpr size_t kMaxPieces = 8;
  // Each frame: its header, then a slice of each piece it spans.
  static constexpr size_t kMaxSlices = 2 * kMaxFrames + kMaxPieces;
  // False when the data needs more than kMaxFrames frames or comes in more
  // than kMaxPieces pieces (frame it with append_frames instead).
  bool build(uint32_t conn, std::initializer_list<std::string_view> pieces, size_t max_payload = kMaxSentPayload);
  // Appends to `out` what follows the first `sent` bytes of the slices (what a
  // write that took only `sent` bytes left to send).
  void append_unsent(std::string& out, size_t sent) const;
  const std::string_view* begin() const { return slices_; }
  const std::string_view* end() const { return slices_ + count_; }
  size_t size() const { return count_; }

 private:
  char headers_[kMaxFrames][kMuxHeaderSize] = {};
  std::string_view slices_[kMaxSlices];
  size_t count_ = 0;
};

// Splits the trunk's bytes into the two connections' streams. Bytes may arrive
// in any slices: a header split over reads is kept until it is whole.
class MuxReader {
 public:
  // Fails on a frame announcing more than kMaxReceivedPayload (the stream is
  // then out of step for good: the caller closes the trunk).
  Status feed(std::string_view bytes);
  // The reassembled stream of kPluginConn or kRuntimeConn.
  ByteStream& stream(uint32_t conn) { return conn == kPluginConn ? plugin_ : runtime_; }
  // Frames received so far (for tests and debug logs).
  uint64_t frames() const { return frames_; }
  void reset();

 private:
  unsigned char header_[kMuxHeaderSize] = {};
  size_t header_have_ = 0;
  uint32_t conn_ = 0;
  size_t remaining_ = 0;  // payload bytes of the current frame still to come
  bool in_payload_ = false;
  uint64_t frames_ = 0;
  ByteStream plugin_;
  ByteStream runtime_;
};

// Big-endian u32 helpers shared with the ttrpc layer.
void put_u32(std::string& out, uint32_t v);
uint32_t get_u32(const unsigned char* p);

}  // namespace cdi::nri
