// Protobuf wire encoding straight into a string, with protobuf's own varint
// primitive: the plugin writes its answers (ttrpc Response,
// CreateContainerResponse, ContainerAdjustment) from the edit plan without
// building message objects first. proto3 rules: a scalar or string field at
// its default is left out; a repeated element or a present message is always
// written. The generated classes read these bytes back in the tests.
//
// A nested message is written in place (nested()): the fields are run once
// through a counting writer, which notes the length of every nested message
// in the order they open, then written with those lengths before each body,
// so no message is built apart and copied into its parent, and no body is
// run more than twice whatever its depth.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace cdi::nri {

namespace wire {

// Writes the varint of `value` into `buffer` (room for 10 bytes); returns its length.
size_t encode_varint(uint64_t value, char* buffer);

inline size_t varint_size(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

// Where a writer's bytes go: appended to a string, stored into room made
// for them, or only counted.
class StringOut {
 public:
  static constexpr bool kCounting = false;
  explicit StringOut(std::string& s) : s_(s) {}
  void byte(char b) { s_.push_back(b); }
  void bytes(std::string_view v) { s_.append(v); }
  void varint(uint64_t value) {
    if (value < 0x80) {
      s_.push_back(static_cast<char>(value));  // tags and most lengths: one byte
      return;
    }
    char buffer[10];
    s_.append(buffer, encode_varint(value, buffer));
  }

 private:
  std::string& s_;
};

// Stores at a cursor into room the caller made, [at, end): exactly as many
// bytes as counted (append_fields checks that the passes agreed).
class ArrayOut {
 public:
  static constexpr bool kCounting = false;
  ArrayOut(char* at, char* end) : at_(at), end_(end) {}
  void byte(char b) { *at_++ = b; }
  void bytes(std::string_view v) {
    if (!v.empty()) std::memcpy(at_, v.data(), v.size());
    at_ += v.size();
  }
  void varint(uint64_t value) {
    if (value < 0x80) {
      *at_++ = static_cast<char>(value);
      return;
    }
    at_ += encode_varint(value, at_);
  }
  bool full() const { return at_ == end_; }

 private:
  char* at_;
  char* end_;
};

// Counts, and notes the length of each nested message in `sizes` in the
// order the messages open (a slot is taken at the opening, filled at the close).
class CountOut {
 public:
  static constexpr bool kCounting = true;
  explicit CountOut(std::vector<size_t>& sizes) : sizes_(sizes) {}
  void byte(char) { ++n_; }
  void bytes(std::string_view v) { n_ += v.size(); }
  void varint(uint64_t value) { n_ += varint_size(value); }
  size_t size() const { return n_; }
  size_t open() {
    sizes_.push_back(0);
    return sizes_.size() - 1;
  }
  void close(size_t slot, size_t length) { sizes_[slot] = length; }

 private:
  size_t n_ = 0;
  std::vector<size_t>& sizes_;
};

}  // namespace wire

template <class Out>
class BasicWireWriter {
 public:
  // `sizes`: the lengths of the nested messages to write, in the order they open (from a counting pass).
  explicit BasicWireWriter(Out out, const size_t* sizes = nullptr) : out_(out), sizes_(sizes) {}

  void varint(int field, uint64_t value) {  // left out when 0
    if (value == 0) return;
    tag(field, kVarint);
    out_.varint(value);
  }
  // int32/int64 (two's complement), left out when 0.
  void signed_varint(int field, int64_t value) { varint(field, static_cast<uint64_t>(value)); }
  void boolean(int field, bool value) { varint(field, value ? 1 : 0); }  // left out when false
  void string(int field, std::string_view value) {                       // string or bytes, left out when empty
    if (!value.empty()) element(field, value);
  }
  void element(int field, std::string_view value) {  // a repeated string's element: always written
    head(field, value.size());
    out_.bytes(value);
  }
  // A nested message whose encoding is `body` (written even when empty: present).
  void message(int field, std::string_view body) { element(field, body); }
  // A nested message (present) whose fields `body(writer)` writes; `body` is
  // called twice (to count, then to write) and must write the same both times.
  template <class Body>
  void nested(int field, Body&& body) {
    if constexpr (Out::kCounting) {
      size_t slot = out_.open();
      size_t start = out_.size();
      body(*this);
      size_t length = out_.size() - start;
      out_.close(slot, length);
      head(field, length);
    } else if (sizes_ != nullptr) {  // counted before, with every message inside it
      head(field, *sizes_++);
      body(*this);
    } else {
      std::vector<size_t> sizes;
      BasicWireWriter<wire::CountOut> count{wire::CountOut(sizes)};
      count.nested(field, body);
      sizes_ = sizes.data();
      nested(field, body);
      sizes_ = nullptr;
    }
  }
  // An Optional* wrapper {1: value}, present.
  void wrapped(int field, uint64_t value) {
    head(field, value == 0 ? 0 : 1 + wire::varint_size(value));
    varint(1, value);
  }
  // The tag and length of a length-delimited field whose `size` bytes the caller appends next.
  void head(int field, size_t size) {
    tag(field, kLengthDelimited);
    out_.varint(size);
  }
  // The bytes counted so far (a counting writer).
  size_t size() const { return out_.size(); }
  const Out& out() const { return out_; }

 private:
  static constexpr int kVarint = 0;
  static constexpr int kLengthDelimited = 2;

  void tag(int field, int wire_type) {
    out_.varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
  }

  Out out_;
  const size_t* sizes_;  // the lengths of the nested messages still to write, in order
};

class WireWriter : public BasicWireWriter<wire::StringOut> {
 public:
  explicit WireWriter(std::string& out) : BasicWireWriter(wire::StringOut(out)) {}
};

// Appends the fields `body(writer)` writes to `out`: counted first, every
// nested message inside once, then stored into room made once. `body` is
// called twice and must write the same both times.
template <class Body>
void append_fields(std::string& out, Body&& body) {
  std::vector<size_t> sizes;
  sizes.reserve(256);
  BasicWireWriter<wire::CountOut> count{wire::CountOut(sizes)};
  body(count);
  size_t start = out.size();
  out.resize(start + count.size());
  wire::ArrayOut room(out.data() + start, out.data() + out.size());
  BasicWireWriter<wire::ArrayOut> writer(room, sizes.data());
  body(writer);
  // The passes wrote different bytes: a bug in `body`; stop before they are used.
  if (!writer.out().full()) std::abort();
}

}  // namespace cdi::nri
