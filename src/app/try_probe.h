// What `cdi-hook try` looks at from inside the container, and the record of
// each hook it ran. The probe is cdi-hook itself, copied into the rootfs and
// run as the container's process: it stats and opens each device node, reads
// its mounts and environment, writes what it saw as JSON to a file the host
// reads, then execs the user's command. Observations only: the verdict is
// try_plan's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"

namespace cdi {

// What the probe is asked to look at.
struct ProbeRequest {
  struct Node {
    std::string path;
    std::string accesses;  // letters of "rwm" to attempt: open for reading, for writing, mknod a twin
  };
  std::vector<Node> nodes;
  std::vector<std::string> mounts;  // destinations
};

// One attempted access: 0 when it succeeded, else its errno.
struct AccessSeen {
  char access = 'r';
  int err = 0;
};

struct NodeSeen {
  std::string path;
  int err = 0;    // errno of lstat, 0 when the node exists
  char type = 0;  // 'c', 'b', 'p', or '-' for anything that is not a device node
  int64_t major = 0;
  int64_t minor = 0;
  uint32_t mode = 0;  // permission bits
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::vector<AccessSeen> accesses;
};

struct MountSeen {
  std::string destination;
  int err = 0;           // errno of stat, 0 when the destination exists
  bool mounted = false;  // a mount point in /proc/self/mountinfo
  std::string fstype;
  bool read_only = false;
  uint64_t dev = 0;
  uint64_t ino = 0;
};

struct ProbeReport {
  std::vector<NodeSeen> nodes;
  std::vector<MountSeen> mounts;
  std::vector<std::string> environ;  // the process environment, as given
};

// How one hook went, written by the recorder that runs it.
struct HookRecord {
  bool started = false;   // the recorder ran (it writes this before starting the hook)
  bool finished = false;  // the hook ended and its status is known
  int exit_code = 0;
  int signal = 0;     // non-zero when the hook was killed by a signal
  std::string error;  // why the hook could not be started
};

// One line of /proc/self/mountinfo.
struct MountInfoEntry {
  std::string root;
  std::string mount_point;
  std::string fstype;
  std::string source;
  bool read_only = false;
};

// The lines of a mountinfo file (octal escapes such as \040 decoded); malformed lines are skipped.
std::vector<MountInfoEntry> parse_mountinfo(std::string_view text);

// Looks at each node and mount of `request` in this process's view of the
// system; `scratch_dir` takes (and loses again) the twin nodes mknod creates.
ProbeReport run_probe(const ProbeRequest& request, const std::vector<std::string>& environ,
                      const std::string& mountinfo, const std::string& scratch_dir);

std::string probe_request_json(const ProbeRequest& request);
Result<ProbeRequest> parse_probe_request(std::string_view json);
std::string probe_report_json(const ProbeReport& report);
Result<ProbeReport> parse_probe_report(std::string_view json);
std::string hook_record_json(const HookRecord& record);
Result<HookRecord> parse_hook_record(std::string_view json);

// Runs `path` with `argv` (argv[0] included) and the current environment and
// stdin, writing a HookRecord to `record_path` before and after. Returns the
// exit status to pass on: the hook's own, 128+N when signal N killed it, 127
// when it could not be started.
int run_recorded_hook(const std::string& record_path, const std::string& path, const std::vector<std::string>& argv);

}  // namespace cdi
