// Protobuf wire encoding straight into a string, with protobuf's own varint
// and tag primitives: the plugin writes its answers (ttrpc Response,
// CreateContainerResponse, ContainerAdjustment) from the edit plan without
// building message objects first. proto3 rules: a scalar or string field at
// its default is left out; a repeated element or a present message is always
// written. The generated classes read these bytes back in the tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cdi::nri {

class WireWriter {
 public:
  explicit WireWriter(std::string& out) : out_(out) {}

  void varint(int field, uint64_t value) {  // left out when 0
    if (value == 0) return;
    tag(field, kVarint);
    raw_varint(value);
  }
  // int32/int64 (two's complement), left out when 0.
  void signed_varint(int field, int64_t value) { varint(field, static_cast<uint64_t>(value)); }
  void boolean(int field, bool value) { varint(field, value ? 1 : 0); }  // left out when false
  void string(int field, std::string_view value) {                       // string or bytes, left out when empty
    if (!value.empty()) element(field, value);
  }
  void element(int field, std::string_view value) {  // a repeated string's element: always written
    head(field, value.size());
    out_.append(value);
  }
  // The tag and length of a length-delimited field whose `size` bytes the caller appends next.
  void head(int field, size_t size) {
    tag(field, kLengthDelimited);
    raw_varint(size);
  }
  // A nested message whose encoding is `body` (written even when empty: present).
  void message(int field, std::string_view body) { element(field, body); }

 private:
  static constexpr int kVarint = 0;
  static constexpr int kLengthDelimited = 2;

  void tag(int field, int wire_type) {
    raw_varint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type));
  }
  void raw_varint(uint64_t value) {
    if (value < 0x80) {
      out_.push_back(static_cast<char>(value));  // tags and most lengths: one byte
    } else {
      long_varint(value);
    }
  }
  void long_varint(uint64_t value);

  std::string& out_;
};

}  // namespace cdi::nri
