// The project's JSON Schema for CDI specs (schemas/cdi-spec.schema.json, built
// into the binary) and checking a spec against it.
#pragma once

#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/json.h"
#include "spec/spec.h"

namespace cdi {

std::string_view cdi_spec_schema_text();

// Checks `spec` (in its JSON form, fed to the validator as events: no document
// is built) against the schema; a violation is reported with its field path
// and, when spec.positions knows it, line and column. (RapidJSON's validator
// stops at the first violation.)
void check_spec_schema(const Spec& spec, std::vector<Error>& out);

// "/devices/0/containerEdits/env/1" -> "devices[0].containerEdits.env[1]".
std::string json_pointer_to_field(std::string_view pointer);

}  // namespace cdi
