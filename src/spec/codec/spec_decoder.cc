#include "spec/codec/spec_decoder.h"

#include <algorithm>
#include <charconv>
#include <limits>

#include "base/text.h"

namespace cdi::codec {

namespace {

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";
constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";

bool is_yaml_null(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

bool is_null(const Event& e) {
  if (e.type != EventType::scalar) return false;
  if (e.style == ScalarStyle::json_null) return true;
  if (e.tag == kNullTag) return true;
  return e.style == ScalarStyle::yaml_plain && e.tag.empty() && is_yaml_null(e.text);
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

enum class IntParse { ok, not_int, out_of_range, ambiguous };

// An integer as sign and magnitude (every field fits in 64 bits of magnitude).
struct Integer {
  bool negative = false;
  uint64_t magnitude = 0;
};

IntParse parse_digits(std::string_view digits, int base, bool negative, Integer& out) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return IntParse::out_of_range;
  out = {negative && v != 0, v};
  return IntParse::ok;
}

// YAML 1.2 core integers: [-+]?[0-9]+, 0o[0-7]+, 0x[0-9a-fA-F]+. A decimal with a
// leading zero is refused: YAML 1.1 (the Go reference) reads it as octal.
IntParse parse_yaml_int(std::string_view s, Integer& out) {
  int base = 10;
  bool negative = false;
  std::string_view digits = s;
  if (s.starts_with("0o")) {
    base = 8;
    digits = s.substr(2);
    if (!all_of(digits, is_octal)) return IntParse::not_int;
  } else if (s.starts_with("0x")) {
    base = 16;
    digits = s.substr(2);
    if (!all_of(digits, is_hex)) return IntParse::not_int;
  } else {
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
      negative = digits.front() == '-';
      digits.remove_prefix(1);
    }
    if (!all_of(digits, is_digit)) return IntParse::not_int;
    if (digits.size() > 1 && digits.front() == '0') return IntParse::ambiguous;
  }
  return parse_digits(digits, base, negative, out);
}

// JSON integers: -?(0|[1-9][0-9]*), no fraction or exponent.
IntParse parse_json_int(std::string_view s, Integer& out) {
  std::string_view digits = s;
  bool negative = !digits.empty() && digits.front() == '-';
  if (negative) digits.remove_prefix(1);
  if (!all_of(digits, is_digit)) return IntParse::not_int;
  return parse_digits(digits, 10, negative, out);
}

// The range a field accepts.
struct Range {
  uint64_t max_negative;  // largest magnitude allowed below zero
  uint64_t max_positive;
  bool contains(const Integer& v) const { return v.magnitude <= (v.negative ? max_negative : max_positive); }
  std::string describe() const {
    return (max_negative ? "-" + std::to_string(max_negative) : std::string("0")) + " to " +
           std::to_string(max_positive);
  }
};
constexpr Range kInt64{uint64_t{1} << 63, (uint64_t{1} << 63) - 1};
constexpr Range kUint32{0, 0xFFFFFFFFu};

struct Frame {
  std::string_view key;
  size_t index = 0;
  bool is_index = false;
};

class Decoder {
 public:
  Decoder(const Tape& tape, Spec& spec, const DecodeOptions& options)
      : events_(tape.events), spec_(spec), record_(options.record_positions), collect_(options.collect) {}

  Status run() {
    if (events_.empty() || (events_.size() == 1 && is_null(events_[0]))) {
      return Error("the file holds no spec (it is empty or null)");
    }
    const Event& first = events_[0];
    if (first.type != EventType::map_start) {
      return fail(first, "a spec must be a mapping, got " + describe(first));
    }
    CDI_TRY(spec_root());
    return {};
  }

 private:
  // ---- primitives -------------------------------------------------------

  const Event& peek() const { return events_[pos_]; }
  const Event& take() { return events_[pos_++]; }

  std::string path() const {
    std::string out;
    for (const auto& f : frames_) {
      if (f.is_index) {
        out += "[" + std::to_string(f.index) + "]";
      } else {
        if (!out.empty()) out += '.';
        out += f.key;
      }
    }
    return out;
  }

  Error fail(const Event& at, std::string message) const {
    Error e(std::move(message));
    e.field = path();
    e.at(at.line, at.column);
    return e;
  }

  // In collect mode a problem is noted and decoding goes on; otherwise it stops.
  Status recover(Error e) {
    if (!collect_) return e;
    collect_->push_back(std::move(e));
    return {};
  }

