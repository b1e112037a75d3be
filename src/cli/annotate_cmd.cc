// cdi-hook annotate NAME...: the cdi.k8s.io/ annotation that requests exactly
// these devices, as one line KEY=VALUE (or JSON). The key is a valid Kubernetes
// annotation key; by default it is derived from the device list, so the same
// set always gets the same key.
#include <algorithm>
#include <memory>

#include "base/hash.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "spec/annotations.h"

namespace cdi::cli {

namespace {

struct AnnotateOptions {
  std::vector<std::string> devices;
  std::string plugin = "cdi-hook";
  std::string device_id;
  OutputFormat output = OutputFormat::text;
};

// The devices sorted, each once: the same set gives the same key in any order.
std::string device_set(std::vector<std::string> devices) {
  std::sort(devices.begin(), devices.end());
  devices.erase(std::unique(devices.begin(), devices.end()), devices.end());
  return join(devices, ",");
}

int run_annotate(const AnnotateOptions& o) {
  auto value = annotation_value(o.devices);
  if (!value.ok()) return report(value.error());
  auto key = annotation_key(o.plugin, o.device_id.empty() ? fnv1a64_hex(device_set(o.devices)) : o.device_id);
  if (!key.ok()) return report(key.error());
  std::string out;
  if (o.output == OutputFormat::json) {
    rapidjson::Document doc(rapidjson::kObjectType);
    doc.AddMember("key", json_str(*key, doc.GetAllocator()), doc.GetAllocator());
    doc.AddMember("value", json_str(*value, doc.GetAllocator()), doc.GetAllocator());
    out = json_text(doc);
  } else {
    out = *key + "=" + *value + "\n";
  }
  if (auto st = write_stdout(out); !st.ok()) return report(st.error());
  return kExitOk;
}

}  // namespace

void add_annotate_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<AnnotateOptions>();
  CLI::App* cmd = app.add_subcommand("annotate", "Print the cdi.k8s.io/ annotation that requests these devices");
  describe(cmd->add_option("DEVICE", opts->devices, "Qualified device names (vendor.com/class=name)")->required(), "");
  describe(cmd->add_option("--plugin", opts->plugin, "The plugin part of the key (vendor.device-type)"), "NAME",
           opts->plugin);
  describe(cmd->add_option("--device-id", opts->device_id,
                           "The device ID part of the key (default: a digest of the device set, the same for the "
                           "same devices in any order)"),
           "ID");
  add_output_option(*cmd, opts->output);
  cmd->callback([opts, &exit_code] { exit_code = run_annotate(*opts); });
}

}  // namespace cdi::cli
