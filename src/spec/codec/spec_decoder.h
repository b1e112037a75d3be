// A tape to the typed spec model: exact key match, unknown and duplicate keys
// rejected, YAML 1.2 core typing of plain scalars with leading-zero integers
// read as the Go reference reads them (docs/yaml.md).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "spec/codec/tape.h"
#include "spec/spec.h"

namespace cdi::codec {

struct DecodeOptions {
  // Record the position of every field in Spec::positions.
  bool record_positions = false;
  // Collect every problem here and decode on (skipping the offending values)
  // instead of stopping at the first; decode_spec then returns the partial spec.
  std::vector<Error>* collect = nullptr;
  // Forms read as the reference reads them but ambiguous to a reader of the
  // file (a leading-zero integer): noted here, each with its field and position.
  std::vector<Error>* warnings = nullptr;
};

// Errors carry the field path and the line and column of the culprit.
Result<Spec> decode_spec(const Tape& tape, const DecodeOptions& options = {});

// The positions of these field paths ("devices[0].containerEdits.env[1]") in
// the spec the tape holds; paths that are not there are left out.
std::map<std::string, SourcePos> locate_fields(const Tape& tape, const std::set<std::string>& fields);

// Fills in the line and column of each error that names a field but has no
// position yet (validation errors of a spec decoded without positions), so
// that positions cost nothing until a problem is found.
void locate_errors(const Tape& tape, std::vector<Error>& errors);

}  // namespace cdi::codec
