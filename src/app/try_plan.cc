#include "app/try_plan.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

#include "base/text.h"

namespace cdi {

namespace {

// --- reading the config (try wrote it, and the injection checked it) ---

const JsonValue* member(const JsonValue& object, const char* key) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(key);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

const JsonValue* path_to(const JsonValue& root, std::initializer_list<const char*> keys) {
  const JsonValue* v = &root;
  for (const char* k : keys) {
    v = member(*v, k);
    if (!v) return nullptr;
  }
  return v;
}

std::string text_of(const JsonValue* v) { return v && v->IsString() ? std::string(json_view(*v)) : std::string(); }

std::optional<int64_t> int_of(const JsonValue* v) {
  if (v && v->IsInt64()) return v->GetInt64();
  return std::nullopt;
}

std::vector<std::string> strings_of(const JsonValue* v) {
  std::vector<std::string> out;
  if (!v || !v->IsArray()) return out;
  for (const auto& e : v->GetArray()) {
    if (e.IsString()) out.emplace_back(json_view(e));
  }
  return out;
}

template <class F>
void each_object(const JsonValue* array, F f) {
  if (!array || !array->IsArray()) return;
  for (const auto& e : array->GetArray()) {
    if (e.IsObject()) f(e);
  }
}

std::optional<uint32_t> u32_of(const JsonValue* v) {
  auto i = int_of(v);
  if (!i || *i < 0 || *i > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(*i);
}

// --- the plan ---

std::vector<ExpectedNode> added_nodes(const OciDocument& before, const OciDocument& after) {
  std::set<std::string> had;
  each_object(path_to(before.json(), {"linux", "devices"}),
              [&](const JsonValue& d) { had.insert(text_of(member(d, "path"))); });
  auto rules = cgroup_rules(after);
  std::vector<ExpectedNode> out;
  each_object(path_to(after.json(), {"linux", "devices"}), [&](const JsonValue& d) {
    ExpectedNode n;
    n.path = text_of(member(d, "path"));
    if (had.count(n.path)) return;
    std::string type = text_of(member(d, "type"));
    n.type = type.empty() ? '?' : type[0];
    n.major = int_of(member(d, "major")).value_or(0);
    n.minor = int_of(member(d, "minor")).value_or(0);
    if (auto mode = u32_of(member(d, "fileMode"))) n.file_mode = *mode & 07777;
    n.uid = u32_of(member(d, "uid"));
    n.gid = u32_of(member(d, "gid"));
    if (n.type == 'c' || n.type == 'b' || n.type == 'u') {
      n.granted = granted_access(rules, n.type == 'u' ? 'c' : n.type, n.major, n.minor);
    }
    out.push_back(std::move(n));
  });
  return out;
}

// A char (else block) device number that no rule grants and no node uses, in
// the range the kernel keeps for local use (240-254).
std::optional<ExpectedNode> pick_control(const std::vector<CgroupRule>& rules, const std::vector<ExpectedNode>& nodes) {
  for (char type : {'c', 'b'}) {
    for (int64_t major = 240; major <= 254; ++major) {
      bool used = false;
      for (const auto& n : nodes) used = used || (n.type == type && n.major == major);
      if (used || !granted_access(rules, type, major, 0).empty()) continue;
      ExpectedNode n;
      n.path = std::string(kControlNodePath);
      n.type = type;
      n.major = major;
      n.minor = 0;
      n.file_mode = 0666;
      return n;
    }
  }
  return std::nullopt;
}

std::vector<std::string> added_env(const OciDocument& before, const OciDocument& after) {
  auto old = strings_of(path_to(before.json(), {"process", "env"}));
  std::set<std::string> had(old.begin(), old.end());
  std::vector<std::string> out;
  for (auto& e : strings_of(path_to(after.json(), {"process", "env"}))) {
    if (!had.count(e)) out.push_back(std::move(e));
  }
  return out;
}

bool has(const std::vector<std::string>& list, std::string_view wanted) {
  for (const auto& s : list) {
    if (s == wanted) return true;
  }
  return false;
}

std::vector<ExpectedMount> added_mounts(const OciDocument& before, const OciDocument& after) {
  std::set<std::string> had;
  each_object(member(before.json(), "mounts"),
              [&](const JsonValue& m) { had.insert(text_of(member(m, "destination"))); });
  std::vector<ExpectedMount> out;
  each_object(member(after.json(), "mounts"), [&](const JsonValue& m) {
    ExpectedMount e;
    e.destination = text_of(member(m, "destination"));
    if (had.count(e.destination)) return;
    e.source = text_of(member(m, "source"));
    e.type = text_of(member(m, "type"));
    auto options = strings_of(member(m, "options"));
    e.bind = e.type == "bind" || has(options, "bind") || has(options, "rbind");
    e.read_only = has(options, "ro");
    out.push_back(std::move(e));
  });
  return out;
}

constexpr const char* kStages[] = {"prestart",       "createRuntime", "createContainer",
                                   "startContainer", "poststart",     "poststop"};

std::vector<ExpectedHook> added_hooks(const OciDocument& before, const OciDocument& after) {
  std::vector<ExpectedHook> out;
  for (const char* stage : kStages) {
    const JsonValue* old = path_to(before.json(), {"hooks", stage});
    size_t skip = old && old->IsArray() ? old->Size() : 0;  // the injection appends
    size_t index = 0;
    each_object(path_to(after.json(), {"hooks", stage}), [&](const JsonValue& h) {
      size_t i = index++;
      if (i < skip) return;
      out.push_back({stage, i, text_of(member(h, "path")), strings_of(member(h, "args"))});
    });
  }
  return out;
}

// --- the verdict ---

std::string errno_text(int err) { return std::strerror(err); }

std::string numbers(char type, int64_t major, int64_t minor) {
  return std::string(1, type) + " " + std::to_string(major) + ":" + std::to_string(minor);
}

std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04o", mode);
  return buf;
}

std::string access_name(char a) {
  return a == 'r' ? "open for reading" : a == 'w' ? "open for writing" : "mknod of a node with its numbers";
}

// Why an access that should have worked did not.
std::string access_failure(char a, int err, const ExpectedNode& n) {
  std::string why = access_name(a) + " failed: " + errno_text(err);
  if (err == EPERM) {
    why += " (the device cgroup refused it although the config grants " + std::string(1, a) + ")";
  } else if (err == ENXIO || err == ENODEV) {
    why += " (nothing on this host answers to " + numbers(n.type, n.major, n.minor) + ": wrong numbers?)";
  }
  return why;
}

class Verdict {
 public:
  explicit Verdict(const TryObservations& seen) : seen_(seen) {}
  std::vector<TryCheck> checks;

