// The runtime wrapper's reading of an OCI runtime command line (with runc's
// global flags). The input is the argument vector, arguments separated by NUL
// bytes. Invariants, for the reading returned and every injecting one: the
// command found is one of the arguments; a bundle is found only for a command
// that injects, is never empty, and is an argument or the value of one; an
// ambiguous line names an argument as its flag.
#include <algorithm>
#include <string>
#include <vector>

#include "app/runtime_args.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = cdi::fuzz::as_view(data, size);
  std::vector<std::string> args;
  if (!bytes.empty()) args = cdi::fuzz::split(bytes, '\0');
  static const cdi::app::RuntimeFlags kRunc = cdi::app::known_runtime_flags("runc");
  cdi::Result<cdi::app::RuntimeCommandLine> line = cdi::app::parse_runtime_command(args, kRunc);
  if (!line.ok()) {
    FUZZ_CHECK(!line.error().message.empty(), "an error without a message");
    return 0;
  }
  auto is_arg = [&](const std::string& s) { return std::find(args.begin(), args.end(), s) != args.end(); };
  FUZZ_CHECK(line->ambiguous_flag.empty() || is_arg(line->ambiguous_flag), line->ambiguous_flag);
  std::vector<cdi::app::RuntimeCommand> readings = line->injecting;
  readings.push_back(line->command);
  for (const auto& cmd : readings) {
    FUZZ_CHECK(cmd.command.empty() || is_arg(cmd.command), cmd.command);
    if (!cmd.bundle) continue;
    const std::string& b = *cmd.bundle;
    FUZZ_CHECK(cmd.injects(), "a bundle for command " + cmd.command);
    FUZZ_CHECK(!b.empty(), "an empty bundle");
    bool from_args = is_arg(b) || std::any_of(args.begin(), args.end(), [&](const std::string& a) {
                       return a.size() > b.size() && a.ends_with("=" + b);
                     });
    FUZZ_CHECK(from_args, "bundle " + b + " is not in the arguments");
  }
  return 0;
}
