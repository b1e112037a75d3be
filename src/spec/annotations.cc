#include "spec/annotations.h"

#include "base/text.h"
#include "spec/qualified_name.h"

namespace cdi {

Result<std::vector<std::string>> parse_annotations(const AnnotationList& annotations) {
  std::vector<std::string> devices;
  for (const auto& [key, value] : annotations) {
    if (!key.starts_with(kAnnotationPrefix)) continue;
    auto names = split(value, ',');
    devices.reserve(devices.size() + names.size());
    for (auto name : names) {
      if (auto st = validate_qualified_name(name); !st.ok()) {
        return Error("annotation " + quote(key) + ": " + st.error().message)
            .at_field("annotations")
            .of_kind(ErrorKind::invalid_request);
      }
      devices.emplace_back(name);
    }
  }
  return devices;
}

bool has_cdi_annotations(const AnnotationList& annotations) {
  for (const auto& kv : annotations) {
    if (kv.first.starts_with(kAnnotationPrefix)) return true;
  }
  return false;
}

Result<std::string> annotation_key(std::string_view plugin, std::string_view device_id) {
  if (plugin.empty()) return Error("invalid plugin name: empty");
  if (device_id.empty()) return Error("invalid device ID: empty");
  std::string name(plugin);
  name += '_';
  for (char c : device_id) name += c == '/' ? '_' : c;
  if (name.size() > kMaxAnnotationNameLength) {
    return Error("annotation name " + quote(name) + " is longer than 63 characters");
  }
  if (!is_alnum(name.front()) || !is_alnum(name.back())) {
    return Error("annotation name " + quote(name) + " must start and end with a letter or digit");
  }
  for (char c : name) {
    if (!is_alnum(c) && c != '_' && c != '-' && c != '.') {
      return Error("annotation name " + quote(name) + ": character " + quote(std::string_view(&c, 1)) + " not allowed");
    }
  }
  return std::string(kAnnotationPrefix) + name;
}

Result<std::string> annotation_value(const std::vector<std::string>& devices) {
  if (devices.empty()) return Error("no devices to annotate");
  std::string value;
  for (const auto& d : devices) {
    if (auto q = parse_qualified_name(d); !q.ok()) return std::move(q).error();
    if (!value.empty()) value += ',';
    value += d;
  }
  return value;
}

}  // namespace cdi
