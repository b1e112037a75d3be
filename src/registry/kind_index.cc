#include "registry/kind_index.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <type_traits>

#include "base/atomic_file.h"
#include "base/hash.h"
#include "base/text.h"
#include "base/trust.h"
#include "spec/codec/spec_codec.h"

namespace cdi {

namespace {

constexpr std::string_view kHeader = "cdi-hook kind index 3";
constexpr int64_t kRacyWindowNs = 1'000'000'000;

// Reads one space-terminated lower-case hex number (the bits of the field);
// advances `line` past it.
template <class T>
bool take_number(std::string_view& line, T& out) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < line.size() && i <= 16; ++i) {
    char c = line[i];
    uint64_t d = c >= '0' && c <= '9'   ? static_cast<uint64_t>(c - '0')
                 : c >= 'a' && c <= 'f' ? static_cast<uint64_t>(c - 'a' + 10)
                                        : 16;
    if (d == 16) break;
    v = (v << 4) | d;
  }
  if (i == 0 || i > 16 || i >= line.size() || line[i] != ' ') return false;
  out = static_cast<T>(v);
  line.remove_prefix(i + 1);
  return true;
}

// Writes the bits of v as lower-case hex and a space at p; returns the end.
char* put_hex(char* p, uint64_t v) {
  char digits[16];
  size_t n = 0;
  do {
    digits[n++] = "0123456789abcdef"[v & 0xF];
    v >>= 4;
  } while (v != 0);
  while (n > 0) *p++ = digits[--n];
  *p++ = ' ';
  return p;
}

// "<dev> <ino> <size> <mtime_ns> <ctime_ns> " of a file in hex, the start of its index line.
std::string identity_text(uint64_t dev, uint64_t ino, int64_t size, int64_t mtime_ns, int64_t ctime_ns) {
  char buf[5 * 17];
  char* p = buf;
  p = put_hex(p, dev);
  p = put_hex(p, ino);
  p = put_hex(p, static_cast<uint64_t>(size));
  p = put_hex(p, static_cast<uint64_t>(mtime_ns));
  p = put_hex(p, static_cast<uint64_t>(ctime_ns));
  return std::string(buf, static_cast<size_t>(p - buf));
}

// "<dev> <ino> <mtime_ns> <ctime_ns>" of a dir in hex.
std::string dir_identity_text(const FileStat& st) {
  char buf[4 * 17];
  char* p = buf;
  p = put_hex(p, st.dev);
  p = put_hex(p, st.ino);
  p = put_hex(p, static_cast<uint64_t>(st.mtime_ns));
  p = put_hex(p, static_cast<uint64_t>(st.ctime_ns));
  return std::string(buf, static_cast<size_t>(p - buf - 1));
}

std::string identity_text(const FileStat& st) {
  return identity_text(st.dev, st.ino, st.size, st.mtime_ns, st.ctime_ns);
}

// "<dev> <ino> <size> <mtime_ns> <ctime_ns> <kind> <name>", numbers in hex
bool parse_entry(std::string_view line, std::string& name, uint64_t& dev, uint64_t& ino, int64_t& size, int64_t& mtime,
                 int64_t& ctime, std::string& kind) {
  if (!take_number(line, dev) || !take_number(line, ino) || !take_number(line, size) || !take_number(line, mtime) ||
      !take_number(line, ctime)) {
    return false;
  }
  size_t space = line.find(' ');
  if (space == 0 || space == std::string_view::npos || space + 1 == line.size()) return false;
  kind.assign(line.substr(0, space));
  name.assign(line.substr(space + 1));
  return true;
}

// A name a listing may hold: a spec file name in the dir itself (never a path).
bool listable(std::string_view name) {
  return name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos &&
         codec::spec_format_for(name).has_value();
}

}  // namespace

std::string default_cache_dir() {
  if (::geteuid() == 0) return "/run/cdi-hook";
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg == '/') return path_join(xdg, "cdi-hook");
  return {};
}

KindIndex::KindIndex(Fs& fs, Logger& logger, std::string cache_dir)
    : fs_(fs), logger_(logger), cache_dir_(std::move(cache_dir)) {}

std::string KindIndex::index_path(const std::string& spec_dir) const {
  return path_join(cache_dir_, "kinds-" + fnv1a64_hex(spec_dir) + ".idx");
}

KindIndex::DirIndex& KindIndex::load(const std::string& spec_dir) {
  DirIndex& idx = dirs_[spec_dir];
  if (idx.loaded || !enabled()) return idx;
  idx.loaded = true;
  // An index others could have written is not trusted (nor written to): the
  // dir and the file are judged on the handles they are read through.
  if (!cache_dir_usable()) return idx;
  std::string path = index_path(spec_dir);
  auto opened = fs_.read_in(cache_dir_, path_basename(path), 8u << 20, nullptr);
  if (!opened.ok()) return idx;
  if (auto why = not_private_reason(opened->file, fs_.euid()); !why.empty()) {
    logger_.warn("kind index " + quote(path) + " ignored: it is " + why);
    return idx;
  }
  idx.raw = std::move(opened->bytes);
  if (!parse(idx, spec_dir)) {
    logger_.debug("kind index " + quote(path) + " ignored: it is not one this version wrote");
    idx = DirIndex();
    idx.loaded = true;
  }
  return idx;
}

