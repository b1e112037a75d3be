// Output helpers shared by the subcommands: --output text|json and JSON rendering.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "base/error.h"
#include "base/json.h"

namespace cdi::cli {

enum class OutputFormat { text, json };

// Adds "--output text|json" to a command.
void add_output_option(CLI::App& cmd, OutputFormat& format);

std::string json_text(const rapidjson::Value& value);  // pretty, 2 spaces, trailing newline

// {"file","line","column","field","device","message","text"} for one error.
rapidjson::Value error_json(const Error& e, rapidjson::Document::AllocatorType& a);

rapidjson::Value json_str(std::string_view s, rapidjson::Document::AllocatorType& a);

}  // namespace cdi::cli
