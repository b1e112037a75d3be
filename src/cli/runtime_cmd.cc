// The OCI runtime wrapper, for engines that read config.json before any hook
// runs (containerd, Docker, CRI-O):
//   cdi-hook runtime [--runtime PATH] [injection options] -- ARGS...
//   cdi-hook-runtime ARGS...   (a link named so: runc's arguments unchanged,
//                               options from <sysconfdir>/cdi-hook/runtime.conf,
//                               /etc/cdi-hook/runtime.conf for /usr/bin, and env)
// On create and run it injects into <bundle>/config.json, then execs the real
// runtime with the arguments unchanged; every other command goes straight
// through. A failure leaves the bundle untouched and exits 1 before the
// runtime starts.
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <memory>

#include "app/bundle.h"
#include "app/install_paths.h"
#include "app/runtime_args.h"
#include "base/fs.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace cdi::cli {

namespace {

struct RuntimeOptions {
  InjectionFlags flags;
  std::string runtime = "runc";
  std::vector<std::string> args;
};

// The path execvp would run for `name`, or empty.
std::string find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  for (auto dir : split(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ':')) {
    std::string candidate = path_join(dir.empty() ? "." : std::string(dir), name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) ? std::string(buf) : std::string();
}

// Appends a runc-style JSON log line, so engines that read the runtime's log show the error.
void log_for_engine(const RuntimeCommand& cmd, const Error& e) {
  if (cmd.log_file.empty() || cmd.log_format != "json") return;
  char when[64];
  std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::string msg = quote("cdi-hook: " + e.to_string());
  std::string line = "{\"level\":\"error\",\"msg\":" + msg + ",\"time\":\"" + when + "\"}\n";
  int fd = ::open(cmd.log_file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  (void)!::write(fd, line.data(), line.size());
  ::close(fd);
}

int exec_runtime(const RuntimeOptions& o) {
  std::string runtime = find_executable(o.runtime);
  if (runtime.empty()) return report(Error("OCI runtime " + quote(o.runtime) + " not found in PATH"));
  if (real_path(runtime) == real_path("/proc/self/exe")) {
    return report(Error("OCI runtime " + quote(runtime) +
                        " is cdi-hook itself: set the real runtime with "
                        "--runtime, runtime= in the config file or CDI_HOOK_RUNTIME"));
  }
  std::vector<char*> argv;
  std::string arg0 = o.runtime;
  argv.push_back(arg0.data());
  std::vector<std::string> args = o.args;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execv(runtime.c_str(), argv.data());
  return report(system_error("exec " + quote(runtime), errno));
}

int run_runtime(const RuntimeOptions& o) {
  auto command = parse_runtime_command(o.args);
  if (!command.ok()) return report(std::move(command).error().with_context("runtime arguments"));
  if (!command->injects()) return exec_runtime(o);
  auto logger = make_logger(o.flags);
  if (!logger.ok()) return report(logger.error());
  auto fail = [&](Error e) {
    log_for_engine(*command, e);
    return report(e);
  };
  auto options = o.flags.load_options();
  if (!options.ok()) return fail(std::move(options).error());
  std::string bundle = command->bundle.value_or("");
  if (bundle.empty()) {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return fail(system_error("getcwd", errno));
    bundle = cwd;
  }
  auto changed = adjust_bundle(bundle, **logger, *options);
  if (!changed.ok()) return fail(std::move(changed).error());
  return exec_runtime(o);
}

// "key = value" lines; '#' starts a comment. Keys are the long flag names.
Status read_shim_config(const std::string& path, bool required, RuntimeOptions& o) {
  RealFs fs;
  auto bytes = fs.read_file(path, 1u << 20);
  if (!bytes.ok()) {
    if (!required && bytes.error().sys_errno == ENOENT) return {};
    return std::move(bytes).error();
  }
  int line_no = 0;
  for (auto raw : split(*bytes, '\n')) {
    ++line_no;
    std::string_view line = raw.substr(0, raw.find('#'));
    auto trim = [](std::string_view s) {
      size_t b = s.find_first_not_of(" \t\r");
      size_t e = s.find_last_not_of(" \t\r");
      return b == std::string_view::npos ? std::string_view() : s.substr(b, e - b + 1);
    };
    line = trim(line);
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return Error("expected key = value").in_file(path, line_no);
    std::string key(trim(line.substr(0, eq)));
    std::string value(trim(line.substr(eq + 1)));
    if (key == "runtime")
      o.runtime = value;
    else if (key == "spec-dir")
      o.flags.spec_dirs.push_back(value);
    else if (key == "wait")
      o.flags.wait_seconds = std::atof(value.c_str());
    else if (key == "log-file")
      o.flags.log_file = value;
    else if (key == "log-level")
      o.flags.log_level = value;
    else if (key == "cache-dir")
      o.flags.cache_dir = value;
    else if (key == "guest-map")
      o.flags.guest_map = value;
    else if (key == "sysfs-root")
      o.flags.sysfs_root = value;
    else if (key == "allow-insecure-specs")
      o.flags.allow_insecure_specs = value == "true";
    else
      return Error("unknown key " + quote(key)).in_file(path, line_no);
  }
  return {};
}

// The environment overrides the config file (CDI_HOOK_RUNTIME_CONFIG=none: no file).
void read_shim_env(RuntimeOptions& o) {
  auto env = [](const char* name) -> const char* {
    const char* v = std::getenv(name);
    return v && *v ? v : nullptr;
  };
  if (auto v = env("CDI_HOOK_RUNTIME")) o.runtime = v;
  if (auto v = env("CDI_HOOK_SPEC_DIRS")) {
    o.flags.spec_dirs.clear();
    for (auto d : split(v, ':')) {
      if (!d.empty()) o.flags.spec_dirs.emplace_back(d);
    }
  }
  if (auto v = env("CDI_HOOK_WAIT")) o.flags.wait_seconds = std::atof(v);
  if (auto v = env("CDI_HOOK_LOG_FILE")) o.flags.log_file = v;
  if (auto v = env("CDI_HOOK_LOG_LEVEL")) o.flags.log_level = v;
  if (auto v = env("CDI_HOOK_CACHE_DIR")) o.flags.cache_dir = v;
  if (auto v = env("CDI_HOOK_GUEST_MAP")) o.flags.guest_map = v;
  if (auto v = env("CDI_HOOK_SYSFS_ROOT")) o.flags.sysfs_root = v;
}

}  // namespace

void add_runtime_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<RuntimeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "runtime",
      "OCI runtime wrapper: on create and run, inject into <bundle>/config.json, then exec the real runtime "
      "with ARGS unchanged");
  cmd->add_option("--runtime", opts->runtime, "The real OCI runtime (a path, or a name searched in PATH)")
      ->capture_default_str();
  opts->flags.add_to(*cmd, 10.0);
  cmd->add_option("args", opts->args, "The runtime's own arguments, after --")->required();
  cmd->callback([opts, &exit_code] { exit_code = run_runtime(*opts); });
}

int runtime_shim_main(int argc, char** argv) {
  RuntimeOptions o;
  o.flags.wait_seconds = 10.0;
  const char* config = std::getenv("CDI_HOOK_RUNTIME_CONFIG");
  if (!config || std::string_view(config) != "none") {
    // <sysconfdir>/cdi-hook/runtime.conf of this installation: /etc/cdi-hook/runtime.conf for /usr/bin.
    std::string path = config ? std::string(config) : runtime_config_of(this_binary());
    if (auto st = read_shim_config(path, config != nullptr, o); !st.ok()) {
      return report(std::move(st).error().with_context("cdi-hook-runtime configuration"));
    }
  }
  read_shim_env(o);
  for (int i = 1; i < argc; ++i) o.args.emplace_back(argv[i]);
  return run_runtime(o);
}

}  // namespace cdi::cli