  void add(std::string category, std::string subject, CheckOutcome outcome, std::string message) {
    checks.push_back({std::move(category), std::move(subject), outcome, std::move(message)});
  }
  bool started() const { return seen_.probe.has_value(); }
  void not_checked(std::string category, std::string subject) {
    add(std::move(category), std::move(subject), CheckOutcome::skipped, "not checked: the container did not start");
  }

  void container() {
    if (started()) {
      add("container", seen_.runtime, CheckOutcome::pass, "started");
    } else if (seen_.timed_out) {
      add("container", seen_.runtime, CheckOutcome::fail, "did not start within " + seconds() + " s");
    } else {
      std::string why = seen_.runtime_error.empty() ? exit_text() : seen_.runtime_error;
      add("container", seen_.runtime, CheckOutcome::fail, "did not start: " + why);
    }
  }

  void node(const ExpectedNode& want) {
    const NodeSeen* got = find_node(want.path);
    if (!got) return not_checked("device", want.path);
    std::string wanted = describe(want);
    if (got->err != 0) {
      return add("device", want.path, CheckOutcome::fail, "missing in the container (" + errno_text(got->err) + ")");
    }
    std::string actual = describe_seen(*got, want);
    if (actual != wanted) {
      return add("device", want.path, CheckOutcome::fail, "is " + actual + ", the config asks for " + wanted);
    }
    add("device", want.path, CheckOutcome::pass, wanted);
    if (want.type == 'p') return;
    for (const auto& a : got->accesses) access(want, a);
  }

