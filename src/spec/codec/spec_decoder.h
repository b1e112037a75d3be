// A tape to the typed spec model: exact key match, unknown and duplicate keys
// rejected, YAML 1.2 core typing of plain scalars (docs/yaml.md).
#pragma once

#include <vector>

#include "base/error.h"
#include "spec/codec/tape.h"
#include "spec/spec.h"

namespace cdi::codec {

struct DecodeOptions {
  // Record the position of every field in Spec::positions (for validate).
  bool record_positions = false;
  // Collect every problem here and decode on (skipping the offending values)
  // instead of stopping at the first; decode_spec then returns the partial spec.
  std::vector<Error>* collect = nullptr;
};

// Errors carry the field path and the line and column of the culprit.
Result<Spec> decode_spec(const Tape& tape, const DecodeOptions& options = {});

}  // namespace cdi::codec
