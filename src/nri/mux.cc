#include "nri/mux.h"

#include <algorithm>

namespace cdi::nri {

void ByteStream::consume(size_t n) {
  start_ += std::min(n, size());
  if (start_ == buffer_.size()) {
    clear();
  } else if (start_ > 65536 && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);  // compact once most of the buffer is consumed
    start_ = 0;
  }
}

void ByteStream::clear() {
  buffer_.clear();
  start_ = 0;
}

void put_u32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                         static_cast<char>(v)};
  out.append(bytes, 4);
}

uint32_t get_u32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void append_frames(std::string& out, uint32_t conn, std::string_view data, size_t max_payload) {
  append_frames(out, conn, {data}, max_payload);
}

namespace {

void store_u32(char* out, uint32_t v) {
  out[0] = static_cast<char>(v >> 24);
  out[1] = static_cast<char>(v >> 16);
  out[2] = static_cast<char>(v >> 8);
  out[3] = static_cast<char>(v);
}

// Cuts the concatenation of `pieces` into frames of at most `max_payload`
// bytes: on_frame(payload size) at each frame's start, then on_data(slice)
// for each slice of a piece it carries.
template <class OnFrame, class OnData>
void split_frames(std::initializer_list<std::string_view> pieces, size_t max_payload, OnFrame on_frame,
                  OnData on_data) {
  if (max_payload == 0) max_payload = kMaxSentPayload;
  size_t left = 0;
  for (auto p : pieces) left += p.size();
  size_t room = 0;  // payload bytes still owed to the frame being written
  for (std::string_view data : pieces) {
    while (!data.empty()) {
      if (room == 0) {
        room = std::min(left, max_payload);
        on_frame(room);
      }
      size_t n = std::min(data.size(), room);
      on_data(data.substr(0, n));
      data.remove_prefix(n);
      room -= n;
      left -= n;
    }
  }
}

}  // namespace

void append_frames(std::string& out, uint32_t conn, std::initializer_list<std::string_view> pieces,
                   size_t max_payload) {
  split_frames(
      pieces, max_payload,
      [&](size_t size) {
        put_u32(out, conn);
        put_u32(out, static_cast<uint32_t>(size));
      },
      [&](std::string_view slice) { out.append(slice); });
}

bool FrameSlices::build(uint32_t conn, std::initializer_list<std::string_view> pieces, size_t max_payload) {
  count_ = 0;
  if (pieces.size() > kMaxPieces) return false;
  size_t frames = 0;
  bool fits = true;
  split_frames(
      pieces, max_payload,
      [&](size_t size) {
        if (frames == kMaxFrames) fits = false;
        if (!fits) return;
        char* header = headers_[frames++];
        store_u32(header, conn);
        store_u32(header + 4, static_cast<uint32_t>(size));
        slices_[count_++] = std::string_view(header, kMuxHeaderSize);
      },
      [&](std::string_view slice) {
        if (fits) slices_[count_++] = slice;
      });
  if (!fits) count_ = 0;
  return fits;
}

void FrameSlices::append_unsent(std::string& out, size_t sent) const {
  for (std::string_view s : *this) {
    size_t skip = std::min(sent, s.size());
    sent -= skip;
    out.append(s.substr(skip));
  }
}

Status MuxReader::feed(std::string_view bytes) {
  while (!bytes.empty()) {
    if (!in_payload_) {
      size_t take = std::min(kMuxHeaderSize - header_have_, bytes.size());
      std::copy_n(bytes.data(), take, header_ + header_have_);
      header_have_ += take;
      bytes.remove_prefix(take);
      if (header_have_ < kMuxHeaderSize) return {};
      header_have_ = 0;
      conn_ = get_u32(header_);
      remaining_ = get_u32(header_ + 4);
      if (remaining_ > kMaxReceivedPayload) {
        return Error("NRI mux: frame of " + std::to_string(remaining_) + " bytes on connection " +
                     std::to_string(conn_) + " exceeds " + std::to_string(kMaxReceivedPayload));
      }
      ++frames_;
      in_payload_ = remaining_ > 0;
      continue;
    }
    size_t take = std::min(remaining_, bytes.size());
    if (conn_ == kPluginConn || conn_ == kRuntimeConn) stream(conn_).append(bytes.substr(0, take));
    remaining_ -= take;
    bytes.remove_prefix(take);
    in_payload_ = remaining_ > 0;
  }
  return {};
}

void MuxReader::reset() {
  header_have_ = 0;
  remaining_ = 0;
  in_payload_ = false;
  frames_ = 0;
  plugin_.clear();
  runtime_.clear();
}

}  // namespace cdi::nri