  // Skips one whole value (a scalar or a balanced collection) at the cursor.
  void skip_value() {
    size_t depth = 0;
    do {
      const Event& e = take();
      if (e.type == EventType::map_start || e.type == EventType::seq_start) ++depth;
      if (e.type == EventType::map_end || e.type == EventType::seq_end) --depth;
    } while (depth > 0 && pos_ < events_.size());
  }

  // Runs a value decoder; in collect mode a failure is noted and the value skipped.
  template <class F>
  Status guarded(F&& decode_value) {
    size_t before = pos_;
    size_t frames = frames_.size();
    Status st = decode_value();
    if (st.ok()) return st;
    frames_.resize(frames);
    CDI_TRY(recover(std::move(st).error()));
    pos_ = before;
    skip_value();
    return {};
  }

  void record(const Event& at) {
    if (record_) spec_.positions[path()] = {at.line, at.column};
  }

  static std::string unknown_field(std::string_view key, std::initializer_list<std::string_view> known) {
    if (key == "<<") return "YAML merge keys (<<) are not supported";
    std::string msg = unknown_field_message(key, known);
    if (key == "enableCMT" || key == "enableMBM") msg += " (removed in CDI v1.1.0)";
    return msg;
  }

  // Calls on_field(key) for each key of a mapping; null is an absent mapping.
  template <class F>
  Status map(std::initializer_list<std::string_view> known, F&& on_field) {
    const Event& start = take();
    if (is_null(start)) return {};
    if (start.type != EventType::map_start) return fail(start, "expected a mapping, got " + describe(start));
    std::vector<std::pair<std::string_view, int>> seen;
    while (peek().type != EventType::map_end) {
      const Event& key = take();
      if (key.type != EventType::scalar) {
        CDI_TRY(recover(fail(key, "mapping keys must be strings, got " + describe(key))));
        --pos_;
        skip_value();
        skip_value();
        continue;
      }
      bool is_known = false;
      for (auto k : known) is_known = is_known || k == key.text;
      std::string problem;
      if (!is_known) problem = unknown_field(key.text, known);
      for (const auto& [k, line] : seen) {
        if (problem.empty() && k == key.text) {
          problem = "duplicate field " + quote(key.text) + " (first at line " + std::to_string(line) + ")";
        }
      }
      if (!problem.empty()) {
        frames_.push_back({key.text, 0, false});
        Error e = fail(key, problem);
        frames_.pop_back();
        CDI_TRY(recover(std::move(e)));
        skip_value();
        continue;
      }
      seen.emplace_back(key.text, key.line);
      frames_.push_back({key.text, 0, false});
      record(peek());
      CDI_TRY(guarded([&] { return on_field(key.text); }));
      frames_.pop_back();
    }
    take();
    return {};
  }

  // Calls on_item() for each element of a sequence; null is an absent sequence.
  template <class F>
  Status seq(F&& on_item) {
    const Event& start = take();
    if (is_null(start)) return {};
    if (start.type != EventType::seq_start) return fail(start, "expected a sequence, got " + describe(start));
    size_t index = 0;
    while (peek().type != EventType::seq_end) {
      frames_.push_back({{}, index++, true});
      record(peek());
      CDI_TRY(guarded(on_item));
      frames_.pop_back();
    }
    take();
    return {};
  }

  Status str(std::string& out) {
    const Event& e = take();
    if (is_null(e)) {
      out.clear();
      return {};
    }
    if (e.type != EventType::scalar) return fail(e, "expected a string, got " + describe(e));
    bool ok = e.style == ScalarStyle::json_string || e.style == ScalarStyle::yaml_quoted ||
              (e.style == ScalarStyle::yaml_plain && (e.tag.empty() || e.tag == kStrTag)) ||
              (e.style == ScalarStyle::yaml_quoted && e.tag == kStrTag);
    if (!ok) return fail(e, "expected a string, got " + describe(e));
    out.assign(e.text);
    return {};
  }

