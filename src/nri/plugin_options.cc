#include "nri/plugin_options.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "base/text.h"

namespace cdi::nri {

namespace {

Error bad_value(std::string_view value, std::string_view expected) {
  return Error("invalid value " + quote(value) + ": expected " + std::string(expected));
}

Status set_bool(bool& out, std::string_view value) {
  if (value == "true" || value == "yes" || value == "1") {
    out = true;
  } else if (value == "false" || value == "no" || value == "0") {
    out = false;
  } else {
    return bad_value(value, "true or false");
  }
  return {};
}

Status set_socket(PluginOptions& o, std::string_view v) {
  if (v.empty() || v.front() != '/') return bad_value(v, "an absolute path");
  o.socket = v;
  return {};
}

// NRI's name rule: non-empty, letters, digits and _ . + -.
Status set_name(PluginOptions& o, std::string_view v) {
  bool good = !v.empty();
  for (char c : v) good = good && (is_alnum(c) || c == '_' || c == '.' || c == '+' || c == '-');
  if (!good) return bad_value(v, "a name of letters, digits, '_', '.', '+' and '-'");
  o.name = v;
  return {};
}

// NRI's index rule: exactly two ASCII digits (plugins are called in their lexical order).
Status set_index(PluginOptions& o, std::string_view v) {
  if (v.size() != 2 || !is_digit(v[0]) || !is_digit(v[1])) return bad_value(v, "two digits, 00 to 99");
  o.index = v;
  return {};
}

Status set_spec_dir(PluginOptions& o, std::string_view v) {
  if (v.empty() || v.front() != '/') return bad_value(v, "an absolute path");
  o.spec_dirs.emplace_back(v);
  return {};
}

Status set_cdi_mode(PluginOptions& o, std::string_view v) {
  if (v == "raw") {
    o.cdi_mode = CdiMode::raw;
  } else if (v == "reference") {
    o.cdi_mode = CdiMode::reference;
  } else if (v == "auto") {
    o.cdi_mode = CdiMode::automatic;
  } else {
    return bad_value(v, "raw, reference or auto");
  }
  return {};
}

// An empty value clears the list: no runtime handler is skipped.
Status set_skip_runtime_handler(PluginOptions& o, std::string_view v) {
  if (!v.empty()) o.skip_runtime_handlers.emplace_back(v);
  return {};
}

Status set_pod_annotations(PluginOptions& o, std::string_view v) { return set_bool(o.pod_annotations, v); }
Status set_allow_insecure_specs(PluginOptions& o, std::string_view v) { return set_bool(o.allow_insecure_specs, v); }
Status set_syslog(PluginOptions& o, std::string_view v) {
  bool on = false;
  CDI_TRY(set_bool(on, v));
  o.syslog = on;
  return {};
}

// Seconds as a decimal number, 0 to 60; anything else (words, nan, inf, negative) is refused.
Status set_wait(PluginOptions& o, std::string_view v) {
  double seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds, std::chars_format::fixed);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || !std::isfinite(seconds) || seconds < 0 ||
      seconds > 60) {
    return bad_value(v, "seconds from 0 to 60");
  }
  o.wait = std::chrono::milliseconds(std::llround(seconds * 1000));
  return {};
}

Status set_log_file(PluginOptions& o, std::string_view v) {
  if (!v.empty() && v.front() != '/') return bad_value(v, "an absolute path");
  o.log_file = v;
  return {};
}

Status set_log_level(PluginOptions& o, std::string_view v) {
  if (!parse_log_level(v, o.log_level)) return bad_value(v, "trace, debug, info, warning, error or off");
  return {};
}

Status set_health_file(PluginOptions& o, std::string_view v) {
  if (!v.empty() && v.front() != '/') return bad_value(v, "an absolute path");
  o.health_file = v;
  return {};
}

const OptionSpec* find_option(std::string_view name) {
  for (const auto& o : option_table()) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Applies one value; a repeatable option's first value from a source replaces its default.
Status apply_one(PluginOptions& options, const OptionSpec& spec, std::string_view value,
                 std::set<std::string_view>& seen) {
  if (spec.repeatable && seen.insert(spec.name).second) {
    if (spec.name == "spec-dir") options.spec_dirs.clear();
    if (spec.name == "skip-runtime-handler") options.skip_runtime_handlers.clear();
  }
  return spec.set(options, value);
}

}  // namespace

std::string_view cdi_mode_name(CdiMode mode) {
  switch (mode) {
    case CdiMode::raw:
      return "raw";
    case CdiMode::reference:
      return "reference";
    case CdiMode::automatic:
      return "auto";
  }
  return "raw";
}

const std::vector<OptionSpec>& option_table() {
  static const std::vector<OptionSpec> table = {
      {"socket", "PATH", "the runtime's NRI socket (external launch; default /var/run/nri/nri.sock)", false, true,
       set_socket},
      {"name", "NAME", "the plugin name to register (external launch; default cdi-hook)", false, true, set_name},
      {"index", "NN", "the plugin index to register, two digits (external launch; default 10)", false, true, set_index},
      {"spec-dir", "DIR", "a CDI spec dir, in increasing priority (repeat; default /etc/cdi, /var/run/cdi)", true,
       false, set_spec_dir},
      {"cdi-mode", "MODE",
       "raw (default): return the edits; reference: return the device names; auto: names where "
       "the runtime honours them, edits elsewhere",
       false, false, set_cdi_mode},
      {"skip-runtime-handler", "PATTERN",
       "leave pods of matching runtime handlers alone (repeat; shell pattern; default kata*; empty: none)", true, false,
       set_skip_runtime_handler},
      {"pod-annotations", "", "also honour cdi.k8s.io/ annotations of the pod (default false)", false, false,
       set_pod_annotations},
      {"wait", "SECONDS", "how long to wait for a late spec (default 1; always below the request timeout)", false,
       false, set_wait},
      {"allow-insecure-specs", "", "use spec files and dirs that others can write (default false)", false, false,
       set_allow_insecure_specs},
      {"log-file", "PATH", "append the log to this file", false, false, set_log_file},
      {"log-level", "LEVEL", "trace, debug, info (default), warning, error or off", false, false, set_log_level},
      {"syslog", "", "log to syslog/journald (default true when started by the runtime, which gives no stderr)", false,
       false, set_syslog},
      {"health-file", "PATH", "rewrite this file every 5 s while running (a liveness signal)", false, false,
       set_health_file},
  };
  return table;
}

