// Where an installed cdi-hook keeps its configuration: the sysconfdir of the
// prefix its binary is installed in, named as GNU (and CMake's GNUInstallDirs)
// name it, so that one build installed anywhere, by `cmake --install --prefix`
// or as the Debian package, reads the files its installation put there.
#pragma once

#include <string>
#include <string_view>

namespace cdi {

// <prefix>/etc for a binary <prefix>/bin/NAME, and /etc for the prefixes /usr
// and /: "/usr/bin/cdi-hook" -> "/etc", "/usr/local/bin/cdi-hook" ->
// "/usr/local/etc", "/opt/cdi/bin/cdi-hook" -> "/opt/cdi/etc". A binary that is
// not in a bin dir (a build tree) gets the etc dir beside its own dir.
std::string sysconfdir_of(std::string_view binary);

// <sysconfdir>/cdi-hook/runtime.conf: cdi-hook-runtime's options.
std::string runtime_config_of(std::string_view binary);

// This process's binary, links resolved (/proc/self/exe); empty when unknown.
std::string this_binary();

}  // namespace cdi
