// Checking one spec file the way `cdi-hook validate` does: syntax, every
// structural problem (not just the first), the JSON Schema, the reference
// semantic rules, and with `strict` the opt-in rules and the host nodes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "spec/codec/spec_codec.h"
#include "spec/codec/spec_decoder.h"
#include "spec/spec.h"

namespace cdi {

struct SpecCheckOptions {
  bool strict = false;            // opt-in rules and host nodes that must exist
  bool check_permissions = true;  // a file others can write is a problem
};

struct SpecCheckResult {
  std::string path;
  std::optional<Spec> spec;     // the spec as read, when it could be read at all
  std::vector<Error> problems;  // sorted by line and column; each names file and field
  // Allowed, but likely a mistake (a relative container path; with strict, a
  // leading-zero number read as octal): likewise sorted and located. A file
  // with warnings only is valid.
  std::vector<Error> warnings;
  bool valid() const { return problems.empty(); }
};

SpecCheckResult check_spec_file(Fs& fs, const std::string& path, const SpecCheckOptions& options);

// The same for bytes already read (the format given explicitly).
SpecCheckResult check_spec_bytes(Fs& fs, const std::string& path, std::string_view bytes, codec::SpecFormat format,
                                 const SpecCheckOptions& options);

}  // namespace cdi
