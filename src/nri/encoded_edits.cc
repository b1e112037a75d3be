#include "nri/encoded_edits.h"

#include <algorithm>
#include <utility>

namespace cdi::nri {

namespace {

const ContainerEdits& edits_of(const Spec& spec, size_t source) {
  return source == 0 ? spec.edits : spec.devices[source - 1].edits;
}

}  // namespace

EncodedEdits::Entry EncodedEdits::encode(std::shared_ptr<const Spec> spec) {
  Entry e;
  size_t sources = spec->devices.size() + 1;
  e.first_mount.reserve(sources);
  e.first_hook.reserve(sources);
  {
    BasicWireWriter<wire::BufferOut> w{wire::BufferOut(e.bytes)};
    auto add = [&w](std::vector<Span>& spans, auto&& write) {
      size_t at = w.out().size();
      write(w);
      spans.push_back({static_cast<uint32_t>(at), static_cast<uint32_t>(w.out().size() - at)});
    };
    for (size_t s = 0; s < sources; ++s) {
      const ContainerEdits& edits = edits_of(*spec, s);
      e.first_mount.push_back(static_cast<uint32_t>(e.mounts.size()));
      for (const Mount& m : edits.mounts) add(e.mounts, [&m](auto& out) { write_mount_fields(out, m); });
      e.first_hook.push_back(static_cast<uint32_t>(e.hooks.size()));
      for (const Hook& h : edits.hooks) add(e.hooks, [&h](auto& out) { write_hook_fields(out, h); });
    }
    w.out().finish();
  }
  e.spec = std::move(spec);
  return e;
}

void EncodedEdits::use(const std::vector<std::shared_ptr<const Spec>>& specs) {
  uint64_t before = clock_;  // entries used after this belong to the request
  for (const auto& spec : specs) {
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.spec == spec; });
    if (it == entries_.end()) {
      last_ = nullptr;  // the entries move
      // Specs only these entries hold (the registry let them go) go first,
      // then the least recently used beyond max_specs; never one this request uses.
      entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                    [&](const Entry& e) { return e.used <= before && e.spec.use_count() == 1; }),
                     entries_.end());
      while (entries_.size() >= max_specs_) {
        auto oldest = std::min_element(entries_.begin(), entries_.end(),
                                       [](const Entry& a, const Entry& b) { return a.used < b.used; });
        if (oldest->used > before) break;
        entries_.erase(oldest);
      }
      entries_.push_back(encode(spec));
      it = entries_.end() - 1;
    }
    it->used = ++clock_;
  }
}

const EncodedEdits::Entry* EncodedEdits::find(const Spec* spec) const {
  if (last_ != nullptr && last_->spec.get() == spec) return last_;
  for (const Entry& e : entries_) {
    if (e.spec.get() == spec) return last_ = &e;
  }
  return nullptr;
}

size_t EncodedEdits::source_of(const EditSource& s) {
  return s.device == nullptr ? 0 : 1 + static_cast<size_t>(s.device - s.spec->devices.data());
}

std::string_view EncodedEdits::view(const Entry& e, const std::vector<Span>& spans, const std::vector<uint32_t>& first,
                                    const EditOrigin& origin) {
  size_t source = source_of(origin.source);
  if (source >= first.size()) return {};
  size_t item = first[source] + origin.index;
  if (item >= spans.size()) return {};
  return std::string_view(e.bytes).substr(spans[item].at, spans[item].size);
}

std::string_view EncodedEdits::mount(const PlannedMount& m) const {
  const Entry* e = find(m.origin.source.spec);
  return e ? view(*e, e->mounts, e->first_mount, m.origin) : std::string_view();
}

std::string_view EncodedEdits::hook(const PlannedHook& h) const {
  const Entry* e = find(h.origin.source.spec);
  return e ? view(*e, e->hooks, e->first_hook, h.origin) : std::string_view();
}

}  // namespace cdi::nri
