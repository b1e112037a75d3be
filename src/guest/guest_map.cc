#include "guest/guest_map.h"

#include "base/text.h"
#include "guest/host_devices.h"
#include "spec/codec/json_tape.h"
#include "spec/codec/tape_reader.h"

namespace cdi {

std::string DeviceNumber::str() const {
  return std::string(1, type) + " " + std::to_string(major) + ":" + std::to_string(minor);
}

Error GuestMap::error_at(const std::string& field, std::string message) const {
  Error e(std::move(message));
  e.field = field;
  std::string key = field;
  for (;;) {
    auto it = positions.find(key);
    if (it != positions.end()) {
      e.at(it->second.first, it->second.second);
      break;
    }
    size_t cut = key.find_last_of(".[");
    if (cut == std::string::npos || cut == 0) break;
    key.resize(cut);
  }
  if (!file.empty()) e.file = file;
  return e;
}

namespace {

using codec::Event;
using codec::Field;
using codec::FieldSet;
using codec::TapeReader;

Status absolute_path(TapeReader& r, std::string& out) {
  const Event& at = r.peek();
  std::string s;
  CDI_TRY(r.string(s));
  if (s.empty() || s.front() != '/') return r.fail(at, "expected an absolute path, got " + quote(s));
  if (s.find('\0') != std::string::npos) return r.fail(at, "the path " + quote(s) + " contains a NUL byte");
  out = std::move(s);
  return {};
}

Status device_type(TapeReader& r, std::optional<char>& out) {
  const Event& at = r.peek();
  std::string s;
  CDI_TRY(r.string(s));
  if (s != "b" && s != "c") return r.fail(at, "expected \"b\" (block) or \"c\" (char), got " + quote(s));
  out = s.front();
  return {};
}

Status number(TapeReader& r, uint32_t max, std::optional<uint32_t>& out) {
  uint32_t v = 0;
  CDI_TRY(r.json_integer(max, v));
  out = v;
  return {};
}

// A device entry while it is read: the numbers come in three separate fields each.
struct DeviceFields {
  GuestDeviceEntry& d;
  std::optional<char> host_type;
  std::optional<uint32_t> host_major;
  std::optional<uint32_t> host_minor;
  std::optional<char> guest_type;
  std::optional<uint32_t> guest_major;
  std::optional<uint32_t> guest_minor;
};

enum DeviceField : size_t { kContainerPathField, kGuestPathField = 4 };
constexpr Field<DeviceFields> kDeviceFields[] = {
    {"containerPath", [](TapeReader& r, DeviceFields& f) { return absolute_path(r, f.d.container_path); }},
    {"hostType", [](TapeReader& r, DeviceFields& f) { return device_type(r, f.host_type); }},
    {"hostMajor", [](TapeReader& r, DeviceFields& f) { return number(r, kMaxDeviceMajor, f.host_major); }},
    {"hostMinor", [](TapeReader& r, DeviceFields& f) { return number(r, kMaxDeviceMinor, f.host_minor); }},
    {"guestPath", [](TapeReader& r, DeviceFields& f) { return absolute_path(r, f.d.guest_path); }},
    {"guestType", [](TapeReader& r, DeviceFields& f) { return device_type(r, f.guest_type); }},
    {"guestMajor", [](TapeReader& r, DeviceFields& f) { return number(r, kMaxDeviceMajor, f.guest_major); }},
    {"guestMinor", [](TapeReader& r, DeviceFields& f) { return number(r, kMaxDeviceMinor, f.guest_minor); }},
    {"guestVirtioBlkIndex",
     [](TapeReader& r, DeviceFields& f) { return number(r, kMaxVirtioBlkIndex, f.d.guest_virtio_blk_index); }},
    {"guestScsiIndex", [](TapeReader& r, DeviceFields& f) { return number(r, kMaxScsiIndex, f.d.guest_scsi_index); }},
    {"finalPath", [](TapeReader& r, DeviceFields& f) { return absolute_path(r, f.d.final_path); }},
};

// type, major and minor come together; the message names what is missing.
std::string triple_problem(const std::string& prefix, const std::optional<char>& type,
                           const std::optional<uint32_t>& major, const std::optional<uint32_t>& minor) {
  int given = int{type.has_value()} + int{major.has_value()} + int{minor.has_value()};
  if (given == 0 || given == 3) return {};
  std::vector<std::string> missing;
  if (!type) missing.push_back(prefix + "Type");
  if (!major) missing.push_back(prefix + "Major");
  if (!minor) missing.push_back(prefix + "Minor");
  return prefix + "Type, " + prefix + "Major and " + prefix + "Minor go together: " + join(missing, " and ") +
         (missing.size() == 1 ? " is" : " are") + " missing";
}

Status device(TapeReader& r, GuestDeviceEntry& d) {
  const Event& start = r.peek();
  DeviceFields f{d, {}, {}, {}, {}, {}, {}};
  FieldSet seen = 0;
  CDI_TRY(r.object(kDeviceFields, f, &seen));
  for (const auto& problem : {triple_problem("host", f.host_type, f.host_major, f.host_minor),
                              triple_problem("guest", f.guest_type, f.guest_major, f.guest_minor)}) {
    if (!problem.empty()) return r.fail(start, problem);
  }
  bool has_host = f.host_type.has_value();
  if (codec::has_field(seen, kContainerPathField) == has_host) {
    return r.fail(start, has_host ? "name the device by containerPath or by hostType, hostMajor and hostMinor, not both"
                                  : "name the device by containerPath or by hostType, hostMajor and hostMinor");
  }
  int guest_sources = int{codec::has_field(seen, kGuestPathField)} + int{f.guest_type.has_value()} +
                      int{d.guest_virtio_blk_index.has_value()} + int{d.guest_scsi_index.has_value()};
  if (guest_sources != 1) {
    return r.fail(start,
                  std::string(guest_sources == 0 ? "give" : "give only one of") +
                      " guestPath, guestVirtioBlkIndex, guestScsiIndex or guestType with guestMajor and guestMinor");
  }
  if (has_host) d.host = DeviceNumber{*f.host_type, *f.host_major, *f.host_minor};
  if (f.guest_type) d.guest = DeviceNumber{*f.guest_type, *f.guest_major, *f.guest_minor};
  return {};
}

Status pci_address(TapeReader& r, PciAddress& out) {
  const Event& at = r.peek();
  std::string s;
  CDI_TRY(r.string(s));
  auto a = parse_pci_address(s);
  if (!a.ok()) return r.fail(at, a.error().message);
  out = *a;
  return {};
}

enum PciField : size_t { kHostField };
constexpr Field<GuestPciEntry> kPciFields[] = {
    {"host", [](TapeReader& r, GuestPciEntry& p) { return pci_address(r, p.host); }},
    {"guest", [](TapeReader& r, GuestPciEntry& p) { return pci_address(r, p.guest.emplace()); }},
    {"guestPciPath",
     [](TapeReader& r, GuestPciEntry& p) -> Status {
       const Event& at = r.peek();
       std::string s;
       CDI_TRY(r.string(s));
       auto path = parse_pci_path(s);
       if (!path.ok()) return r.fail(at, path.error().message);
       p.guest_pci_path = std::move(*path);
       return {};
     }},
};

Status pci(TapeReader& r, GuestPciEntry& p) {
  const Event& start = r.peek();
  FieldSet seen = 0;
  CDI_TRY(r.object(kPciFields, p, &seen));
  if (!codec::has_field(seen, kHostField)) return r.fail(start, "missing field \"host\" (the host PCI address)");
  if (p.guest.has_value() == p.guest_pci_path.has_value()) {
    return r.fail(start, p.guest ? "give guest or guestPciPath, not both" : "give guest or guestPciPath");
  }
  return {};
}

constexpr Field<GuestMap> kMapFields[] = {
    {"devices",
     [](TapeReader& r, GuestMap& m) { return r.sequence([&] { return device(r, m.devices.emplace_back()); }); }},
    {"pci", [](TapeReader& r, GuestMap& m) { return r.sequence([&] { return pci(r, m.pci.emplace_back()); }); }},
};

Status decode(const codec::Tape& tape, GuestMap& map) {
  if (tape.events.empty()) return Error("the guest map is empty");
  std::map<std::string, SourcePos> positions;
  codec::ReaderOptions options;
  options.positions = &positions;
  TapeReader r(tape, codec::kJsonConfig, options);
  const Event& first = tape.events[0];
  if (first.type != codec::EventType::map_start) {
    return r.fail(first, "a guest map must be an object, got " + r.describe(first));
  }
  Status st = r.object(kMapFields, map);
  for (const auto& [field, pos] : positions) map.positions.emplace(field, std::pair(pos.line, pos.column));
  return st;
}

}  // namespace

Result<GuestMap> parse_guest_map(std::string_view bytes, const std::string& file) {
  auto with_file = [&](Error e) {
    if (!file.empty()) e.file = file;
    return e;
  };
  auto tape = codec::json_to_tape(bytes);
  if (!tape.ok()) return with_file(std::move(tape).error());
  GuestMap map;
  map.file = file;
  if (auto st = decode(*tape, map); !st.ok()) return with_file(std::move(st).error());
  return map;
}

Result<GuestMap> load_guest_map(Fs& fs, const std::string& path) {
  auto bytes = fs.read_file(path, kMaxGuestMapBytes);
  if (!bytes.ok()) return std::move(bytes).error().with_context("guest map");
  auto map = parse_guest_map(*bytes, path);
  if (!map.ok()) return std::move(map).error().with_context("guest map");
  return map;
}

}  // namespace cdi
