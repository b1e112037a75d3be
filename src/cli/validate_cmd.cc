// cdi-hook validate [PATH...]: checks spec files (or the spec files of dirs;
// default the spec dirs) and prints every problem as
// "file:line:column: field.path: message". Exit 1 when anything is invalid.
#include <algorithm>
#include <map>
#include <memory>
#include <tuple>

#include "app/options.h"
#include "base/fs.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/output.h"
#include "registry/registry.h"
#include "spec/codec/spec_codec.h"
#include "spec/spec_check.h"

namespace cdi::cli {

namespace {

struct ValidateOptions {
  std::vector<std::string> paths;
  app::Settings settings;  // --spec-dir, --allow-insecure-specs, --log-level
  bool strict = false;
  OutputFormat output = OutputFormat::text;
};

struct Target {
  std::string path;
  int priority;  // position of its dir among the dirs given (files: their own)
  std::string dir;
};

// Expands dirs to their spec files (listed as the registry lists a spec
// dir); a missing default dir is not a problem.
std::vector<Target> expand(Fs& fs, const std::vector<std::string>& paths, bool defaults, std::vector<Error>& problems) {
  std::vector<Target> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string& p = paths[i];
    auto st = fs.stat(p);
    if (!st.ok()) {
      if (defaults && st.error().sys_errno == ENOENT) continue;
      problems.push_back(Error(st.error().message).in_file(p));
      continue;
    }
    if (!st->is_dir()) {
      out.push_back({p, static_cast<int>(i), ""});
      continue;
    }
    auto names = list_spec_files(fs, p);
    if (!names.ok()) {
      problems.push_back(Error(names.error().message).in_file(p));
      continue;
    }
    for (const auto& name : *names) out.push_back({path_join(p, name), static_cast<int>(i), p});
  }
  return out;
}

// Same-priority definitions of one name in two files, as the registry over
// the dirs given sees them: each file after the first is told.
void find_conflicts(Fs& fs, std::vector<SpecCheckResult>& results, const std::vector<Target>& targets,
                    bool check_permissions) {
  RegistryOptions ro;
  for (const auto& t : targets) {
    if (!t.dir.empty() && (ro.spec_dirs.empty() || ro.spec_dirs.back() != t.dir)) ro.spec_dirs.push_back(t.dir);
  }
  if (ro.spec_dirs.empty()) return;
  ro.check_permissions = check_permissions;
  ro.cache_dir = "";
  NullLogger quiet;  // the files' own problems are reported by their checks
  Registry registry(fs, quiet, ro);
  registry.load_all();
  std::map<std::string, size_t> result_of;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!targets[i].dir.empty()) result_of.emplace(results[i].path, i);
  }
  std::vector<std::tuple<size_t, size_t, Error>> found;  // result, device index, problem
  for (const auto& [name, defs] : registry.definitions()) {
    for (const auto& d : defs) {
      if (d.same_priority.size() < 2 || d.same_priority.front() == d.spec->path) continue;
      auto it = result_of.find(d.spec->path);
      if (it == result_of.end() || !results[it->second].spec) continue;
      size_t index = static_cast<size_t>(d.device - d.spec->devices.data());
      Error e("device " + quote(name) + " is also defined in " + quote(d.same_priority.front()) +
              " (same spec dir): runtimes can use neither definition");
      e.field = "devices[" + std::to_string(index) + "].name";
      const auto& positions = results[it->second].spec->positions;
      auto pos = positions.find(e.field);
      if (pos != positions.end()) e.at(pos->second.line, pos->second.column);
      e.in_file(d.spec->path, e.line, e.column);
      found.emplace_back(it->second, index, std::move(e));
    }
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::tie(std::get<0>(a), std::get<1>(a)) < std::tie(std::get<0>(b), std::get<1>(b));
  });
  for (auto& [i, index, e] : found) results[i].problems.push_back(std::move(e));
}

// Problems and warnings of one file in line order; a warning says so.
std::string problem_lines(const SpecCheckResult& r) {
  std::vector<std::pair<const Error*, bool>> all;
  for (const auto& e : r.problems) all.emplace_back(&e, false);
  for (const auto& e : r.warnings) all.emplace_back(&e, true);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first->line, a.first->column) < std::pair(b.first->line, b.first->column);
  });
  std::string out;
  for (const auto& [e, warning] : all) {
    if (!warning) {
      out += e->located() + "\n";
      continue;
    }
    Error w = *e;
    w.message = "warning: " + w.message;
    out += w.located() + "\n";
  }
  return out;
}

