# The hook and engine snippets (hooks/**/*.in) for one installation: its bin dir
# and sysconfdir filled in. Included at configure time (the build tree's copies,
# which the tests read) and by the install script (the installed copies, for the
# prefix actually installed to: `cmake --install --prefix`, CPack's /usr).

# The sysconfdir of an installation prefix, as cdi-hook finds it from its own
# path (src/app/install_paths.h): /etc for the prefixes /usr and /, else <prefix>/etc.
function(cdihook_sysconfdir prefix out_var)
  string(REGEX REPLACE "/+$" "" prefix "${prefix}")
  if(prefix STREQUAL "/usr" OR prefix STREQUAL "")
    set(${out_var} /etc PARENT_SCOPE)
  else()
    set(${out_var} "${prefix}/etc" PARENT_SCOPE)
  endif()
endfunction()

# Configures every *.in under source_dir into output_dir (same relative path, without .in).
function(cdihook_configure_hook_files source_dir output_dir bindir sysconfdir)
  set(CDIHOOK_BINDIR "${bindir}")
  set(CDIHOOK_SYSCONFDIR "${sysconfdir}")
  file(GLOB_RECURSE templates RELATIVE "${source_dir}" "${source_dir}/*.in")
  foreach(template IN LISTS templates)
    string(REGEX REPLACE "\\.in$" "" generated "${template}")
    configure_file("${source_dir}/${template}" "${output_dir}/${generated}" @ONLY)
  endforeach()
endfunction()
