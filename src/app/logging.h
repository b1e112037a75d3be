// Logging shared by the front ends: the label that names the container in
// every log line of one container start, and a Logger that adds it.
#pragma once

#include <string>
#include <string_view>

#include "base/logger.h"
#include "edits/oci_document.h"

namespace cdi::app {

// "container "ID", bundle "B"": from an OCI state (its id and bundle).
std::string state_label(const OciDocument& state);
// From an OCI config (podman's precreate, the runtime wrapper): the container
// name the engine put in its annotations (CRI: io.kubernetes.cri.container-name
// or io.kubernetes.container.name, with the pod), else its hostname; with
// `id` when known, and the bundle when known (else root.path, the rootfs).
std::string config_label(const OciDocument& config, std::string_view id, std::string_view bundle);

// Writes every line to `inner` after "<label>: ".
class LabelledLogger final : public Logger {
 public:
  LabelledLogger(Logger& inner, std::string label) : inner_(inner), prefix_(std::move(label) + ": ") {}
  bool enabled(LogLevel level) const override { return inner_.enabled(level); }
  void write(LogLevel level, std::string_view message) override;
  void notice(std::string_view message) override;

 private:
  Logger& inner_;
  std::string prefix_;
};

}  // namespace cdi::app
