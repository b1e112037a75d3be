#include "edits/container_edits.h"

#include <iterator>

namespace cdi {

Status apply_plan_to_config(OciDocument& config, const EditPlan& plan) {
  OciSink sink(config);
  return apply_plan(plan, sink);
}

Status apply_edits(OciDocument& config, const std::vector<EditSource>& sources, Fs& fs,
                   std::vector<AppliedEdit>* explain) {
  auto plan = plan_edits(sources, fs, oci_container_view(config));
  if (!plan.ok()) return std::move(plan).error();
  CDI_TRY(apply_plan_to_config(config, *plan));
  if (explain) {
    auto edits = explain_plan(*plan);
    std::move(edits.begin(), edits.end(), std::back_inserter(*explain));
  }
  return {};
}

}  // namespace cdi