// Splits idx.raw into the listing and the entry lines. False: the file is
// not a well-formed index of spec_dir, and none of it may be used. A listing
// that leaves out a name the index holds a kind for (saving never does) is
// stale: only the listing is dropped, and the dir is listed again.
bool KindIndex::parse(DirIndex& idx, const std::string& spec_dir) {
  std::string_view rest = idx.raw;
  auto next_line = [&] {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    return line;
  };
  if (next_line() != kHeader || next_line() != "dir " + spec_dir) return false;
  // "listing <dir identity> <count>", then that many names; or "listing -".
  std::string_view listing = next_line();
  if (!listing.starts_with("listing ")) return false;
  listing.remove_prefix(8);
  if (listing != "-") {
    size_t space = listing.rfind(' ');
    size_t count = 0;
    if (space == std::string_view::npos ||
        std::from_chars(listing.data() + space + 1, listing.data() + listing.size(), count).ec != std::errc()) {
      return false;
    }
    idx.listing_identity = std::string(listing.substr(0, space));
    for (size_t i = 0; i < count && !rest.empty(); ++i) {
      std::string_view name = next_line();
      // Names are spec files of the dir, sorted and unique, as saved.
      if (!listable(name) || (!idx.listing.empty() && !(idx.listing.back() < name))) return false;
      idx.listing.emplace_back(name);
    }
    if (idx.listing.size() != count) return false;
  }
  while (!rest.empty()) {
    std::string_view line = next_line();
    // The name follows the six fields (dev ino size mtime ctime kind).
    size_t at = 0;
    for (int field = 0; field < 6 && at != std::string_view::npos; ++field) {
      at = line.find(' ', at);
      if (at != std::string_view::npos) ++at;
    }
    if (at == std::string_view::npos || at >= line.size()) continue;
    if (!listable(line.substr(at))) return false;
    idx.lines.emplace_back(line.substr(at), line);
  }
  if (!std::is_sorted(idx.lines.begin(), idx.lines.end())) std::sort(idx.lines.begin(), idx.lines.end());
  if (!idx.listing_identity.empty()) {
    auto listed = idx.listing.begin();
    for (const auto& [name, line] : idx.lines) {
      while (listed != idx.listing.end() && *listed < name) ++listed;
      if (listed == idx.listing.end() || *listed != name) {
        idx.listing_identity.clear();
        idx.listing.clear();
        break;
      }
    }
  }
  return true;
}

KindIndex::DirIndex& KindIndex::materialize(DirIndex& idx) {
  if (idx.materialized) return idx;
  idx.materialized = true;
  for (const auto& [name_view, line] : idx.lines) {
    Entry e;
    std::string name;
    if (parse_entry(line, name, e.dev, e.ino, e.size, e.mtime_ns, e.ctime_ns, e.kind)) {
      idx.entries[name] = std::move(e);
    }
  }
  idx.lines.clear();
  return idx;
}

std::optional<std::string> KindIndex::lookup(const std::string& spec_dir, const std::string& name, const FileStat& st) {
  if (!enabled()) return std::nullopt;
  DirIndex& idx = load(spec_dir);
  Entry e;
  if (idx.materialized) {
    auto it = idx.entries.find(name);
    if (it == idx.entries.end()) return std::nullopt;
    e = it->second;
  } else {
    // Scans list names in order, so the next line is usually the one.
    auto it = idx.lines.begin() + static_cast<std::ptrdiff_t>(std::min(idx.cursor, idx.lines.size()));
    if (it == idx.lines.end() || it->first != name) {
      it = std::lower_bound(idx.lines.begin(), idx.lines.end(), std::string_view(name),
                            [](const auto& entry, std::string_view n) { return entry.first < n; });
    }
    if (it == idx.lines.end() || it->first != name) return std::nullopt;
    idx.cursor = static_cast<size_t>(it - idx.lines.begin()) + 1;
    // The line must start with this file's identity, as save() writes it.
    std::string identity = identity_text(st);
    std::string_view line = it->second;
    if (!line.starts_with(identity)) return std::nullopt;
    line.remove_prefix(identity.size());
    return std::string(line.substr(0, line.find(' ')));
  }
  if (e.dev != st.dev || e.ino != st.ino || e.size != st.size || e.mtime_ns != st.mtime_ns ||
      e.ctime_ns != st.ctime_ns) {
    return std::nullopt;
  }
  return e.kind;
}

