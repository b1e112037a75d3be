// The spec registry over the spec directories: priority (later dirs win),
// same-priority conflicts, per-file errors that never hide good specs,
// permission checks, and lazy loading by kind through the kind index. The
// caller owns it: a one-shot registry for one injection, or one kept fresh by
// a SpecCache (spec_cache.h), which re-reads only the files that changed.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/logger.h"
#include "registry/kind_index.h"
#include "spec/codec/spec_codec.h"
#include "spec/spec.h"

namespace cdi {

std::vector<std::string> default_spec_dirs();  // /etc/cdi, /var/run/cdi

struct RegistryOptions {
  std::vector<std::string> spec_dirs = default_spec_dirs();
  // Ignore spec files and dirs that users other than root and us can write.
  bool check_permissions = true;
  // Where the kind index lives; empty turns it off.
  std::string cache_dir;
  // Record field positions in each spec (validate wants them).
  bool record_positions = false;
  ValidateOptions validate;
};

// A spec file or directory that could not be used. Never stops the others.
struct SpecProblem {
  std::string path;
  int priority = 0;
  std::string kind;           // when known
  std::vector<Error> errors;  // every problem found; the first is the headline
  bool insecure = false;      // ignored for its permissions
  bool is_dir = false;
};

// How a definition stands against the other definitions of its name.
enum class DefinitionStatus {
  ok,        // the one a name resolves to
  shadowed,  // a higher-priority dir defines the name too
  conflict,  // another file of the same (highest) priority defines it too: the name is unusable
};
std::string_view to_string(DefinitionStatus status);

struct DeviceDefinition {
  std::shared_ptr<const Spec> spec;
  const Device* device = nullptr;
  DefinitionStatus status = DefinitionStatus::ok;
  std::string qualified_name() const { return spec->kind + "=" + device->name; }
};

// The registry's entry for a definition: the definition and the files it
// competes with (what list, validate and monitor show). A resolved
// definition is the DeviceDefinition alone, so that resolving copies no file
// names.
struct DefinitionEntry : DeviceDefinition {
  // shadowed: the files of the highest priority that define the name;
  // conflict: the other files of the same priority that define it.
  std::vector<std::string> others = {};
  // Every file of this definition's own priority that defines the name, in
  // scan order, itself included: more than one conflict with each other (at
  // the highest priority that makes the name unusable; below it, it is moot
  // until the files above go).
  std::vector<std::string> same_priority = {};
};

// Names resolved together, in the order asked.
struct Resolution {
  std::vector<DeviceDefinition> devices;  // the names that resolved
  std::vector<Error> errors;              // one per name that did not, naming the device
  bool complete() const { return errors.empty(); }
  // The one error of an incomplete resolution, so that one line names every
  // device that did not resolve: the first one's error (its file, field and
  // device kept), the others' one-line forms after it, each after "; ".
  Error error() const;
};

// What changed in the spec dirs since the last scan, as a watch saw it.
struct DirtyPaths {
  bool everything = false;                             // look at every file again (no watch, or events lost)
  std::set<std::string> dirs;                          // dirs to list again (a dir that appeared, vanished, moved)
  std::map<std::string, std::set<std::string>> names;  // dir -> spec-file names touched
  bool empty() const { return !everything && dirs.empty() && names.empty(); }
};

// A spec file as the last scan left it (kept files only: Registry::keep_files).
struct SpecFileState {
  enum class Status { valid, invalid, ignored, unread };  // ignored: untrusted; unread: another kind
  std::string path;
  int priority = 0;
  FileStat identity;
  Status status = Status::unread;
  std::string kind;     // when known
  std::string problem;  // the first problem of an invalid or ignored file
};
std::string_view to_string(SpecFileState::Status status);

// The spec-file names of a dir (.json and .yaml; sorted), as every scan lists them.
Result<std::vector<std::string>> list_spec_files(Fs& fs, const std::string& dir);

class Registry {
 public:
  Registry(Fs& fs, Logger& logger, RegistryOptions options);

  // Scans the dirs, parsing only the spec files of these kinds.
  void load(const std::set<std::string>& kinds);
  // Scans the dirs, parsing every spec file.
  void load_all();

