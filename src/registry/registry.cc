#include "registry/registry.h"

#include <sys/stat.h>

#include <algorithm>

#include "base/text.h"
#include "base/trust.h"
#include "spec/qualified_name.h"

namespace cdi {

namespace {
// A file changed this recently may change again within the same timestamp tick.
constexpr int64_t kRacyWindowNs = 1'000'000'000;
}  // namespace

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

std::string_view to_string(DefinitionStatus status) {
  switch (status) {
    case DefinitionStatus::ok:
      return "ok";
    case DefinitionStatus::shadowed:
      return "shadowed";
    case DefinitionStatus::conflict:
      return "conflict";
  }
  return "ok";
}

std::string_view to_string(SpecFileState::Status status) {
  switch (status) {
    case SpecFileState::Status::valid:
      return "valid";
    case SpecFileState::Status::invalid:
      return "invalid";
    case SpecFileState::Status::ignored:
      return "ignored";
    case SpecFileState::Status::unread:
      return "unread";
  }
  return "unread";
}

Result<std::vector<std::string>> list_spec_files(Fs& fs, const std::string& dir) {
  auto entries = fs.list_dir(dir);
  if (!entries.ok()) return std::move(entries).error();
  std::vector<std::string> names;
  for (auto& e : *entries) {
    if (codec::spec_format_for(e.name)) names.push_back(std::move(e.name));
  }
  return names;
}

void Registry::keep_files() { keep_files_ = true; }

bool Registry::want_kinds(const std::set<std::string>& kinds) {
  if (!kinds_) return false;
  size_t before = kinds_->size();
  kinds_->insert(kinds.begin(), kinds.end());
  if (kinds_->size() == before) return false;
  ++kinds_version_;
  return true;
}

void Registry::scan(const std::set<std::string>* kinds) {
  auto wanted = kinds ? std::optional(*kinds) : std::nullopt;
  if (wanted != kinds_) ++kinds_version_;
  kinds_ = std::move(wanted);
  DirtyPaths all;
  all.everything = true;
  scan_dirs(&all);
}

void Registry::refresh(const DirtyPaths& dirty) {
  fs_.forget_handles();  // a dir renamed over is seen anew
  if (!keep_files_) {
    DirtyPaths all;
    all.everything = true;
    return scan_dirs(&all);
  }
  scan_dirs(&dirty);
}

void Registry::scan_dirs(const DirtyPaths* dirty) {
  specs_.clear();
  problems_.clear();
  unparsed_.clear();
  definitions_.clear();
  const std::set<std::string>* kinds = kinds_ ? &*kinds_ : nullptr;
  dir_notes_.assign(options_.spec_dirs.size(), "");
  for (size_t i = 0; i < options_.spec_dirs.size(); ++i) {
    scan_dir(options_.spec_dirs[i], static_cast<int>(i), kinds, dirty);
  }
  index_.save();
  build_definitions();
  rechecks_ = 0;
  for (const auto& [dir, kept] : kept_) {
    for (const auto& [name, f] : kept.files) rechecks_ += f.recheck ? 1 : 0;
  }
}

void Registry::build_definitions() {
  for (const auto& spec : specs_) {
    for (const auto& d : spec->devices) {
      definitions_[spec->kind + "=" + d.name].push_back({{spec, &d}});
    }
  }
  for (auto& [name, defs] : definitions_) {
    std::stable_sort(defs.begin(), defs.end(), [](const DeviceDefinition& a, const DeviceDefinition& b) {
      return a.spec->priority > b.spec->priority;
    });
    // The same-priority conflict rule, in one place: resolve, list and validate read it.
    std::map<int, std::vector<std::string>> by_priority;
    for (const auto& d : defs) by_priority[d.spec->priority].push_back(d.spec->path);
    const std::vector<std::string>& top_files = by_priority[defs.front().spec->priority];
    for (auto& d : defs) {
      d.same_priority = by_priority[d.spec->priority];
      if (d.spec->priority < defs.front().spec->priority) {
        d.status = DefinitionStatus::shadowed;
        d.others = top_files;
      } else if (top_files.size() > 1) {
        d.status = DefinitionStatus::conflict;
        for (const auto& f : top_files) {
          if (f != d.spec->path) d.others.push_back(f);
        }
      }
    }
  }
}

std::vector<SpecFileState> Registry::files() const {
  std::vector<SpecFileState> out;
  for (size_t i = 0; i < options_.spec_dirs.size(); ++i) {
    auto dir = kept_.find(options_.spec_dirs[i]);
    if (dir == kept_.end()) continue;
    for (const auto& [name, f] : dir->second.files) {
      SpecFileState state;
      state.path = path_join(dir->first, name);
      state.priority = static_cast<int>(i);
      state.identity = f.identity;
      if (!f.specs.empty()) {
        state.status = SpecFileState::Status::valid;
        state.kind = f.specs.front()->kind;
      } else if (!f.problems.empty()) {
        const SpecProblem& p = f.problems.front();
        state.status = p.insecure ? SpecFileState::Status::ignored : SpecFileState::Status::invalid;
        state.kind = p.kind;
        if (!p.errors.empty()) state.problem = p.errors.front().to_string();
      }
      out.push_back(std::move(state));
    }
  }
  return out;
}

void Registry::add_problem(SpecProblem p) {
  if (!p.errors.empty()) {
    logger_.warn((p.is_dir ? "ignoring spec dir: " : "ignoring spec file: ") + p.errors.front().to_string());
  }
  problems_.push_back(std::move(p));
}

void Registry::scan_dir(const std::string& dir, int priority, const std::set<std::string>* kinds,
                        const DirtyPaths* dirty) {
  // The dir is judged on the handle its files are then opened through.
  auto facts = fs_.open_dir(dir, true);

  auto dir_problem = [&](Error e, bool insecure) {
    kept_.erase(dir);
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
      kept_.erase(dir);
      // A link to nothing is a mistake worth a warning; a missing dir is not.
      if (auto link = fs_.lstat(dir); link.ok() && link->is_symlink()) {
        auto target = fs_.read_link(dir);
        return dir_problem(
            Error("broken symbolic link" + (target.ok() ? " to " + quote(*target) : std::string())).in_file(dir),
            false);
      }
      logger_.debug("spec dir " + quote(dir) + " does not exist");
      dir_notes_[static_cast<size_t>(priority)] = "does not exist";
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
  if (keep_files_) return scan_kept_dir(dir, priority, kinds, st, dirty);
  // An unchanged dir has the names it had: the index keeps the last listing.
  std::vector<std::string> names;
  if (auto listed = index_.listing(dir, st)) {
    names = std::move(*listed);
  } else {
    auto listed_now = list_spec_files(fs_, dir);
    if (!listed_now.ok()) return dir_problem(Error(listed_now.error().message).in_file(dir), false);
    names = std::move(*listed_now);
    index_.record_listing(dir, st, names);
  }
  if (names.empty()) dir_notes_[static_cast<size_t>(priority)] = "no spec files";
  for (const auto& name : names) scan_file(dir, name, *codec::spec_format_for(name), priority, kinds);
  index_.retain(dir, names);
}

// A dir nothing touched since the last scan keeps its names and files; a
// touched one is listed again, and only its new, touched or rechecked files
// are looked at.
void Registry::scan_kept_dir(const std::string& dir, int priority, const std::set<std::string>* kinds,
                             const FileStat& st, const DirtyPaths* dirty) {
  KeptDir& kept = kept_[dir];
  const std::set<std::string>* touched = nullptr;
  if (dirty) {
    auto it = dirty->names.find(dir);
    if (it != dirty->names.end()) touched = &it->second;
  }
  bool everything = dirty == nullptr || dirty->everything || dirty->dirs.count(dir) > 0 || !kept.identity ||
                    kept.identity->dev != st.dev || kept.identity->ino != st.ino;
  bool untouched = !everything && !touched && same_identity(*kept.identity, st);
  std::vector<std::string> names;
  if (untouched) {
    for (const auto& [name, f] : kept.files) names.push_back(name);
  } else {
    auto listed = list_spec_files(fs_, dir);
    if (!listed.ok()) {
      kept_.erase(dir);
      SpecProblem p;
      p.path = dir;
      p.priority = priority;
      p.is_dir = true;
      p.errors.push_back(Error(listed.error().message).in_file(dir));
      return add_problem(std::move(p));
    }
    names = std::move(*listed);
    index_.retain(dir, names);
  }
  if (names.empty()) dir_notes_[static_cast<size_t>(priority)] = "no spec files";
  std::map<std::string, KeptFile> before = std::move(kept.files);
  kept.files.clear();
  kept.identity = st;
  for (const auto& name : names) {
    auto old = before.find(name);
    bool look = everything || old == before.end() || (touched && touched->count(name) > 0) || old->second.recheck;
    if (old != before.end()) kept.files.emplace(name, std::move(old->second));
    scan_kept_file(dir, name, *codec::spec_format_for(name), priority, kinds, look, kept);
  }
}

// A kept file whose identity is unchanged gives what it gave before, without
// a read; otherwise it is scanned, and what the scan gave is kept.
void Registry::scan_kept_file(const std::string& dir, const std::string& name, codec::SpecFormat format, int priority,
                              const std::set<std::string>* kinds, bool look, KeptDir& kept) {
  auto it = kept.files.find(name);
  KeptFile* old = it == kept.files.end() ? nullptr : &it->second;
  std::optional<FileStat> now;
  if (look) {
    auto st = fs_.stat_in(dir, name);
    if (st.ok()) now = *st;
  }
  if (old) {
    // A racy file is read again when looked at, even with the same identity: a
    // rewrite in the same timestamp tick keeps it (and raises the event that
    // makes it looked at).
    bool same = !look || (now && same_identity(old->identity, *now) && !old->racy);
    // A file skipped as another kind is read once the kinds it may hold changed.
    bool skipped = old->specs.empty() && old->problems.empty() && old->unparsed.empty();
    if (same && !(skipped && old->kinds_version != kinds_version_)) {
      for (const auto& spec : old->specs) specs_.push_back(spec);
      problems_.insert(problems_.end(), old->problems.begin(), old->problems.end());
      unparsed_.insert(unparsed_.end(), old->unparsed.begin(), old->unparsed.end());
      return;
    }
  }
  size_t specs_before = specs_.size(), problems_before = problems_.size(), unparsed_before = unparsed_.size();
  scan_file(dir, name, format, priority, kinds);
  KeptFile f;
  if (now) f.identity = *now;
  f.kinds_version = kinds_version_;
  // Changed within the timestamp window: read again when next looked at.
  // Reached through a link (whose target's dir is not watched): looked at on
  // every refresh.
  f.racy = !now || std::max(now->mtime_ns, now->ctime_ns) > fs_.now_ns() - kRacyWindowNs;
  auto link = fs_.lstat(path_join(dir, name));
  f.recheck = !now || (link.ok() && link->is_symlink());
  f.specs.assign(specs_.begin() + static_cast<std::ptrdiff_t>(specs_before), specs_.end());
  f.problems.assign(problems_.begin() + static_cast<std::ptrdiff_t>(problems_before), problems_.end());
  f.unparsed.assign(unparsed_.begin() + static_cast<std::ptrdiff_t>(unparsed_before), unparsed_.end());
  kept.files[name] = std::move(f);
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
  for (size_t i = 0; i < options_.spec_dirs.size(); ++i) {
    std::string note = i < dir_notes_.size() ? dir_notes_[i] : std::string();
    quoted.push_back(quote(options_.spec_dirs[i]) + (note.empty() ? "" : " (" + note + ")"));
  }
  return quoted.empty() ? "(no spec dirs)" : join(quoted, ", ");
}

Result<DeviceDefinition> Registry::resolve(std::string_view name) {
  auto context = [&] { return "unresolvable CDI device " + quote(name); };  // for errors only
  // Every key is a valid qualified name (spec checks validate the kind and
  // each device name before a spec is kept), so a name that is found needs no
  // parsing: only a missing one is parsed, for its error.
  auto it = definitions_.find(name);
  if (it != definitions_.end()) {
    const DefinitionEntry& top = it->second.front();
    if (top.status != DefinitionStatus::conflict) return static_cast<const DeviceDefinition&>(top);
    std::vector<std::string> files{quote(top.spec->path)};
    for (const auto& f : top.others) files.push_back(quote(f));
    return Error("conflicting definitions in " + join(files, " and ") + " (same spec dir)").with_context(context());
  }
  auto q = parse_qualified_name(name);
  if (!q.ok()) return std::move(q).error().of_kind(ErrorKind::invalid_request);
  return explain_missing(std::string(name), q->kind()).with_context(context()).of_kind(ErrorKind::not_found);
}

Error Resolution::error() const {
  Error e = errors.front();
  for (size_t i = 1; i < errors.size(); ++i) e.message += "; " + errors[i].to_string();
  return e;
}

Resolution Registry::resolve_all(const std::vector<std::string>& names) {
  Resolution r;
  r.devices.reserve(names.size());
  for (const auto& n : names) {
    auto def = resolve(n);
    if (def.ok()) {
      r.devices.push_back(std::move(*def));
    } else {
      r.errors.push_back(std::move(def).error().for_device(n));
    }
  }
  return r;
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
