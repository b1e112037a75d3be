// `cdi-hook-nri check CONF`: what a pre-registered plugin would make of its
// conf.d file, before the runtime hands it over. A runtime that gets a failed
// Configure drops the plugin, and its containers then start without their
// devices; the check says so first, with the same message, and shows what
// the plugin would see in the spec dirs (the same registry, the same rules).
#pragma once

#include <string>
#include <string_view>

#include "base/fs.h"
#include "base/logger.h"

namespace cdi::nri {

struct CheckReport {
  std::string text;  // for stdout, one finding per line
  bool ok = false;   // the config is accepted and no spec has a problem
};

// `text` is the conf.d file's content, `origin` its name in messages. The
// spec dirs are read through `fs` with the plugin's registry options.
CheckReport check_config(std::string_view text, std::string_view origin, Fs& fs, Logger& logger);

}  // namespace cdi::nri
