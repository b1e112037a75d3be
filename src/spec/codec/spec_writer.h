// The spec model back to JSON: the canonical form of a spec as cdi-hook read
// it (used to check specs against the JSON Schema). Written as SAX events, so a
// check needs no document of its own; spec_to_json builds one from the same events.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "base/json.h"
#include "spec/spec.h"

namespace cdi::codec {

// Writes `spec` as JSON events (StartObject, Key, String, ...) to a RapidJSON
// handler, fields that are absent or empty in the model left out; stops when
// the handler returns false, and returns false then.
template <class Handler>
bool write_spec(const Spec& spec, Handler& handler);

// The same events made into a document.
rapidjson::Document spec_to_json(const Spec& spec);

// ---- implementation -----------------------------------------------------

namespace detail {

template <class Handler>
class SpecEvents {
 public:
  explicit SpecEvents(Handler& h) : h_(h) {}
  bool ok() const { return ok_; }

  void spec(const Spec& s) {
    begin();
    str("cdiVersion", s.version);
    str("kind", s.kind);
    if (!s.annotations.empty()) annotations("annotations", s.annotations);
    key("devices");
    array([&] {
      for (const auto& d : s.devices) {
        begin();
        str("name", d.name);
        if (!d.annotations.empty()) annotations("annotations", d.annotations);
        key("containerEdits");
        edits(d.edits);
        end();
      }
    });
    if (!s.edits.empty()) {
      key("containerEdits");
      edits(s.edits);
    }
    end();
  }

 private:
  // Handlers want the number of members or elements at the end of each
  // collection (a document pops them, the schema validator counts them).
  struct Open {
    bool array;
    rapidjson::SizeType count;
  };
  // Counts a value in the array it is an element of.
  void element() {
    if (!open_.empty() && open_.back().array) ++open_.back().count;
  }
  void key(const char* k) { name(k, std::strlen(k)); }
  void name(const char* k, size_t size) {
    ++open_.back().count;
    if (ok_) ok_ = h_.Key(k, static_cast<rapidjson::SizeType>(size), true);
  }
  void value(const std::string& s) {
    element();
    if (ok_) ok_ = h_.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
  }
  void number(int64_t v) {
    element();
    if (ok_) ok_ = h_.Int64(v);
  }
  void number(uint32_t v) {
    element();
    if (ok_) ok_ = h_.Uint(v);
  }
  void begin() {
    element();
    open_.push_back({false, 0});
    if (ok_) ok_ = h_.StartObject();
  }
  void end() {
    rapidjson::SizeType n = open_.back().count;
    open_.pop_back();
    if (ok_) ok_ = h_.EndObject(n);
  }
  template <class F>
  void array(F&& items) {
    element();
    open_.push_back({true, 0});
    if (ok_) ok_ = h_.StartArray();
    items();
    rapidjson::SizeType n = open_.back().count;
    open_.pop_back();
    if (ok_) ok_ = h_.EndArray(n);
  }
  void str(const char* k, const std::string& s) {
    key(k);
    value(s);
  }
  void str_if(const char* k, const std::string& s) {
    if (!s.empty()) str(k, s);
  }
  void i64(const char* k, int64_t v) {
    key(k);
    number(v);
  }
  void u32(const char* k, uint32_t v) {
    key(k);
    number(v);
  }
  void strings(const char* k, const std::vector<std::string>& items) {
    key(k);
    array([&] {
      for (const auto& i : items) value(i);
    });
  }
  void strings_if(const char* k, const std::vector<std::string>& items) {
    if (!items.empty()) strings(k, items);
  }
  void annotations(const char* k, const AnnotationList& list) {
    key(k);
    begin();
    for (const auto& [annotation, v] : list) {
      name(annotation.data(), annotation.size());
      value(v);
    }
    end();
  }

  void edits(const ContainerEdits& e) {
    begin();
    strings_if("env", e.env);
    if (!e.device_nodes.empty()) {
      key("deviceNodes");
      array([&] {
        for (const auto& n : e.device_nodes) device_node(n);
      });
    }
    if (!e.hooks.empty()) {
      key("hooks");
      array([&] {
        for (const auto& h : e.hooks) hook(h);
      });
    }
    if (!e.mounts.empty()) {
      key("mounts");
      array([&] {
        for (const auto& m : e.mounts) mount(m);
      });
    }
    if (e.intel_rdt) intel_rdt(*e.intel_rdt);
    if (!e.additional_gids.empty()) {
      key("additionalGids");
      array([&] {
        for (uint32_t g : e.additional_gids) number(g);
      });
    }
    if (!e.net_devices.empty()) {
      key("netDevices");
      array([&] {
        for (const auto& d : e.net_devices) {
          begin();
          str("hostInterfaceName", d.host_interface_name);
          str("name", d.name);
          end();
        }
      });
    }
    end();
  }

  void device_node(const DeviceNode& n) {
    begin();
    str("path", n.path);
    str_if("hostPath", n.host_path);
    str_if("type", n.type);
    if (n.major) i64("major", n.major);
    if (n.minor) i64("minor", n.minor);
    if (n.file_mode) u32("fileMode", *n.file_mode);
    str_if("permissions", n.permissions);
    if (n.uid) u32("uid", *n.uid);
    if (n.gid) u32("gid", *n.gid);
    end();
  }

  void hook(const Hook& h) {
    begin();
    str("hookName", h.hook_name);
    str("path", h.path);
    strings_if("args", h.args);
    strings_if("env", h.env);
    if (h.timeout) i64("timeout", *h.timeout);
    end();
  }

  void mount(const Mount& m) {
    begin();
    str("hostPath", m.host_path);
    str("containerPath", m.container_path);
    strings_if("options", m.options);
    str_if("type", m.type);
    end();
  }

  void intel_rdt(const IntelRdt& r) {
    key("intelRdt");
    begin();
    str_if("closID", r.clos_id);
    str_if("l3CacheSchema", r.l3_cache_schema);
    str_if("memBwSchema", r.mem_bw_schema);
    if (r.schemata) strings("schemata", *r.schemata);
    if (r.enable_monitoring) {
      key("enableMonitoring");
      if (ok_) ok_ = h_.Bool(true);  // a member, counted by its key
    }
    end();
  }

  Handler& h_;
  bool ok_ = true;
  std::vector<Open> open_;
};

}  // namespace detail

template <class Handler>
bool write_spec(const Spec& spec, Handler& handler) {
  detail::SpecEvents<Handler> events(handler);
  events.spec(spec);
  return events.ok();
}

}  // namespace cdi::codec
