// The NRI encoding of a spec's mounts and hooks, made once per spec and kept
// while the spec is in use: a spec is immutable (a changed file is a new Spec
// object), so the bytes a Mount or a Hook becomes in a ContainerAdjustment do
// not change either. Answering an 8-GPU request then copies 88 encoded
// entries (68 mounts, 20 hooks) instead of writing about 800 fields from the
// spec's scattered strings. Device nodes are not kept: their numbers and mode
// come from the host node, stat'ed for each request.
//
// The entries of a spec hold the spec itself (shared_ptr), so no other spec
// can take its address while they are kept. A spec only the entries still
// hold (its file changed or went) is dropped when another is added; beyond
// `max_specs`, the least recently used go first, never one the current
// request uses.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edits/edit_plan.h"
#include "nri/wire.h"

namespace cdi::nri {

// The fields of an NRI Mount and Hook message (nri_api.proto: Mount 1
// destination, 2 type, 3 source, 4 options; Hook 1 path, 2 args, 3 env, 4
// timeout as OptionalInt). The one place that maps them.
template <class Writer>
void write_mount_fields(Writer& w, const Mount& m) {
  w.string(1, m.container_path);
  w.string(2, m.type);
  w.string(3, m.host_path);
  for (const auto& o : m.options) w.element(4, o);
}

template <class Writer>
void write_hook_fields(Writer& w, const Hook& h) {
  w.string(1, h.path);
  for (const auto& a : h.args) w.element(2, a);
  for (const auto& e : h.env) w.element(3, e);
  if (h.timeout) w.wrapped(4, static_cast<uint64_t>(*h.timeout));
}

class EncodedEdits {
 public:
  explicit EncodedEdits(size_t max_specs = 64) : max_specs_(max_specs) {}
  EncodedEdits(const EncodedEdits&) = delete;  // last_ points into entries_
  EncodedEdits& operator=(const EncodedEdits&) = delete;

  // Before a plan's edits are looked up: encodes the specs not kept yet (the
  // plan's own, which keep its edits alive) and marks them used.
  void use(const std::vector<std::shared_ptr<const Spec>>& specs);
  // The encoded message of a planned mount or hook; a null view (data() ==
  // nullptr) when its spec was not passed to use(). Valid until the next use().
  std::string_view mount(const PlannedMount& m) const;
  std::string_view hook(const PlannedHook& h) const;

  size_t specs_kept() const { return entries_.size(); }

 private:
  struct Span {
    uint32_t at;
    uint32_t size;
  };
  // One spec's encodings. Sources are numbered as in the spec: 0 the
  // spec-level edits, 1 + i device i; item k of source s is
  // mounts[first_mount[s] + k] (hooks likewise).
  struct Entry {
    std::shared_ptr<const Spec> spec;
    std::string bytes;
    std::vector<Span> mounts, hooks;
    std::vector<uint32_t> first_mount, first_hook;
    uint64_t used = 0;
  };

  static Entry encode(std::shared_ptr<const Spec> spec);
  const Entry* find(const Spec* spec) const;
  static size_t source_of(const EditSource& s);
  static std::string_view view(const Entry& e, const std::vector<Span>& spans, const std::vector<uint32_t>& first,
                               const EditOrigin& origin);

  size_t max_specs_;
  uint64_t clock_ = 0;
  std::vector<Entry> entries_;
  mutable const Entry* last_ = nullptr;  // the entry found last (a request's edits come spec by spec)
};

}  // namespace cdi::nri
