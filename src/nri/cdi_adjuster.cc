#include "nri/cdi_adjuster.h"

#include "nri/nri_api.pb.h"

namespace cdi::nri {

namespace {

// Placeholder until the library's edit plan and spec cache exist: every
// container with CDI annotations fails, loudly.
class PendingAdjuster final : public Adjuster {
 public:
  Status adjust(const AdjustRequest& request, pb::ContainerAdjustment&) override {
    return Error("CDI resolution is not available in this build").with_context(request.who);
  }
};

}  // namespace

Result<std::unique_ptr<Adjuster>> make_cdi_adjuster(const PluginOptions&, Logger&) {
  return std::unique_ptr<Adjuster>(new PendingAdjuster());
}

}  // namespace cdi::nri