  // Integers within [lo, hi]; `present` tells whether a value (not null) was given.
  Status integer(const Range& range, Integer& out, bool& present) {
    const Event& e = take();
    present = false;
    if (is_null(e)) return {};
    if (e.type != EventType::scalar) return fail(e, "expected an integer, got " + describe(e));
    IntParse r = IntParse::not_int;
    if (e.style == ScalarStyle::json_number) {
      r = parse_json_int(e.text, out);
    } else if ((e.style == ScalarStyle::yaml_plain && e.tag.empty()) || e.tag == kIntTag) {
      r = parse_yaml_int(e.text, out);
    }
    switch (r) {
      case IntParse::not_int:
        return fail(e, "expected an integer, got " + describe(e));
      case IntParse::ambiguous: {
        std::string_view digits = e.text.substr(std::min(e.text.find_first_not_of("+-0"), e.text.size()));
        std::string octal = digits.empty() ? "0" : std::string(digits);
        return fail(e, "ambiguous number " + std::string(e.text) +
                           ": YAML 1.1 reads a leading zero as octal, YAML 1.2 as decimal; write 0o" + octal +
                           " for octal or drop the leading zero");
      }
      case IntParse::out_of_range:
        return fail(e, "number " + std::string(e.text) + " is out of range");
      case IntParse::ok:
        break;
    }
    if (!range.contains(out)) {
      return fail(e, "number " + std::string(e.text) + " is out of range (" + range.describe() + ")");
    }
    present = true;
    return {};
  }

  static int64_t to_i64(const Integer& v) {
    if (!v.negative) return static_cast<int64_t>(v.magnitude);
    if (v.magnitude == (uint64_t{1} << 63)) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(v.magnitude);
  }

  Status i64(int64_t& out) {
    Integer v;
    bool present = false;
    CDI_TRY(integer(kInt64, v, present));
    out = present ? to_i64(v) : 0;
    return {};
  }
  Status opt_i64(std::optional<int64_t>& out) {
    Integer v;
    bool present = false;
    CDI_TRY(integer(kInt64, v, present));
    out = present ? std::optional<int64_t>(to_i64(v)) : std::nullopt;
    return {};
  }
  Status opt_u32(std::optional<uint32_t>& out) {
    Integer v;
    bool present = false;
    CDI_TRY(integer(kUint32, v, present));
    out = present ? std::optional<uint32_t>(static_cast<uint32_t>(v.magnitude)) : std::nullopt;
    return {};
  }

  Status boolean(bool& out) {
    const Event& e = take();
    out = false;
    if (is_null(e)) return {};
    if (e.type == EventType::scalar) {
      bool typed = e.style == ScalarStyle::json_bool || (e.style == ScalarStyle::yaml_plain && e.tag.empty()) ||
                   e.tag == kBoolTag;
      if (typed && (e.text == "true" || e.text == "True" || e.text == "TRUE")) {
        out = true;
        return {};
      }
      if (typed && (e.text == "false" || e.text == "False" || e.text == "FALSE")) return {};
    }
    return fail(e, "expected true or false, got " + describe(e));
  }

  Status strings(std::vector<std::string>& out) {
    out.clear();
    return seq([&] { return str(out.emplace_back()); });
  }

  Status string_map(AnnotationList& out) {
    out.clear();
    const Event& start = take();
    if (is_null(start)) return {};
    if (start.type != EventType::map_start) return fail(start, "expected a mapping, got " + describe(start));
    while (peek().type != EventType::map_end) {
      const Event& key = take();
      if (key.type != EventType::scalar) return fail(key, "mapping keys must be strings, got " + describe(key));
      for (const auto& kv : out) {
        if (kv.first == key.text) return fail(key, "duplicate key " + quote(key.text));
      }
      frames_.push_back({key.text, 0, false});
      record(peek());
      std::string value;
      CDI_TRY(str(value));
      frames_.pop_back();
      out.emplace_back(std::string(key.text), std::move(value));
    }
    take();
    return {};
  }

  // ---- the CDI schema ---------------------------------------------------

  Status spec_root() {
    bool has_version = false, has_kind = false, has_devices = false;
    const Event& start = peek();
    CDI_TRY(map({"cdiVersion", "kind", "annotations", "devices", "containerEdits"}, [&](std::string_view k) -> Status {
      if (k == "cdiVersion") {
        has_version = true;
        return str(spec_.version);
      }
      if (k == "kind") {
        has_kind = true;
        return str(spec_.kind);
      }
      if (k == "annotations") return string_map(spec_.annotations);
      if (k == "devices") {
        has_devices = true;
        return seq([&] { return device(spec_.devices.emplace_back()); });
      }
      return edits(spec_.edits);
    }));
    auto missing = [&](std::string_view field) {
      Error e = fail(start, "missing required field " + quote(field));
      e.field = field;
      return recover(std::move(e));
    };
    if (!has_version) CDI_TRY(missing("cdiVersion"));
    if (!has_kind) CDI_TRY(missing("kind"));
    if (!has_devices) CDI_TRY(missing("devices"));
    return {};
  }