int print_text(const std::vector<SpecCheckResult>& results, const std::vector<Error>& general) {
  std::string out;
  size_t invalid = 0;
  for (const auto& e : general) out += e.located() + "\n";
  for (const auto& r : results) {
    out += problem_lines(r);
    if (r.valid()) {
      out += quote_if_needed(r.path) + ": valid (kind " + r.spec->kind + ", cdiVersion " + r.spec->version + ", " +
             std::to_string(r.spec->devices.size()) + (r.spec->devices.size() == 1 ? " device)\n" : " devices)\n");
      continue;
    }
    ++invalid;
  }
  (void)write_stdout(out);
  return invalid == 0 && general.empty() ? kExitOk : kExitFailure;
}

int print_json(const std::vector<SpecCheckResult>& results, const std::vector<Error>& general) {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  bool all_valid = general.empty();
  rapidjson::Value files(rapidjson::kArrayType);
  for (const auto& r : results) {
    all_valid = all_valid && r.valid();
    rapidjson::Value f(rapidjson::kObjectType);
    f.AddMember("path", json_str(r.path, a), a);
    f.AddMember("valid", r.valid(), a);
    if (r.spec) {
      f.AddMember("kind", json_str(r.spec->kind, a), a);
      f.AddMember("cdiVersion", json_str(r.spec->version, a), a);
      rapidjson::Value devices(rapidjson::kArrayType);
      for (const auto& d : r.spec->devices) devices.PushBack(json_str(d.name, a), a);
      f.AddMember("devices", devices, a);
    }
    rapidjson::Value problems(rapidjson::kArrayType);
    for (const auto& e : r.problems) problems.PushBack(error_json(e, a), a);
    f.AddMember("problems", problems, a);
    rapidjson::Value warnings(rapidjson::kArrayType);
    for (const auto& e : r.warnings) warnings.PushBack(error_json(e, a), a);
    f.AddMember("warnings", warnings, a);
    files.PushBack(f, a);
  }
  rapidjson::Value errors(rapidjson::kArrayType);
  for (const auto& e : general) errors.PushBack(error_json(e, a), a);
  doc.AddMember("valid", all_valid, a);
  doc.AddMember("files", files, a);
  doc.AddMember("errors", errors, a);
  (void)write_stdout(json_text(doc));
  return all_valid ? kExitOk : kExitFailure;
}

int run_validate(const ValidateOptions& o) {
  if (!o.paths.empty() && !o.settings.spec_dirs.empty()) {
    return usage("give spec files and dirs as arguments or with --spec-dir, not both");
  }
  RealFs fs;
  auto logger = make_logger(o.settings);
  bool defaults = o.paths.empty() && o.settings.spec_dirs.empty();
  std::vector<std::string> paths = !o.paths.empty()                ? o.paths
                                   : !o.settings.spec_dirs.empty() ? o.settings.spec_dirs
                                                                   : default_spec_dirs();
  std::vector<Error> general;
  if (defaults) {
    if (auto none = no_spec_dir_exists(fs, paths); !none.empty())
      general.push_back(Error(none + ": nothing to validate"));
  }
  std::vector<Target> targets = expand(fs, paths, defaults, general);
  SpecCheckOptions check;
  check.strict = o.strict;
  check.check_permissions = !o.settings.allow_insecure_specs;
  std::vector<SpecCheckResult> results;
  for (const auto& t : targets) {
    logger->debug("checking " + quote(t.path));
    results.push_back(check_spec_file(fs, t.path, check));
  }
  find_conflicts(fs, results, targets, check.check_permissions);
  return o.output == OutputFormat::json ? print_json(results, general) : print_text(results, general);
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto opts = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Check CDI spec files (or the spec files of dirs; default /etc/cdi and /var/run/cdi)");
  describe(cmd->add_option("PATH", opts->paths, "Spec files or spec dirs (default: the spec dirs)"), "");
  cmd->add_flag("--strict", opts->strict,
                "Also apply the Kubernetes annotation-key rules, absolute paths, name length limits, "
                "permission strings without repeats, and require the host device nodes to exist");
  add_table_options(*cmd, app::kValidate, opts->settings);
  add_output_option(*cmd, opts->output);
  cmd->callback([opts, &exit_code] { exit_code = run_validate(*opts); });
}

}  // namespace cdi::cli
