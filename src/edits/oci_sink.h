// The OCI sink: a plan's edits written into an OCI config (config.json) with
// key order and unknown fields kept. Errors about the config's own shape (a
// "process" that is not an object, a duplicate key) carry the context
// "OCI config" and the config's field path.
#pragma once

#include <map>
#include <string>

#include "edits/edit_sink.h"
#include "edits/oci_document.h"

namespace cdi {

// What a plan needs of the config before injection; tolerant of any shape
// (a malformed section reads as empty, and the sink reports it if it must
// write there).
ContainerView oci_container_view(const OciDocument& config);

class OciSink final : public EditSink {
 public:
  explicit OciSink(OciDocument& config);

  Status set_env(const PlannedEnv& env) override;
  Status add_device_node(const PlannedDeviceNode& node) override;
  Status add_cgroup_rule(const PlannedCgroupRule& rule) override;
  Status add_net_device(const PlannedNetDevice& device) override;
  Status add_mount(const PlannedMount& mount) override;
  Status order_mounts() override;
  Status add_hook(const PlannedHook& hook) override;
  Status set_intel_rdt(const PlannedIntelRdt& rdt) override;
  Status add_additional_gid(const PlannedGid& gid) override;

 private:
  Result<JsonValue*> process();
  Result<JsonValue*> linux_section();

  rapidjson::Document& root_;
  JsonAllocator& a_;
  std::map<std::string, rapidjson::SizeType, std::less<>> env_index_;  // key -> slot in process.env
  bool env_checked_ = false;
  std::map<std::string, size_t, std::less<>> destinations_;  // mount destination -> how many mounts have it
  bool destinations_counted_ = false;
};

}  // namespace cdi
