// The spec model back to JSON: the canonical form of a spec as cdi-hook read
// it (used to check YAML specs against the JSON Schema and for JSON output).
#pragma once

#include <string>

#include "base/json.h"
#include "spec/spec.h"

namespace cdi::codec {

// Fields that are absent or empty in the model are left out.
rapidjson::Document spec_to_json(const Spec& spec);
rapidjson::Value edits_to_json(const ContainerEdits& edits, rapidjson::Document::AllocatorType& a);

}  // namespace cdi::codec
