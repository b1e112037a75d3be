// Qualified names and cdi.k8s.io annotations. The input is lines; each line
// is a name to check and, as "key=value" pairs, an annotation list. Invariants:
//   - parse_qualified_name accepts exactly what is_qualified_name accepts, and
//     what it accepts splits into the same parts and prints back as the input;
//   - parse_kind accepts the kind of every valid name;
//   - the devices parse_annotations returns are valid names, and
//     annotation_value of them is accepted back under annotation_key's key.
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "spec/annotations.h"
#include "spec/qualified_name.h"

namespace {

void check_name(const std::string& line) {
  cdi::Result<cdi::QualifiedName> q = cdi::parse_qualified_name(line);
  FUZZ_CHECK(q.ok() == cdi::is_qualified_name(line), line);
  cdi::QualifiedName split = cdi::split_qualified_name(line);
  if (!q.ok()) return;
  FUZZ_CHECK(q->str() == line, q->str() + " from " + line);
  FUZZ_CHECK(split.vendor == q->vendor && split.device_class == q->device_class && split.name == q->name, line);
  cdi::Result<cdi::Kind> kind = cdi::parse_kind(q->kind());
  FUZZ_CHECK(kind.ok(), kind.ok() ? line : kind.error().to_string());
  FUZZ_CHECK(kind->vendor == q->vendor && kind->device_class == q->device_class, line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> lines = cdi::fuzz::split(cdi::fuzz::as_view(data, size), '\n');
  cdi::AnnotationList annotations;
  for (const std::string& line : lines) {
    check_name(line);
    size_t eq = line.find('=');
    if (eq != std::string::npos) annotations.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  cdi::Result<std::vector<std::string>> devices = cdi::parse_annotations(annotations);
  if (devices.ok()) {
    for (const std::string& d : *devices) FUZZ_CHECK(cdi::is_qualified_name(d), d);
    FUZZ_CHECK(devices->empty() || cdi::has_cdi_annotations(annotations), "devices without a cdi.k8s.io/ key");
  }
  if (!devices.ok() || devices->empty() || lines.empty()) return 0;
  cdi::Result<std::string> value = cdi::annotation_value(*devices);
  FUZZ_CHECK(value.ok(), value.ok() ? "" : value.error().to_string());
  cdi::Result<std::string> key = cdi::annotation_key("fuzz", lines.front());
  if (!key.ok()) return 0;
  FUZZ_CHECK(key->starts_with(cdi::kAnnotationPrefix), *key);
  cdi::Result<std::vector<std::string>> back = cdi::parse_annotations({{*key, *value}});
  FUZZ_CHECK(back.ok() && *back == *devices, *key + "=" + *value);
  return 0;
}
