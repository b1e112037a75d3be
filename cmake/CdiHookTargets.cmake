# INTERFACE targets that carry build policy: warnings and sanitizers.
add_library(cdihook_warnings INTERFACE)
add_library(cdihook::warnings ALIAS cdihook_warnings)
target_compile_options(cdihook_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wconversion -Wsign-conversion
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # GCC 12 reports false -Wrestrict positives inside std::string at -O3 (GCC bug 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  # clang: RapidJSON 1.1.0's member iterators compare ambiguously under C++20's reversed operators.
  $<$<CXX_COMPILER_ID:Clang>:-Wno-ambiguous-reversed-operator>)
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
    -fsanitize=${CDIHOOK_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all
    # clang: what it flags in third-party headers (the file says what and why).
    $<$<CXX_COMPILER_ID:Clang>:-fsanitize-ignorelist=${CMAKE_CURRENT_LIST_DIR}/sanitizer-ignorelist.txt>)
  target_link_options(cdihook_sanitizers INTERFACE -fsanitize=${CDIHOOK_SANITIZE})
  set(CDIHOOK_STATIC OFF CACHE BOOL "" FORCE)
endif()
# The fuzz preset: the library carries libFuzzer's coverage instrumentation;
# the fuzz targets link libFuzzer itself (fuzz/CMakeLists.txt).
if(CDIHOOK_FUZZ)
  target_compile_options(cdihook_sanitizers INTERFACE -fsanitize=fuzzer-no-link)
  set(CDIHOOK_STATIC OFF CACHE BOOL "" FORCE)
endif()
