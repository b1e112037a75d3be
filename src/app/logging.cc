#include "app/logging.h"

#include <vector>

#include "base/text.h"

namespace cdi::app {

namespace {

std::string first_annotation(const AnnotationList& annotations, std::initializer_list<std::string_view> keys) {
  for (auto key : keys) {
    for (const auto& [k, v] : annotations) {
      if (k == key && !v.empty()) return v;
    }
  }
  return {};
}

}  // namespace

std::string state_label(const OciDocument& state) {
  return "container " + quote(state.string_member("id")) + ", bundle " + quote(state.string_member("bundle"));
}

std::string config_label(const OciDocument& config, std::string_view id, std::string_view bundle) {
  // containerd's CRI plugin and CRI-O name the container and its pod here.
  AnnotationList annotations = config.annotations();
  std::string name =
      first_annotation(annotations, {"io.kubernetes.cri.container-name", "io.kubernetes.container.name"});
  std::string pod = first_annotation(annotations, {"io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name"});
  std::string ns =
      first_annotation(annotations, {"io.kubernetes.cri.sandbox-namespace", "io.kubernetes.pod.namespace"});
  std::vector<std::string> parts;
  if (!id.empty()) parts.push_back(quote(id));
  if (!name.empty()) {
    std::string where = pod.empty() ? "" : " in pod " + quote(ns.empty() ? pod : ns + "/" + pod);
    parts.push_back("name " + quote(name) + where);
  }
  std::string hostname = config.string_member("hostname");
  if (name.empty() && !hostname.empty()) parts.push_back("hostname " + quote(hostname));
  std::string out = "container " + (parts.empty() ? std::string("(unnamed)") : join(parts, ", "));
  if (!bundle.empty()) return out + ", bundle " + quote(bundle);
  // Without a bundle (podman's precreate), the root filesystem names the container's storage.
  const auto& json = config.json();
  auto root = json.FindMember("root");
  if (root != json.MemberEnd() && root->value.IsObject()) {
    auto path = root->value.FindMember("path");
    if (path != root->value.MemberEnd() && path->value.IsString()) out += ", rootfs " + quote(json_view(path->value));
  }
  return out;
}

void LabelledLogger::write(LogLevel level, std::string_view message) {
  inner_.write(level, prefix_ + std::string(message));
}

void LabelledLogger::notice(std::string_view message) { inner_.notice(prefix_ + std::string(message)); }

}  // namespace cdi::app
