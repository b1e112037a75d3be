#include "guest/guest_map.h"

#include <charconv>
#include <cmath>
#include <functional>
#include <initializer_list>

#include "base/text.h"
#include "guest/host_devices.h"
#include "spec/codec/json_tape.h"

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
using codec::EventType;
using codec::ScalarStyle;

// A JSON value for messages: "an object", "the number 4096".
std::string describe_json(const Event& e) {
  if (e.type == EventType::map_start) return "an object";
  if (e.type == EventType::seq_start) return "an array";
  return codec::describe(e);
}

class Decoder {
 public:
  Decoder(const codec::Tape& tape, GuestMap& map) : events_(tape.events), map_(map) {}

  Status run() {
    if (events_.empty()) return Error("the guest map is empty");
    const Event& first = events_[0];
    if (first.type != EventType::map_start)
      return fail(first, "a guest map must be an object, got " + describe_json(first));
    return object({"devices", "pci"}, [&](std::string_view key) -> Status {
      if (key == "devices") return array([&] { return device(map_.devices.emplace_back()); });
      return array([&] { return pci(map_.pci.emplace_back()); });
    });
  }

 private:
  const Event& peek() const { return events_[pos_]; }
  const Event& take() { return events_[pos_++]; }

  Error fail(const Event& at, std::string message) const {
    Error e(std::move(message));
    e.field = path_;
    e.at(at.line, at.column);
    return e;
  }

  void record(const Event& at) { map_.positions[path_] = {at.line, at.column}; }

  // Calls on_field(key) for each member of an object; refuses unknown and repeated keys.
  Status object(std::initializer_list<std::string_view> known,
                const std::function<Status(std::string_view)>& on_field) {
    const Event& start = take();
    if (start.type != EventType::map_start) return fail(start, "expected an object, got " + describe_json(start));
    std::vector<std::string_view> seen;
    while (peek().type != EventType::map_end) {
      const Event& key = take();
      bool is_known = false;
      for (auto k : known) is_known = is_known || k == key.text;
      if (!is_known) {
        return fail(key, codec::unknown_field_message(key.text, known));
      }
      for (auto s : seen) {
        if (s == key.text) return fail(key, "duplicate field " + quote(key.text));
      }
      seen.push_back(key.text);
      std::string outer = path_;
      path_ = outer.empty() ? std::string(key.text) : outer + "." + std::string(key.text);
      record(peek());
      CDI_TRY(on_field(key.text));
      path_ = std::move(outer);
    }
    take();
    return {};
  }

  Status array(const std::function<Status()>& on_item) {
    const Event& start = take();
    if (start.type != EventType::seq_start) return fail(start, "expected an array, got " + describe_json(start));
    size_t index = 0;
    while (peek().type != EventType::seq_end) {
      std::string outer = path_;
      path_ = outer + "[" + std::to_string(index++) + "]";
      record(peek());
      CDI_TRY(on_item());
      path_ = std::move(outer);
    }
    take();
    return {};
  }

  Result<std::string_view> string() {
    const Event& e = take();
    if (e.type != EventType::scalar || e.style != ScalarStyle::json_string) {
      return fail(e, "expected a string, got " + describe_json(e));
    }
    return e.text;
  }

  Status absolute_path(std::string& out) {
    const Event& at = peek();
    auto s = string();
    if (!s.ok()) return std::move(s).error();
    if (s->empty() || s->front() != '/') return fail(at, "expected an absolute path, got " + quote(*s));
    if (s->find('\0') != std::string_view::npos) return fail(at, "the path " + quote(*s) + " contains a NUL byte");
    out.assign(*s);
    return {};
  }

  Status device_type(char& out) {
    const Event& at = peek();
    auto s = string();
    if (!s.ok()) return std::move(s).error();
    if (*s != "b" && *s != "c") return fail(at, "expected \"b\" (block) or \"c\" (char), got " + quote(*s));
    out = s->front();
    return {};
  }

  // A JSON number with an integral value in [0, max] (1.0 and 1e2 count, as in JSON Schema).
  Status integer(uint32_t max, uint32_t& out) {
    const Event& e = take();
    if (e.type != EventType::scalar || e.style != ScalarStyle::json_number) {
      return fail(e, "expected an integer from 0 to " + std::to_string(max) + ", got " + describe_json(e));
    }
    double v = 0;
    auto [ptr, ec] = std::from_chars(e.text.data(), e.text.data() + e.text.size(), v);
    bool parsed = ec == std::errc() && ptr == e.text.data() + e.text.size();
    if (!parsed || !std::isfinite(v) || std::floor(v) != v || v < 0 || v > static_cast<double>(max)) {
      return fail(e, "expected an integer from 0 to " + std::to_string(max) + ", got " + std::string(e.text));
    }
    out = static_cast<uint32_t>(v);
    return {};
  }

