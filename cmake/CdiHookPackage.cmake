# Installing cdi-hook as a tool (install component "tool") and the Debian package
# made of it with CPack:
#   cmake --install build/release [--prefix P]    # everything (the library too)
#   cpack --config build/release/CPackConfig.cmake -B OUT   # OUT/cdi-hook_<version>_<arch>.deb, prefix /usr
# What the tool installs:
#   bin/cdi-hook, bin/cdi-hook-runtime (a link)
#   share/cdi-hook/schemas/, share/cdi-hook/hooks/ (hook and engine snippets naming this prefix's bin dir)
#   <sysconfdir>/cdi-hook/runtime.conf (kept when it exists) and
#   <sysconfdir>/containers/podman-hooks.d/cdi-hook-precreate.json, where <sysconfdir> is /etc for the
#   prefix /usr and <prefix>/etc otherwise: where cdi-hook-runtime looks (src/app/install_paths.h)
#   share/doc/cdi-hook/ (README, docs, licence, examples)
include(GNUInstallDirs)
include(CdiHookHookFiles)

# Installing (and CPack) takes what is built: `--target cdi-hook` is enough for the package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY TRUE)

# The build tree's own snippets, for the configured prefix (the tests read them).
cdihook_sysconfdir("${CMAKE_INSTALL_PREFIX}" CDIHOOK_CONFIGURED_SYSCONFDIR)
cdihook_configure_hook_files(${PROJECT_SOURCE_DIR}/hooks ${PROJECT_BINARY_DIR}/hooks ${CMAKE_INSTALL_FULL_BINDIR}
                             ${CDIHOOK_CONFIGURED_SYSCONFDIR})

install(TARGETS cdi-hook RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tool)
install(CODE "execute_process(COMMAND \${CMAKE_COMMAND} -E create_symlink cdi-hook
  \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/cdi-hook-runtime\")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/cdi-hook-runtime\")"
  COMPONENT tool)
install(DIRECTORY schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cdi-hook/schemas COMPONENT tool)

# The snippets again, at install time, for the prefix installed to.
install(CODE "
  include(\"${CMAKE_CURRENT_LIST_DIR}/CdiHookHookFiles.cmake\")
  cdihook_sysconfdir(\"\${CMAKE_INSTALL_PREFIX}\" cdihook_etc)
  set(cdihook_staged \"${PROJECT_BINARY_DIR}/install-hooks\")
  file(REMOVE_RECURSE \"\${cdihook_staged}\")
  cdihook_configure_hook_files(\"${PROJECT_SOURCE_DIR}/hooks\" \"\${cdihook_staged}\"
    \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\" \"\${cdihook_etc}\")
  file(INSTALL \"\${cdihook_staged}/\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_DATADIR}/cdi-hook/hooks\")
  file(INSTALL \"\${cdihook_staged}/cdi-hook-precreate.json\" DESTINATION \"\${cdihook_etc}/containers/podman-hooks.d\")
  if(EXISTS \"\$ENV{DESTDIR}\${cdihook_etc}/cdi-hook/runtime.conf\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${cdihook_etc}/cdi-hook/runtime.conf (the new one is in share/cdi-hook/hooks/runtime/)\")
  else()
    file(INSTALL \"\${cdihook_staged}/runtime/runtime.conf\" DESTINATION \"\${cdihook_etc}/cdi-hook\")
  endif()
" COMPONENT tool)

# Documentation.
file(WRITE ${PROJECT_BINARY_DIR}/package/copyright
  "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
  "Upstream-Name: cdi-hook\n\n"
  "Files: *\nLicense: Apache-2.0\n"
  " On Debian systems, the full text of the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0;\n"
  " it is also in LICENSE beside this file.\n")
install(FILES README.md LICENSE ${PROJECT_BINARY_DIR}/package/copyright DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT tool)
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs COMPONENT tool)
install(DIRECTORY examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples COMPONENT tool)
install(DIRECTORY cdi-specs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples/cdi-specs COMPONENT tool)

# --- the Debian package: the tool component, installed under /usr ---

# What cdi-hook makes while it runs, removed on purge: the kind index cache and the logs the shipped
# snippets name. The conffiles: everything the package puts in /etc.
file(WRITE ${PROJECT_BINARY_DIR}/package/postrm
  "#!/bin/sh\n"
  "# cdi-hook postrm: on purge, remove what cdi-hook made at run time (kind index cache, logs).\n"
  "set -e\n"
  "if [ \"$1\" = purge ]; then\n"
  "  rm -rf /run/cdi-hook\n"
  "  rm -f /var/log/cdi-hook.log /var/log/cdi-hook.log.* /var/log/cdi-hook-runtime.log /var/log/cdi-hook-runtime.log.*\n"
  "fi\n")
file(CHMOD ${PROJECT_BINARY_DIR}/package/postrm PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
     GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
file(WRITE ${PROJECT_BINARY_DIR}/package/conffiles
  "/etc/cdi-hook/runtime.conf\n/etc/containers/podman-hooks.d/cdi-hook-precreate.json\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cdi-hook)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_CONTACT "cdi-hook maintainers <cdi-hook@localhost>" CACHE STRING "The package's Maintainer field")
set(CPACK_INSTALL_CMAKE_PROJECTS "${PROJECT_BINARY_DIR};${PROJECT_NAME};tool;/")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
  "cdi-hook injects Container Device Interface (CDI) devices into OCI containers: as an OCI hook\n"
  "(podman's precreate stage), as an OCI runtime wrapper (cdi-hook-runtime, for containerd, Docker and\n"
  "CRI-O), and as tools that validate, list and try spec files. It also translates host device numbers\n"
  "and PCI addresses for containers in VMs. One statically linked binary.")
# Statically linked: no shared library to depend on. A runtime to wrap and a rootfs for `try`.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "runc | crun")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "podman, busybox-static")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_BINARY_DIR}/package/conffiles ${PROJECT_BINARY_DIR}/package/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
