// cdi-hook list: the devices a node offers, by qualified name, with the file
// each comes from, its spec dir priority, shadowed and conflicting definitions
// and the per-file errors; --vendors, --classes and --specs views.
#include <map>
#include <memory>
#include <set>

#include "app/options.h"
#include "base/fs.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "registry/registry.h"
#include "spec/qualified_name.h"

namespace cdi::cli {

namespace {

struct ListOptions {
  app::Settings settings;
  bool vendors = false;
  bool classes = false;
  bool specs = false;
  OutputFormat output = OutputFormat::text;
};

// One definition of a device name and how it stands against the others.
struct Row {
  std::string name;
  const Spec* spec;
  std::string status;  // ok, conflict, shadowed
  std::vector<std::string> others;
};

// Each definition with the status the registry gave it.
std::vector<Row> rows_of(const Registry& r) {
  std::vector<Row> rows;
  for (const auto& [name, defs] : r.definitions()) {
    for (const auto& d : defs) rows.push_back({name, d.spec.get(), std::string(to_string(d.status)), d.others});
  }
  return rows;
}

std::string status_text(const Row& row) {
  std::vector<std::string> others;
  for (const auto& f : row.others) others.push_back(quote_if_needed(f));
  if (row.status == "shadowed") return "shadowed by " + join(others, ", ");
  if (row.status == "conflict") return "conflict with " + join(others, ", ") + " (unusable)";
  return "ok";
}

std::string table(const std::vector<std::vector<std::string>>& cells) {
  std::vector<size_t> width;
  for (const auto& row : cells) {
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::set<std::string> names_of(const Registry& r, bool vendor) {
  std::set<std::string> out;
  for (const auto& s : r.specs()) {
    auto k = split_qualified_name(s->kind + "=x");
    out.insert(vendor ? k.vendor : k.device_class);
  }
  return out;
}

std::string problems_text(const Registry& r) {
  if (r.problems().empty()) return {};
  std::string out = "\nProblems:\n";
  for (const auto& p : r.problems()) {
    for (const auto& e : p.errors) out += "  " + e.located() + "\n";
  }
  return out;
}

std::string print_text(const Registry& r, const ListOptions& o) {
  if (o.vendors || o.classes) {
    std::string out;
    for (const auto& n : names_of(r, o.vendors)) out += n + "\n";
    return out;
  }
  std::vector<std::vector<std::string>> cells;
  if (o.specs) {
    cells.push_back({"SPEC FILE", "PRIORITY", "KIND", "CDIVERSION", "DEVICES"});
    for (const auto& s : r.specs()) {
      cells.push_back({quote_if_needed(s->path), std::to_string(s->priority), s->kind, s->version,
                       std::to_string(s->devices.size())});
    }
  } else {
    cells.push_back({"DEVICE", "SPEC FILE", "PRIORITY", "STATUS"});
    for (const auto& row : rows_of(r)) {
      cells.push_back(
          {row.name, quote_if_needed(row.spec->path), std::to_string(row.spec->priority), status_text(row)});
    }
  }
  return table(cells) + problems_text(r);
}

rapidjson::Value strings_json(const std::vector<std::string>& items, rapidjson::Document::AllocatorType& a) {
  rapidjson::Value arr(rapidjson::kArrayType);
  for (const auto& i : items) arr.PushBack(json_str(i, a), a);
  return arr;
}

std::string print_json(const Registry& r, const ListOptions& o) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  if (o.vendors || o.classes) {
    auto names = names_of(r, o.vendors);
    doc.AddMember(rapidjson::StringRef(o.vendors ? "vendors" : "classes"),
                  strings_json(std::vector<std::string>(names.begin(), names.end()), a), a);
    return json_text(doc);
  }
  rapidjson::Value dirs(rapidjson::kArrayType);
  for (size_t i = 0; i < r.options().spec_dirs.size(); ++i) {
    rapidjson::Value d(rapidjson::kObjectType);
    d.AddMember("path", json_str(r.options().spec_dirs[i], a), a);
    d.AddMember("priority", static_cast<int>(i), a);
    dirs.PushBack(d, a);
  }
  doc.AddMember("specDirs", dirs, a);
  rapidjson::Value specs(rapidjson::kArrayType);
  for (const auto& s : r.specs()) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("path", json_str(s->path, a), a);
    v.AddMember("priority", s->priority, a);
    v.AddMember("kind", json_str(s->kind, a), a);
    v.AddMember("cdiVersion", json_str(s->version, a), a);
    std::vector<std::string> names;
    for (const auto& d : s->devices) names.push_back(d.name);
    v.AddMember("devices", strings_json(names, a), a);
    specs.PushBack(v, a);
  }
  doc.AddMember("specs", specs, a);
  if (!o.specs) {
    rapidjson::Value devices(rapidjson::kArrayType);
    for (const auto& row : rows_of(r)) {
      auto q = split_qualified_name(row.name);
      rapidjson::Value v(rapidjson::kObjectType);
      v.AddMember("name", json_str(row.name, a), a);
      v.AddMember("vendor", json_str(q.vendor, a), a);
      v.AddMember("class", json_str(q.device_class, a), a);
      v.AddMember("device", json_str(q.name, a), a);
      v.AddMember("spec", json_str(row.spec->path, a), a);
      v.AddMember("priority", row.spec->priority, a);
      v.AddMember("status", json_str(row.status, a), a);
      v.AddMember(rapidjson::StringRef(row.status == "shadowed" ? "shadowedBy" : "conflictsWith"),
                  strings_json(row.others, a), a);
      devices.PushBack(v, a);
    }
    doc.AddMember("devices", devices, a);
  }
  rapidjson::Value problems(rapidjson::kArrayType);
  for (const auto& p : r.problems()) {
    rapidjson::Value v(rapidjson::kObjectType);
    v.AddMember("path", json_str(p.path, a), a);
    v.AddMember("priority", p.priority, a);
    if (!p.kind.empty()) v.AddMember("kind", json_str(p.kind, a), a);
    v.AddMember("directory", p.is_dir, a);
    v.AddMember("ignoredForPermissions", p.insecure, a);
    rapidjson::Value errors(rapidjson::kArrayType);
    for (const auto& e : p.errors) errors.PushBack(error_json(e, a), a);
    v.AddMember("errors", errors, a);
    problems.PushBack(v, a);
  }
  doc.AddMember("problems", problems, a);
  return json_text(doc);
}

int run_list(const ListOptions& o) {
  if (static_cast<int>(o.vendors) + static_cast<int>(o.classes) + static_cast<int>(o.specs) > 1) {
    return usage("--vendors, --classes and --specs exclude each other");
  }
  RealFs fs;
  // Problems are part of the output; the log has what else happened (at debug).
  auto logger = make_logger(o.settings, LogLevel::off);
  RegistryOptions ro;
  if (!o.settings.spec_dirs.empty()) ro.spec_dirs = o.settings.spec_dirs;
  ro.check_permissions = !o.settings.allow_insecure_specs;
  if (auto none = no_spec_dir_exists(fs, ro.spec_dirs); !none.empty()) print_stderr(none + ": no devices to list");
  Registry registry(fs, *logger, ro);
  registry.load_all();
  auto st = write_stdout(o.output == OutputFormat::json ? print_json(registry, o) : print_text(registry, o));
  if (!st.ok()) return report(st.error());
  return kExitOk;
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ListOptions>();
  CLI::App* cmd = app.add_subcommand("list", "List the CDI devices the spec dirs offer, with their spec files");
  add_table_options(*cmd, app::kList, opts->settings);
  cmd->add_flag("--vendors", opts->vendors, "List the vendors only");
  cmd->add_flag("--classes", opts->classes, "List the device classes only");
  cmd->add_flag("--specs", opts->specs, "List the spec files instead of the devices");
  add_output_option(*cmd, opts->output);
  cmd->callback([opts, &exit_code] { exit_code = run_list(*opts); });
}

}  // namespace cdi::cli
