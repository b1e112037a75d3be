#include "app/runtime_wrapper.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "app/bundle.h"
#include "app/error_report.h"
#include "app/logging.h"
#include "app/runtime_args.h"
#include "base/atomic_file.h"
#include "base/text.h"
#include "edits/oci_document.h"
#include "inject/injector.h"

namespace cdi::app {

namespace {

constexpr std::string_view kSetRuntime =
    "set the real runtime with --runtime, runtime = in the configuration file or CDI_HOOK_RUNTIME";

// Appends the error to the runtime's log as runc does, so that an engine that
// reads that log reports it.
void log_for_engine(const RuntimeCommand& cmd, const Error& e) {
  if (cmd.log_file.empty() || cmd.log_format != "json") return;
  std::string line = runtime_log_line(e, std::time(nullptr));
  int fd = ::open(cmd.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

std::string working_dir() {
  char cwd[PATH_MAX];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) : std::string();
}

std::string absolute(const std::string& path) { return path.starts_with('/') ? path : path_join(working_dir(), path); }

std::string bundle_of(const RuntimeCommand& cmd) { return cmd.bundle ? absolute(*cmd.bundle) : working_dir(); }

// Whether the config at `path` asks for anything the wrapper would do: a
// config that is missing asks for nothing (the runtime fails on its own), one
// that cannot be read or parsed may ask for anything.
bool may_request(const std::string& path, const Settings& settings) {
  RealFs fs;
  auto bytes = fs.read_file(path, kMaxConfigBytes);
  if (!bytes.ok()) return bytes.error().sys_errno != ENOENT;
  auto config = OciDocument::parse(*bytes);
  if (!config.ok()) return true;
  if (is_kata_pod_sandbox(*config)) return false;
  auto devices = requested_devices(*config);
  return !devices.ok() || !devices->empty() || !settings.guest_map.empty();
}

// The same file by inode: a hard link, a symlink or a bind mount of cdi-hook.
bool is_this_program(const std::string& path) {
  struct stat target {};
  struct stat self {};
  return ::stat(path.c_str(), &target) == 0 && ::stat("/proc/self/exe", &self) == 0 && target.st_dev == self.st_dev &&
         target.st_ino == self.st_ino;
}

Error exec_runtime(const std::string& path, const Settings& settings, const std::vector<std::string>& args,
                   char* const* environ) {
  std::vector<std::string> strings;
  strings.push_back(settings.runtime);
  strings.insert(strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::string marker = std::string(kWrappedMarker) + "=1";
  std::vector<char*> envp;
  for (char* const* e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with(std::string(kWrappedMarker) + "=")) envp.push_back(*e);
  }
  envp.push_back(marker.data());
  envp.push_back(nullptr);
  ::execve(path.c_str(), argv.data(), envp.data());
  return system_error("exec " + quote(path), errno);
}

// Refuses a command line that cannot be read when the config it may be about
// asks for devices; otherwise the command goes through untouched.
Status check_unreadable_command(const RuntimeCommandLine& line, const Settings& settings) {
  if (line.injecting.empty()) {
    return Error("cannot tell the runtime's command: too many global flags that cdi-hook does not know (first " +
                 quote(line.ambiguous_flag) + ")");
  }
  for (const auto& cmd : line.injecting) {
    std::string config = path_join(bundle_of(cmd), "config.json");
    if (!may_request(config, settings)) continue;
    return Error("cannot tell whether the runtime's command is " + quote(cmd.command) + ": " +
                 quote(line.ambiguous_flag) + " is not a global flag of " + quote(path_basename(settings.runtime)) +
                 " that cdi-hook knows, and " + quote(config) +
                 " requests CDI devices; name it with runtime-value-flag or runtime-bool-flag in the "
                 "configuration file (CDI_HOOK_RUNTIME_VALUE_FLAGS, CDI_HOOK_RUNTIME_BOOL_FLAGS, "
                 "--runtime-value-flag, --runtime-bool-flag)");
  }
  return {};
}

}  // namespace

Result<std::string> find_runtime(const std::string& name, std::string_view path_env) {
  auto usable = [](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (usable(name)) return name;
    return Error("OCI runtime " + quote(name) + " is not an executable file");
  }
  if (path_env.empty()) path_env = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (auto dir : split(path_env, ':')) {
    std::string candidate = path_join(dir.empty() ? "." : std::string(dir), name);
    if (usable(candidate)) return candidate;
  }
  return Error("OCI runtime " + quote(name) + " not found in PATH");
}

Error run_runtime_wrapper(const Settings& settings, const std::vector<std::string>& args, Logger& logger,
                          char* const* environ) {
  RuntimeFlags flags = known_runtime_flags(settings.runtime);
  flags.with_value.insert(flags.with_value.end(), settings.runtime_value_flags.begin(),
                          settings.runtime_value_flags.end());
  flags.without_value.insert(flags.without_value.end(), settings.runtime_bool_flags.begin(),
                             settings.runtime_bool_flags.end());
  auto line = parse_runtime_command(args, flags);
  if (!line.ok()) return std::move(line).error().with_context("runtime arguments");
  const RuntimeCommand& cmd = line->command;
  auto fail = [&](Error e) {
    log_for_engine(cmd, e);
    return e;
  };

  // 1. The real runtime, found and checked before anything is changed.
  if (const char* marker = std::getenv(std::string(kWrappedMarker).c_str()); marker != nullptr) {
    return fail(Error("the OCI runtime " + quote(settings.runtime) + " leads back to cdi-hook (" +
                      std::string(kWrappedMarker) + " is set: this wrapper was started by the runtime it starts, " +
                      "through a script, a link or a copy); " + std::string(kSetRuntime)));
  }
  const char* path_env = std::getenv("PATH");
  auto runtime = find_runtime(settings.runtime, path_env ? path_env : "");
  if (!runtime.ok()) return fail(std::move(runtime).error());
  if (is_this_program(*runtime)) {
    return fail(Error("OCI runtime " + quote(*runtime) + " is cdi-hook itself; " + std::string(kSetRuntime)));
  }

  // 2. Whether to inject, and into which config.
  if (!line->ambiguous_flag.empty()) {
    if (auto st = check_unreadable_command(*line, settings); !st.ok()) return fail(std::move(st).error());
    return fail(exec_runtime(*runtime, settings, args, environ));
  }
  if (!cmd.injects()) return fail(exec_runtime(*runtime, settings, args, environ));
  std::string bundle = bundle_of(cmd);
  if (bundle.empty()) return fail(system_error("getcwd", errno));
  std::string config_path = path_join(bundle, "config.json");
  if (cmd.config && *cmd.config != "config.json") {
    std::string other = absolute(*cmd.config);
    if (may_request(other, settings)) {
      return fail(Error("the runtime is told to read " + quote(other) +
                        " (--config), which requests CDI devices; cdi-hook injects only " + quote(config_path)));
    }
    return fail(exec_runtime(*runtime, settings, args, environ));
  }

  // 3. Inject, then start the runtime; should that fail, the config goes back.
  LabelledLogger labelled(logger, "container " + quote(cmd.container_id) + ", bundle " + quote(bundle));
  auto options = load_inject_options(settings);
  if (!options.ok()) return fail(std::move(options).error());
  RealFs fs;
  auto original = fs.read_file(config_path, kMaxConfigBytes);
  auto changed = cli::adjust_bundle(bundle, labelled, *options);
  if (!changed.ok()) return fail(std::move(changed).error());
  Error exec_error = exec_runtime(*runtime, settings, args, environ);
  if (*changed && original.ok()) {
    if (auto st = write_file_atomic(config_path, *original); !st.ok()) {
      exec_error.message += "; restoring " + quote(config_path) + " failed too: " + st.error().to_string();
    }
  }
  return fail(std::move(exec_error));
}

}  // namespace cdi::app
