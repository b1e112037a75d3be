// One injection: the requested devices resolved (waiting for late specs within
// the window), their edits merged and applied to a copy of the OCI config, and
// the copy committed only when every step succeeded.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/logger.h"
#include "edits/container_edits.h"
#include "edits/oci_document.h"
#include "guest/guest_map.h"
#include "guest/guest_translate.h"
#include "registry/registry.h"

namespace cdi {

inline constexpr std::string_view kKataContainerTypeAnnotation = "io.katacontainers.pkg.oci.container_type";

struct InjectOptions {
  RegistryOptions registry;
  // How long to wait for unresolved devices to appear; zero fails at once.
  std::chrono::milliseconds wait{0};
  // Record every edit with its source (for --explain).
  bool explain = false;
  // The caller discards `config` on error (it is a parsed copy of bytes kept
  // elsewhere, as in the CLI): edits go straight into it, sparing a copy.
  // Otherwise `config` is untouched on error.
  bool discard_on_error = false;
  // Translate the result for a container in a VM (guest_translate.h); null: no translation.
  std::shared_ptr<const GuestMap> guest_map;
  // The guest's sysfs, for the map's PCI paths and SCSI disks.
  std::string sysfs_root = "/sys";
};

struct InjectReport {
  std::vector<std::string> devices;           // resolved, in request order, duplicates dropped
  std::vector<std::string> spec_files;        // files the devices came from
  std::vector<AppliedEdit> edits;             // filled when InjectOptions::explain
  std::optional<GuestTranslateReport> guest;  // set when a guest map was applied (its edits are in `edits`)
};

// The devices requested by the config's cdi.k8s.io/ annotations.
Result<std::vector<std::string>> requested_devices(const OciDocument& config);

// A Kata pod sandbox container: never injected.
bool is_kata_pod_sandbox(const OciDocument& config);

// Applies the edits of `devices` to `config`. On error `config` is untouched.
Result<InjectReport> inject_devices(OciDocument& config, const std::vector<std::string>& devices, Fs& fs,
                                    Logger& logger, const InjectOptions& options);

// Injects `devices` (when there are any) and then, when options.guest_map is
// set, translates the result to the guest, on one copy of `config` that is
// committed only when both succeed.
Result<InjectReport> adjust_config(OciDocument& config, const std::vector<std::string>& devices, Fs& fs, Logger& logger,
                                   const InjectOptions& options);

}  // namespace cdi
