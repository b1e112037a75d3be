// Line-based unified diff (Myers' O(ND) algorithm), for `inject --diff`.
#pragma once

#include <string>
#include <string_view>

namespace cdi {

// A unified diff of `before` and `after` with `context` lines around each
// change and "--- from_label" / "+++ to_label" headers; empty when equal.
std::string unified_diff(std::string_view before, std::string_view after, std::string_view from_label,
                         std::string_view to_label, size_t context = 3);

}  // namespace cdi