  Status device(Device& d) {
    const Event& start = peek();
    CDI_TRY(map({"name", "annotations", "containerEdits"}, [&](std::string_view k) -> Status {
      if (k == "name") return str(d.name);
      if (k == "annotations") return string_map(d.annotations);
      return edits(d.edits);
    }));
    if (d.name.empty() && !is_null(start)) return fail(start, "missing required field \"name\"");
    if (is_null(start)) return fail(start, "expected a device mapping, got null");
    return {};
  }

  Status edits(ContainerEdits& e) {
    return map({"env", "deviceNodes", "hooks", "mounts", "intelRdt", "additionalGids", "netDevices"},
               [&](std::string_view k) -> Status {
                 if (k == "env") return strings(e.env);
                 if (k == "deviceNodes") return seq([&] { return device_node(e.device_nodes.emplace_back()); });
                 if (k == "hooks") return seq([&] { return hook(e.hooks.emplace_back()); });
                 if (k == "mounts") return seq([&] { return mount(e.mounts.emplace_back()); });
                 if (k == "intelRdt") return intel_rdt(e.intel_rdt);
                 if (k == "additionalGids") return gids(e.additional_gids);
                 return seq([&] { return net_device(e.net_devices.emplace_back()); });
               });
  }

  Status device_node(DeviceNode& n) {
    return map({"path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"},
               [&](std::string_view k) -> Status {
                 if (k == "path") return str(n.path);
                 if (k == "hostPath") return str(n.host_path);
                 if (k == "type") return str(n.type);
                 if (k == "major") return i64(n.major);
                 if (k == "minor") return i64(n.minor);
                 if (k == "fileMode") return opt_u32(n.file_mode);
                 if (k == "permissions") return str(n.permissions);
                 if (k == "uid") return opt_u32(n.uid);
                 return opt_u32(n.gid);
               });
  }

  Status mount(Mount& m) {
    return map({"hostPath", "containerPath", "options", "type"}, [&](std::string_view k) -> Status {
      if (k == "hostPath") return str(m.host_path);
      if (k == "containerPath") return str(m.container_path);
      if (k == "options") return strings(m.options);
      return str(m.type);
    });
  }

  Status hook(Hook& h) {
    return map({"hookName", "path", "args", "env", "timeout"}, [&](std::string_view k) -> Status {
      if (k == "hookName") return str(h.hook_name);
      if (k == "path") return str(h.path);
      if (k == "args") return strings(h.args);
      if (k == "env") return strings(h.env);
      return opt_i64(h.timeout);
    });
  }

  Status intel_rdt(std::optional<IntelRdt>& out) {
    if (is_null(peek())) {
      take();
      out.reset();
      return {};
    }
    IntelRdt& r = out.emplace();
    return map({"closID", "l3CacheSchema", "memBwSchema", "schemata", "enableMonitoring"},
               [&](std::string_view k) -> Status {
                 if (k == "closID") return str(r.clos_id);
                 if (k == "l3CacheSchema") return str(r.l3_cache_schema);
                 if (k == "memBwSchema") return str(r.mem_bw_schema);
                 if (k == "enableMonitoring") return boolean(r.enable_monitoring);
                 if (is_null(peek())) {
                   take();
                   r.schemata.reset();
                   return {};
                 }
                 return strings(r.schemata.emplace());
               });
  }

  Status gids(std::vector<uint32_t>& out) {
    out.clear();
    return seq([&]() -> Status {
      std::optional<uint32_t> gid;
      CDI_TRY(opt_u32(gid));
      out.push_back(gid.value_or(0));
      return {};
    });
  }

  Status net_device(NetDevice& d) {
    return map({"hostInterfaceName", "name"}, [&](std::string_view k) -> Status {
      if (k == "hostInterfaceName") return str(d.host_interface_name);
      return str(d.name);
    });
  }

  const std::vector<Event>& events_;
  Spec& spec_;
  bool record_;
  std::vector<Error>* collect_;
  size_t pos_ = 0;
  std::vector<Frame> frames_;
};

}  // namespace

Result<Spec> decode_spec(const Tape& tape, const DecodeOptions& options) {
  Spec spec;
  Decoder d(tape, spec, options);
  CDI_TRY(d.run());
  return spec;
}

}  // namespace cdi::codec
