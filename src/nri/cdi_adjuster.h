// The CDI side of the plugin: the requested devices resolved by the library
// (the hook's registry rules, permission checks, waiting and error texts),
// planned against the container as the runtime describes it, and answered as
// raw edits (AdjustmentSink) or as device names for the runtime to resolve.
#pragma once

#include <memory>

#include "base/error.h"
#include "base/logger.h"
#include "nri/plugin.h"
#include "nri/plugin_options.h"
#include "registry/registry.h"

namespace cdi::nri {

Result<std::unique_ptr<Adjuster>> make_cdi_adjuster(const PluginOptions& options, Logger& logger);

// The library's registry options for the plugin's (its spec dirs and permission checks).
RegistryOptions registry_options(const PluginOptions& options);

}  // namespace cdi::nri
