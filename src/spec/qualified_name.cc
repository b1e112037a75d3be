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

QualifiedName split_qualified_name(std::string_view device) {
  QualifiedName q;
  if (device.empty() || device.front() == '/') {
    q.name = device;
    return q;
  }
  size_t eq = device.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == device.size()) {
    q.name = device;
    return q;
  }
  std::string_view kind = device.substr(0, eq);
  size_t slash = kind.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == kind.size()) {
    q.name = device;
    return q;
  }
  q.vendor = kind.substr(0, slash);
  q.device_class = kind.substr(slash + 1);
  q.name = device.substr(eq + 1);
  return q;
}

Result<QualifiedName> parse_qualified_name(std::string_view device) {
  QualifiedName q = split_qualified_name(device);
  if (q.vendor.empty()) {
    return Error("unqualified device " + quote(device) + ": expected vendor/class=name");
  }
  if (auto st = validate_vendor_name(q.vendor); !st.ok()) {
    return Error("invalid device " + quote(device) + ": " + st.error().message);
  }
  if (auto st = validate_class_name(q.device_class); !st.ok()) {
    return Error("invalid device " + quote(device) + ": " + st.error().message);
  }
  if (auto st = validate_device_name(q.name); !st.ok()) {
    return Error("invalid device " + quote(device) + ": " + st.error().message);
  }
  return q;
}

bool is_qualified_name(std::string_view device) { return parse_qualified_name(device).ok(); }

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
