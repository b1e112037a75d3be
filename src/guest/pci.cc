#include "guest/pci.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <set>

#include "base/text.h"

namespace cdi {

namespace {

bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// `text` of min..max hex digits into `out`.
bool parse_hex(std::string_view text, size_t min_digits, size_t max_digits, uint32_t& out) {
  if (text.size() < min_digits || text.size() > max_digits) return false;
  for (char c : text) {
    if (!is_hex(c)) return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string hex(uint32_t value, int width) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*x", width, value);
  return buf;
}

// "ss.f" or "ss" with the given digit counts for the slot.
Status parse_slot_function(std::string_view text, size_t min_slot_digits, uint8_t& slot, uint8_t& function,
                           bool function_optional) {
  size_t dot = text.find('.');
  std::string_view s = text.substr(0, dot);
  uint32_t sv = 0;
  uint32_t fv = 0;
  if (!parse_hex(s, min_slot_digits, 2, sv)) return Error("bad slot " + quote(s));
  if (dot == std::string_view::npos) {
    if (!function_optional) return Error("missing function after the slot");
  } else if (!parse_hex(text.substr(dot + 1), 1, 1, fv)) {
    return Error("bad function " + quote(text.substr(dot + 1)));
  }
  if (sv > kPciMaxSlot) return Error("slot 0x" + hex(sv, 2) + " is above 0x1f");
  if (fv > kPciMaxFunction) return Error("function " + std::to_string(fv) + " is above 7");
  slot = static_cast<uint8_t>(sv);
  function = static_cast<uint8_t>(fv);
  return {};
}

}  // namespace

std::string PciAddress::str() const { return bus_str() + ":" + hex(slot, 2) + "." + hex(function, 1); }
std::string PciAddress::bus_str() const { return hex(domain, 4) + ":" + hex(bus, 2); }
std::string PciBus::str() const { return hex(domain, 4) + ":" + hex(bus, 2); }
std::string PciSlotFunction::str() const { return hex(slot, 2) + "." + hex(function, 1); }

std::string PciPath::str() const {
  std::string out;
  for (const auto& e : elements) {
    if (!out.empty()) out += '/';
    out += e.str();
  }
  return out;
}

Result<PciAddress> parse_pci_address(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error("invalid PCI address " + quote(text) + ": " + why + " (expected dddd:bb:ss.f in hex)");
  };
  auto parts = split(text, ':');
  if (parts.size() != 3) return bad("not three ':'-separated parts");
  PciAddress a;
  uint32_t bus = 0;
  if (!parse_hex(parts[0], 4, 8, a.domain)) return bad("bad domain " + quote(parts[0]));
  if (!parse_hex(parts[1], 2, 2, bus)) return bad("bad bus " + quote(parts[1]));
  a.bus = static_cast<uint8_t>(bus);
  if (parts[2].size() != 4) return bad("bad slot and function " + quote(parts[2]));
  if (auto st = parse_slot_function(parts[2], 2, a.slot, a.function, false); !st.ok()) return bad(st.error().message);
  return a;
}

Result<PciBus> parse_pci_bus(std::string_view text) {
  auto parts = split(text, ':');
  PciBus b;
  uint32_t bus = 0;
  if (parts.size() != 2 || !parse_hex(parts[0], 4, 8, b.domain) || !parse_hex(parts[1], 2, 2, bus)) {
    return Error("invalid PCI bus " + quote(text) + " (expected dddd:bb in hex)");
  }
  b.bus = static_cast<uint8_t>(bus);
  return b;
}

Result<PciPath> parse_pci_path(std::string_view text) {
  PciPath p;
  if (text.empty()) return Error("invalid PCI path \"\": expected slots separated by '/', such as \"02/03\"");
  auto parts = split(text, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    PciSlotFunction e;
    if (auto st = parse_slot_function(parts[i], 1, e.slot, e.function, true); !st.ok()) {
      return Error("invalid PCI path " + quote(text) + ": element " + std::to_string(i) + " " + quote(parts[i]) + ": " +
                   st.error().message + " (expected ss or ss.f in hex)");
    }
    p.elements.push_back(e);
  }
  return p;
}

namespace {

// The bus below `bridge`: the single entry of pci_bus/, or the one bus of the
// child devices when pci_bus/ is absent.
Result<PciBus> next_bus(Fs& fs, const std::string& bridge) {
  std::string pci_bus = path_join(bridge, "pci_bus");
  auto entries = fs.list_dir(pci_bus);
  if (entries.ok()) {
    if (entries->size() != 1) {
      std::vector<std::string> names;
      for (const auto& e : *entries) names.push_back(e.name);
      return Error("expected exactly one PCI bus in " + quote(pci_bus) + ", got " + std::to_string(entries->size()) +
                   (names.empty() ? "" : " (" + join(names, ", ") + ")"));
    }
    auto bus = parse_pci_bus(entries->front().name);
    if (!bus.ok()) return std::move(bus).error().with_context("in " + quote(pci_bus));
    return bus;
  }
  if (entries.error().sys_errno != ENOENT) return std::move(entries).error();
  auto children = fs.list_dir(bridge);
  if (!children.ok()) return std::move(children).error();
  std::set<PciBus> buses;
  for (const auto& c : *children) {
    auto a = parse_pci_address(c.name);
    if (a.ok()) buses.insert(PciBus{a->domain, a->bus});
  }
  if (buses.empty()) return Error("no pci_bus directory and no downstream PCI devices under bridge " + quote(bridge));
  if (buses.size() > 1) {
    std::vector<std::string> names;
    for (const auto& b : buses) names.push_back(b.str());
    return Error("no pci_bus directory and several downstream buses under bridge " + quote(bridge) + " (" +
                 join(names, ", ") + ")");
  }
  return *buses.begin();
}

}  // namespace

Result<ResolvedPciPath> resolve_pci_path(Fs& fs, const std::string& sysfs_root, const PciPath& path) {
  std::string prefix = "PCI path " + quote(path.str()) + " does not resolve: ";
  if (path.elements.empty()) return Error(prefix + "it is empty");
  std::string dir = path_join(sysfs_root, "devices/pci0000:00");
  auto root = fs.stat(dir);
  if (!root.ok()) return Error(prefix + "no root bus: " + root.error().message);
  if (!root->is_dir()) return Error(prefix + "root bus " + quote(dir) + " is not a directory");
  PciBus bus;
  for (size_t i = 0; i < path.elements.size(); ++i) {
    const PciSlotFunction& e = path.elements[i];
    PciAddress address{bus.domain, bus.bus, e.slot, e.function};
    dir = path_join(dir, address.str());
    std::string element = "element " + std::to_string(i) + " (" + e.str() + ")";
    auto st = fs.stat(dir);
    if (!st.ok() || !st->is_dir()) {
      return Error(prefix + element + ": no device " + address.str() + " at " + quote(dir));
    }
    if (i + 1 == path.elements.size()) return ResolvedPciPath{address, dir};
    auto next = next_bus(fs, dir);
    if (!next.ok())
      return Error(prefix + element + ": cannot find the bus below bridge " + address.str() + ": " +
                   next.error().to_string());
    bus = *next;
  }
  return Error(prefix + "it is empty");  // not reached: the loop returns at the last element
}

}  // namespace cdi
