// The spec registry over the spec directories: priority (later dirs win),
// same-priority conflicts, per-file errors that never hide good specs,
// permission checks, and lazy loading by kind through the kind index.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
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

struct DeviceDefinition {
  std::shared_ptr<const Spec> spec;
  const Device* device = nullptr;
  std::string qualified_name() const { return spec->kind + "=" + device->name; }
};

class Registry {
 public:
  Registry(Fs& fs, Logger& logger, RegistryOptions options);

  // Scans the dirs, parsing only the spec files of these kinds.
  void load(const std::set<std::string>& kinds);
  // Scans the dirs, parsing every spec file.
  void load_all();

  // The definition a qualified name resolves to, or an error saying why not:
  // a conflict, a missing kind or name, or the broken spec that would hold it.
  Result<DeviceDefinition> resolve(std::string_view name);

  const std::vector<std::shared_ptr<const Spec>>& specs() const { return specs_; }
  const std::vector<SpecProblem>& problems() const { return problems_; }
  // Every definition of each name, highest priority first; ties in file order.
  const std::map<std::string, std::vector<DeviceDefinition>>& definitions() const { return definitions_; }
  const RegistryOptions& options() const { return options_; }

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

  void scan(const std::set<std::string>* kinds);
  void scan_dir(const std::string& dir, int priority, const std::set<std::string>* kinds);
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
  std::map<std::string, std::vector<DeviceDefinition>> definitions_;
};

}  // namespace cdi
