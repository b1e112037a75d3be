// `cdi-hook monitor`: the spec dirs watched through the long-lived spec cache
// (registry/spec_cache.h), each change it reports told as events a person or a
// program reads: spec files added, changed, removed or made invalid (with every
// problem, file:line:column), devices that appeared, disappeared, became
// shadowed, conflicting, or usable again.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "base/logger.h"
#include "registry/registry.h"
#include "registry/spec_cache.h"

namespace cdi {

struct MonitorEvent {
  enum class Type {
    spec_added,
    spec_changed,
    spec_removed,
    spec_invalid,  // invalid, or ignored because users other than root can write it
    device_appeared,
    device_disappeared,
    device_shadowed,  // a higher-priority dir defines it now; `others` are the files it shadows
    device_conflict,  // files of the same priority define it: unusable; `others` are the other files
    device_ok,        // usable, from `spec` (after a conflict, or from another file than before)
  };
  Type type = Type::spec_added;
  std::string subject;              // the spec file's path, or the device's name
  std::string kind;                 // spec events: its kind, when known
  size_t devices = 0;               // spec_added, spec_changed: the devices it defines
  std::string spec;                 // device events: the file it comes from (disappeared: came from)
  std::vector<std::string> others;  // device_shadowed, device_conflict
  std::vector<Error> errors;        // spec_invalid: every problem
};

std::string_view event_name(MonitorEvent::Type type);  // "spec-added", "device-shadowed", ...

// What the events are told from: each spec file and each device name as the registry stands.
struct MonitorState {
  struct File {
    std::string kind;
    size_t devices = 0;
    bool usable = true;
    std::vector<Error> errors;
  };
  struct Name {
    DefinitionStatus status = DefinitionStatus::ok;
    std::string spec;                   // the top definition's file
    std::vector<std::string> others;    // conflict: the other files of its priority
    std::vector<std::string> shadowed;  // the files of lower priority that define the name
  };
  std::map<std::string, File> files;
  std::map<std::string, Name> names;
};
MonitorState monitor_state(const Registry& registry);

// The events of one refresh, from what it changed and the state before and after it.
std::vector<MonitorEvent> describe_changes(const SpecChanges& changes, const MonitorState& before,
                                           const MonitorState& after);

class SpecMonitor {
 public:
  // Scans every spec file of `options.spec_dirs` (recording positions, so that
  // every problem has its line and column) and starts watching them.
  static std::unique_ptr<SpecMonitor> create(Fs& fs, Logger& logger, RegistryOptions options,
                                             SpecCacheOptions cache_options = {});
  ~SpecMonitor();
  SpecMonitor(const SpecMonitor&) = delete;
  SpecMonitor& operator=(const SpecMonitor&) = delete;

  // Readable when the spec dirs changed; -1 without inotify: call changes() on a timer.
  int fd() const { return cache_->fd(); }
  // What changed since the last call; never blocks.
  std::vector<MonitorEvent> changes();
  const MonitorState& state() const { return state_; }
  const RegistryOptions& options() const { return registry_.options(); }

 private:
  SpecMonitor(Fs& fs, Logger& logger, RegistryOptions options);

  Registry registry_;
  std::unique_ptr<SpecCache> cache_;
  MonitorState state_;
};

}  // namespace cdi
