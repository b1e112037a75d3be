// Protobuf wire encoding straight into a string, with protobuf's own varint
// primitive: the plugin writes its answers (ttrpc Response,
// CreateContainerResponse, ContainerAdjustment) from the edit plan without
// building message objects first. proto3 rules: a scalar or string field at
// its default is left out; a repeated element or a present message is always
// written. The generated classes read these bytes back in the tests.
//
// A nested message is written in place (nested()), never built apart and
// copied into its parent. append_fields, the answers' path, writes in one
// pass: two bytes are set aside before each body and its length goes there
// once the body is written (the body moves back a byte when it is shorter than
// 128 bytes, forward only when it is 16 KiB or more). A WireWriter on a string
// runs a nested body twice instead: once through a counting writer that notes
// its lengths, then to write them.
#pragma once

#include <algorithm>
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

// Where a writer's bytes go: appended to a string, or only counted (and
// BufferOut, below: appended in one pass).
class StringOut {
 public:
  static constexpr bool kCounting = false;
  static constexpr bool kPatching = false;
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

// Counts, and notes the length of each nested message in `sizes` in the
// order the messages open (a slot is taken at the opening, filled at the close).
class CountOut {
 public:
  static constexpr bool kCounting = true;
  static constexpr bool kPatching = false;
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

// Appends to a string in one pass, growing it as needed, and sets each nested
// message's length after its body (open_length, close_length). finish() cuts
// the string to what was written.
class BufferOut {
 public:
  static constexpr bool kCounting = false;
  static constexpr bool kPatching = true;
  explicit BufferOut(std::string& s) : s_(s), data_(s.data()), size_(s.size()), used_(s.size()) {}
  void byte(char b) {
    room(1);
    data_[used_++] = b;
  }
  void bytes(std::string_view v) {
    room(v.size());
    copy(data_ + used_, v.data(), v.size());
    used_ += v.size();
  }
  void varint(uint64_t value) {
    room(10);
    if (value < 0x80) {
      data_[used_++] = static_cast<char>(value);  // tags and most lengths: one byte
      return;
    }
    used_ += encode_varint(value, data_ + used_);
  }
  // Sets two bytes aside for a length; returns where they are.
  size_t open_length() {
    room(2);
    used_ += 2;
    return used_ - 2;
  }
  // Writes the length of what follows `slot` there, moving the body to fit it.
  void close_length(size_t slot) {
    size_t length = used_ - slot - 2;
    if (length < 0x80) {
      char* at = data_ + slot;
      if (length > 0) std::memmove(at + 1, at + 2, length);
      at[0] = static_cast<char>(length);
      --used_;
    } else if (length < 0x4000) {
      data_[slot] = static_cast<char>((length & 0x7f) | 0x80);
      data_[slot + 1] = static_cast<char>(length >> 7);
    } else {
      close_long_length(slot, length);
    }
  }
  // The bytes written so far, what the string held before included.
  size_t size() const { return used_; }
  void finish() { s_.resize(used_); }

 private:
  void room(size_t n) {
    if (used_ + n > size_) grow(n);
  }
  // Most fields are short (names, numbers' text, paths): up to 32 bytes are
  // copied with two overlapping moves, not a call to memcpy each.
  static void copy(char* to, const char* from, size_t n) {
    if (n > 32) {
      std::memcpy(to, from, n);
    } else if (n >= 16) {
      move<16>(to, from);
      move<16>(to + n - 16, from + n - 16);
    } else if (n >= 8) {
      move<8>(to, from);
      move<8>(to + n - 8, from + n - 8);
    } else if (n >= 4) {
      move<4>(to, from);
      move<4>(to + n - 4, from + n - 4);
    } else if (n > 0) {
      to[0] = from[0];
      to[n / 2] = from[n / 2];
      to[n - 1] = from[n - 1];
    }
  }
  template <size_t N>
  static void move(char* to, const char* from) {
    char chunk[N];
    std::memcpy(chunk, from, N);
    std::memcpy(to, chunk, N);
  }
  // Grows by 4 KiB steps: resize() zeroes what it adds, so the string is not
  // grown far past what is written (its capacity still grows by doubling).
  [[gnu::noinline]] void grow(size_t n) {
    s_.resize(used_ + n + 4096);
    data_ = s_.data();
    size_ = s_.size();
  }
  [[gnu::noinline]] void close_long_length(size_t slot, size_t length) {
    char head[10];
    size_t n = encode_varint(length, head);
    room(n - 2);
    std::memmove(data_ + slot + n, data_ + slot + 2, length);
    std::memcpy(data_ + slot, head, n);
    used_ += n - 2;
  }

  std::string& s_;
  char* data_;
  size_t size_;
  size_t used_;
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
  // A nested message (present) whose fields `body(writer)` writes. Into a
  // BufferOut `body` is called once; otherwise twice (to count, then to
  // write), and must write the same both times.
  template <class Body>
  void nested(int field, Body&& body) {
    if constexpr (Out::kPatching) {
      tag(field, kLengthDelimited);
      size_t slot = out_.open_length();
      body(*this);
      out_.close_length(slot);
    } else if constexpr (Out::kCounting) {
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
  Out& out() { return out_; }

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

// Appends the fields `body(writer)` writes to `out`, in one pass (`body` is
// called once).
template <class Body>
void append_fields(std::string& out, Body&& body) {
  BasicWireWriter<wire::BufferOut> writer{wire::BufferOut(out)};
  body(writer);
  writer.out().finish();
}

}  // namespace cdi::nri
