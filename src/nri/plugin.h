// The Plugin service: what cdi-hook-nri answers to each call of the runtime.
// Configure takes the runtime's config text and identity and subscribes to
// CREATE_CONTAINER only; Synchronize echoes `more` with no updates;
// CreateContainer decides what to do with one container (skip it, or ask the
// adjuster for its devices); StateChange and Shutdown get Empty; anything
// else is Unimplemented. One Plugin lives as long as the process, across the
// reconnections of an external plugin.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/logger.h"
#include "nri/plugin_options.h"
#include "nri/runtime_info.h"
#include "nri/session.h"

namespace nri::pkg::api::v1alpha1 {
class CreateContainerRequest;
class ContainerAdjustment;
class PodSandbox;
class Container;
}  // namespace nri::pkg::api::v1alpha1

namespace cdi::nri {

namespace pb = ::nri::pkg::api::v1alpha1;

// What a CreateContainer asks of the CDI side, after the plugin's own checks.
struct AdjustRequest {
  std::string who;                   // "namespace/pod/container", for logs
  std::vector<std::string> devices;  // requested, in request order
  const pb::Container* container = nullptr;
  bool references = false;            // answer with CDI_devices instead of raw edits
  NriCapabilities capabilities;       // what the runtime applies of raw edits
  std::chrono::milliseconds wait{0};  // for late specs, already capped below the request timeout
};

// The CDI side: resolves the devices and appends the encoded
// ContainerAdjustment to `adjustment`, or fails with the hook's error for the
// same devices.
class Adjuster {
 public:
  virtual ~Adjuster() = default;
  virtual Status adjust(const AdjustRequest& request, std::string& adjustment) = 0;
};

// Makes the adjuster once the options are final (at Configure).
using AdjusterFactory = std::function<Result<std::unique_ptr<Adjuster>>(const PluginOptions&, Logger&)>;

struct Launch {
  bool pre_registered = false;
  std::string plugin_name;  // the identity the runtime knows the plugin by
  std::string plugin_idx;
};

class Plugin final : public Service {
 public:
  // `apply_log_options` is called when Configure brings options (it rebuilds the log sinks).
  Plugin(PluginOptions base, Launch launch, Logger& logger, AdjusterFactory make_adjuster,
         std::function<Status(const PluginOptions&)> apply_log_options);
  ~Plugin() override;

  Reply call(std::string_view method, std::string_view payload) override;
  void registered(const Reply& reply) override;
  bool done() const override { return done_; }

  // A new connection: Configure must come again.
  void begin_session();
  // Called when the runtime accepts the registration.
  void on_registered(std::function<void()> f) { on_registered_ = std::move(f); }
  // Configure was refused for a reason a reconnection cannot change.
  bool refused() const { return refused_; }
  bool is_registered() const { return registered_; }
  const PluginOptions& options() const { return options_; }
  // The request timeout from Configure (2 s when the runtime sent 0).
  std::chrono::milliseconds request_timeout() const { return request_timeout_; }
  // --wait, capped below the request timeout with a margin.
  std::chrono::milliseconds effective_wait() const;

 private:
  Reply configure(std::string_view payload);
  Reply synchronize(std::string_view payload);
  Reply create_container(std::string_view payload);
  Status adjust_container(const pb::CreateContainerRequest& request, std::string& adjustment);
  bool skipped_runtime_handler(const pb::PodSandbox& pod, std::string& pattern) const;

  PluginOptions base_;
  PluginOptions options_;
  Launch launch_;
  Logger& logger_;
  AdjusterFactory make_adjuster_;
  std::function<Status(const PluginOptions&)> apply_log_options_;
  std::unique_ptr<Adjuster> adjuster_;
  std::function<void()> on_registered_;
  static constexpr size_t kArenaBlock = 256 * 1024;  // a CreateContainer's messages fit in it
  std::unique_ptr<char[]> arena_block_;
  // The CreateContainerResponse being answered, its adjustment written in
  // place after room for the response's head (a tag and a length).
  static constexpr size_t kResponseHeadRoom = 1 + 10;
  std::string response_;
  std::string runtime_name_;
  std::string runtime_version_;
  std::chrono::milliseconds request_timeout_{2000};
  bool references_ = false;
  NriCapabilities capabilities_;
  bool configured_ = false;
  bool registered_ = false;
  bool done_ = false;
  bool refused_ = false;
};

// "namespace/pod/container" for log lines.
std::string container_label(const pb::PodSandbox& pod, const pb::Container& container);

}  // namespace cdi::nri
