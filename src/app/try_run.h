// `cdi-hook try`: a throwaway OCI bundle (a busybox rootfs, or an overlay on the
// author's own), the devices injected into its config.json exactly as the hook
// does it (adjust_bundle), the container run with runc (or another OCI runtime),
// and the verdict on what it saw. Every container, mount and temp dir is gone
// when run_try returns, also after SIGINT, SIGTERM or SIGHUP (blocked while it
// runs and answered by stopping the container) and after any failure.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "app/signal_watch.h"
#include "app/try_plan.h"
#include "base/error.h"
#include "base/logger.h"
#include "edits/oci_document.h"
#include "inject/injector.h"

namespace cdi {

struct TryRequest {
  std::vector<std::string> devices;
  InjectOptions inject;  // the hook's options: spec dirs, wait, guest map...
  std::string rootfs;    // empty: a rootfs of a static busybox
  std::string busybox = "/bin/busybox";
  std::string runtime = "runc";  // a path, or a name looked up in PATH
  std::vector<std::string> command;
  double timeout_seconds = 60;  // for the whole container run
  // cdi-hook itself: copied into the rootfs to probe and to record hooks (bundle_agent).
  std::string agent = "/proc/self/exe";
  std::string temp_parent;  // empty: $TMPDIR, else /tmp
};

struct TryResult {
  TryPlan plan;
  std::vector<TryCheck> checks;
  std::string runtime;  // the runtime's path
  std::string container_id;
  std::vector<std::string> command;
  int exit_code = 0;
  int signal = 0;
  bool timed_out = false;
  std::string stdout_text;  // the container's (the command's) output
  std::string stderr_text;
  bool output_truncated = false;
  int interrupted_by = 0;  // the signal that stopped try early (its checks are then incomplete)
  bool started = false;    // the container started and the probe reported (stdout/stderr are the command's)

  bool passed() const { return interrupted_by == 0 && all_passed(checks); }
};

Result<TryResult> run_try(const TryRequest& request, Logger& logger);

// --- the parts, for the front end and for tests ---

// The name the agent is called by inside the rootfs; main() dispatches on it.
inline constexpr std::string_view kTryAgentName = "cdi-hook-try-agent";
// The dir try adds to the rootfs: the agent, the probe's request and report, the hook records.
inline constexpr std::string_view kTryDir = "/.cdi-hook-try";

struct ProcessOutcome {
  int exit_code = 0;
  int signal = 0;
  bool timed_out = false;
  int interrupted_by = 0;
  std::string out;
  std::string err;
  bool truncated = false;
};

// Runs argv in a process group of its own, stdin /dev/null, stdout and stderr
// captured (at most max_output bytes each). On timeout or a signal on `watch`
// it calls `stop` (every half second) until the process ends, and kills its
// group after ten seconds.
Result<ProcessOutcome> run_process(const std::vector<std::string>& argv, double timeout_seconds, SignalWatch* watch,
                                   const std::function<void()>& stop, size_t max_output = 1u << 20);

// A rootfs of `busybox` (which must be statically linked) and a link per applet.
Status build_busybox_rootfs(const std::string& busybox, const std::string& rootfs);

// An ELF executable's program interpreter (PT_INTERP), empty for a static one.
Result<std::string> elf_interpreter(const std::string& path);
// Whether an ELF executable has no program interpreter.
Result<bool> is_static_elf(const std::string& path);

// The shared libraries a dynamic executable loads, as its interpreter lists
// them (`ld.so --list`), the interpreter included.
Result<std::vector<std::string>> shared_libraries(const std::string& interpreter, const std::string& binary);

// Copies the agent into <host_try_dir> and returns how the container starts it:
// the argv before the agent's own arguments. A static agent (the release build)
// runs as itself; a dynamic one (a debug or sanitizer build) through its loader,
// with the libraries it loads copied into <host_try_dir>/lib.
Result<std::vector<std::string>> bundle_agent(const std::string& agent, const std::string& host_try_dir);

// The config try starts from: Docker's default capabilities (CAP_MKNOD included,
// so mknod can be tried), a deny-all device rule, the devices requested by a
// cdi.k8s.io/ annotation, and the agent (started by `launch`) as the process.
Result<OciDocument> try_base_config(const std::vector<std::string>& devices, const std::vector<std::string>& command,
                                    const std::vector<std::string>& launch);

// Runs each hook of the plan through the agent, which records how it went in
// <try dir>/hooks/<n>.json (n: its index in plan.hooks). startContainer hooks run
// in the container, so they start the agent with `launch` and the container's paths.
void record_hooks(OciDocument& config, const TryPlan& plan, const std::string& host_try_dir,
                  const std::vector<std::string>& launch);

// Removes a tree without crossing into other file systems (a mount left behind
// is left alone, never emptied).
Status remove_tree(const std::string& path);

}  // namespace cdi
