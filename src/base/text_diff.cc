#include "base/text_diff.h"

#include <algorithm>
#include <vector>

namespace cdi {

namespace {

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

enum class Op { keep, remove, add };
struct Edit {
  Op op;
  size_t a;  // index in before (keep/remove)
  size_t b;  // index in after (keep/add)
};

// Myers' greedy algorithm with the V arrays kept for backtracking.
std::vector<Edit> diff_lines(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  const auto n = static_cast<long>(a.size());
  const auto m = static_cast<long>(b.size());
  const long max = n + m;
  const long offset = max + 1;
  std::vector<long> v(static_cast<size_t>(2 * max + 3), 0);
  std::vector<std::vector<long>> trace;
  for (long d = 0; d <= max; ++d) {
    trace.push_back(v);
    for (long k = -d; k <= d; k += 2) {
      auto at = [&](long kk) -> long& { return v[static_cast<size_t>(kk + offset)]; };
      long x = (k == -d || (k != d && at(k - 1) < at(k + 1))) ? at(k + 1) : at(k - 1) + 1;
      long y = x - k;
      while (x < n && y < m && a[static_cast<size_t>(x)] == b[static_cast<size_t>(y)]) {
        ++x;
        ++y;
      }
      at(k) = x;
      if (x >= n && y >= m) {
        // Backtrack through the saved V arrays.
        std::vector<Edit> edits;
        long cx = n, cy = m;
        for (long dd = d; dd > 0; --dd) {
          const auto& pv = trace[static_cast<size_t>(dd)];
          auto pat = [&](long kk) { return pv[static_cast<size_t>(kk + offset)]; };
          long ck = cx - cy;
          long pk = (ck == -dd || (ck != dd && pat(ck - 1) < pat(ck + 1))) ? ck + 1 : ck - 1;
          long px = pat(pk), py = px - pk;
          while (cx > px && cy > py) edits.push_back({Op::keep, static_cast<size_t>(--cx), static_cast<size_t>(--cy)});
          if (cx == px) {
            edits.push_back({Op::add, static_cast<size_t>(cx), static_cast<size_t>(--cy)});
          } else {
            edits.push_back({Op::remove, static_cast<size_t>(--cx), static_cast<size_t>(cy)});
          }
        }
        while (cx > 0 && cy > 0) edits.push_back({Op::keep, static_cast<size_t>(--cx), static_cast<size_t>(--cy)});
        std::reverse(edits.begin(), edits.end());
        return edits;
      }
    }
  }
  return {};
}

std::string range_text(size_t start, size_t count) {
  // Unified diff ranges are 1-based; an empty range names the line before it.
  std::string out = std::to_string(count == 0 ? start : start + 1);
  if (count != 1) out += "," + std::to_string(count);
  return out;
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, std::string_view from_label,
                         std::string_view to_label, size_t context) {
  auto a = lines_of(before);
  auto b = lines_of(after);
  std::vector<Edit> edits = diff_lines(a, b);
  bool changed = std::any_of(edits.begin(), edits.end(), [](const Edit& e) { return e.op != Op::keep; });
  if (!changed) return {};
  std::string out = "--- " + std::string(from_label) + "\n+++ " + std::string(to_label) + "\n";
  size_t i = 0;
  while (i < edits.size()) {
    if (edits[i].op == Op::keep) {
      ++i;
      continue;
    }
    // A hunk: from `context` keeps before the change to `context` keeps after the last change
    // that is not separated from the next one by more than 2 * context keeps.
    size_t start = i >= context ? i - context : 0;
    while (start < i && edits[start].op != Op::keep) ++start;
    size_t end = i;
    for (size_t keeps = 0; end < edits.size(); ++end) {
      keeps = edits[end].op == Op::keep ? keeps + 1 : 0;
      if (keeps > 2 * context) break;
    }
    size_t stop = end;
    while (stop > i && edits[stop - 1].op == Op::keep) --stop;
    stop = std::min(edits.size(), stop + context);
    size_t a_start = edits[start].a, b_start = edits[start].b, a_count = 0, b_count = 0;
    std::string body;
    for (size_t k = start; k < stop; ++k) {
      const Edit& e = edits[k];
      if (e.op == Op::keep) {
        body += " " + std::string(a[e.a]) + "\n";
        ++a_count;
        ++b_count;
      } else if (e.op == Op::remove) {
        body += "-" + std::string(a[e.a]) + "\n";
        ++a_count;
      } else {
        body += "+" + std::string(b[e.b]) + "\n";
        ++b_count;
      }
    }
    out += "@@ -" + range_text(a_start, a_count) + " +" + range_text(b_start, b_count) + " @@\n" + body;
    i = stop;
  }
  return out;
}

}  // namespace cdi
