// The man page and the shell completions, generated from the same CLI11
// command tree that prints --help, so that the three cannot drift apart:
//   cdi-hook __generate man|bash|zsh|fish
// (a hidden command; the build runs it to make cdi-hook.1 and the completion
// files, see cmake/CdiHookDocs.cmake).
#pragma once

#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

namespace cdi::cli {

inline constexpr std::string_view kGenerateCommand = "__generate";

std::string man_page(const CLI::App& app, std::string_view version);
std::string bash_completion(const CLI::App& app);
std::string zsh_completion(const CLI::App& app);
std::string fish_completion(const CLI::App& app);

}  // namespace cdi::cli
