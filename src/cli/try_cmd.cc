// cdi-hook try DEVICE... [-- COMMAND ARGS...]: injects the devices into a
// throwaway container exactly as the hook would, runs it with runc and reports
// what the container saw, one check a line (or --output json); exit 0 only when
// every check passed. The agent (the same binary, copied into the rootfs under
// the name cdi-hook-try-agent) is the container's probe and the hooks' recorder.
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <memory>

#include "app/options.h"
#include "app/try_run.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"

extern char** environ;

namespace cdi::cli {

namespace {

struct TryOptions {
  app::Settings settings;
  std::vector<std::string> devices;  // the command is what follows "--" (args_after_dashes)
  std::string rootfs;
  std::string runtime = "runc";
  double timeout = 60;
  OutputFormat output = OutputFormat::text;
};

std::string signal_name(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
  }
  return "signal " + std::to_string(sig);
}

std::string tag(CheckOutcome o) {
  switch (o) {
    case CheckOutcome::pass:
      return "ok  ";
    case CheckOutcome::fail:
      return "FAIL";
    case CheckOutcome::note:
      return "note";
    case CheckOutcome::skipped:
      return "skip";
  }
  return "FAIL";
}

struct Tally {
  size_t checks = 0, failed = 0, notes = 0, skipped = 0;
};

Tally tally(const std::vector<TryCheck>& checks) {
  Tally t;
  for (const auto& c : checks) {
    if (c.outcome == CheckOutcome::note) {
      ++t.notes;
      continue;
    }
    if (c.outcome == CheckOutcome::skipped) ++t.skipped;
    if (c.outcome == CheckOutcome::fail) ++t.failed;
    ++t.checks;
  }
  return t;
}

std::string plural(size_t n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

std::string indent(const std::string& text) {
  std::string out;
  for (auto line : split(text, '\n')) out += "  " + std::string(line) + "\n";
  if (!text.empty() && text.back() == '\n') out.resize(out.size() - 3);  // the split's empty last piece
  return out;
}

std::string text_report(const TryRequest& request, const TryResult& r) {
  std::string out = "try " + join(request.devices, " ") + " in a " +
                    (request.rootfs.empty() ? std::string("busybox") : quote(request.rootfs)) + " container with " +
                    r.runtime + "\n";
  size_t width = 0;
  for (const auto& c : r.checks) width = std::max(width, c.category.size());
  for (const auto& c : r.checks) {
    out += tag(c.outcome) + "  " + c.category + std::string(width - c.category.size() + 2, ' ') + c.subject + ": " +
           c.message + "\n";
  }
  // When the container did not start, stderr is the runtime's, already in the container check.
  if (r.started && !r.command.empty()) {
    if (!r.stdout_text.empty()) out += "command output (" + shell_join(r.command) + "):\n" + indent(r.stdout_text);
    if (!r.stderr_text.empty()) out += "command stderr (" + shell_join(r.command) + "):\n" + indent(r.stderr_text);
    if (r.output_truncated) out += "(output cut at 1 MiB)\n";
  }
  Tally t = tally(r.checks);
  std::string notes = t.notes ? ", " + plural(t.notes, "note") : "";
  if (t.failed == 0) {
    out += "PASS: " + plural(t.checks, "check") + " passed" + notes + "\n";
  } else {
    out += "FAIL: " + std::to_string(t.failed) + " of " + plural(t.checks, "check") + " failed" +
           (t.skipped ? " (" + std::to_string(t.skipped) + " not checked)" : "") + notes + "\n";
  }
  return out;
}

std::string json_report(const TryRequest& request, const TryResult& r) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  rapidjson::Value devices(rapidjson::kArrayType);
  for (const auto& d : request.devices) devices.PushBack(json_str(d, a), a);
  doc.AddMember("devices", devices, a);
  doc.AddMember("runtime", json_str(r.runtime, a), a);
  doc.AddMember("rootfs", request.rootfs.empty() ? rapidjson::Value() : json_str(request.rootfs, a), a);
  doc.AddMember("containerId", json_str(r.container_id, a), a);
  rapidjson::Value checks(rapidjson::kArrayType);
  for (const auto& c : r.checks) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("check", json_str(c.category, a), a);
    v.AddMember("subject", json_str(c.subject, a), a);
    v.AddMember("result", json_str(outcome_name(c.outcome), a), a);
    v.AddMember("message", json_str(c.message, a), a);
    checks.PushBack(v, a);
  }
  doc.AddMember("checks", checks, a);
  rapidjson::Value command;
  if (!r.command.empty()) {
    command.SetObject();
    rapidjson::Value args(rapidjson::kArrayType);
    for (const auto& s : r.command) args.PushBack(json_str(s, a), a);
    command.AddMember("args", args, a);
    command.AddMember("exitCode", r.exit_code, a);
    command.AddMember("signal", r.signal, a);
    command.AddMember("timedOut", r.timed_out, a);
    command.AddMember("stdout", json_str(r.stdout_text, a), a);
    command.AddMember("stderr", json_str(r.stderr_text, a), a);
    command.AddMember("truncated", r.output_truncated, a);
  }
  doc.AddMember("command", command, a);
  doc.AddMember("passed", r.passed(), a);
  return json_text(doc);
}

