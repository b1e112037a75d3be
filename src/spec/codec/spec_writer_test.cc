// The spec model as JSON events: the form the schema check sees.
#include "spec/codec/spec_writer.h"

#include <gtest/gtest.h>

#include "spec/codec/spec_codec.h"

namespace cdi::codec {
namespace {

std::string text_of(const Spec& spec) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  EXPECT_TRUE(write_spec(spec, writer));
  return std::string(buffer.GetString(), buffer.GetSize());
}

TEST(SpecWriter, EveryFieldInTheSpecsOrderEmptyOnesLeftOut) {
  auto spec = parse_spec(R"(cdiVersion: 1.1.0
kind: vendor.com/gpu
annotations: {a: b}
devices:
- name: gpu0
  annotations: {c: d}
  containerEdits:
    env: [A=1]
    deviceNodes:
    - {path: /dev/gpu0, hostPath: /dev/x, type: c, major: 195, minor: 0, fileMode: 0o640, permissions: rw, uid: 0, gid: 44}
    hooks: [{hookName: createContainer, path: /bin/h, args: [h], env: [E=1], timeout: 5}]
    mounts: [{hostPath: /a, containerPath: /b, options: [ro], type: bind}]
    intelRdt: {closID: c, schemata: [], enableMonitoring: true}
    additionalGids: [44]
    netDevices: [{hostInterfaceName: eth0, name: net0}]
containerEdits:
  env: [S=1]
)",
                         SpecFormat::yaml);
  ASSERT_TRUE(spec.ok()) << spec.error().located();
  EXPECT_EQ(text_of(*spec),
            R"({"cdiVersion":"1.1.0","kind":"vendor.com/gpu","annotations":{"a":"b"},"devices":[{"name":"gpu0",)"
            R"("annotations":{"c":"d"},"containerEdits":{"env":["A=1"],"deviceNodes":[{"path":"/dev/gpu0",)"
            R"("hostPath":"/dev/x","type":"c","major":195,"fileMode":416,"permissions":"rw","uid":0,"gid":44}],)"
            R"("hooks":[{"hookName":"createContainer","path":"/bin/h","args":["h"],"env":["E=1"],"timeout":5}],)"
            R"("mounts":[{"hostPath":"/a","containerPath":"/b","options":["ro"],"type":"bind"}],)"
            R"("intelRdt":{"closID":"c","schemata":[],"enableMonitoring":true},"additionalGids":[44],)"
            R"("netDevices":[{"hostInterfaceName":"eth0","name":"net0"}]}}],"containerEdits":{"env":["S=1"]}})");
  // The document built from the same events says the same.
  rapidjson::Document doc = spec_to_json(*spec);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  EXPECT_EQ(std::string(buffer.GetString(), buffer.GetSize()), text_of(*spec));
}

// A handler that has had enough after three events.
struct StopsEarly : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, StopsEarly> {
  int events = 0;
  bool Default() { return ++events < 3; }
};

TEST(SpecWriter, StopsWhenTheHandlerSaysSo) {
  Spec s;
  s.version = "0.5.0";
  s.kind = "v.com/c";
  s.devices.resize(100);
  StopsEarly h;
  EXPECT_FALSE(write_spec(s, h));
  EXPECT_EQ(h.events, 3);
}

}  // namespace
}  // namespace cdi::codec
