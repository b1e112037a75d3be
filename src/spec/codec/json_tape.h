// JSON bytes to a tape, through RapidJSON's iterative SAX reader (no recursion,
// numbers kept as written). Errors carry line and column.
#pragma once

#include <string_view>

#include "base/error.h"
#include "spec/codec/tape.h"
#include "spec/codec/yaml_tape.h"

namespace cdi::codec {

Result<Tape> json_to_tape(std::string_view bytes, const Limits& limits = {});

// Reads only as far as the top-level "kind" value (see peek_yaml_kind).
PeekedKind peek_json_kind(std::string_view bytes);

// 1-based line and column of a byte offset.
struct LineColumn {
  int line = 1;
  int column = 1;
};
LineColumn line_column_at(std::string_view bytes, size_t offset);

}  // namespace cdi::codec