int run_try_cmd(const TryOptions& o) {
  auto logger = make_logger(o.settings);
  TryRequest request;
  request.command = args_after_dashes();
  request.devices = o.devices;
  if (request.devices.empty()) return usage("try: name at least one device (vendor.com/class=name)");
  if (::geteuid() != 0) {
    return report(Error("try needs root: it creates device nodes and runs a container with " + o.runtime));
  }
  auto options = app::load_inject_options(o.settings);
  if (!options.ok()) return report(options.error());
  request.inject = std::move(*options);
  request.rootfs = o.rootfs;
  request.runtime = o.runtime;
  request.timeout_seconds = o.timeout;
  auto result = run_try(request, *logger);
  if (!result.ok()) return report(result.error());
  if (result->interrupted_by != 0) {
    report(Error("try: stopped by " + signal_name(result->interrupted_by) +
                 "; the container and the temp files are removed"));
    return 128 + result->interrupted_by;
  }
  std::string out = o.output == OutputFormat::json ? json_report(request, *result) : text_report(request, *result);
  if (auto st = write_stdout(out); !st.ok()) return report(st.error());
  return result->passed() ? kExitOk : kExitFailure;
}

// The agent inside the container: `probe REQUEST [-- COMMAND...]`.
int agent_probe(const std::vector<std::string>& args) {
  auto bytes = read_file_or_stdin(args[1], 16u << 20);
  if (!bytes.ok()) return report(bytes.error());
  auto request = parse_probe_request(*bytes);
  if (!request.ok()) return report(request.error());
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  RealFs fs;
  auto mountinfo = fs.read_file("/proc/self/mountinfo", 16u << 20);
  std::string dir = path_dirname(args[1]);
  ProbeReport seen = run_probe(*request, env, mountinfo.ok() ? *mountinfo : std::string(), dir);
  if (auto st = write_file_atomic(path_join(dir, "report.json"), probe_report_json(seen)); !st.ok()) {
    return report(st.error());
  }
  if (args.size() < 4 || args[2] != "--") return kExitOk;
  std::vector<char*> argv;
  for (size_t i = 3; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
  argv.push_back(nullptr);
  ::execvp(argv[0], argv.data());
  int err = errno;
  report(system_error("exec " + quote(args[3]), err));
  return err == ENOENT ? 127 : 126;
}

}  // namespace

void add_try_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<TryOptions>();
  CLI::App* cmd = app.add_subcommand(
      "try",
      "Run a throwaway container with these devices injected as the hook would, and check what it sees: "
      "try DEVICE... [-- COMMAND ARGS...]");
  // Checked by run_try_cmd, whose message says what a device is.
  describe(cmd->add_option("DEVICE", opts->devices, "Qualified device names (vendor.com/class=name)"), "");
  describe(cmd->add_option("--rootfs", opts->rootfs,
                           "The container's root filesystem (default: a static busybox); left untouched"),
           "DIR");
  describe(cmd->add_option("--runtime", opts->runtime, "The OCI runtime (a path, or a name searched in PATH)"),
           "RUNTIME", opts->runtime);
  describe(cmd->add_option("--timeout", opts->timeout, "Seconds the container may run before it is killed")
               ->check(CLI::PositiveNumber),
           "SECONDS", "60");
  add_output_option(*cmd, opts->output);
  add_table_options(*cmd, app::kTry, opts->settings);
  cmd->footer("After --: a command to run in the container, and its arguments, passed on untouched.");
  cmd->callback([opts, &exit_code] { exit_code = run_try_cmd(*opts); });
}

int try_agent_main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  if (args.size() >= 2 && args[0] == "probe") return agent_probe(args);
  if (args.size() >= 3 && args[0] == "hook") {
    return run_recorded_hook(args[1], args[2], std::vector<std::string>(args.begin() + 3, args.end()));
  }
  return usage(
      "cdi-hook-try-agent runs inside cdi-hook try's containers: probe REQUEST [-- COMMAND...] | hook RECORD PATH "
      "[ARGS...]");
}

}  // namespace cdi::cli
