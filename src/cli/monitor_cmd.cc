// cdi-hook monitor: watches the spec dirs and prints each change as it
// happens, one line an event (--output json: one object a line), the problems
// of a spec made invalid indented below it. Ctrl-C (SIGINT, SIGTERM, SIGHUP)
// ends it with exit 0.
#include <poll.h>

#include <chrono>
#include <ctime>
#include <memory>
#include <thread>

#include "app/monitor_events.h"
#include "app/options.h"
#include "app/signal_watch.h"
#include "base/fs.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"

namespace cdi::cli {

namespace {

struct MonitorOptions {
  app::Settings settings;  // --spec-dir, --allow-insecure-specs, --log-file, --log-level
  OutputFormat output = OutputFormat::text;
};

// Events arrive as a writer goes (create, write, close): gather them this long
// after the first, so that a file written in a few steps is told once.
constexpr auto kSettle = std::chrono::milliseconds(50);
// Without inotify the cache rescans: this often.
constexpr int kRescanMs = 250;

std::string clock_text(bool iso) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  char buf[40];
  if (iso) {
    gmtime_r(&t, &tm);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    return std::string(buf) + "." + std::to_string(1000 + ms).substr(1) + "Z";
  }
  localtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::string devices_text(size_t n) { return std::to_string(n) + (n == 1 ? " device" : " devices"); }

std::string event_text(const MonitorEvent& e) {
  using Type = MonitorEvent::Type;
  std::string what;
  switch (e.type) {
    case Type::spec_added:
    case Type::spec_changed:
      what =
          e.subject + " (" + (e.kind.empty() ? std::string("no kind") : e.kind) + ", " + devices_text(e.devices) + ")";
      break;
    case Type::spec_removed:
      what = e.subject;
      break;
    case Type::spec_invalid:
      what = e.subject;
      for (const auto& err : e.errors) what += "\n  " + err.located();
      break;
    case Type::device_appeared:
    case Type::device_ok:
      what = e.subject + " (" + e.spec + ")";
      break;
    case Type::device_disappeared:
      what = e.subject + " (was in " + e.spec + ")";
      break;
    case Type::device_shadowed:
      what = e.subject + ": " + e.spec + " now shadows " + join(e.others, ", ");
      break;
    case Type::device_conflict:
      what = e.subject + ": " + e.spec + " and " + join(e.others, ", ") +
             " define it at the same priority, so it cannot be used";
      break;
  }
  std::string name(event_name(e.type));
  std::replace(name.begin(), name.end(), '-', ' ');
  return clock_text(false) + " " + name + ": " + what + "\n";
}

std::string one_line(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

rapidjson::Value strings(const std::vector<std::string>& list, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value v(rapidjson::kArrayType);
  for (const auto& s : list) v.PushBack(json_str(s, a), a);
  return v;
}

std::string event_json(const MonitorEvent& e) {
  using Type = MonitorEvent::Type;
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("time", json_str(clock_text(true), a), a);
  doc.AddMember("event", json_str(event_name(e.type), a), a);
  bool spec = e.type == Type::spec_added || e.type == Type::spec_changed || e.type == Type::spec_removed ||
              e.type == Type::spec_invalid;
  if (spec) {
    doc.AddMember("path", json_str(e.subject, a), a);
    if (!e.kind.empty()) doc.AddMember("kind", json_str(e.kind, a), a);
    if (e.type == Type::spec_added || e.type == Type::spec_changed) {
      doc.AddMember("devices", static_cast<uint64_t>(e.devices), a);
    }
    if (e.type == Type::spec_invalid) {
      rapidjson::Value errors(rapidjson::kArrayType);
      for (const auto& err : e.errors) errors.PushBack(error_json(err, a), a);
      doc.AddMember("errors", errors, a);
    }
  } else {
    doc.AddMember("device", json_str(e.subject, a), a);
    doc.AddMember("spec", json_str(e.spec, a), a);
    if (e.type == Type::device_shadowed) doc.AddMember("shadows", strings(e.others, a), a);
    if (e.type == Type::device_conflict) doc.AddMember("conflictsWith", strings(e.others, a), a);
  }
  return one_line(doc);
}

std::string start_text(const SpecMonitor& m, bool json) {
  const MonitorState& s = m.state();
  size_t invalid = 0;
  for (const auto& [path, f] : s.files) invalid += f.usable ? 0 : 1;
  if (json) {
    rapidjson::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("time", json_str(clock_text(true), a), a);
    doc.AddMember("event", "watching", a);
    doc.AddMember("specDirs", strings(m.options().spec_dirs, a), a);
    doc.AddMember("specs", static_cast<uint64_t>(s.files.size()), a);
    doc.AddMember("invalid", static_cast<uint64_t>(invalid), a);
    doc.AddMember("devices", static_cast<uint64_t>(s.names.size()), a);
    doc.AddMember("inotify", m.fd() >= 0, a);
    return one_line(doc);
  }
  std::string line = clock_text(false) + " watching " + join(m.options().spec_dirs, ", ") + ": " +
                     std::to_string(s.files.size()) + (s.files.size() == 1 ? " spec file" : " spec files");
  if (invalid) line += " (" + std::to_string(invalid) + " invalid: cdi-hook validate says why)";
  line += ", " + devices_text(s.names.size());
  if (m.fd() < 0) line += "; no inotify here: looking again every " + std::to_string(kRescanMs) + " ms";
  return line + "; Ctrl-C stops\n";
}

int run_monitor(const MonitorOptions& o) {
  // The events tell what the registry would warn about: its warnings only with --log-level or --log-file.
  auto logger = make_logger(o.settings, LogLevel::error);
  SignalWatch signals;  // before the first look, so that Ctrl-C never kills it half-way
  RealFs fs;
  RegistryOptions registry = app::inject_options(o.settings).registry;
  registry.cache_dir.clear();  // every file is read anyway: no kind index
  auto monitor = SpecMonitor::create(fs, *logger, registry);
  bool json = o.output == OutputFormat::json;
  if (auto st = write_stdout(start_text(*monitor, json)); !st.ok()) return report(st.error());
  while (signals.take() == 0) {
    pollfd p[2] = {{signals.fd(), POLLIN, 0}, {monitor->fd(), POLLIN, 0}};
    bool watching = monitor->fd() >= 0;
    int n = ::poll(p, watching ? 2 : 1, watching ? -1 : kRescanMs);
    if (n < 0 && errno != EINTR) return report(system_error("poll", errno));
    if (signals.take() != 0) break;
    if (watching && n > 0 && (p[1].revents & POLLIN) != 0) std::this_thread::sleep_for(kSettle);
    for (const auto& e : monitor->changes()) {
      if (auto st = write_stdout(json ? event_json(e) : event_text(e)); !st.ok()) return report(st.error());
    }
  }
  return kExitOk;
}

}  // namespace

void add_monitor_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<MonitorOptions>();
  CLI::App* cmd =
      app.add_subcommand("monitor",
                         "Watch the spec dirs and print each change as it happens (specs added, changed, removed, made "
                         "invalid; devices that appeared, disappeared, became shadowed or conflicting)");
  add_table_options(*cmd, app::kMonitor, opts->settings);
  add_output_option(*cmd, opts->output);
  cmd->callback([opts, &exit_code] { exit_code = run_monitor(*opts); });
}

}  // namespace cdi::cli
