// Container edits applied to an OCI config: the plan (edit_plan.h) made for
// the config as it is, written by the OCI sink (oci_sink.h). The reference
// v1.1.0 semantics and the project's decisions (docs/decisions.md) are the
// plan's: env replaced in place, device nodes re-stat'ed on every injection,
// cached specs never mutated, what the config already has not added again.
#pragma once

#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "edits/edit_plan.h"
#include "edits/edit_sink.h"
#include "edits/oci_document.h"
#include "edits/oci_sink.h"
#include "spec/spec.h"

namespace cdi {

// Applies every source's edits to `config`, category by category in merge
// order; `explain`, when given, receives every edit made. On error the config
// may be half-edited: callers apply to a copy.
Status apply_edits(OciDocument& config, const std::vector<EditSource>& sources, Fs& fs,
                   std::vector<AppliedEdit>* explain = nullptr);

// The same for a plan already made (for this config, with oci_container_view).
Status apply_plan_to_config(OciDocument& config, const EditPlan& plan);

}  // namespace cdi
