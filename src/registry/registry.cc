#include "registry/registry.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/text.h"
#include "base/trust.h"
#include "spec/qualified_name.h"

namespace cdi {

std::vector<std::string> default_spec_dirs() { return {"/etc/cdi", "/var/run/cdi"}; }

Registry::Registry(Fs& fs, Logger& logger, RegistryOptions options)
    : fs_(fs), logger_(logger), options_(std::move(options)), index_(fs, logger, options_.cache_dir) {}

void Registry::load(const std::set<std::string>& kinds) { scan(&kinds); }
void Registry::load_all() { scan(nullptr); }

bool Registry::is_secure(const FileStat& st) const { return insecure_reason(st).empty(); }

std::string Registry::insecure_reason(const FileStat& st) const { return cdi::insecure_reason(st, fs_.euid()); }

void Registry::scan(const std::set<std::string>* kinds) {
  specs_.clear();
  problems_.clear();
  unparsed_.clear();
  definitions_.clear();
  for (size_t i = 0; i < options_.spec_dirs.size(); ++i) {
    scan_dir(options_.spec_dirs[i], static_cast<int>(i), kinds);
  }
  index_.save();
  for (const auto& spec : specs_) {
    for (const auto& d : spec->devices) {
      definitions_[spec->kind + "=" + d.name].push_back({spec, &d});
    }
  }
  for (auto& [name, defs] : definitions_) {
    std::stable_sort(defs.begin(), defs.end(), [](const DeviceDefinition& a, const DeviceDefinition& b) {
      return a.spec->priority > b.spec->priority;
    });
  }
}

void Registry::add_problem(SpecProblem p) {
  if (!p.errors.empty()) {
    logger_.warn((p.is_dir ? "ignoring spec dir: " : "ignoring spec file: ") + p.errors.front().to_string());
  }
  problems_.push_back(std::move(p));
}

void Registry::scan_dir(const std::string& dir, int priority, const std::set<std::string>* kinds) {
  auto st = fs_.stat(dir);
  auto dir_problem = [&](Error e, bool insecure) {
    SpecProblem p;
    p.path = dir;
    p.priority = priority;
    p.is_dir = true;
    p.insecure = insecure;
    p.errors.push_back(std::move(e));
    add_problem(std::move(p));
  };
  if (!st.ok()) {
    if (st.error().sys_errno == ENOENT) {
      // A link to nothing is a mistake worth a warning; a missing dir is not.
      if (auto link = fs_.lstat(dir); link.ok() && link->is_symlink()) {
        auto target = fs_.read_link(dir);
        return dir_problem(
            Error("broken symbolic link" + (target.ok() ? " to " + quote(*target) : std::string())).in_file(dir),
            false);
      }
      logger_.debug("spec dir " + quote(dir) + " does not exist");
      return;
    }
    return dir_problem(Error(st.error().message).in_file(dir), false);
  }
  if (!st->is_dir()) return dir_problem(Error("not a directory").in_file(dir), false);
  if (options_.check_permissions) {
    if (auto why = insecure_reason(*st); !why.empty()) {
      return dir_problem(Error("spec dir is " + why + "; it is ignored").in_file(dir), true);
    }
  }
  // An unchanged dir has the names it had: the index keeps the last listing.
  std::vector<std::string> names;
  if (auto listed = index_.listing(dir, *st)) {
    names = std::move(*listed);
  } else {
    auto entries = fs_.list_dir(dir);
    if (!entries.ok()) return dir_problem(Error(entries.error().message).in_file(dir), false);
    for (auto& e : *entries) {
      if (codec::spec_format_for(e.name)) names.push_back(std::move(e.name));
    }
    index_.record_listing(dir, *st, names);
  }
  for (const auto& name : names) scan_file(dir, name, *codec::spec_format_for(name), priority, kinds);
  index_.retain(dir, names);
}

void Registry::scan_file(const std::string& dir, const std::string& name, codec::SpecFormat format, int priority,
                         const std::set<std::string>* kinds) {
  std::string path = path_join(dir, name);
  auto file_problem = [&](Error e, std::string kind, bool insecure) {
    SpecProblem p;
    p.path = path;
    p.priority = priority;
    p.kind = std::move(kind);
    p.insecure = insecure;
    if (e.file.empty()) e.in_file(path, e.line, e.column);
    p.errors.push_back(std::move(e));
    add_problem(std::move(p));
  };
  auto st = fs_.stat_in(dir, name);
  if (!st.ok()) return file_problem(Error(st.error().message), "", false);
  if (!st->is_regular()) return file_problem(Error("not a regular file"), "", false);
  if (options_.check_permissions) {
    if (auto why = insecure_reason(*st); !why.empty()) {
      unparsed_.push_back({path, format, priority, true});
      return file_problem(Error("spec file is " + why + "; it is ignored"), "", true);
    }
  }

  // On an index miss the file is parsed once: its kind comes from the tape,
  // and the same tape is decoded when the kind is wanted.
  std::optional<std::string> kind = index_.lookup(dir, name, *st);
  std::optional<Result<codec::Tape>> tape;
  std::optional<Result<Spec>> parsed;
  codec::DecodeOptions decode{options_.record_positions};
  if (!kind) {
    auto read = fs_.read_file(path, codec::kMaxSpecFileBytes);
    if (!read.ok()) return file_problem(Error(read.error().message), "", false);
    tape = codec::spec_tape(*read, format);
    // A file broken after its kind line still belongs to that kind: ask the
    // streaming reader, which stops at the kind.
    codec::PeekedKind peek = tape->ok() ? codec::kind_from_tape(**tape) : codec::peek_spec_kind(*read, format);
    if (peek.result == codec::KindPeek::found) {
      kind = peek.kind;
    } else {
      parsed = tape->ok() ? codec::decode_spec(**tape, decode) : Result<Spec>(tape->error());
      kind = parsed->ok() ? (*parsed)->kind : std::string(kNoKind);
    }
    index_.record(dir, name, *st, *kind);
  }
  bool wanted = kinds == nullptr || kinds->count(*kind) > 0;
  if (!wanted) {
    if (*kind == kNoKind) unparsed_.push_back({path, format, priority, false});
    return;
  }
  if (!parsed) {
    if (tape) {
      parsed = tape->ok() ? codec::decode_spec(**tape, decode) : Result<Spec>(tape->error());
    } else {
      auto read = fs_.read_file(path, codec::kMaxSpecFileBytes);
      if (!read.ok()) return file_problem(Error(read.error().message), *kind, false);
      parsed = codec::parse_spec(*read, format, decode);
    }
  }
  if (!parsed->ok()) return file_problem(std::move(*parsed).error(), *kind == kNoKind ? "" : *kind, false);
  Spec spec = std::move(**parsed);
  spec.path = path;
  spec.priority = priority;
  std::vector<Error> errors = validate_spec(spec, options_.validate);
  if (!errors.empty()) {
    SpecProblem p;
    p.path = path;
    p.priority = priority;
    p.kind = spec.kind;
    for (auto& e : errors) e.in_file(path, e.line, e.column);
    p.errors = std::move(errors);
    return add_problem(std::move(p));
  }
  add_spec(std::move(spec));
}

void Registry::add_spec(Spec spec) {
  logger_.debug("loaded spec " + quote(spec.path) + " of kind " + quote(spec.kind));
  specs_.push_back(std::make_shared<const Spec>(std::move(spec)));
}

std::string Registry::dir_list() const {
  std::vector<std::string> quoted;
  for (const auto& d : options_.spec_dirs) quoted.push_back(quote(d));
  return quoted.empty() ? "(no spec dirs)" : join(quoted, ", ");
}

Result<DeviceDefinition> Registry::resolve(std::string_view name) {
  auto context = "unresolvable CDI device " + quote(name);
  auto q = parse_qualified_name(name);
  if (!q.ok()) return std::move(q).error();
  auto it = definitions_.find(std::string(name));
  if (it != definitions_.end()) {
    const auto& defs = it->second;
    int top = defs.front().spec->priority;
    std::vector<std::string> files;
    for (const auto& d : defs) {
      if (d.spec->priority == top) files.push_back(quote(d.spec->path));
    }
    if (files.size() == 1) return defs.front();
    return Error("conflicting definitions in " + join(files, " and ") + " (same spec dir)").with_context(context);
  }
  return explain_missing(std::string(name), q->kind()).with_context(context);
}

Error Registry::explain_missing(const std::string& name, const std::string& kind) {
  // A broken spec of the kind is the likeliest cause: report it, located.
  std::vector<size_t> broken;
  for (size_t i = 0; i < problems_.size(); ++i) {
    const auto& p = problems_[i];
    // Empty kind: unread. An ignored insecure file counts once its kind is known (below).
    if (!p.is_dir && (p.kind == kind || (p.kind.empty() && !p.insecure))) broken.push_back(i);
  }
  // Files whose kind could not be told (or that were ignored unread) may hold it.
  for (const auto& u : unparsed_) {
    auto bytes = fs_.read_file(u.path, codec::kMaxSpecFileBytes);
    if (!bytes.ok()) continue;
    if (u.insecure) {
      // Remember the kind, so that later calls for it name the file too.
      auto peek = codec::peek_spec_kind(*bytes, u.format);
      if (peek.result != codec::KindPeek::found) continue;
      for (size_t i = 0; i < problems_.size(); ++i) {
        if (problems_[i].path != u.path) continue;
        problems_[i].kind = peek.kind;
        if (peek.kind == kind) broken.push_back(i);
      }
      continue;
    }
    auto parsed = codec::parse_spec(*bytes, u.format);
    if (parsed.ok()) continue;
    Error e = std::move(parsed).error();
    e.in_file(u.path, e.line, e.column);
    SpecProblem p;
    p.path = u.path;
    p.priority = u.priority;
    p.errors.push_back(std::move(e));
    problems_.push_back(std::move(p));
    broken.push_back(problems_.size() - 1);
  }
  unparsed_.clear();
  if (!broken.empty()) {
    Error e = problems_[broken.front()].errors.front();
    if (broken.size() > 1) e.message += " (and " + std::to_string(broken.size() - 1) + " more unusable spec files)";
    return e;
  }
  std::vector<std::string> names;
  std::vector<std::string> files;
  for (const auto& spec : specs_) {
    if (spec->kind != kind) continue;
    files.push_back(quote(spec->path));
    for (const auto& d : spec->devices) {
      if (names.size() < 8) names.push_back(d.name);
    }
  }
  if (files.empty()) return Error("no spec of kind " + quote(kind) + " in " + dir_list());
  return Error("no device " + quote(name.substr(kind.size() + 1)) + " in " + join(files, ", ") + " (it has " +
               join(names, ", ") + (names.size() == 8 ? ", ..." : "") + ")");
}

}  // namespace cdi
