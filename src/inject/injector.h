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
#include "registry/spec_cache.h"

namespace cdi {

inline constexpr std::string_view kKataContainerTypeAnnotation = "io.katacontainers.pkg.oci.container_type";

struct InjectOptions {
  // What the caller builds its registry with (injection takes a registry it does not build).
  RegistryOptions registry;
  // How long to wait for unresolved devices to appear; zero fails at once.
  std::chrono::milliseconds wait{0};
  // How the wait watches the spec dirs (tests inject a watch).
  SpecCacheOptions cache;
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

// Resolves `names` through `registry`, loading their kinds; while some do not
// resolve, waits up to `wait` for late specs: a SpecCache over the registry
// watches the spec dirs (timed rescans without inotify) and reads only the
// files that change. A name that is not a qualified name is an error.
Result<Resolution> resolve_devices(Registry& registry, const std::vector<std::string>& names,
                                   std::chrono::milliseconds wait, Logger& logger, const SpecCacheOptions& cache = {});

// Applies the edits of `devices`, resolved through `registry` (the caller's:
// a one-shot one for one injection), to `config`. On error `config` is untouched.
Result<InjectReport> inject_devices(OciDocument& config, const std::vector<std::string>& devices, Registry& registry,
                                    Fs& fs, Logger& logger, const InjectOptions& options);

// Injects `devices` (when there are any) and then, when options.guest_map is
// set, translates the result to the guest, on one copy of `config` that is
// committed only when both succeed.
Result<InjectReport> adjust_config(OciDocument& config, const std::vector<std::string>& devices, Registry& registry,
                                   Fs& fs, Logger& logger, const InjectOptions& options);

}  // namespace cdi
