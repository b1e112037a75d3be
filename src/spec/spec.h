// The CDI spec model (cdiVersion 0.3.0 to 1.1.0), its version gates and the
// reference validation rules.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "spec/annotations.h"

namespace cdi {

// Largest major and minor the kernel's dev_t holds (12 and 20 bits).
inline constexpr uint32_t kMaxDeviceMajor = 4095;
inline constexpr uint32_t kMaxDeviceMinor = (1u << 20) - 1;
// The bits a device node's fileMode may set: permissions, setuid, setgid, sticky.
inline constexpr uint32_t kMaxFileMode = 07777;

struct DeviceNode {
  std::string path;       // path in the container
  std::string host_path;  // empty: same as path
  std::string type;       // "", b, c, u, p
  int64_t major = 0;      // 0: unset
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::string permissions;  // cgroup access; "" means rwm
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;

  // Type and numbers given (type p needs none): the host node may be missing.
  bool complete() const { return !type.empty() && (major != 0 || type == "p"); }
};

struct Mount {
  std::string host_path;
  std::string container_path;
  std::vector<std::string> options;
  std::string type;

  // A bind mount (its hostPath is a path); other types mount a source that
  // names a filesystem ("tmpfs", "proc") or a device.
  bool is_bind() const;
};

struct Hook {
  std::string hook_name;
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int64_t> timeout;
};

struct IntelRdt {
  std::string clos_id;
  std::string l3_cache_schema;
  std::string mem_bw_schema;
  std::optional<std::vector<std::string>> schemata;
  bool enable_monitoring = false;
};

struct NetDevice {
  std::string host_interface_name;
  std::string name;
};

struct ContainerEdits {
  std::vector<std::string> env;
  std::vector<DeviceNode> device_nodes;
  std::vector<Hook> hooks;
  std::vector<Mount> mounts;
  std::optional<IntelRdt> intel_rdt;
  std::vector<uint32_t> additional_gids;
  std::vector<NetDevice> net_devices;

  bool empty() const;
};

struct Device {
  std::string name;
  AnnotationList annotations;
  ContainerEdits edits;
};

struct Spec {
  std::string version;  // cdiVersion as written
  std::string kind;
  AnnotationList annotations;
  std::vector<Device> devices;
  ContainerEdits edits;  // spec-level edits, applied once per spec

  // Where the spec came from; filled by the registry.
  std::string path;
  int priority = 0;
  // Field path -> position, filled by the decoder when asked to (validate).
  std::map<std::string, SourcePos> positions;

  const Device* find_device(std::string_view name) const;
};

struct Version {
  int major = 0;
  int minor = 0;
  int patch = 0;
  auto operator<=>(const Version&) const = default;
  std::string str() const;
};

// Accepts one leading 'v' and exactly the released versions 0.1.0 ... 1.1.0.
Result<Version> parse_spec_version(std::string_view text);
// The newest version whose features the spec uses (0.3.0 when none).
Version minimum_version(const Spec& spec);
inline constexpr Version kNewestVersion{1, 1, 0};

struct ValidateOptions {
  // Opt-in rules beyond the reference: Kubernetes annotation keys, absolute
  // paths, SPEC.md name length limits, permission strings without repeats.
  bool strict = false;
};

// Every problem of the spec, each with its field path (and position, when the
// decoder recorded positions). Empty when the spec is valid. `warnings`, when
// given, gets what is allowed but likely a mistake (a relative container path).
std::vector<Error> validate_spec(const Spec& spec, const ValidateOptions& options = {},
                                 std::vector<Error>* warnings = nullptr);

// Validation of container edits alone (used for spec-level and device edits).
void validate_edits(const ContainerEdits& edits, std::string_view field, const ValidateOptions& options,
                    std::vector<Error>& out, std::vector<Error>* warnings = nullptr);

bool is_valid_hook_name(std::string_view name);

}  // namespace cdi
