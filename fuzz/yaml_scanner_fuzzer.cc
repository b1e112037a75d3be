// The fast YAML reader against libyaml, event for event: whenever the fast
// path accepts an input, libyaml must accept it too and give the same tape
// (type, style, text, tag, line and column of every event; the positions of
// collection ends excepted, as yaml_fast.h's contract says). And the wired
// reader (fast path, then libyaml) must answer exactly as libyaml does.
#include <string>

#include "fuzz_check.h"
#include "spec/codec/yaml_fast.h"
#include "spec/codec/yaml_tape.h"

namespace {

using cdi::codec::Event;
using cdi::codec::EventType;
using cdi::codec::Tape;

std::string show(const Tape& t, const Event& e) {
  static const char* const kTypes[] = {"map_start", "map_end", "seq_start", "seq_end", "scalar"};
  std::string s = std::string(kTypes[static_cast<int>(e.type)]) + "@" + std::to_string(e.line) + ":" +
                  std::to_string(e.column) + " style " + std::to_string(static_cast<int>(e.style));
  if (e.type == EventType::scalar) s += " [" + std::string(t.text(e)) + "]";
  if (e.tagged) s += " tag " + std::string(t.tag(e));
  if (e.opens()) s += " size " + std::to_string(e.size);
  return s;
}

bool is_end(EventType t) { return t == EventType::map_end || t == EventType::seq_end; }

// The first difference, empty if none: type, style, text, tag and a
// collection's size always; positions except of end events unless asked.
std::string difference(const Tape& got, const Tape& want, bool exact_ends) {
  size_t n = std::max(got.events.size(), want.events.size());
  for (size_t i = 0; i < n; ++i) {
    std::string at = "event " + std::to_string(i) + ": ";
    if (i >= got.events.size()) return at + "missing, want " + show(want, want.events[i]);
    if (i >= want.events.size()) return at + "extra " + show(got, got.events[i]);
    const Event& g = got.events[i];
    const Event& w = want.events[i];
    bool same = g.type == w.type && g.style == w.style && got.text(g) == want.text(w) && got.tag(g) == want.tag(w) &&
                (!g.opens() || g.size == w.size);
    if (same && (exact_ends || !is_end(g.type))) same = g.line == w.line && g.column == w.column;
    if (!same) return at + "got " + show(got, g) + ", want " + show(want, w);
  }
  return {};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view yaml = cdi::fuzz::as_view(data, size);
  // Small limits as well as the defaults, so that the limit checks are reached.
  for (const cdi::codec::Limits& limits : {cdi::codec::Limits{}, cdi::codec::Limits{4, 64}}) {
    std::optional<Tape> fast = cdi::codec::yaml_to_tape_fast(yaml, limits);
    cdi::Result<Tape> ref = cdi::codec::yaml_to_tape_libyaml(yaml, limits);
    if (fast) {
      FUZZ_CHECK(ref.ok(), "the fast path accepted what libyaml refuses: " + ref.error().to_string());
      std::string d = difference(*fast, *ref, false);
      FUZZ_CHECK(d.empty(), d);
    }
    cdi::Result<Tape> wired = cdi::codec::yaml_to_tape(yaml, limits);
    FUZZ_CHECK(wired.ok() == ref.ok(), "yaml_to_tape and libyaml differ in success");
    if (ref.ok()) {
      std::string d = difference(*wired, *ref, !fast.has_value());
      FUZZ_CHECK(d.empty(), d);
    } else {
      FUZZ_CHECK(wired.error().to_string() == ref.error().to_string(),
                 wired.error().to_string() + " vs " + ref.error().to_string());
    }
  }
  return 0;
}
