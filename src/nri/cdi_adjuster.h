// The CDI side of the plugin: devices resolved through the library's
// long-lived spec cache, their edits turned into a ContainerAdjustment.
#pragma once

#include <memory>

#include "base/error.h"
#include "base/logger.h"
#include "nri/plugin.h"
#include "nri/plugin_options.h"

namespace cdi::nri {

Result<std::unique_ptr<Adjuster>> make_cdi_adjuster(const PluginOptions& options, Logger& logger);

}  // namespace cdi::nri
