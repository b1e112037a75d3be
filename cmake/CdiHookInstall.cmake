include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The tool (binary, link, schemas, snippets, config, docs) and the Debian package: CdiHookPackage.cmake.
# The library and its CMake package here; the policy targets (warnings, sanitizers, sections) stay in
# this build, not a consumer's.
install(TARGETS cdihook EXPORT cdihookTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  FILE_SET HEADERS DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/cdihook)
install(EXPORT cdihookTargets NAMESPACE cdihook::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cdihook)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/cdihookConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/cdihookConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cdihook)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/cdihookConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/cdihookConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/cdihookConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cdihook)