  void control(const ExpectedNode& want) {
    const NodeSeen* got = find_node(want.path);
    if (!got) return not_checked("control", want.path);
    std::string what = numbers(want.type, want.major, want.minor) + ", which no rule grants";
    if (got->err != 0) {
      return add("control", want.path, CheckOutcome::fail, what + ": missing (" + errno_text(got->err) + ")");
    }
    for (const auto& a : got->accesses) {
      if (a.err != EPERM) {
        return add("control", want.path, CheckOutcome::fail,
                   what + ": " + access_name(a.access) + " was not refused (" +
                       (a.err == 0 ? std::string("it succeeded") : errno_text(a.err)) +
                       "): the device cgroup is not enforced, so the access checks prove nothing");
      }
    }
    add("control", want.path, CheckOutcome::pass, what + ": opening it is refused (" + errno_text(EPERM) + ")");
  }

  void env(const std::string& entry) {
    if (!started()) return not_checked("env", entry);
    if (has(seen_.probe->environ, entry)) return add("env", entry, CheckOutcome::pass, "set");
    std::string key = entry.substr(0, entry.find('='));
    std::vector<std::string> others;
    for (const auto& e : seen_.probe->environ) {
      if (e.compare(0, key.size() + 1, key + "=") == 0) others.push_back(e);
    }
    add("env", entry, CheckOutcome::fail,
        others.empty() ? "missing: " + key + " is not set" : "missing: the process has " + join(others, ", "));
  }

  void mount(const ExpectedMount& want, const SourceSeen& source) {
    std::string what = (want.bind ? "bind of " : want.type + " ") + want.source;
    if (want.bind && source.err != 0) {
      add("mount", want.destination, CheckOutcome::fail,
          "source " + quote(want.source) + " is not on the host (" + errno_text(source.err) + ")");
      if (!started()) return;
    }
    const MountSeen* got = find_mount(want.destination);
    if (!got) return not_checked("mount", want.destination);
    if (got->err != 0)
      return add("mount", want.destination, CheckOutcome::fail, "missing (" + errno_text(got->err) + ")");
    if (!got->mounted) return add("mount", want.destination, CheckOutcome::fail, "exists but is not a mount point");
    if (want.bind && source.err == 0 && (got->dev != source.dev || got->ino != source.ino)) {
      return add("mount", want.destination, CheckOutcome::fail,
                 "shows another file than the host's " + quote(want.source));
    }
    if (!want.bind && !want.type.empty() && got->fstype != want.type) {
      return add("mount", want.destination, CheckOutcome::fail,
                 "is " + got->fstype + ", the config asks for " + want.type);
    }
    if (want.read_only != got->read_only) {
      return add(
          "mount", want.destination, CheckOutcome::fail,
          want.read_only ? "is writable, the config asks for ro" : "is read-only, the config does not ask for ro");
    }
    add("mount", want.destination, CheckOutcome::pass, what + (want.read_only ? ", read-only" : ", writable"));
  }

  void hook(const ExpectedHook& want, const std::optional<HookRecord>& record) {
    std::string subject = want.stage + " " + want.path;
    if (!record || !record->started) {
      if (!started()) return add("hook", subject, CheckOutcome::skipped, "did not run: the container did not start");
      return add("hook", subject, CheckOutcome::fail, "did not run");
    }
    if (!record->error.empty()) return add("hook", subject, CheckOutcome::fail, "could not start: " + record->error);
    if (!record->finished) {
      return add("hook", subject, CheckOutcome::fail, "did not finish (killed by the runtime: its timeout?)");
    }
    if (record->signal != 0) {
      return add("hook", subject, CheckOutcome::fail, "killed by signal " + std::to_string(record->signal));
    }
    add("hook", subject, record->exit_code == 0 ? CheckOutcome::pass : CheckOutcome::fail,
        "ran, exit " + std::to_string(record->exit_code));
  }

