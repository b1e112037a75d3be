// A spec's mounts and hooks encoded once: the same bytes as written field by
// field, for every source of the spec; a new Spec object (a changed file) gets
// its own encoding; at most max_specs specs are kept, never one in use.
#include "nri/encoded_edits.h"

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/spec_builders.h"

namespace cdi::nri {
namespace {

using cdi::testing::device;
using cdi::testing::make_spec;

Mount mount(std::string destination, std::vector<std::string> options = {"ro", "nosuid"}) {
  Mount m;
  m.host_path = "/usr/lib/x86_64-linux-gnu" + destination;
  m.container_path = std::move(destination);
  m.options = std::move(options);
  m.type = "bind";
  return m;
}

Hook hook(std::string path, std::optional<int64_t> timeout = std::nullopt) {
  Hook h;
  h.hook_name = "createContainer";
  h.path = std::move(path);
  h.args = {"hook", "--link", std::string(200, 'a')};  // a Hook of more than 127 bytes: a 2-byte length
  h.env = {"DEBUG=1"};
  h.timeout = timeout;
  return h;
}

std::shared_ptr<const Spec> spec_with(std::string first_mount) {
  ContainerEdits top;
  top.mounts = {mount(std::move(first_mount)), mount("/lib/two", {})};
  top.hooks = {hook("/bin/top", 5)};
  ContainerEdits gpu0;
  gpu0.mounts = {mount("/lib/gpu0")};
  ContainerEdits gpu1;
  gpu1.hooks = {hook("/bin/gpu1"), hook("/bin/gpu1b", 0)};
  Spec s = make_spec({device("gpu0", gpu0), device("gpu1", gpu1)});
  s.edits = top;
  return std::make_shared<const Spec>(std::move(s));
}

std::string written(const Mount& m) {
  std::string out;
  WireWriter w(out);
  write_mount_fields(w, m);
  return out;
}

std::string written(const Hook& h) {
  std::string out;
  WireWriter w(out);
  write_hook_fields(w, h);
  return out;
}

PlannedMount planned_mount(const Spec& spec, const Device* device, size_t index) {
  return PlannedMount{{{&spec, device}, "mounts", index}, nullptr};
}

PlannedHook planned_hook(const Spec& spec, const Device* device, size_t index) {
  return PlannedHook{{{&spec, device}, "hooks", index}, nullptr};
}

TEST(EncodedEdits, EveryMountAndHookOfEverySourceAsWrittenFieldByField) {
  auto spec = spec_with("/lib/one");
  EncodedEdits encoded;
  encoded.use({spec});
  EXPECT_EQ(encoded.mount(planned_mount(*spec, nullptr, 0)), written(spec->edits.mounts[0]));
  EXPECT_EQ(encoded.mount(planned_mount(*spec, nullptr, 1)), written(spec->edits.mounts[1]));
  EXPECT_EQ(encoded.hook(planned_hook(*spec, nullptr, 0)), written(spec->edits.hooks[0]));
  const Device* gpu0 = &spec->devices[0];
  const Device* gpu1 = &spec->devices[1];
  EXPECT_EQ(encoded.mount(planned_mount(*spec, gpu0, 0)), written(gpu0->edits.mounts[0]));
  EXPECT_EQ(encoded.hook(planned_hook(*spec, gpu1, 0)), written(gpu1->edits.hooks[0]));
  EXPECT_EQ(encoded.hook(planned_hook(*spec, gpu1, 1)), written(gpu1->edits.hooks[1]));
  EXPECT_GT(written(gpu1->edits.hooks[0]).size(), 127u);
}

TEST(EncodedEdits, ASpecNotInUseHasNoEncoding) {
  auto spec = spec_with("/lib/one");
  auto other = spec_with("/lib/other");
  EncodedEdits encoded;
  encoded.use({spec});
  EXPECT_EQ(encoded.mount(planned_mount(*other, nullptr, 0)).data(), nullptr);
  EXPECT_EQ(encoded.hook(planned_hook(*other, nullptr, 0)).data(), nullptr);
  EXPECT_NE(encoded.mount(planned_mount(*spec, nullptr, 0)).data(), nullptr);
}

// A changed spec file is a new Spec object: its edits are encoded anew, and
// the old object's encoding is never handed out for it.
TEST(EncodedEdits, ANewSpecObjectIsEncodedAnew) {
  auto before = spec_with("/lib/before");
  EncodedEdits encoded;
  encoded.use({before});
  auto after = spec_with("/lib/after");
  encoded.use({after});
  EXPECT_EQ(encoded.mount(planned_mount(*after, nullptr, 0)), written(after->edits.mounts[0]));
  EXPECT_EQ(encoded.mount(planned_mount(*before, nullptr, 0)), written(before->edits.mounts[0]));
}

TEST(EncodedEdits, KeepsAtMostMaxSpecsTheLeastRecentlyUsedGoingFirst) {
  EncodedEdits encoded(2);
  auto a = spec_with("/lib/a");
  auto b = spec_with("/lib/b");
  std::weak_ptr<const Spec> a_weak = a;
  encoded.use({a});
  encoded.use({b});
  encoded.use({b});
  auto c = spec_with("/lib/c");
  encoded.use({c});  // a: least recently used
  EXPECT_EQ(encoded.specs_kept(), 2u);
  EXPECT_EQ(encoded.mount(planned_mount(*a, nullptr, 0)).data(), nullptr);
  EXPECT_NE(encoded.mount(planned_mount(*b, nullptr, 0)).data(), nullptr);
  a.reset();
  EXPECT_TRUE(a_weak.expired()) << "an evicted spec is not held";
}

// A spec whose file changed or went is held by nothing but the entries: it
// goes when another spec is added, whatever max_specs.
TEST(EncodedEdits, DropsASpecOnlyItHoldsWhenAnotherIsAdded) {
  EncodedEdits encoded;
  auto gone = spec_with("/lib/gone");
  std::weak_ptr<const Spec> gone_weak = gone;
  encoded.use({gone});
  gone.reset();
  EXPECT_FALSE(gone_weak.expired()) << "held while nothing else is added";
  auto next = spec_with("/lib/next");
  encoded.use({next});
  EXPECT_TRUE(gone_weak.expired());
  EXPECT_EQ(encoded.specs_kept(), 1u);
}

// After a request that used more than max_specs specs, the next new spec
// brings the table back under the limit.
TEST(EncodedEdits, ComesBackUnderMaxSpecsAfterALargeRequest) {
  EncodedEdits encoded(2);
  auto a = spec_with("/lib/a");
  auto b = spec_with("/lib/b");
  auto c = spec_with("/lib/c");
  encoded.use({a, b, c});
  auto d = spec_with("/lib/d");
  encoded.use({d});
  EXPECT_EQ(encoded.specs_kept(), 2u);
  EXPECT_EQ(encoded.mount(planned_mount(*d, nullptr, 0)), written(d->edits.mounts[0]));
  EXPECT_EQ(encoded.mount(planned_mount(*c, nullptr, 0)), written(c->edits.mounts[0])) << "the most recent stays";
}

TEST(EncodedEdits, NeverDropsASpecTheRequestUses) {
  EncodedEdits encoded(2);
  auto a = spec_with("/lib/a");
  auto b = spec_with("/lib/b");
  auto c = spec_with("/lib/c");
  encoded.use({a, b, c});
  EXPECT_EQ(encoded.specs_kept(), 3u);
  for (const auto& s : {a, b, c}) {
    EXPECT_EQ(encoded.mount(planned_mount(*s, nullptr, 0)), written(s->edits.mounts[0]));
  }
}

}  // namespace
}  // namespace cdi::nri
