#include "spec/codec/tape.h"

#include <cstring>
#include <limits>

#include "base/text.h"

namespace cdi::codec {

Tape::Tape(size_t expected_text_bytes, size_t expected_events) {
  text_.reserve(std::max<size_t>(expected_text_bytes, 64));
  events.reserve(expected_events);
}

std::string_view Tape::tag(const Event& e) const {
  if (!e.tagged) return {};
  uint32_t size = 0;
  std::memcpy(&size, text_.data() + e.at - sizeof size, sizeof size);
  return std::string_view(text_.data() + e.at - sizeof size - size, size);
}

Event& Tape::push(EventType type, int line, int column, std::string_view tag) {
  Event& e = events.emplace_back();
  e.type = type;
  e.line = line;
  e.column = static_cast<uint32_t>(std::clamp(column, 0, kMaxColumn)) & uint32_t{kMaxColumn};
  if (!tag.empty()) {
    // The tag, then its size, then (for a scalar) the text: `at` points past the size.
    auto size = static_cast<uint32_t>(tag.size());
    text_.append(tag);
    text_.append(reinterpret_cast<const char*>(&size), sizeof size);
    e.tagged = true;
  }
  e.at = static_cast<uint32_t>(text_.size());
  return e;
}

void Tape::scalar(ScalarStyle style, int line, int column, std::string_view text, std::string_view tag) {
  Event& e = push(EventType::scalar, line, column, tag);
  e.style = style;
  e.size = static_cast<uint32_t>(text.size());
  text_.append(text);
}

void Tape::open(EventType type, int line, int column, std::string_view tag) {
  open_.push_back(static_cast<uint32_t>(events.size()));
  push(type, line, column, tag);
}

void Tape::close(EventType type, int line, int column) {
  if (!open_.empty()) {
    size_t start = open_.back();
    open_.pop_back();
    events[start].size = static_cast<uint32_t>(events.size() - start - 1);
  }
  push(type, line, column, {});
}

void Tape::copy(size_t begin, size_t end, size_t max_events) {
  // Grow geometrically: an exact reserve per alias would copy the whole tape
  // each time (quadratic in the number of aliases). No reallocation happens
  // below, so copying elements of the vector into itself is safe.
  size_t needed = events.size() + (end - begin);
  if (needed > events.capacity()) events.reserve(std::max(needed, std::min(2 * events.capacity(), max_events)));
  for (size_t i = begin; i < end; ++i) events.push_back(events[i]);
}

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

}  // namespace

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: insertions, deletions, substitutions and swaps
  // of two neighbours each cost one (the usual typos).
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string unknown_field_message(std::string_view key, const std::vector<std::string_view>& known) {
  std::string msg = "unknown field " + quote(key);
  for (auto k : known) {
    if (ascii_iequal(k, key)) return msg + " (did you mean " + quote(k) + "? field names are case-sensitive)";
  }
  // A near miss: one edit for a key of up to 3 characters, two up to 6, else three.
  size_t allowed = key.size() <= 3 ? 1 : key.size() <= 6 ? 2 : 3;
  std::string_view best;
  size_t best_distance = std::numeric_limits<size_t>::max();
  std::string key_lower = lowered(key);
  for (auto k : known) {
    size_t d = edit_distance(key_lower, lowered(k));
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  if (best_distance <= allowed && best_distance < key.size()) msg += " (did you mean " + quote(best) + "?)";
  return msg;
}

}  // namespace cdi::codec
