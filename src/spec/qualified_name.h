// Qualified CDI device names: "vendor/class=name", with the reference rules.
#pragma once

#include <string>
#include <string_view>

#include "base/error.h"

namespace cdi {

struct QualifiedName {
  std::string vendor;
  std::string device_class;
  std::string name;

  std::string kind() const { return vendor + "/" + device_class; }
  std::string str() const { return kind() + "=" + name; }
};

// Splits without validating. Empty, a leading '/', a missing '=' or '/' or an
// empty part gives an empty vendor (an unqualified name) as the reference does.
QualifiedName split_qualified_name(std::string_view device);

// Splits and validates all three parts.
Result<QualifiedName> parse_qualified_name(std::string_view device);
// parse_qualified_name's check alone (the same errors), copying nothing.
Status validate_qualified_name(std::string_view device);
bool is_qualified_name(std::string_view device);

struct Kind {
  std::string vendor;
  std::string device_class;
};
// Parses "vendor/class" (split at the first '/'), validating both parts.
Result<Kind> parse_kind(std::string_view kind);

Status validate_vendor_name(std::string_view vendor);
Status validate_class_name(std::string_view device_class);
Status validate_device_name(std::string_view name);

}  // namespace cdi
