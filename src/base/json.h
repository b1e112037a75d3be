// The one way the project includes RapidJSON: assertions abort instead of
// being compiled out (no undefined behaviour on a missed type check).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <optional>
#include <string_view>

#ifndef RAPIDJSON_ASSERT
#define RAPIDJSON_ASSERT(x) \
  do {                      \
    if (!(x)) std::abort(); \
  } while (0)
#endif
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/internal/dtoa.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace cdi {

// RapidJSON 1.1.0 (Debian 12) adds a number's exponent to the count of its
// fraction digits in an int: a negative exponent of ten digits beside a
// fraction of ten overflows it, and the full-precision and the normal
// conversion then read outside their power tables (CVE-2024-38517). No value
// an OCI config or a runtime's JSON carries needs an exponent of more than a
// few digits, so every RapidJSON parse of untrusted text first looks for one.
inline constexpr size_t kMaxJsonExponentDigits = 5;

// The offset of the first number outside a string whose exponent has more
// than kMaxJsonExponentDigits significant digits, or nullopt. Linear, one pass;
// text that is not JSON is left for the parser to refuse.
std::optional<size_t> find_out_of_range_exponent(std::string_view bytes);

}  // namespace cdi