Status apply_config_text(PluginOptions& options, std::string_view text, std::string_view origin, OptionSource source) {
  std::set<std::string_view> seen;
  int line_no = 0;
  for (auto raw : split(text, '\n')) {
    ++line_no;
    std::string_view line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    auto located = [&](Error e) { return std::move(e).in_file(std::string(origin), line_no); };
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return located(Error("expected key = value, got " + quote(line)));
    std::string_view key = trim(line.substr(0, eq));
    std::string_view value = trim(line.substr(eq + 1));
    const OptionSpec* spec = find_option(key);
    if (!spec) return located(Error("unknown option " + quote(key)));
    if (spec->external_only && source == OptionSource::runtime_config) {
      return located(Error("option " + quote(key) + " is set by the runtime for a pre-registered plugin"));
    }
    if (spec->value.empty() && value.empty()) value = "true";
    if (auto st = apply_one(options, *spec, value, seen); !st.ok()) {
      return located(std::move(st).error().at_field(key));
    }
  }
  return {};
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv, ReadFile read_file) {
  CommandLine cl;
  std::vector<std::string_view> args(argv + 1, argv + argc);
  size_t i = 0;
  if (!args.empty() && args[0] == "health") {
    cl.health_check = true;
    ++i;
  }
  if (!args.empty() && args[0] == "check") {
    if (args.size() == 2 && (args[1] == "--help" || args[1] == "-h")) {
      cl.help = true;
      return cl;
    }
    if (args.size() != 2 || args[1].starts_with("-")) return Error("check needs one argument: the conf.d file");
    cl.check = true;
    cl.check_file = args[1];
    return cl;
  }
  // --config first: the flags override what it says, wherever they stand.
  for (size_t j = i; j < args.size(); ++j) {
    std::string_view a = args[j];
    if (a == "--config" && j + 1 < args.size()) {
      cl.config_file = args[j + 1];
    } else if (a.starts_with("--config=")) {
      cl.config_file = a.substr(9);
    }
  }
  if (!cl.config_file.empty()) {
    auto text = read_file(cl.config_file);
    if (!text.ok()) return std::move(text).error();
    CDI_TRY(apply_config_text(cl.options, *text, cl.config_file, OptionSource::config_file));
  }
  std::set<std::string_view> seen;
  for (; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      cl.help = true;
      continue;
    }
    if (a == "--version") {
      cl.version = true;
      continue;
    }
    if (!a.starts_with("--")) return Error("unexpected argument " + quote(a));
    std::string_view name = a.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "config") {
      if (!value) ++i;  // already applied
      if (i >= args.size()) return Error("--config needs a value");
      continue;
    }
    if (name == "ready" && cl.health_check && !value) {
      cl.health_ready = true;
      continue;
    }
    if (name == "max-age" && cl.health_check) {
      if (!value && i + 1 < args.size()) value = args[++i];
      int seconds = 0;
      auto [end, ec] =
          std::from_chars(value ? value->data() : nullptr, value ? value->data() + value->size() : nullptr, seconds);
      if (!value || ec != std::errc() || end != value->data() + value->size() || seconds <= 0) {
        return Error("--max-age: expected a positive number of seconds");
      }
      cl.health_max_age = std::chrono::seconds(seconds);
      continue;
    }
    const OptionSpec* spec = find_option(name);
    if (!spec) return Error("unknown option " + quote(a));
    if (!value) {
      if (spec->value.empty()) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return Error("--" + std::string(name) + " needs a value (" + std::string(spec->value) + ")");
      }
    }
    if (auto st = apply_one(cl.options, *spec, *value, seen); !st.ok()) {
      return std::move(st).error().with_context("--" + std::string(name));
    }
  }
  return cl;
}

std::string usage() {
  std::string out =
      "Usage: cdi-hook-nri [OPTIONS]          run as an NRI plugin (external: connect to --socket)\n"
      "       cdi-hook-nri health --health-file PATH [--max-age SECONDS] [--ready]\n"
      "       cdi-hook-nri check CONF               what a pre-registered plugin would make of its conf.d\n"
      "                                             file CONF and of the spec dirs it names (exit 1: a\n"
      "                                             refused config or a spec problem)\n"
      "Started by the runtime from /opt/nri/plugins/NN-name with no arguments (pre-registered), it takes\n"
      "its options from the runtime's ConfigureRequest: the text of /etc/nri/conf.d/NN-name.conf, one\n"
      "\"option = value\" per line with the names below.\n\nOptions:\n"
      "  --config FILE                  read options from FILE (same format), then the flags\n";
  for (const auto& o : option_table()) {
    std::string left = "  --" + std::string(o.name) + (o.value.empty() ? "" : " " + std::string(o.value));
    if (left.size() < 33) left.resize(33, ' ');
    out += left + std::string(o.help) + "\n";
  }
  out += "  --help, --version\n";
  return out;
}

}  // namespace cdi::nri
