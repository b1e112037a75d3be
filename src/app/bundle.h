// Adjusting a container as its config asks: the devices of its cdi.k8s.io/
// annotations (and the guest translation, with a guest map), in memory or in a
// bundle's config.json. Shared by the hook's state mode and the runtime wrapper.
#pragma once

#include <string>

#include "base/error.h"
#include "base/logger.h"
#include "edits/oci_document.h"
#include "inject/injector.h"

namespace cdi::cli {

// False when there is nothing to do (no request and no guest map, or a Kata
// pod sandbox); the config is untouched on error.
// An error about the config itself (context "OCI config", no file) gets the
// config's name as its file.
Error locate_config_error(Error error, const std::string& source);

// `source` names the config in errors about its annotations.
Result<bool> adjust_requested(OciDocument& config, const std::string& source, Logger& logger,
                              const InjectOptions& options);

// The same for <bundle>/config.json, rewritten atomically (mode and owner kept)
// only when its bytes change (a config injected before is left alone). Errors name the file.
Result<bool> adjust_bundle(const std::string& bundle, Logger& logger, const InjectOptions& options);

}  // namespace cdi::cli
