// The one JSON writer of the project: a RapidJSON DOM as RapidJSON's own
// writers lay it out (same escapes, number forms and two-space pretty layout),
// copying unescaped runs of a string whole. The OCI config is written with it
// on every injection, and so is every JSON the front ends print.
#pragma once

#include <string>
#include <string_view>

#include "base/json.h"

namespace cdi {

// Appends `value` to `out`, pretty (two spaces, ": ") or compact.
void write_json(const rapidjson::Value& value, bool pretty, std::string& out);

// Appends `s` as a JSON string literal, quotes included: control characters,
// '"' and '\\' escaped, the bytes of a UTF-16 surrogate (what RapidJSON's
// reader makes of a lone "\uDE20") written back as that escape, other bytes as
// they are.
void write_json_string(std::string_view s, std::string& out);

}  // namespace cdi
