#include "nri/runtime_info.h"

#include <charconv>

#include "base/text.h"

namespace cdi::nri {

bool parse_runtime_version(std::string_view text, RuntimeVersion& out) {
  if (text.starts_with('v')) text.remove_prefix(1);
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), parts[i]);
    if (ec != std::errc() || parts[i] < 0) return false;
    text.remove_prefix(static_cast<size_t>(end - text.data()));
    if (i < 2) {
      if (!text.starts_with('.')) return false;
      text.remove_prefix(1);
    }
  }
  // What follows the patch number must not continue it ("1.7.3x" is not 1.7.3).
  if (!text.empty() && is_alnum(text.front())) return false;
  out = {parts[0], parts[1], parts[2]};
  return true;
}

namespace {

bool at_least(const RuntimeVersion& v, int major, int minor, int patch) {
  if (v.major != major) return v.major > major;
  if (v.minor != minor) return v.minor > minor;
  return v.patch >= patch;
}

}  // namespace

CdiDevicesSupport cdi_devices_support(std::string_view runtime_name, std::string_view runtime_version) {
  RuntimeVersion v;
  if (!parse_runtime_version(runtime_version, v)) return CdiDevicesSupport::dropped;
  bool containerd = runtime_name == "containerd" || (runtime_name == "v2" && v.major == 2);
  if (containerd) {
    if (at_least(v, 2, 1, 0)) return CdiDevicesSupport::honoured;
    if (v.major == 1 && at_least(v, 1, 7, 30)) return CdiDevicesSupport::needs_enable_cdi;
    return CdiDevicesSupport::dropped;
  }
  if (runtime_name == "cri-o" && at_least(v, 1, 34, 0)) return CdiDevicesSupport::honoured;
  return CdiDevicesSupport::dropped;
}

namespace {

RuntimeVersion containerd_nri(const RuntimeVersion& v) {
  if (at_least(v, 2, 3, 0)) return {0, 12, 0};
  if (at_least(v, 2, 2, 1)) return {0, 11, 0};
  if (at_least(v, 2, 2, 0)) return {0, 10, 0};
  if (at_least(v, 1, 7, 26)) return {0, 8, 0};
  if (at_least(v, 1, 7, 16)) return {0, 6, 1};
  if (at_least(v, 1, 7, 14)) return {0, 6, 0};
  if (at_least(v, 1, 7, 7)) return {0, 4, 0};
  if (at_least(v, 1, 7, 0)) return {0, 3, 0};
  return {};
}

RuntimeVersion crio_nri(const RuntimeVersion& v) {
  if (at_least(v, 1, 35, 0)) return {0, 11, 0};
  if (at_least(v, 1, 34, 0)) return {0, 10, 0};
  if (at_least(v, 1, 32, 0)) return {0, 9, 0};
  if (at_least(v, 1, 26, 0)) return {0, 2, 0};
  return {};
}

}  // namespace

std::string NriCapabilities::describe() const {
  if (nri.major == 0 && nri.minor == 0) return "NRI version unknown";
  return "NRI v" + std::to_string(nri.major) + "." + std::to_string(nri.minor);
}

NriCapabilities nri_capabilities(std::string_view runtime_name, std::string_view runtime_version,
                                 std::string_view nri_version) {
  NriCapabilities c;
  RuntimeVersion v;
  if (!nri_version.empty() && parse_runtime_version(nri_version, v)) {
    c.nri = v;
  } else if (parse_runtime_version(runtime_version, v)) {
    if (runtime_name == "containerd" || (runtime_name == "v2" && v.major == 2)) c.nri = containerd_nri(v);
    if (runtime_name == "cri-o") c.nri = crio_nri(v);
  }
  c.cgroup_rules = at_least(c.nri, 0, 10, 0);
  c.net_devices = at_least(c.nri, 0, 11, 0);
  c.rdt = c.net_devices;
  return c;
}

std::string describe_support(std::string_view runtime_name, std::string_view runtime_version,
                             CdiDevicesSupport support) {
  std::string runtime = quote(runtime_name) + " " + quote(runtime_version);
  switch (support) {
    case CdiDevicesSupport::honoured:
      return "runtime " + runtime + " honours CDI device names returned by NRI plugins";
    case CdiDevicesSupport::needs_enable_cdi:
      return "runtime " + runtime + " honours CDI device names returned by NRI plugins only with enable_cdi = true";
    case CdiDevicesSupport::dropped:
      break;
  }
  return "runtime " + runtime + " drops CDI device names returned by NRI plugins";
}

Result<bool> use_cdi_references(CdiMode mode, CdiDevicesSupport support, std::string_view runtime_name,
                                std::string_view runtime_version) {
  switch (mode) {
    case CdiMode::raw:
      return false;
    case CdiMode::automatic:
      return support == CdiDevicesSupport::honoured;
    case CdiMode::reference:
      if (support == CdiDevicesSupport::dropped) {
        return Error("cdi-mode reference: " + describe_support(runtime_name, runtime_version, support) +
                     " (they would be lost silently); use cdi-mode raw or auto");
      }
      return true;
  }
  return false;
}

}  // namespace cdi::nri
