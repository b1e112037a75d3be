#include "app/runtime_args.h"

#include <algorithm>
#include <functional>

#include "base/fs.h"
#include "base/text.h"

namespace cdi::app {

namespace {

// The global flags of each runtime, from its own source:
// runc (urfave/cli, main.go), crun (argp, src/crun.c), runsc (Go's flag package,
// runsc/config/flags.go and runsc/cli/main.go: a bool flag never takes the next
// argument), youki (clap, liboci-cli GlobalOpts and YoukiExtendOpts) and
// kata-runtime (urfave/cli, runtimeFlags).
struct KnownRuntime {
  std::string_view name;
  std::vector<std::string_view> with_value;
  std::vector<std::string_view> without_value;
};

const std::vector<KnownRuntime>& known_runtimes() {
  static const std::vector<KnownRuntime> runtimes = {
      {"runc",
       {"root", "log", "log-format", "criu", "rootless"},
       {"debug", "systemd-cgroup", "help", "h", "version", "v"}},
      {"crun",
       {"root", "log", "log-format", "log-level", "cgroup-manager", "rootless"},
       {"debug", "systemd-cgroup", "help", "usage", "?", "version", "v", "V"}},
      {"runsc",
       {"root",
        "log",
        "log-format",
        "log-fd",
        "debug-log",
        "debug-log-fd",
        "debug-command",
        "debug-log-format",
        "panic-log",
        "panic-log-fd",
        "coverage-report",
        "coverage-fd",
        "pcap-log",
        "traceback",
        "metric-server",
        "final-metrics-log",
        "profiling-metrics",
        "profiling-metrics-log",
        "profiling-metrics-rate-us",
        "strace-syscalls",
        "strace-log-size",
        "platform",
        "platform_device_path",
        "watchdog-action",
        "panic-signal",
        "profile-block",
        "profile-cpu",
        "profile-gc-interval",
        "profile-heap",
        "profile-mutex",
        "trace",
        "ref-leak-mode",
        "signal-unkillable-policy",
        "pod-init-config",
        "host-settings",
        "sidecar-release-enforcement-policy",
        "sidecar-usage-policy",
        "restore-spec-validation",
        "control-rpc-stop-timeout",
        "shared-root",
        "file-access",
        "file-access-mounts",
        "overlay2",
        "host-uds",
        "host-fifo",
        "character-device-policy",
        "override-procs",
        "in-sandbox-cgroup",
        "fdlimit",
        "dcache",
        "network",
        "network-proxy-path",
        "gofer-network-namespace",
        "qdisc",
        "qdisc-tbf-rate",
        "qdisc-tbf-burst",
        "num-network-channels",
        "network-processors-per-channel",
        "EXPERIMENTAL-xdp",
        "nvproxy-driver-version",
        "nvproxy-allowed-driver-capabilities",
        "cuda-checkpoint-path",
        "TESTONLY-test-name-env",
        "TESTONLY-autosave-image-path"},
       {"debug",
        "systemd-cgroup",
        "log-packets",
        "debug-to-user-log",
        "alsologtostderr",
        "allow-flag-override",
        "strace",
        "strace-event",
        "profile",
        "rootless",
        "cpu-num-from-quota",
        "oci-seccomp",
        "enable-core-tags",
        "systrap-disable-syscall-patching",
        "systrap-disable-fast-path",
        "allow-suid",
        "kvm-use-cpu-nums",
        "allow-rootfs-tar-annotation",
        "app-huge-pages",
        "overlay",
        "gvisor-marker-file",
        "ignore-cgroups",
        "iouring",
        "directfs",
        "net-raw",
        "allow-packet-socket-write",
        "allow-live-tcp-migration",
        "gso",
        "software-gso",
        "gvisor-gro",
        "tx-checksum-offload",
        "rx-checksum-offload",
        "EXPERIMENTAL-xdp-need-wakeup",
        "reproduce-nat",
        "reproduce-nftables",
        "net-disconnect-ok",
        "pause-external-networking",
        "allow-connected-on-save",
        "nvproxy",
        "nvproxy-docker",
        "nvproxy-allow-unsupported-driver",
        "rdmaproxy",
        "tpuproxy",
        "buffer-pooling",
        "vfs2",
        "fuse",
        "lisafs",
        "cgroupfs",
        "fsgofer-host-uds",
        "save-restore-netstack",
        "TESTONLY-nftables",
        "TESTONLY-unsafe-nonroot",
        "TESTONLY-afs-syscall-panic",
        "TESTONLY-autosave-resume",
        "help",
        "version"}},
      {"youki",
       {"root", "r", "log", "l", "log-format", "log-level"},
       {"debug", "systemd-cgroup", "s", "systemd-log", "help", "h", "version", "V"}},
      {"kata-runtime",
       {"config", "kata-config", "log", "log-format", "root", "rootless"},
       {"show-default-config-paths", "kata-show-default-config-paths", "systemd-cgroup", "debug", "help", "h",
        "version", "v"}},
  };
  return runtimes;
}

// Flags of create and run that take a separate value (runc, crun, runsc, youki).
constexpr std::string_view kCommandValueFlags[] = {"console-socket", "pid-file", "preserve-fds", "notify-socket",
                                                   "pidfd-socket",   "user-log", "panic-log"};

// "--name=value", "-name=value", "--name", "-name" -> name and inline value.
struct Flag {
  std::string_view name;
  std::optional<std::string_view> value;
};

std::optional<Flag> as_flag(std::string_view arg) {
  if (arg.size() < 2 || arg.front() != '-' || arg == "--") return std::nullopt;
  arg.remove_prefix(arg.starts_with("--") ? 2 : 1);
  Flag f;
  size_t eq = arg.find('=');
  f.name = arg.substr(0, eq);
  if (eq != std::string_view::npos) f.value = arg.substr(eq + 1);
  return f;
}

bool listed(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void note_global(RuntimeCommand& out, std::string_view name, std::string_view value) {
  if (name == "log") out.log_file = std::string(value);
  if (name == "log-format") out.log_format = std::string(value);
}

// The command at args[i] and, for create and run, its bundle, config and ID.
Result<RuntimeCommand> read_command(const std::vector<std::string>& args, size_t i, RuntimeCommand out) {
  if (i >= args.size()) return out;
  out.command = args[i];
  if (!out.injects()) return out;
  for (++i; i < args.size(); ++i) {
    if (args[i] == "--") {
      if (out.container_id.empty() && i + 1 < args.size()) out.container_id = args[i + 1];
      break;
    }
    auto flag = as_flag(args[i]);
    if (!flag) {
      if (out.container_id.empty()) out.container_id = args[i];
      continue;
    }
    bool is_bundle = flag->name == "bundle" || flag->name == "b";
    bool is_config = flag->name == "config" || flag->name == "f";
    if (!is_bundle && !is_config) {
      bool takes_value = std::find(std::begin(kCommandValueFlags), std::end(kCommandValueFlags), flag->name) !=
                         std::end(kCommandValueFlags);
      if (takes_value && !flag->value) ++i;
      continue;
    }
    std::string what = is_bundle ? "a bundle path" : "a config file";
    const std::string& given = args[i];
    std::string value;
    if (flag->value) {
      value = std::string(*flag->value);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Error("flag " + quote(given) + " needs " + what);
    }
    if (value.empty()) return Error("flag " + quote(given) + " has an empty value: expected " + what);
    (is_bundle ? out.bundle : out.config) = std::move(value);
  }
  return out;
}

// Unknown flags are read both ways (with and without a value); past this many
// the command line is refused rather than read in 2^n ways.
constexpr int kMaxUnknownFlags = 8;

struct Walk {
  const std::vector<std::string>& args;
  const RuntimeFlags& flags;
  std::vector<RuntimeCommand> readings;
  std::string first_unknown;
  std::optional<Error> error;  // of the first reading that failed
  bool overflow = false;       // more unknown flags than readings are made for

  void globals(size_t i, RuntimeCommand acc, int unknown_left) {
    for (; i < args.size(); ++i) {
      if (args[i] == "--") {
        ++i;
        break;
      }
      auto flag = as_flag(args[i]);
      if (!flag) break;
      if (flag->value) {
        note_global(acc, flag->name, *flag->value);
        continue;
      }
      if (listed(flags.with_value, flag->name)) {
        if (i + 1 >= args.size()) {
          if (!error) error = Error("global flag " + quote(args[i]) + " needs a value");
          return;
        }
        note_global(acc, flag->name, args[i + 1]);
        ++i;
        continue;
      }
      if (listed(flags.without_value, flag->name)) continue;
      if (first_unknown.empty()) first_unknown = args[i];
      if (unknown_left == 0) {
        overflow = true;
        return;
      }
      globals(i + 1, acc, unknown_left - 1);
      if (i + 1 < args.size()) globals(i + 2, acc, unknown_left - 1);
      return;
    }
    auto command = read_command(args, i, std::move(acc));
    if (!command.ok()) {
      if (!error) error = std::move(command).error();
      return;
    }
    readings.push_back(std::move(*command));
  }
};

bool same_injection(const RuntimeCommand& a, const RuntimeCommand& b) {
  return a.command == b.command && a.bundle == b.bundle && a.config == b.config;
}

}  // namespace

RuntimeFlags known_runtime_flags(std::string_view path) {
  std::string name = path_basename(std::string(path));
  const auto& all = known_runtimes();
  auto it = std::find_if(all.begin(), all.end(), [&](const KnownRuntime& r) { return r.name == name; });
  const KnownRuntime& r = it != all.end() ? *it : all.front();
  RuntimeFlags out;
  out.with_value.assign(r.with_value.begin(), r.with_value.end());
  out.without_value.assign(r.without_value.begin(), r.without_value.end());
  return out;
}

Result<RuntimeCommandLine> parse_runtime_command(const std::vector<std::string>& args, const RuntimeFlags& flags) {
  Walk walk{args, flags, {}, {}, std::nullopt, false};
  walk.globals(0, RuntimeCommand{}, kMaxUnknownFlags);
  // A reading the runtime itself would refuse (a known flag without its value)
  // starts no container: it is dropped. Only when none is left is it an error.
  if (walk.readings.empty() && !walk.overflow) return std::move(*walk.error);
  RuntimeCommandLine out;
  if (walk.overflow) {
    out.ambiguous_flag = walk.first_unknown;
    return out;
  }
  for (const auto& r : walk.readings) {
    if (r.injects()) out.injecting.push_back(r);
  }
  out.command = out.injecting.empty() ? walk.readings.front() : out.injecting.front();
  bool agree = walk.readings.size() == out.injecting.size() || out.injecting.empty();
  for (const auto& r : out.injecting) agree = agree && same_injection(r, out.injecting.front());
  if (!agree) out.ambiguous_flag = walk.first_unknown;
  return out;
}

}  // namespace cdi::app
