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

namespace {

bool same_identity(const FileStat& a, const FileStat& b) {
  return a.dev == b.dev && a.ino == b.ino && a.size == b.size && a.mtime_ns == b.mtime_ns && a.ctime_ns == b.ctime_ns;
}

// A mapping with a top-level cdiVersion or kind: a document meant as a spec,
// whose errors may quote it. Anything else (a root-only file linked into a
// spec dir, say) is never quoted.
bool looks_like_spec(const codec::Tape& tape) {
  const auto& ev = tape.events;
  if (ev.empty() || ev[0].type != codec::EventType::map_start) return false;
  size_t depth = 0;
  bool at_key = true;
  for (size_t i = 1; i < ev.size(); ++i) {
    const codec::Event& e = ev[i];
    if (e.type == codec::EventType::scalar) {
      if (depth == 0) {
        if (at_key && (tape.text(e) == "cdiVersion" || tape.text(e) == "kind")) return true;
        at_key = !at_key;
      }
    } else if (e.type == codec::EventType::map_start || e.type == codec::EventType::seq_start) {
      ++depth;
    } else {
      if (depth == 0) return false;  // the end of the top-level mapping
      if (--depth == 0) at_key = !at_key;
    }
  }
  return false;
}

// The spec a tape holds. Decode errors quote keys and values, so for a
// document that is not recognisably a spec they give way to one line that
// quotes nothing. (Reader errors are fixed texts with a position.)
Result<Spec> decode(const Result<codec::Tape>& tape, const codec::DecodeOptions& options) {
  if (!tape.ok()) return tape.error();
  auto spec = codec::decode_spec(*tape, options);
  if (spec.ok() || looks_like_spec(*tape)) return spec;
  return Error("not a CDI spec: no cdiVersion or kind at the top level (its content is not shown)");
}

}  // namespace

