// The options of every front end, in one table: each row gives the flag
// (--NAME), the configuration-file key (NAME = VALUE, as in
// /etc/cdi-hook/runtime.conf), the environment variable (CDI_HOOK_...), the
// front ends that take it, its help, and the one parser of its value. A bad
// value is a usage error naming where it came from:
//   --wait: expected seconds between 0 and 3600, got "1e300"
//   /etc/cdi-hook/runtime.conf:3: wait: expected seconds between 0 and 3600, got "abc"
//   CDI_HOOK_WAIT: expected seconds between 0 and 3600, got "nan"
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/logger.h"
#include "inject/injector.h"

namespace cdi::app {

// The front ends (and files) an option belongs to.
enum Scope : unsigned {
  kHook = 1u << 0,
  kInject = 1u << 1,
  kRuntime = 1u << 2,  // the `runtime` subcommand, and cdi-hook-runtime's runtime.conf and environment
  kList = 1u << 3,
  kValidate = 1u << 4,
  kGuestTranslate = 1u << 5,
  kNri = 1u << 6,  // the NRI plugin's configuration file
  kTry = 1u << 7,
  kMonitor = 1u << 8,
};

// The longest --wait: an hour (a container start that waits longer has failed).
inline constexpr int kMaxWaitSeconds = 3600;

// What the options set. One struct for every front end; each reads its part.
struct Settings {
  std::vector<std::string> spec_dirs;  // empty: the defaults (/etc/cdi, /var/run/cdi)
  std::chrono::milliseconds wait{0};
  std::string log_file;
  std::optional<LogLevel> log_level;  // unset: the front end's own default
  std::string cache_dir = "auto";
  bool allow_insecure_specs = false;
  std::string guest_map;
  std::string sysfs_root = "/sys";
  // The runtime wrapper's real runtime, and global flags of it beyond those
  // cdi-hook knows (runtime_args.h), without their dashes.
  std::string runtime = "runc";
  std::vector<std::string> runtime_value_flags;
  std::vector<std::string> runtime_bool_flags;
};

struct OptionSpec {
  std::string_view name;        // --NAME on a command line; NAME = in a configuration file
  std::string_view env;         // CDI_HOOK_... (empty: none)
  std::string_view value_name;  // SECONDS, DIR, ...; empty for an on/off flag
  std::string_view help;
  unsigned scopes;
  // Each use adds a value (flags, file); in the environment a list split at env_separator.
  bool repeatable;
  char env_separator;
  // Takes one value; the error message says what was expected and what came.
  Status (*set)(Settings& settings, std::string_view value);
  // The default shown in help ("10", "auto"), or empty.
  std::string (*shown_default)(const Settings& settings);
  // Words the value may be, space-separated, for shell completion (a value
  // that names a file or directory completes as one).
  std::string_view choices = {};
};

std::span<const OptionSpec> option_table();
const OptionSpec* find_option(std::string_view name);

// One value given as --NAME VALUE (an on/off flag passes "true"). Errors are
// usage errors with field "--NAME".
Status set_from_flag(const OptionSpec& option, std::string_view value, Settings& settings);

// "NAME = VALUE" lines; '#' starts a comment; keys of options in `scope`.
// Errors are usage errors at path:line, field NAME.
Status read_conf(std::string_view text, const std::string& path, unsigned scope, Settings& settings);
// read_conf() of a file; a missing file is no error unless `required`.
Status read_conf_file(Fs& fs, const std::string& path, bool required, unsigned scope, Settings& settings);

// CDI_HOOK_* variables of options in `scope`, each replacing what the
// configuration file set; an empty variable counts as unset. Errors are
// usage errors with field CDI_HOOK_NAME.
using GetEnv = const char* (*)(const char*);
Status read_env(unsigned scope, Settings& settings, GetEnv getenv);

// The level to log at: the one given, else `quiet` (what a front end shows
// when nobody asked), else warning when logging to a file.
LogLevel log_level_of(const Settings& settings, LogLevel quiet);

// The injection options the settings give, without the guest map; and with it
// read and checked (a bad map is an error naming the file).
InjectOptions inject_options(const Settings& settings);
Result<InjectOptions> load_inject_options(const Settings& settings);

// "10", "0.5": seconds as a person writes them.
std::string seconds_text(std::chrono::milliseconds ms);

// The candidate closest to `word` (a typo of one or two letters, or a prefix),
// or empty: for "did you mean" hints.
std::string_view closest_name(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace cdi::app
