#include "edits/edit_sink.h"

namespace cdi {

namespace {

// An error about the planned edit names where it came from; one about the
// target's own data (it has a context) or already located stays as it is.
[[gnu::cold, gnu::noinline]] Status locate_failure(Status st, const EditOrigin& origin) {
  Error e = std::move(st).error();
  if (e.file.empty() && e.context.empty()) return origin.locate(std::move(e));
  return e;
}

// Every edit of a request passes here: the success path stays inline.
inline Status located(Status st, const EditOrigin& origin) {
  if (st.ok()) [[likely]]
    return st;
  return locate_failure(std::move(st), origin);
}

}  // namespace

Status apply_plan(const EditPlan& plan, EditSink& sink) {
  for (const auto& e : plan.env) CDI_TRY(located(sink.set_env(e), e.origin));
  CDI_TRY(for_each_node_and_rule(
      plan, [&](const PlannedDeviceNode& n) { return located(sink.add_device_node(n), n.origin); },
      [&](const PlannedCgroupRule& r) { return located(sink.add_cgroup_rule(r), r.origin); }));
  for (const auto& d : plan.net_devices) CDI_TRY(located(sink.add_net_device(d), d.origin));
  for (const auto& m : plan.mounts) CDI_TRY(located(sink.add_mount(m), m.origin));
  if (!plan.mounts.empty()) CDI_TRY(sink.order_mounts());
  for (const auto& h : plan.hooks) CDI_TRY(located(sink.add_hook(h), h.origin));
  for (const auto& x : plan.intel_rdt) CDI_TRY(located(sink.set_intel_rdt(x), x.origin));
  for (const auto& g : plan.additional_gids) CDI_TRY(located(sink.add_additional_gid(g), g.origin));
  return {};
}

}  // namespace cdi
