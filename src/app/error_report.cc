#include "app/error_report.h"

#include "base/json_writer.h"

namespace cdi::app {

Outcome classify(const Error& error) {
  switch (error.kind) {
    case ErrorKind::usage:
      return {kExitUsage, RpcCode::invalid_argument};
    case ErrorKind::invalid_request:
      return {kExitFailure, RpcCode::invalid_argument};
    case ErrorKind::not_found:
      return {kExitFailure, RpcCode::not_found};
    case ErrorKind::io:
      return {kExitFailure, RpcCode::internal};
    case ErrorKind::failure:
      break;
  }
  return {kExitFailure, RpcCode::failed_precondition};
}

std::string_view rpc_code_name(RpcCode code) {
  switch (code) {
    case RpcCode::ok:
      return "OK";
    case RpcCode::invalid_argument:
      return "InvalidArgument";
    case RpcCode::not_found:
      return "NotFound";
    case RpcCode::failed_precondition:
      return "FailedPrecondition";
    case RpcCode::internal:
      return "Internal";
  }
  return "Unknown";
}

std::string error_line(const Error& error) { return "cdi-hook: " + error.to_string(); }

std::string runtime_log_line(const Error& error, std::time_t now) {
  char when[64];
  std::tm tm{};
  gmtime_r(&now, &tm);
  size_t n = std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string line = "{\"level\":\"error\",\"msg\":";
  write_json_string(error_line(error), line);
  line += ",\"time\":\"";
  line.append(when, n);
  line += "\"}\n";
  return line;
}

}  // namespace cdi::app
