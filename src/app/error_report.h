// How every front end reports an error: one classification of the error's kind
// into an exit code (the CLI) and an RPC status (the NRI plugin), the one-line
// text, and the runc-style JSON line for an engine's runtime log.
#pragma once

#include <ctime>
#include <string>
#include <string_view>

#include "base/error.h"

namespace cdi::app {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // input, spec or injection
inline constexpr int kExitUsage = 2;    // command line or configuration

// Status codes shared by gRPC and ttrpc (google.rpc.Code numbers).
enum class RpcCode : int {
  ok = 0,
  invalid_argument = 3,
  not_found = 5,
  failed_precondition = 9,
  internal = 13,
};

struct Outcome {
  int exit_code;
  RpcCode rpc;
};

// The one mapping from an error to what a front end answers:
//   usage            exit 2, InvalidArgument
//   invalid_request  exit 1, InvalidArgument      (a bad device name, annotation or OCI config)
//   not_found        exit 1, NotFound             (a device no spec defines)
//   failure          exit 1, FailedPrecondition   (a spec or an edit that cannot be used)
//   io               exit 1, Internal             (a system call failed)
Outcome classify(const Error& error);
inline int exit_code(const Error& error) { return classify(error).exit_code; }
inline RpcCode rpc_code(const Error& error) { return classify(error).rpc; }
std::string_view rpc_code_name(RpcCode code);  // "InvalidArgument", ...

// "cdi-hook: <error>": the line a front end prints on stderr (no newline).
std::string error_line(const Error& error);

// {"level":"error","msg":"cdi-hook: <error>","time":"<UTC>"} and a newline:
// the line runc writes to its --log file with --log-format json, which
// engines read to report why a runtime failed. Always valid JSON.
std::string runtime_log_line(const Error& error, std::time_t now);

}  // namespace cdi::app
