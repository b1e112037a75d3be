#include "spec/codec/spec_writer.h"

namespace cdi::codec {

rapidjson::Document spec_to_json(const Spec& spec) {
  rapidjson::Document d;
  auto events = [&](rapidjson::Document& handler) { return write_spec(spec, handler); };
  d.Populate(events);
  return d;
}

}  // namespace cdi::codec
