#include "spec/spec_check.h"

#include <algorithm>
#include <set>

#include "base/text.h"
#include "base/trust.h"
#include "spec/spec_schema.h"

namespace cdi {

namespace {

bool covered_by(const std::string& field, const std::vector<Error>& earlier) {
  for (const auto& e : earlier) {
    if (field == e.field || field.starts_with(e.field + ".") || field.starts_with(e.field + "[")) return true;
  }
  return false;
}

// With --strict: each device node's host node exists and is one, unless the
// node gives its type and numbers (then injection needs no host node either).
void check_host_nodes(Fs& fs, const ContainerEdits& edits, const std::string& field, std::vector<Error>& out) {
  for (size_t i = 0; i < edits.device_nodes.size(); ++i) {
    const DeviceNode& n = edits.device_nodes[i];
    if (n.complete()) continue;
    std::string host = n.host_path.empty() ? n.path : n.host_path;
    std::string f = field + ".deviceNodes[" + std::to_string(i) + "]" + (n.host_path.empty() ? ".path" : ".hostPath");
    auto st = fs.stat(host);
    std::string problem;
    if (!st.ok()) {
      problem = "host device " + quote(host) + " does not exist";
    } else if (!st->is_char_device() && !st->is_block_device() && !st->is_fifo()) {
      problem = "host path " + quote(host) + " is not a device node";
    }
    if (problem.empty()) continue;
    Error e(problem);
    e.field = f;
    out.push_back(std::move(e));
  }
}

void sort_by_position(std::vector<Error>& errors) {
  std::stable_sort(errors.begin(), errors.end(), [](const Error& a, const Error& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
}

// Positions cost nothing until a problem is found: then the fields named by
// problems and warnings (and every device name, for validate's cross-file
// conflicts) are found again in the tape.
void locate(const codec::Tape& tape, SpecCheckResult& r) {
  std::set<std::string> fields;
  for (const auto* list : {&r.problems, &r.warnings}) {
    for (const auto& e : *list) {
      if (e.line == 0 && !e.field.empty()) fields.insert(e.field);
    }
  }
  for (size_t i = 0; i < r.spec->devices.size(); ++i) fields.insert("devices[" + std::to_string(i) + "].name");
  r.spec->positions = codec::locate_fields(tape, fields);
  for (auto* list : {&r.problems, &r.warnings}) {
    for (auto& e : *list) {
      auto it = e.line == 0 ? r.spec->positions.find(e.field) : r.spec->positions.end();
      if (it != r.spec->positions.end()) e.at(it->second.line, it->second.column);
    }
  }
}

}  // namespace

SpecCheckResult check_spec_bytes(Fs& fs, const std::string& path, std::string_view bytes, codec::SpecFormat format,
                                 const SpecCheckOptions& options) {
  SpecCheckResult r;
  r.path = path;
  auto tape = codec::spec_tape(bytes, format);
  std::vector<Error> decode_problems;
  // Forms read as the reference reads them but ambiguous to a person are
  // worth a word with --strict.
  codec::DecodeOptions decode{false, &decode_problems, options.strict ? &r.warnings : nullptr};
  auto spec = tape.ok() ? codec::decode_spec(*tape, decode) : Result<Spec>(tape.error());
  if (!spec.ok()) {
    r.problems.push_back(std::move(spec).error());
  } else {
    r.spec = std::move(*spec);
    r.problems = std::move(decode_problems);
    ValidateOptions vo;
    vo.strict = options.strict;
    std::vector<Error> later = validate_spec(*r.spec, vo, &r.warnings);
    check_spec_schema(*r.spec, later);
    if (options.strict) {
      check_host_nodes(fs, r.spec->edits, "containerEdits", later);
      for (size_t i = 0; i < r.spec->devices.size(); ++i) {
        check_host_nodes(fs, r.spec->devices[i].edits, "devices[" + std::to_string(i) + "].containerEdits", later);
      }
    }
    std::vector<Error> kept;
    for (auto& e : later) {
      if (covered_by(e.field, r.problems) || covered_by(e.field, kept)) continue;
      kept.push_back(std::move(e));
    }
    for (auto& e : kept) r.problems.push_back(std::move(e));
    locate(*tape, r);
  }
  for (auto* list : {&r.problems, &r.warnings}) {
    for (auto& e : *list) e.in_file(path, e.line, e.column);
    sort_by_position(*list);
  }
  return r;
}

SpecCheckResult check_spec_file(Fs& fs, const std::string& path, const SpecCheckOptions& options) {
  auto fail = [&](Error e) {
    SpecCheckResult r;
    r.path = path;
    e.in_file(path);
    r.problems.push_back(std::move(e));
    return r;
  };
  auto format = codec::spec_format_for(path_basename(path));
  if (!format) return fail(Error("not a spec file name: runtimes read only names ending in .json or .yaml"));
  // Judged on the descriptor that is read, as the registry does (base/trust.h).
  DirJudge judge = [&](const FileFacts& f) {
    return options.check_permissions ? insecure_reason(f, fs.euid()) : std::string();
  };
  auto opened = fs.read_in(path_dirname(path), path_basename(path), codec::kMaxSpecFileBytes, &judge);
  if (!opened.ok()) return fail(Error(opened.error().message));
  std::string why = opened->untrusted_dir.empty()
                        ? judge(opened->file)
                        : "reached through " + quote(opened->untrusted_dir) + ", which is " + opened->untrusted_reason;
  if (!why.empty()) return fail(Error("spec file is " + why + ": runtimes that check permissions ignore it"));
  return check_spec_bytes(fs, path, opened->bytes, *format, options);
}

}  // namespace cdi
