# INTERFACE targets that carry build policy: warnings and sanitizers.
add_library(cdihook_warnings INTERFACE)
add_library(cdihook::warnings ALIAS cdihook_warnings)
target_compile_options(cdihook_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict positives inside std::string at -O3 (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
if(CDIHOOK_WARNINGS_AS_ERRORS)
  target_compile_options(cdihook_warnings INTERFACE -Werror)
endif()

# Each function and object in its own section, so the linker can drop the unused ones.
add_library(cdihook_sections INTERFACE)
add_library(cdihook::sections ALIAS cdihook_sections)
target_compile_options(cdihook_sections INTERFACE -ffunction-sections -fdata-sections)

add_library(cdihook_sanitizers INTERFACE)
add_library(cdihook::sanitizers ALIAS cdihook_sanitizers)
if(CDIHOOK_SANITIZE)
  target_compile_options(cdihook_sanitizers INTERFACE
    -fsanitize=${CDIHOOK_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(cdihook_sanitizers INTERFACE -fsanitize=${CDIHOOK_SANITIZE})
  set(CDIHOOK_STATIC OFF CACHE BOOL "" FORCE)
endif()
