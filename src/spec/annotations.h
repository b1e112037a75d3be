// cdi.k8s.io/ annotations: device requests in both directions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace cdi {

inline constexpr std::string_view kAnnotationPrefix = "cdi.k8s.io/";
inline constexpr size_t kMaxAnnotationNameLength = 63;

using AnnotationList = std::vector<std::pair<std::string, std::string>>;

// The devices requested by every annotation whose key has the prefix, in
// document order, names kept in their order within a value. The value is split
// on ',' without trimming; one invalid name fails the whole set, naming the key.
Result<std::vector<std::string>> parse_annotations(const AnnotationList& annotations);

// True if any key carries the prefix.
bool has_cdi_annotations(const AnnotationList& annotations);

// "cdi.k8s.io/<plugin>_<deviceID>" ('/' in deviceID becomes '_'), with the
// reference length and character rules.
Result<std::string> annotation_key(std::string_view plugin, std::string_view device_id);

// The devices joined by ','; every name must be qualified; an empty list is refused.
Result<std::string> annotation_value(const std::vector<std::string>& devices);

}  // namespace cdi
