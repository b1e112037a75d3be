// Container edits applied to an OCI config with the reference v1.1.0 semantics
// and the project's decisions (docs/decisions.md): env replaced in place, device
// nodes re-stat'ed on every injection, cached specs never mutated.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "edits/oci_document.h"
#include "spec/spec.h"

namespace cdi {

// A block of edits and where it came from: a spec's own edits or one device's.
struct EditSource {
  const Spec* spec = nullptr;
  const Device* device = nullptr;  // null: the spec-level edits
  // For spec-level edits: the requested device that brought them in (named in errors).
  const Device* requested_by = nullptr;

  const ContainerEdits& edits() const { return device ? device->edits : spec->edits; }
  std::string qualified_name() const;  // "vendor/class=name", empty for spec-level edits
  // Field path of the edits inside the spec file: "devices[3].containerEdits".
  std::string field() const;
};

// The merge order: a spec's own edits before its first requested device.
std::vector<EditSource> merge_order(const std::vector<std::pair<const Spec*, const Device*>>& devices);

// One edit made to the config, for --explain.
struct AppliedEdit {
  std::string category;  // env, deviceNode, cgroupRule, netDevice, mount, hook, intelRdt, additionalGid
  std::string summary;
  std::string spec_file;
  std::string device;  // qualified name; empty for spec-level edits
};

// A device node with type, numbers and mode filled from the host node.
struct ResolvedDeviceNode {
  std::string path;
  std::string host_path;
  std::string type;
  int64_t major = 0;
  int64_t minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
  std::string access;  // cgroup access for b/c nodes
};

// stat()s the host node (following links): fills an empty type, zero numbers and
// an unset file mode. A node with type and major given tolerates a missing host.
Result<ResolvedDeviceNode> resolve_device_node(const DeviceNode& node, Fs& fs);

// Applies every source's edits to `config`, category by category in merge
// order. On error the config may be half-edited: callers apply to a copy.
Status apply_edits(OciDocument& config, const std::vector<EditSource>& sources, Fs& fs,
                   std::vector<AppliedEdit>* explain = nullptr);

// Depth of a mount destination for the stable mount sort: '/' count of the cleaned path.
size_t mount_depth(std::string_view destination);

}  // namespace cdi