  void command() {
    if (seen_.command.empty()) return;
    std::string subject = shell_join(seen_.command);
    if (!started()) return not_checked("command", subject);
    if (seen_.timed_out)
      return add("command", subject, CheckOutcome::fail, "still running after " + seconds() + " s: killed");
    bool ok = seen_.signal == 0 && seen_.exit_code == 0;
    add("command", subject, ok ? CheckOutcome::pass : CheckOutcome::fail, exit_text());
  }

 private:
  const TryObservations& seen_;

  std::string seconds() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", seen_.timeout_seconds);
    return buf;
  }
  std::string exit_text() const {
    return seen_.signal != 0 ? "killed by signal " + std::to_string(seen_.signal)
                             : "exit " + std::to_string(seen_.exit_code);
  }

  const NodeSeen* find_node(const std::string& path) const {
    if (!started()) return nullptr;
    for (const auto& n : seen_.probe->nodes) {
      if (n.path == path) return &n;
    }
    return nullptr;
  }
  const MountSeen* find_mount(const std::string& destination) const {
    if (!started()) return nullptr;
    for (const auto& m : seen_.probe->mounts) {
      if (m.destination == destination) return &m;
    }
    return nullptr;
  }

  static std::string describe(const ExpectedNode& n) {
    std::string s = numbers(n.type == 'u' ? 'c' : n.type, n.major, n.minor);
    if (n.file_mode) s += ", mode " + octal(*n.file_mode);
    if (n.uid || n.gid) s += ", owner " + std::to_string(n.uid.value_or(0)) + ":" + std::to_string(n.gid.value_or(0));
    return s;
  }
  // The seen node in the words of describe(), naming only what the config names.
  static std::string describe_seen(const NodeSeen& n, const ExpectedNode& want) {
    if (n.type == '-') return "not a device node";
    ExpectedNode as_seen = want;
    as_seen.type = n.type;
    as_seen.major = want.type == 'p' ? want.major : n.major;
    as_seen.minor = want.type == 'p' ? want.minor : n.minor;
    if (want.file_mode) as_seen.file_mode = n.mode;
    if (want.uid || want.gid) {
      as_seen.uid = n.uid;
      as_seen.gid = n.gid;
    }
    return describe(as_seen);
  }

  void access(const ExpectedNode& want, const AccessSeen& a) {
    std::string subject = want.path;
    bool granted = want.granted.find(a.access) != std::string::npos;
    if (granted) {
      if (a.err == 0) return add("access", subject, CheckOutcome::pass, access_name(a.access) + ": allowed");
      return add("access", subject, CheckOutcome::fail, access_failure(a.access, a.err, want));
    }
    std::string grants = want.granted.empty() ? "nothing" : "only " + want.granted;
    if (a.err == EPERM) {
      return add("access", subject, CheckOutcome::pass,
                 access_name(a.access) + ": refused, as the config grants " + grants);
    }
    add("access", subject, CheckOutcome::note,
        access_name(a.access) + ": not refused although the config grants " + grants +
            " (the runtime's own device rules allow " + numbers(want.type, want.major, want.minor) + ")");
  }
};

}  // namespace

std::vector<CgroupRule> cgroup_rules(const OciDocument& config) {
  std::vector<CgroupRule> out;
  each_object(path_to(config.json(), {"linux", "resources", "devices"}), [&](const JsonValue& r) {
    CgroupRule rule;
    const JsonValue* allow = member(r, "allow");
    rule.allow = allow && allow->IsBool() && allow->GetBool();
    std::string type = text_of(member(r, "type"));
    rule.type = type.empty() ? 'a' : type[0];
    rule.major = int_of(member(r, "major"));
    rule.minor = int_of(member(r, "minor"));
    rule.access = text_of(member(r, "access"));
    if (rule.access.empty()) rule.access = "rwm";
    out.push_back(std::move(rule));
  });
  return out;
}