  // Keeps what each file gave (its identity, spec or problems), so that
  // refresh() reads again only the files whose identity changed. A one-shot
  // registry does without (no extra stat, no copies).
  void keep_files();
  // Scans again for the kinds last loaded: each spec dir is stat'ed again; a
  // dir that changed or is named in `dirty` is listed again; a file is looked
  // at again when named in `dirty` (or `dirty.everything`), when it is new or
  // reached through a symbolic link, and read again only when its identity
  // changed or it had changed within a second of being read (a rewrite in the
  // same timestamp tick keeps the identity). Without kept files this is a
  // full scan.
  void refresh(const DirtyPaths& dirty);
  // Adds kinds to those loaded (no-op when all are); the files of the new
  // kinds are read by the next refresh. True when the set grew.
  bool want_kinds(const std::set<std::string>& kinds);
  // Whether some kept file is to be looked at on every refresh (reached
  // through a link, or it could not be stat'ed).
  bool has_rechecks() const { return rechecks_ > 0; }

  // The definition a qualified name resolves to, or an error saying why not:
  // a conflict, a missing kind or name, or the broken spec that would hold it.
  Result<DeviceDefinition> resolve(std::string_view name);
  // resolve() for each name, in order.
  Resolution resolve_all(const std::vector<std::string>& names);

  const std::vector<std::shared_ptr<const Spec>>& specs() const { return specs_; }
  const std::vector<SpecProblem>& problems() const { return problems_; }
  // Every definition of each name, highest priority first; ties in file order;
  // each with its status.
  const std::map<std::string, std::vector<DefinitionEntry>, std::less<>>& definitions() const { return definitions_; }
  const RegistryOptions& options() const { return options_; }
  // Every spec file the last scan looked at, in scan order (kept files only).
  std::vector<SpecFileState> files() const;

  // Whether a file or dir with this stat may be trusted.
  bool is_secure(const FileStat& st) const;

 private:
  struct Unparsed {  // a file whose kind is unknown or that was skipped unread
    std::string dir;
    std::string name;
    codec::SpecFormat format;
    int priority;
    bool insecure;
  };

  // What one spec file gave a scan, kept between scans.
  struct KeptFile {
    FileStat identity;           // stat before the read
    bool racy = false;           // changed within a second of its read: read again when looked at
    bool recheck = false;        // looked at on every refresh: reached through a link, or not stat'able
    uint64_t kinds_version = 0;  // of the kinds it was scanned for
    std::vector<std::shared_ptr<const Spec>> specs;
    std::vector<SpecProblem> problems;
    std::vector<Unparsed> unparsed;
  };
  struct KeptDir {
    std::optional<FileStat> identity;  // unset: the dir was not usable
    std::map<std::string, KeptFile> files;
  };

  void scan(const std::set<std::string>* kinds);
  void scan_dirs(const DirtyPaths* dirty);
  void scan_dir(const std::string& dir, int priority, const std::set<std::string>* kinds, const DirtyPaths* dirty);
  void scan_kept_dir(const std::string& dir, int priority, const std::set<std::string>* kinds, const FileStat& st,
                     const DirtyPaths* dirty);
  void scan_kept_file(const std::string& dir, const std::string& name, codec::SpecFormat format, int priority,
                      const std::set<std::string>* kinds, bool look, KeptDir& kept);
  void build_definitions();
  void scan_file(const std::string& dir, const std::string& name, codec::SpecFormat format, int priority,
                 const std::set<std::string>* kinds);
  void add_spec(Spec spec);
  void add_problem(SpecProblem p);
  std::string insecure_reason(const FileStat& st) const;
  // dir/name opened once and read from that descriptor; `why_untrusted` is set
  // when the file, or a dir on its link's way, is not trusted (the bytes are
  // then an untrusted file's, to peek its kind at most, or none when a dir failed).
  Result<OpenedFile> read_spec(const std::string& dir, const std::string& name, std::string& why_untrusted);
  Error explain_missing(const std::string& name, const std::string& kind);
  std::string dir_list() const;

  Fs& fs_;
  Logger& logger_;
  RegistryOptions options_;
  KindIndex index_;
  std::vector<std::shared_ptr<const Spec>> specs_;
  std::vector<SpecProblem> problems_;
  std::vector<Unparsed> unparsed_;
  std::map<std::string, std::vector<DefinitionEntry>, std::less<>> definitions_;  // looked up by string_view
  std::optional<std::set<std::string>> kinds_;  // what the last load asked for; unset: all
  uint64_t kinds_version_ = 0;                  // changes whenever kinds_ does
  size_t rechecks_ = 0;                         // kept files with recheck set
  bool keep_files_ = false;
  std::map<std::string, KeptDir> kept_;  // by spec dir
  // Per spec dir, what an error about a missing kind should say of it: "does not exist", "no spec files".
  std::vector<std::string> dir_notes_;
};

}  // namespace cdi
