#include "app/runtime_args.h"

#include <array>
#include <string_view>

#include "base/text.h"

namespace cdi {

namespace {

// Global flags of runc and crun that take a separate value.
constexpr std::array<std::string_view, 7> kGlobalValueFlags = {"root", "log",      "log-format",    "log-level",
                                                               "criu", "rootless", "cgroup-manager"};
// Flags of create/run that take a separate value (besides the bundle).
constexpr std::array<std::string_view, 4> kCommandValueFlags = {"console-socket", "pid-file", "preserve-fds",
                                                                "notify-socket"};

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

template <size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  for (auto n : names) {
    if (n == name) return true;
  }
  return false;
}

}  // namespace

Result<RuntimeCommand> parse_runtime_command(const std::vector<std::string>& args) {
  RuntimeCommand out;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    auto flag = as_flag(args[i]);
    if (!flag) break;
    if (!contains(kGlobalValueFlags, flag->name) || flag->value) {
      if (flag->name == "log" && flag->value) out.log_file = *flag->value;
      if (flag->name == "log-format" && flag->value) out.log_format = *flag->value;
      continue;
    }
    if (i + 1 >= args.size()) return Error("global flag " + quote(args[i]) + " needs a value");
    if (flag->name == "log") out.log_file = args[i + 1];
    if (flag->name == "log-format") out.log_format = args[i + 1];
    ++i;
  }
  if (i >= args.size()) return out;
  out.command = args[i];
  if (!out.injects()) return out;
  for (++i; i < args.size(); ++i) {
    if (args[i] == "--") break;
    auto flag = as_flag(args[i]);
    if (!flag) continue;
    bool is_bundle = flag->name == "bundle" || flag->name == "b";
    if (!is_bundle) {
      if (contains(kCommandValueFlags, flag->name) && !flag->value) ++i;
      continue;
    }
    if (flag->value) {
      if (flag->value->empty()) return Error("flag " + quote(args[i]) + " has an empty bundle path");
      out.bundle = std::string(*flag->value);
    } else {
      if (i + 1 >= args.size()) return Error("flag " + quote(args[i]) + " needs a bundle path");
      if (args[i + 1].empty()) return Error("flag " + quote(args[i]) + " has an empty bundle path");
      out.bundle = args[++i];
    }
  }
  return out;
}

}  // namespace cdi
