// Small builders of spec models for the unit tests of the edit plan and its
// sinks: one spec file of one kind, its devices, their device nodes.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "spec/spec.h"

namespace cdi::testing {

inline Spec make_spec(std::vector<Device> devices, std::string path = "/etc/cdi/vendor.yaml",
                      std::string kind = "vendor.com/dev") {
  Spec s;
  s.version = "1.1.0";
  s.kind = std::move(kind);
  s.path = std::move(path);
  s.devices = std::move(devices);
  return s;
}

inline Device device(std::string name, ContainerEdits edits) { return Device{std::move(name), {}, std::move(edits)}; }

inline DeviceNode node(std::string path, std::string permissions = "") {
  return DeviceNode{.path = std::move(path), .permissions = std::move(permissions)};
}

}  // namespace cdi::testing
