// YAML bytes to a tape, through libyaml's event parser (iterative: deep
// nesting costs heap, never stack). Only the first document is read; aliases
// are expanded within Limits; errors carry line and column.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"
#include "spec/codec/tape.h"

namespace cdi::codec {

// Tries the fast reader of yaml_fast.h first; whatever it declines goes
// through libyaml.
Result<Tape> yaml_to_tape(std::string_view bytes, const Limits& limits = {});

// The libyaml path alone: the reference the fast reader must match.
Result<Tape> yaml_to_tape_libyaml(std::string_view bytes, const Limits& limits = {});

enum class KindPeek { found, absent, unsure };
struct PeekedKind {
  KindPeek result = KindPeek::unsure;
  std::string kind;
};

// Reads only as far as the top-level "kind" value. `found` is certain for a
// file that parses; `unsure` means a full parse must decide.
PeekedKind peek_yaml_kind(std::string_view bytes);

}  // namespace cdi::codec
