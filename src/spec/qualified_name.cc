#include "spec/qualified_name.h"

#include "base/text.h"

namespace cdi {

namespace {

std::string char_text(char c) { return quote(std::string_view(&c, 1)); }

// Vendor and class: first a letter, last a letter or digit, [A-Za-z0-9_.-] between.
Status validate_vendor_or_class(std::string_view what, std::string_view name) {
  if (name.empty()) return Error("invalid " + std::string(what) + ": empty");
  if (!is_alpha(name.front())) {
    return Error("invalid " + std::string(what) + " " + quote(name) + ": must start with a letter");
  }
  for (size_t i = 1; i + 1 < name.size(); ++i) {
    char c = name[i];
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.') {
      return Error("invalid " + std::string(what) + " " + quote(name) + ": character " + char_text(c) + " not allowed");
    }
  }
  if (!is_alnum(name.back())) {
    return Error("invalid " + std::string(what) + " " + quote(name) + ": must end with a letter or digit");
  }
  return {};
}

}  // namespace

Status validate_vendor_name(std::string_view vendor) { return validate_vendor_or_class("vendor", vendor); }
Status validate_class_name(std::string_view device_class) { return validate_vendor_or_class("class", device_class); }

Status validate_device_name(std::string_view name) {
  if (name.empty()) return Error("invalid device name: empty");
  if (!is_alnum(name.front())) {
    return Error("invalid device name " + quote(name) + ": must start with a letter or digit");
  }
  for (size_t i = 1; i + 1 < name.size(); ++i) {
    char c = name[i];
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.' && c != ':') {
      return Error("invalid device name " + quote(name) + ": character " + char_text(c) + " not allowed");
    }
  }
  if (!is_alnum(name.back())) {
    return Error("invalid device name " + quote(name) + ": must end with a letter or digit");
  }
  return {};
}

namespace {

// A name's three parts, viewed: an empty vendor for an unqualified name.
struct NameParts {
  std::string_view vendor, device_class, name;
};

NameParts split_parts(std::string_view device) {
  NameParts p;
  p.name = device;
  if (device.empty() || device.front() == '/') return p;
  size_t eq = device.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == device.size()) return p;
  std::string_view kind = device.substr(0, eq);
  size_t slash = kind.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == kind.size()) return p;
  return {kind.substr(0, slash), kind.substr(slash + 1), device.substr(eq + 1)};
}

Status check_parts(std::string_view device, const NameParts& p) {
  if (p.vendor.empty()) {
    return Error("unqualified device " + quote(device) + ": expected vendor/class=name");
  }
  if (auto st = validate_vendor_name(p.vendor); !st.ok()) {
    return Error("invalid device " + quote(device) + ": " + st.error().message);
  }
  if (auto st = validate_class_name(p.device_class); !st.ok()) {
    return Error("invalid device " + quote(device) + ": " + st.error().message);
  }
  if (auto st = validate_device_name(p.name); !st.ok()) {
    return Error("invalid device " + quote(device) + ": " + st.error().message);
  }
  return {};
}

QualifiedName owned(const NameParts& p) {
  return {std::string(p.vendor), std::string(p.device_class), std::string(p.name)};
}

}  // namespace

QualifiedName split_qualified_name(std::string_view device) { return owned(split_parts(device)); }

Result<QualifiedName> parse_qualified_name(std::string_view device) {
  NameParts p = split_parts(device);
  CDI_TRY(check_parts(device, p));
  return owned(p);
}

Status validate_qualified_name(std::string_view device) { return check_parts(device, split_parts(device)); }

bool is_qualified_name(std::string_view device) { return validate_qualified_name(device).ok(); }

Result<Kind> parse_kind(std::string_view kind) {
  size_t slash = kind.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == kind.size()) {
    return Error("invalid kind " + quote(kind) + ": expected vendor/class");
  }
  Kind k{std::string(kind.substr(0, slash)), std::string(kind.substr(slash + 1))};
  CDI_TRY(validate_vendor_name(k.vendor));
  CDI_TRY(validate_class_name(k.device_class));
  return k;
}

}  // namespace cdi
