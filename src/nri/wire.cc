#include "nri/wire.h"

#include <google/protobuf/io/coded_stream.h>

namespace cdi::nri::wire {

size_t encode_varint(uint64_t value, char* buffer) {
  auto* start = reinterpret_cast<uint8_t*>(buffer);
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, start);
  return static_cast<size_t>(end - start);
}

}  // namespace cdi::nri::wire
