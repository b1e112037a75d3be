#include "app/options.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "base/text.h"
#include "guest/guest_map.h"
#include "registry/kind_index.h"
#include "spec/codec/tape.h"

namespace cdi::app {

namespace {

constexpr unsigned kInjecting = kHook | kInject | kRuntime | kTry;

Error bad_value(std::string_view expected, std::string_view got) {
  return Error("expected " + std::string(expected) + ", got " + quote(got));
}

Status set_text(std::string& out, std::string_view value, std::string_view what) {
  if (value.empty()) return bad_value(what, value);
  out = std::string(value);
  return {};
}

Status set_spec_dir(Settings& s, std::string_view v) {
  if (v.empty()) return bad_value("a directory", v);
  s.spec_dirs.emplace_back(v);
  return {};
}

Status set_wait(Settings& s, std::string_view v) {
  double seconds = -1;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  bool number = !v.empty() && ec == std::errc() && end == v.data() + v.size() && std::isfinite(seconds);
  if (!number || seconds < 0 || seconds > kMaxWaitSeconds) {
    return bad_value("seconds between 0 and " + std::to_string(kMaxWaitSeconds), v);
  }
  s.wait = std::chrono::milliseconds(std::llround(seconds * 1000.0));
  return {};
}

Status set_log_file(Settings& s, std::string_view v) { return set_text(s.log_file, v, "a file"); }

Status set_log_level(Settings& s, std::string_view v) {
  LogLevel level{};
  if (!parse_log_level(v, level)) return bad_value("trace, debug, info, warning, error or off", v);
  s.log_level = level;
  return {};
}

Status set_cache_dir(Settings& s, std::string_view v) { return set_text(s.cache_dir, v, "a directory, auto or none"); }

Status set_allow_insecure(Settings& s, std::string_view v) {
  if (v != "true" && v != "false") return bad_value("true or false", v);
  s.allow_insecure_specs = v == "true";
  return {};
}

Status set_guest_map(Settings& s, std::string_view v) { return set_text(s.guest_map, v, "a guest map file"); }
Status set_sysfs_root(Settings& s, std::string_view v) { return set_text(s.sysfs_root, v, "a directory"); }
Status set_runtime(Settings& s, std::string_view v) { return set_text(s.runtime, v, "a runtime name or path"); }

Status add_flag_name(std::vector<std::string>& out, std::string_view v) {
  std::string_view name = v.substr(std::min(v.find_first_not_of('-'), v.size()));
  bool ok = !name.empty() && name.size() + 2 >= v.size();
  for (char c : name) ok = ok && (is_alnum(c) || c == '-' || c == '_' || c == '.');
  if (!ok) return bad_value("a flag name such as --platform", v);
  out.emplace_back(name);
  return {};
}
Status add_value_flag(Settings& s, std::string_view v) { return add_flag_name(s.runtime_value_flags, v); }
Status add_bool_flag(Settings& s, std::string_view v) { return add_flag_name(s.runtime_bool_flags, v); }

std::string no_default(const Settings&) { return {}; }
std::string wait_default(const Settings& s) { return seconds_text(s.wait); }
std::string cache_dir_default(const Settings& s) { return s.cache_dir; }
std::string sysfs_root_default(const Settings& s) { return s.sysfs_root; }
std::string runtime_default(const Settings& s) { return s.runtime; }

constexpr std::array<OptionSpec, 11> kOptions = {{
    {"spec-dir", "CDI_HOOK_SPEC_DIRS", "DIR",
     "A CDI spec directory, in increasing priority; replaces /etc/cdi and /var/run/cdi",
     kInjecting | kList | kValidate | kNri | kMonitor, true, ':', set_spec_dir, no_default},
    {"wait", "CDI_HOOK_WAIT", "SECONDS",
     "How long to wait for the spec of a requested device to appear (0 to 3600; 0 fails at once)", kInjecting, false, 0,
     set_wait, wait_default},
    {"log-file", "CDI_HOOK_LOG_FILE", "FILE", "Append log lines to this file instead of stderr",
     kInjecting | kGuestTranslate | kNri | kMonitor, false, 0, set_log_file, no_default},
    {"log-level", "CDI_HOOK_LOG_LEVEL", "LEVEL",
     "How much to log: trace, debug, info, warning, error or off (default: warning; the hook's stderr: error)",
     kInjecting | kList | kValidate | kGuestTranslate | kNri | kMonitor, false, 0, set_log_level, no_default,
     "trace debug info warning error off"},
    {"cache-dir", "CDI_HOOK_CACHE_DIR", "DIR",
     "Where the spec kind index lives: a directory, auto (/run/cdi-hook for root, $XDG_RUNTIME_DIR/cdi-hook "
     "otherwise) or none",
     kInjecting | kNri, false, 0, set_cache_dir, cache_dir_default, "auto none"},
    {"allow-insecure-specs", "CDI_HOOK_ALLOW_INSECURE_SPECS", "",
     "Use spec files and dirs that users other than root and the current user can write",
     kInjecting | kList | kValidate | kNri | kMonitor, false, 0, set_allow_insecure, no_default},
    {"guest-map", "CDI_HOOK_GUEST_MAP", "FILE",
     "After injection, translate host device numbers and PCI addresses to the guest's (a JSON guest map, "
     "schemas/guest-map.schema.json)",
     kInjecting | kGuestTranslate, false, 0, set_guest_map, no_default},
    {"sysfs-root", "CDI_HOOK_SYSFS_ROOT", "DIR", "The guest's sysfs, for the guest map's PCI paths and SCSI disks",
     kInjecting | kGuestTranslate, false, 0, set_sysfs_root, sysfs_root_default},
    {"runtime", "CDI_HOOK_RUNTIME", "RUNTIME", "The real OCI runtime: a path, or a name searched in PATH", kRuntime,
     false, 0, set_runtime, runtime_default},
    {"runtime-value-flag", "CDI_HOOK_RUNTIME_VALUE_FLAGS", "NAME",
     "A global flag of the real runtime that takes a value, beyond those cdi-hook knows for runc, crun, runsc, "
     "youki and kata-runtime",
     kRuntime, true, ',', add_value_flag, no_default},
    {"runtime-bool-flag", "CDI_HOOK_RUNTIME_BOOL_FLAGS", "NAME",
     "A global flag of the real runtime that takes no value, beyond those cdi-hook knows", kRuntime, true, ',',
     add_bool_flag, no_default},
}};

Status apply(const OptionSpec& o, std::string_view value, Settings& s) { return o.set(s, value); }

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::span<const OptionSpec> option_table() { return kOptions; }

const OptionSpec* find_option(std::string_view name) {
  for (const auto& o : option_table()) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

Status set_from_flag(const OptionSpec& option, std::string_view value, Settings& settings) {
  auto st = apply(option, value, settings);
  if (!st.ok()) {
    Error e = std::move(st).error().of_kind(ErrorKind::usage);
    e.field = "--" + std::string(option.name);
    return e;
  }
  return {};
}

Status read_conf(std::string_view text, const std::string& path, unsigned scope, Settings& settings) {
  int line_no = 0;
  for (auto raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    size_t eq = line.find('=');
    auto fail = [&](Error e) { return std::move(e.in_file(path, line_no).of_kind(ErrorKind::usage)); };
    if (eq == std::string_view::npos) return fail(Error("expected NAME = VALUE, got " + quote(line)));
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    const OptionSpec* option = find_option(key);
    if (option == nullptr || (option->scopes & scope) == 0) {
      std::vector<std::string_view> keys;
      for (const auto& o : option_table()) {
        if ((o.scopes & scope) != 0) keys.push_back(o.name);
      }
      std::string hint(closest_name(key, keys));
      return fail(Error("unknown key " + quote(key) + (hint.empty() ? "" : " (did you mean " + quote(hint) + "?)")));
    }
    if (auto st = apply(*option, value, settings); !st.ok()) {
      Error e = std::move(st).error();
      e.field = std::string(key);
      return fail(std::move(e));
    }
  }
  return {};
}

Status read_conf_file(Fs& fs, const std::string& path, bool required, unsigned scope, Settings& settings) {
  auto bytes = fs.read_file(path, 1u << 20);
  if (!bytes.ok()) {
    if (!required && bytes.error().sys_errno == ENOENT) return {};
    return std::move(bytes).error().of_kind(ErrorKind::usage);
  }
  return read_conf(*bytes, path, scope, settings);
}

Status read_env(unsigned scope, Settings& settings, GetEnv getenv) {
  for (const auto& o : option_table()) {
    if ((o.scopes & scope) == 0 || o.env.empty()) continue;
    const char* raw = getenv(std::string(o.env).c_str());
    if (raw == nullptr || *raw == '\0') continue;
    std::string_view value(raw);
    auto fail = [&](Status st) {
      Error e = std::move(st).error().of_kind(ErrorKind::usage);
      e.field = std::string(o.env);
      return e;
    };
    if (!o.repeatable) {
      if (auto st = apply(o, value, settings); !st.ok()) return fail(std::move(st));
      continue;
    }
    // The variable replaces what the file gave: apply its items to a fresh copy.
    Settings fresh = settings;
    if (o.name == "spec-dir") fresh.spec_dirs.clear();
    if (o.name == "runtime-value-flag") fresh.runtime_value_flags.clear();
    if (o.name == "runtime-bool-flag") fresh.runtime_bool_flags.clear();
    for (auto item : split(value, o.env_separator)) {
      if (item.empty()) continue;
      if (auto st = apply(o, item, fresh); !st.ok()) return fail(std::move(st));
    }
    settings = std::move(fresh);
  }
  return {};
}

LogLevel log_level_of(const Settings& settings, LogLevel quiet) {
  if (settings.log_level) return *settings.log_level;
  return settings.log_file.empty() ? quiet : LogLevel::warn;
}

InjectOptions inject_options(const Settings& s) {
  InjectOptions o;
  if (!s.spec_dirs.empty()) o.registry.spec_dirs = s.spec_dirs;
  o.registry.check_permissions = !s.allow_insecure_specs;
  o.registry.cache_dir = s.cache_dir == "auto" ? default_cache_dir() : s.cache_dir == "none" ? "" : s.cache_dir;
  o.wait = s.wait;
  // Every front end reads the config from bytes it keeps (a file, stdin) and
  // writes nothing on error, so the parsed copy can take the edits directly.
  o.discard_on_error = true;
  o.sysfs_root = s.sysfs_root;
  return o;
}

Result<InjectOptions> load_inject_options(const Settings& s) {
  InjectOptions o = inject_options(s);
  if (s.guest_map.empty()) return o;
  RealFs fs;
  auto map = load_guest_map(fs, s.guest_map);
  if (!map.ok()) return std::move(map).error();
  o.guest_map = std::make_shared<const GuestMap>(std::move(*map));
  return o;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  auto n = ms.count();
  std::string out = std::to_string(n / 1000);
  if (n % 1000 != 0) {
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(n % 1000));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out;
}

std::string_view closest_name(std::string_view word, std::span<const std::string_view> candidates) {
  std::string_view best;
  size_t best_distance = 3;
  for (auto c : candidates) {
    if (c.empty()) continue;
    size_t d = codec::edit_distance(word, c);
    if (word.size() >= 3 && c.starts_with(word)) d = std::min<size_t>(d, 1);
    if (d < best_distance && d <= std::max<size_t>(1, c.size() / 2)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace cdi::app