std::string granted_access(const std::vector<CgroupRule>& rules, char type, int64_t major, int64_t minor) {
  bool has_letter[3] = {false, false, false};
  constexpr char kLetters[] = {'r', 'w', 'm'};
  for (const auto& r : rules) {
    if (r.type != 'a' && r.type != type) continue;
    if (r.major && *r.major != major) continue;
    if (r.minor && *r.minor != minor) continue;
    for (int i = 0; i < 3; ++i) {
      if (r.access.find(kLetters[i]) != std::string::npos) has_letter[i] = r.allow;
    }
  }
  std::string out;
  for (int i = 0; i < 3; ++i) {
    if (has_letter[i]) out += kLetters[i];
  }
  return out;
}

TryPlan plan_try(const OciDocument& before, const OciDocument& after) {
  TryPlan plan;
  plan.nodes = added_nodes(before, after);
  plan.control = pick_control(cgroup_rules(after), plan.nodes);
  plan.env = added_env(before, after);
  plan.mounts = added_mounts(before, after);
  plan.hooks = added_hooks(before, after);
  return plan;
}

JsonValue control_node_json(const ExpectedNode& node, JsonAllocator& a) {
  JsonValue d(rapidjson::kObjectType);
  d.AddMember("path", json_string(node.path, a), a);
  d.AddMember("type", json_string(std::string(1, node.type), a), a);
  d.AddMember("major", JsonValue(node.major), a);
  d.AddMember("minor", JsonValue(node.minor), a);
  d.AddMember("fileMode", JsonValue(node.file_mode.value_or(0666)), a);
  return d;
}

ProbeRequest probe_request(const TryPlan& plan) {
  ProbeRequest r;
  for (const auto& n : plan.nodes) {
    std::string accesses = "rw";  // what is not granted must be refused
    if (n.granted.find('m') != std::string::npos) accesses += 'm';
    r.nodes.push_back({n.path, n.type == 'p' ? std::string() : accesses});
  }
  if (plan.control) r.nodes.push_back({plan.control->path, "rw"});
  for (const auto& m : plan.mounts) r.mounts.push_back(m.destination);
  return r;
}

std::vector<TryCheck> evaluate_try(const TryPlan& plan, const TryObservations& seen) {
  Verdict v(seen);
  v.container();
  for (const auto& n : plan.nodes) v.node(n);
  if (plan.control) v.control(*plan.control);
  for (const auto& e : plan.env) v.env(e);
  for (size_t i = 0; i < plan.mounts.size(); ++i) {
    v.mount(plan.mounts[i], i < seen.sources.size() ? seen.sources[i] : SourceSeen{});
  }
  for (size_t i = 0; i < plan.hooks.size(); ++i) {
    v.hook(plan.hooks[i], i < seen.hooks.size() ? seen.hooks[i] : std::nullopt);
  }
  v.command();
  return std::move(v.checks);
}

bool all_passed(const std::vector<TryCheck>& checks) {
  for (const auto& c : checks) {
    if (c.outcome == CheckOutcome::fail) return false;
  }
  return true;
}

std::string shell_join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += ' ';
    bool plain = !w.empty() && w.find_first_not_of(
                                   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                   "_-./=:,+@%") == std::string::npos;
    if (plain) {
      out += w;
      continue;
    }
    out += '\'';
    for (char c : w) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += '\'';
  }
  return out;
}

std::string_view outcome_name(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::pass:
      return "pass";
    case CheckOutcome::fail:
      return "fail";
    case CheckOutcome::note:
      return "note";
    case CheckOutcome::skipped:
      return "skipped";
  }
  return "fail";
}

}  // namespace cdi
