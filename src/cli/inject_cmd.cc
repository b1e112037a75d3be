// cdi-hook inject: inject devices into a config file (or stdin) and print the
// result, a unified diff (--diff), or which device of which spec file made each
// edit (--explain); or rewrite the file in place.
#include <memory>

#include "app/bundle.h"
#include "app/options.h"
#include "base/atomic_file.h"
#include "base/fs.h"
#include "base/text.h"
#include "base/text_diff.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "edits/oci_document.h"
#include "inject/injector.h"

namespace cdi::cli {

namespace {

struct InjectCmdOptions {
  app::Settings settings;
  std::string config;
  std::vector<std::string> devices;
  bool in_place = false;
  bool diff = false;
  bool explain = false;
  OutputFormat output = OutputFormat::text;
};

std::string explain_text(const InjectReport& report) {
  std::string out = "devices: " + (report.devices.empty() ? std::string("(none)") : join(report.devices, ", ")) + "\n";
  for (const auto& e : report.edits) {
    std::string file = quote_if_needed(e.spec_file);
    std::string from = e.category.starts_with("guest") ? "guest map " + file
                       : e.device.empty()              ? "spec-level edits of " + file
                                                       : "device " + e.device + " of " + file;
    out += e.category + ": " + e.summary + "  <- " + from + "\n";
  }
  return out;
}

std::string explain_json(const InjectReport& report) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  rapidjson::Value devices(rapidjson::kArrayType);
  for (const auto& d : report.devices) devices.PushBack(json_str(d, a), a);
  rapidjson::Value files(rapidjson::kArrayType);
  for (const auto& f : report.spec_files) files.PushBack(json_str(f, a), a);
  rapidjson::Value edits(rapidjson::kArrayType);
  for (const auto& e : report.edits) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("category", json_str(e.category, a), a);
    v.AddMember("summary", json_str(e.summary, a), a);
    v.AddMember("specFile", json_str(e.spec_file, a), a);
    v.AddMember("device", e.device.empty() ? rapidjson::Value() : json_str(e.device, a), a);
    edits.PushBack(v, a);
  }
  doc.AddMember("devices", devices, a);
  doc.AddMember("specFiles", files, a);
  doc.AddMember("edits", edits, a);
  return json_text(doc);
}

int run_inject(const InjectCmdOptions& o) {
  auto logger = make_logger(o.settings);
  if (o.in_place && o.config == "-") return usage("--in-place needs a file, not stdin");
  if (o.diff && o.explain) return usage("--diff and --explain exclude each other");
  if (o.output == OutputFormat::json && !o.explain) return usage("--output json goes with --explain");
  std::string source = o.config == "-" ? "stdin" : o.config;
  auto bytes = read_file_or_stdin(o.config, kMaxConfigBytes);
  if (!bytes.ok()) return report(bytes.error());
  auto config = OciDocument::parse(*bytes);
  if (!config.ok()) {
    Error e = std::move(config).error();
    return report(e.in_file(source, e.line, e.column).of_kind(ErrorKind::invalid_request));
  }

  std::vector<std::string> devices = o.devices;
  if (devices.empty()) {
    auto requested = requested_devices(*config);
    if (!requested.ok())
      return report(std::move(requested).error().in_file(source).of_kind(ErrorKind::invalid_request));
    devices = std::move(*requested);
  }
  std::string before = o.diff ? config->serialize(true) : std::string();
  auto loaded = app::load_inject_options(o.settings);
  if (!loaded.ok()) return report(loaded.error());
  InjectOptions options = std::move(*loaded);
  options.explain = o.explain;
  InjectReport result;
  bool changed = false;
  if (!devices.empty() || options.guest_map) {
    RealFs fs;
    Registry registry(fs, *logger, options.registry);
    auto injected = adjust_config(*config, devices, registry, fs, *logger, options);
    if (!injected.ok()) return report(locate_config_error(injected.error(), source));
    result = std::move(*injected);
    changed = true;
  }
  std::string after = config->serialize(true);
  if (o.in_place && changed) {
    if (auto st = write_file_atomic(o.config, after); !st.ok()) return report(st.error());
  }
  std::string out;
  if (o.explain) {
    out = o.output == OutputFormat::json ? explain_json(result) : explain_text(result);
  } else if (o.diff) {
    out = unified_diff(before, after, "a/" + source, "b/" + source);
  } else if (!o.in_place) {
    out = after;
  }
  if (auto st = write_stdout(out); !st.ok()) return report(st.error());
  return kExitOk;
}

}  // namespace

void add_inject_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<InjectCmdOptions>();
  CLI::App* cmd = app.add_subcommand("inject", "Inject CDI devices into an OCI config and print the result");
  describe(
      cmd->add_option("--config", opts->config, "The OCI config.json to read, or - for stdin (required)")->required(),
      "FILE");
  describe(cmd->add_option("--device", opts->devices,
                           "A device to inject, by qualified name (vendor.com/class=name); without --device, the "
                           "devices of the config's cdi.k8s.io/ annotations")
               ->expected(1)
               ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll),
           "NAME", "", true);
  cmd->add_flag("--in-place", opts->in_place, "Rewrite the config file atomically instead of printing it");
  cmd->add_flag("--diff", opts->diff, "Print a unified diff of the config instead of the whole config");
  cmd->add_flag("--explain", opts->explain, "Print each edit with the device and spec file that made it");
  add_output_option(*cmd, opts->output);
  add_table_options(*cmd, app::kInject, opts->settings);
  cmd->callback([opts, &exit_code] { exit_code = run_inject(*opts); });
}

}  // namespace cdi::cli