Result<OpenedFile> Registry::read_spec(const std::string& dir, const std::string& name, std::string& why_untrusted) {
  DirJudge judge = [this](const FileFacts& f) {
    return options_.check_permissions ? cdi::insecure_reason(f, fs_.euid()) : std::string();
  };
  auto opened = fs_.read_in(dir, name, codec::kMaxSpecFileBytes, &judge);
  if (!opened.ok()) return opened;
  if (!opened->untrusted_dir.empty()) {
    why_untrusted = "reached through " + quote(opened->untrusted_dir) + ", which is " + opened->untrusted_reason;
  } else if (std::string why = judge(opened->file); !why.empty()) {
    why_untrusted = opened->via_symlink ? "a link to " + quote(opened->file.path) + ", which is " + why : why;
  }
  return opened;
}

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
  // The dir is judged on the handle its files are then opened through.
  auto facts = fs_.open_dir(dir, true);
  auto dir_problem = [&](Error e, bool insecure) {
    SpecProblem p;
    p.path = dir;
    p.priority = priority;
    p.is_dir = true;
    p.insecure = insecure;
    p.errors.push_back(std::move(e));
    add_problem(std::move(p));
  };
  if (!facts.ok()) {
    int err = facts.error().sys_errno;
    if (err == ENOENT) {
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
    if (err == ENOTDIR) return dir_problem(Error("not a directory").in_file(dir), false);
    return dir_problem(Error(facts.error().message).in_file(dir), false);
  }
  const FileStat& st = facts->st;
  if (options_.check_permissions) {
    if (auto why = cdi::insecure_reason(*facts, fs_.euid()); !why.empty()) {
      return dir_problem(Error("spec dir is " + why + "; it is ignored").in_file(dir), true);
    }
  }
  // An unchanged dir has the names it had: the index keeps the last listing.
  std::vector<std::string> names;
  if (auto listed = index_.listing(dir, st)) {
    names = std::move(*listed);
  } else {
    auto entries = fs_.list_dir(dir);
    if (!entries.ok()) return dir_problem(Error(entries.error().message).in_file(dir), false);
    for (auto& e : *entries) {
      if (codec::spec_format_for(e.name)) names.push_back(std::move(e.name));
    }
    index_.record_listing(dir, st, names);
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
  auto insecure = [&](const std::string& why) {
    unparsed_.push_back({dir, name, format, priority, true});
    file_problem(Error("spec file is " + why + "; it is ignored"), "", true);
  };
  auto wanted = [&](const std::string& kind) { return kinds == nullptr || kinds->count(kind) > 0; };
  // The stat by name only picks the files to read (through the kind index);
  // what is read is judged again on its own descriptor.
  auto st = fs_.stat_in(dir, name);
  if (!st.ok()) return file_problem(Error(st.error().message), "", false);
  if (!st->is_regular()) return file_problem(Error("not a regular file"), "", false);
  if (options_.check_permissions) {
    if (auto why = insecure_reason(*st); !why.empty()) return insecure(why);
  }
  std::optional<std::string> kind = index_.lookup(dir, name, *st);
  if (kind && !wanted(*kind)) {
    if (*kind == kNoKind) unparsed_.push_back({dir, name, format, priority, false});
    return;
  }

  std::string why_untrusted;
  auto opened = read_spec(dir, name, why_untrusted);
  if (!opened.ok()) return file_problem(Error(opened.error().message), kind && *kind != kNoKind ? *kind : "", false);
  if (!why_untrusted.empty()) return insecure(why_untrusted);
  const std::string& bytes = opened->bytes;
  // One parse: the kind (on an index miss, or when the file changed since its
  // stat) comes from the tape that is decoded when the kind is wanted.
  Result<codec::Tape> tape = codec::spec_tape(bytes, format);
  std::optional<Result<Spec>> parsed;
  codec::DecodeOptions decode_options{options_.record_positions};
  if (!kind || !same_identity(opened->file.st, *st)) {
    // A file broken after its kind line still belongs to that kind: ask the
    // streaming reader, which stops at the kind.
    codec::PeekedKind peek = tape.ok() ? codec::kind_from_tape(*tape) : codec::peek_spec_kind(bytes, format);
    if (peek.result == codec::KindPeek::found) {
      kind = peek.kind;
    } else {
      parsed = decode(tape, decode_options);
      kind = parsed->ok() ? (*parsed)->kind : std::string(kNoKind);
    }
    index_.record(dir, name, opened->file.st, *kind);
  }
  if (!wanted(*kind)) {
    if (*kind == kNoKind) unparsed_.push_back({dir, name, format, priority, false});
    return;
  }
  // The tape holds all that decoding needs: the bytes go before the spec is built.
  std::string().swap(opened->bytes);
  if (!parsed) parsed = decode(tape, decode_options);
  if (!parsed->ok()) return file_problem(std::move(*parsed).error(), *kind == kNoKind ? "" : *kind, false);
  Spec spec = std::move(**parsed);
  spec.path = path;
  spec.priority = priority;
  std::vector<Error> errors = validate_spec(spec, options_.validate);
  if (!errors.empty()) {
    // Positions are found only now, so a valid spec never pays for them.
    codec::locate_errors(*tape, errors);
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
  std::vector<Unparsed> unknowable;
  for (auto& u : unparsed_) {
    std::string path = path_join(u.dir, u.name);
    std::string why_untrusted;
    auto opened = read_spec(u.dir, u.name, why_untrusted);
    if (!opened.ok()) continue;
    if (u.insecure) {
      // Remember the kind, so that later calls for it name the file too (the
      // kind is only compared, never shown). Nothing is read through an
      // untrusted dir: such a file may be of any kind, and is named for each.
      bool readable = opened->untrusted_dir.empty();
      auto peek = codec::peek_spec_kind(opened->bytes, u.format);
      if (readable && peek.result != codec::KindPeek::found) continue;
      for (size_t i = 0; i < problems_.size(); ++i) {
        if (problems_[i].path != path) continue;
        if (readable) problems_[i].kind = peek.kind;
        if (!readable || peek.kind == kind) broken.push_back(i);
      }
      if (!readable) unknowable.push_back(std::move(u));
      continue;
    }
    if (!why_untrusted.empty()) continue;
    auto parsed = decode(codec::spec_tape(opened->bytes, u.format), {});
    if (parsed.ok()) continue;
    Error e = std::move(parsed).error();
    e.in_file(path, e.line, e.column);
    SpecProblem p;
    p.path = path;
    p.priority = u.priority;
    p.errors.push_back(std::move(e));
    problems_.push_back(std::move(p));
    broken.push_back(problems_.size() - 1);
  }
  unparsed_ = std::move(unknowable);
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