void KindIndex::record(const std::string& spec_dir, const std::string& name, const FileStat& st,
                       const std::string& kind) {
  if (!enabled()) return;
  DirIndex& idx = materialize(load(spec_dir));
  // Only what a later read accepts is stored.
  bool storable = listable(name) && name.find('\n') == std::string::npos &&
                  kind.find_first_of(" \n") == std::string::npos && !kind.empty();
  int64_t newest = std::max(st.mtime_ns, st.ctime_ns);
  if (!storable || newest > fs_.now_ns() - kRacyWindowNs) {
    if (idx.entries.erase(name) > 0) idx.dirty = true;
    return;
  }
  idx.entries[name] = {st.dev, st.ino, st.size, st.mtime_ns, st.ctime_ns, kind};
  idx.dirty = true;
}

void KindIndex::retain(const std::string& spec_dir, const std::vector<std::string>& names) {
  if (!enabled()) return;
  DirIndex& idx = load(spec_dir);
  // Both lists are sorted by name: one merge pass finds entries no longer listed.
  auto listed = [&](std::string_view entry, std::vector<std::string>::const_iterator& name) {
    while (name != names.end() && *name < entry) ++name;
    return name != names.end() && *name == entry;
  };
  if (!idx.materialized) {
    auto name = names.begin();
    bool all_listed = true;
    for (const auto& line : idx.lines) all_listed = all_listed && listed(line.first, name);
    if (all_listed) return;
    materialize(idx);
  }
  auto name = names.begin();
  for (auto it = idx.entries.begin(); it != idx.entries.end();) {
    if (listed(it->first, name)) {
      ++it;
    } else {
      it = idx.entries.erase(it);
      idx.dirty = true;
    }
  }
}

bool KindIndex::cache_dir_usable() {
  if (usable_) return *usable_;
  usable_ = false;
  if (::mkdir(cache_dir_.c_str(), 0700) != 0 && errno != EEXIST) {
    logger_.debug("kind index off: cannot create " + quote(cache_dir_) + ": " + std::strerror(errno));
    return false;
  }
  auto facts = fs_.open_dir(cache_dir_, false);
  if (!facts.ok()) {
    int err = facts.error().sys_errno;
    logger_.warn("kind index off: " + quote(cache_dir_) +
                 (err == ENOTDIR || err == ELOOP ? " is not a directory" : ": " + facts.error().message));
    return false;
  }
  if (auto why = not_private_reason(*facts, fs_.euid()); !why.empty()) {
    logger_.warn("kind index off: " + quote(cache_dir_) + " is " + why);
    return false;
  }
  usable_ = true;
  return true;
}

std::optional<std::vector<std::string>> KindIndex::listing(const std::string& spec_dir, const FileStat& dir_st) {
  if (!enabled()) return std::nullopt;
  DirIndex& idx = load(spec_dir);
  if (idx.listing_identity.empty() || idx.listing_identity != dir_identity_text(dir_st)) return std::nullopt;
  return idx.listing;
}

void KindIndex::record_listing(const std::string& spec_dir, const FileStat& dir_st,
                               const std::vector<std::string>& names) {
  if (!enabled()) return;
  DirIndex& idx = load(spec_dir);
  bool storable = std::max(dir_st.mtime_ns, dir_st.ctime_ns) <= fs_.now_ns() - kRacyWindowNs;
  for (size_t i = 0; i < names.size(); ++i) {
    storable = storable && listable(names[i]) && names[i].find('\n') == std::string::npos &&
               (i == 0 || names[i - 1] < names[i]);
  }
  std::string identity = storable ? dir_identity_text(dir_st) : std::string();
  if (identity == idx.listing_identity && (identity.empty() || names == idx.listing)) return;
  idx.listing_identity = std::move(identity);
  idx.listing = idx.listing_identity.empty() ? std::vector<std::string>() : names;
  materialize(idx);  // the file is rewritten from the parsed entries
  idx.dirty = true;
}

void KindIndex::save() {
  if (!enabled()) return;
  for (auto& [spec_dir, idx] : dirs_) {
    if (!idx.dirty) continue;
    idx.dirty = false;
    if (!cache_dir_usable()) return;
    std::string out(kHeader);
    out += "\ndir " + spec_dir + "\n";
    if (idx.listing_identity.empty()) {
      out += "listing -\n";
    } else {
      out += "listing " + idx.listing_identity + " " + std::to_string(idx.listing.size()) + "\n";
      for (const auto& n : idx.listing) out += n + "\n";
    }
    for (const auto& [name, e] : idx.entries) {
      out += identity_text(e.dev, e.ino, e.size, e.mtime_ns, e.ctime_ns) + e.kind + " " + name + "\n";
    }
    AtomicWriteOptions opts;
    opts.mode = 0600;
    opts.keep_owner = false;
    opts.durable = false;
    if (auto st = write_file_atomic(index_path(spec_dir), out, opts); !st.ok()) {
      logger_.debug("kind index not saved: " + st.error().to_string());
    }
  }
}

}  // namespace cdi
