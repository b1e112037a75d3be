include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS cdi-hook RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(CODE "execute_process(COMMAND ${CMAKE_COMMAND} -E create_symlink cdi-hook
  \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/cdi-hook-runtime)")
install(TARGETS cdihook cdihook_warnings cdihook_sanitizers EXPORT cdihookTargets
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
install(DIRECTORY schemas/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cdi-hook/schemas)
install(DIRECTORY hooks/ DESTINATION ${CMAKE_INSTALL_DATADIR}/cdi-hook/hooks)
