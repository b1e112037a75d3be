#include "registry/spec_cache.h"

#include <poll.h>

#include <algorithm>
#include <thread>

#include "base/text.h"
#include "spec/qualified_name.h"

namespace cdi {

// ---- snapshots ----------------------------------------------------------------------

bool SpecChanges::empty() const {
  return files_added.empty() && files_changed.empty() && files_removed.empty() && files_invalid.empty() &&
         devices_added.empty() && devices_removed.empty() && devices_changed.empty();
}

SpecSnapshot snapshot(const Registry& registry) {
  SpecSnapshot s;
  for (auto& f : registry.files()) s.files.emplace(f.path, std::move(f));
  for (const auto& [name, defs] : registry.definitions()) {
    const DefinitionEntry& top = defs.front();
    std::string status(to_string(top.status));
    status += " " + top.spec->path;
    for (const auto& o : top.others) status += " " + o;
    s.devices.emplace(name, std::move(status));
  }
  return s;
}

namespace {

bool same_file(const SpecFileState& a, const SpecFileState& b) {
  const FileStat &x = a.identity, &y = b.identity;
  return a.status == b.status && a.kind == b.kind && x.dev == y.dev && x.ino == y.ino && x.size == y.size &&
         x.mtime_ns == y.mtime_ns && x.ctime_ns == y.ctime_ns;
}

bool unusable(const SpecFileState& f) {
  return f.status == SpecFileState::Status::invalid || f.status == SpecFileState::Status::ignored;
}

// Walks two sorted maps side by side.
template <class Map, class OnOld, class OnNew, class OnBoth>
void merge_walk(const Map& before, const Map& after, OnOld on_old, OnNew on_new, OnBoth on_both) {
  auto a = before.begin(), b = after.begin();
  while (a != before.end() || b != after.end()) {
    if (b == after.end() || (a != before.end() && a->first < b->first)) {
      on_old(*a++);
    } else if (a == before.end() || b->first < a->first) {
      on_new(*b++);
    } else {
      on_both(*a++, *b++);
    }
  }
}

}  // namespace

SpecChanges diff(const SpecSnapshot& before, const SpecSnapshot& after) {
  SpecChanges c;
  merge_walk(
      before.files, after.files, [&](const auto& old) { c.files_removed.push_back(old.first); },
      [&](const auto& now) {
        c.files_added.push_back(now.first);
        if (unusable(now.second)) c.files_invalid.push_back(now.first);
      },
      [&](const auto& old, const auto& now) {
        if (same_file(old.second, now.second)) return;
        c.files_changed.push_back(now.first);
        if (unusable(now.second) && !unusable(old.second)) c.files_invalid.push_back(now.first);
      });
  merge_walk(
      before.devices, after.devices, [&](const auto& old) { c.devices_removed.push_back(old.first); },
      [&](const auto& now) { c.devices_added.push_back(now.first); },
      [&](const auto& old, const auto& now) {
        if (old.second != now.second) c.devices_changed.push_back(now.first);
      });
  return c;
}

// ---- the cache ----------------------------------------------------------------------

std::unique_ptr<SpecCache> SpecCache::create(Registry& registry, Logger& logger, SpecCacheOptions options) {
  std::unique_ptr<SpecCache> cache(new SpecCache(registry, logger, std::move(options)));
  auto watch = cache->options_.watch_factory(registry.options().spec_dirs, logger);
  if (watch.ok()) {
    cache->watch_ = std::move(*watch);
  } else {
    cache->lose_watch(watch.error());
  }
  // What the registry holds may predate the watch: look at everything once.
  cache->dirty_.everything = true;
  cache->refresh();
  return cache;
}

SpecCache::SpecCache(Registry& registry, Logger& logger, SpecCacheOptions options)
    : registry_(registry), logger_(logger), options_(std::move(options)) {
  if (!options_.watch_factory) options_.watch_factory = make_inotify_watch;
  registry_.keep_files();
}

SpecCache::~SpecCache() = default;

int SpecCache::fd() const { return watch_ ? watch_->fd() : -1; }

void SpecCache::lose_watch(const Error& why) {
  watch_.reset();
  logger_.info("cannot watch the spec dirs (" + why.to_string() + "): scanning them again every " +
               std::to_string(options_.rescan_interval.count()) + " ms instead");
}

bool SpecCache::collect() {
  if (watch_) {
    auto changed = watch_->drain(dirty_);
    if (!changed.ok()) lose_watch(changed.error());
  }
  if (!watch_) dirty_.everything = true;
  return !dirty_.empty() || registry_.has_rechecks();
}

SpecChanges SpecCache::refresh() {
  if (!collect()) return {};
  registry_.refresh(dirty_);
  dirty_ = {};
  if (!options_.track_changes) return {};
  SpecSnapshot now = snapshot(registry_);
  SpecChanges changes = diff(last_, now);
  last_ = std::move(now);
  return changes;
}

bool SpecCache::wait_for_change(Clock::time_point deadline) {
  auto left = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()); };
  if (left().count() <= 0) return false;
  if (!watch_) {
    std::this_thread::sleep_for(std::min(options_.rescan_interval, left()));
    return true;
  }
  for (;;) {
    auto ms = left().count();
    if (ms <= 0) return false;
    struct pollfd pfd {
      watch_->fd(), POLLIN, 0
    };
    int n = ::poll(&pfd, 1, static_cast<int>(std::min<long long>(ms + 1, 1 << 30)));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      lose_watch(system_error("poll inotify", errno));
      return true;
    }
    if (n == 0) continue;
    // A spec is often written in several steps, and files come in floods:
    // gather what follows for a moment, then look once.
    std::this_thread::sleep_for(std::max(std::chrono::milliseconds(0), std::min(options_.coalesce, left())));
    return true;
  }
}

Resolution SpecCache::resolve(const std::vector<std::string>& names, Clock::time_point deadline) {
  std::set<std::string> kinds;
  std::string_view last_kind;  // the text before '=' of the last valid name, which is its kind
  for (const auto& n : names) {
    std::string_view kind = std::string_view(n).substr(0, n.find('='));
    if (!last_kind.empty() && kind == last_kind) continue;  // names of one kind usually come together
    if (auto q = parse_qualified_name(n); q.ok()) {
      kinds.insert(q->kind());
      last_kind = kind;
    }
  }
  // Files skipped as other kinds are read once their kind is wanted.
  if (registry_.want_kinds(kinds)) dirty_.everything = true;
  refresh();
  Resolution r = registry_.resolve_all(names);
  while (!r.complete() && wait_for_change(deadline)) {
    if (!collect()) continue;  // nothing a scan would see differently
    registry_.refresh(dirty_);
    dirty_ = {};
    logger_.debug("spec dirs changed; looking again");
    r = registry_.resolve_all(names);
  }
  return r;
}

}  // namespace cdi
