// Spec files to the model: the format by file extension, then bytes -> tape ->
// Spec. The only entry point the rest of the library uses for spec bytes.
#pragma once

#include <optional>
#include <string_view>

#include "base/error.h"
#include "spec/codec/spec_decoder.h"
#include "spec/codec/yaml_tape.h"
#include "spec/spec.h"

namespace cdi::codec {

enum class SpecFormat { json, yaml };

inline constexpr size_t kMaxSpecFileBytes = 16u << 20;

// Exactly ".json" or ".yaml" (".yml", ".JSON" and temporary files are not specs).
std::optional<SpecFormat> spec_format_for(std::string_view file_name);

// Errors carry line, column and field path; the caller adds the file.
Result<Spec> parse_spec(std::string_view bytes, SpecFormat format, const DecodeOptions& options = {});

// The tape of a spec file's bytes (size limit and blank-file rule applied).
Result<Tape> spec_tape(std::string_view bytes, SpecFormat format);

// The top-level kind of a parsed file; `found` only for a scalar value.
PeekedKind kind_from_tape(const Tape& tape);

// The top-level kind, reading only as far as it.
PeekedKind peek_spec_kind(std::string_view bytes, SpecFormat format);

}  // namespace cdi::codec
