#include "nri/wire.h"

#include <google/protobuf/io/coded_stream.h>

namespace cdi::nri {

void WireWriter::long_varint(uint64_t value) {
  uint8_t buffer[10];
  uint8_t* end = google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(value, buffer);
  out_.append(reinterpret_cast<const char*>(buffer), static_cast<size_t>(end - buffer));
}

}  // namespace cdi::nri