  Status device(GuestDeviceEntry& d) {
    const Event& start = peek();
    std::string entry = path_;
    std::optional<char> host_type;
    std::optional<char> guest_type;
    std::optional<uint32_t> host_major;
    std::optional<uint32_t> host_minor;
    std::optional<uint32_t> guest_major;
    std::optional<uint32_t> guest_minor;
    bool has_container_path = false;
    bool has_guest_path = false;
    auto set = [&](std::optional<uint32_t>& slot, uint32_t max) -> Status {
      uint32_t v = 0;
      CDI_TRY(integer(max, v));
      slot = v;
      return {};
    };
    auto set_type = [&](std::optional<char>& slot) -> Status {
      char t = 'c';
      CDI_TRY(device_type(t));
      slot = t;
      return {};
    };
    CDI_TRY(object({"containerPath", "hostType", "hostMajor", "hostMinor", "guestPath", "guestType", "guestMajor",
                    "guestMinor", "guestVirtioBlkIndex", "guestScsiIndex", "finalPath"},
                   [&](std::string_view key) -> Status {
                     if (key == "containerPath") {
                       has_container_path = true;
                       return absolute_path(d.container_path);
                     }
                     if (key == "guestPath") {
                       has_guest_path = true;
                       return absolute_path(d.guest_path);
                     }
                     if (key == "finalPath") return absolute_path(d.final_path);
                     if (key == "hostType") return set_type(host_type);
                     if (key == "guestType") return set_type(guest_type);
                     if (key == "hostMajor") return set(host_major, kMaxDeviceMajor);
                     if (key == "hostMinor") return set(host_minor, kMaxDeviceMinor);
                     if (key == "guestMajor") return set(guest_major, kMaxDeviceMajor);
                     if (key == "guestMinor") return set(guest_minor, kMaxDeviceMinor);
                     if (key == "guestVirtioBlkIndex") return set(d.guest_virtio_blk_index, kMaxVirtioBlkIndex);
                     return set(d.guest_scsi_index, kMaxScsiIndex);
                   }));
    auto entry_error = [&](std::string message) {
      Error e(std::move(message));
      e.field = entry;
      e.at(start.line, start.column);
      return e;
    };
    CDI_TRY(triple("host", host_type, host_major, host_minor, entry_error));
    CDI_TRY(triple("guest", guest_type, guest_major, guest_minor, entry_error));
    bool has_host = host_type.has_value();
    if (has_container_path == has_host) {
      return entry_error(has_host ? "name the device by containerPath or by hostType, hostMajor and hostMinor, not both"
                                  : "name the device by containerPath or by hostType, hostMajor and hostMinor");
    }
    int guest_sources = int{has_guest_path} + int{guest_type.has_value()} + int{d.guest_virtio_blk_index.has_value()} +
                        int{d.guest_scsi_index.has_value()};
    if (guest_sources != 1) {
      return entry_error(std::string(guest_sources == 0 ? "give" : "give only one of") +
                         " guestPath, guestVirtioBlkIndex, guestScsiIndex or guestType with guestMajor and guestMinor");
    }
    if (has_host) d.host = DeviceNumber{*host_type, *host_major, *host_minor};
    if (guest_type) d.guest = DeviceNumber{*guest_type, *guest_major, *guest_minor};
    return {};
  }

  // type, major and minor come together.
  template <class MakeError>
  static Status triple(const std::string& prefix, const std::optional<char>& type, const std::optional<uint32_t>& major,
                       const std::optional<uint32_t>& minor, MakeError&& make_error) {
    int given = int{type.has_value()} + int{major.has_value()} + int{minor.has_value()};
    if (given == 0 || given == 3) return {};
    std::vector<std::string> missing;
    if (!type) missing.push_back(prefix + "Type");
    if (!major) missing.push_back(prefix + "Major");
    if (!minor) missing.push_back(prefix + "Minor");
    return make_error(prefix + "Type, " + prefix + "Major and " + prefix + "Minor go together: " +
                      join(missing, " and ") + (missing.size() == 1 ? " is" : " are") + " missing");
  }

  Status pci_address(PciAddress& out) {
    const Event& at = peek();
    auto s = string();
    if (!s.ok()) return std::move(s).error();
    auto a = parse_pci_address(*s);
    if (!a.ok()) return fail(at, a.error().message);
    out = *a;
    return {};
  }

  Status pci(GuestPciEntry& p) {
    const Event& start = peek();
    std::string entry = path_;
    bool has_host = false;
    CDI_TRY(object({"host", "guest", "guestPciPath"}, [&](std::string_view key) -> Status {
      if (key == "host") {
        has_host = true;
        return pci_address(p.host);
      }
      if (key == "guest") return pci_address(p.guest.emplace());
      const Event& at = peek();
      auto s = string();
      if (!s.ok()) return std::move(s).error();
      auto path = parse_pci_path(*s);
      if (!path.ok()) return fail(at, path.error().message);
      p.guest_pci_path = std::move(*path);
      return {};
    }));
    auto entry_error = [&](std::string message) {
      Error e(std::move(message));
      e.field = entry;
      e.at(start.line, start.column);
      return e;
    };
    if (!has_host) return entry_error("missing field \"host\" (the host PCI address)");
    if (p.guest.has_value() == p.guest_pci_path.has_value()) {
      return entry_error(p.guest ? "give guest or guestPciPath, not both" : "give guest or guestPciPath");
    }
    return {};
  }

  const std::vector<Event>& events_;
  GuestMap& map_;
  size_t pos_ = 0;
  std::string path_;
};

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
  Decoder decoder(*tape, map);
  if (auto st = decoder.run(); !st.ok()) return with_file(std::move(st).error());
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
