#include "nri/plugin.h"

#include <fnmatch.h>

#include <algorithm>
#include <utility>

#include "app/error_report.h"
#include "base/text.h"
#include "nri/nri_api.pb.h"
#include "nri/protocol.h"
#include "nri/wire.h"
#include "spec/annotations.h"

namespace cdi::nri {

namespace {

// A map's entries with the CDI prefix, sorted by key: the order in which an
// engine's OCI config lists them (Go writes map keys sorted), so the devices
// come in the order the hook sees them.
AnnotationList cdi_annotations(const google::protobuf::Map<std::string, std::string>& map) {
  AnnotationList out;
  for (const auto& [k, v] : map) {
    if (std::string_view(k).starts_with(kAnnotationPrefix)) out.emplace_back(k, v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <class Message>
bool parse(Message& m, std::string_view payload) {
  return m.ParseFromArray(payload.data(), static_cast<int>(payload.size()));
}

Reply unparsable(std::string_view what) {
  return Reply::failure(Code::invalid_argument, "cdi-hook: " + std::string(what) + " does not parse");
}

// Whether two option sets resolve devices alike (the adjuster is kept when they do).
bool same_resolution(const PluginOptions& a, const PluginOptions& b) {
  return a.spec_dirs == b.spec_dirs && a.allow_insecure_specs == b.allow_insecure_specs;
}

}  // namespace

std::string container_label(const pb::PodSandbox& pod, const pb::Container& container) {
  auto part = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  return part(pod.namespace_()) + "/" + part(pod.name()) + "/" + part(container.name());
}

Plugin::Plugin(PluginOptions base, Launch launch, Logger& logger, AdjusterFactory make_adjuster,
               std::function<Status(const PluginOptions&)> apply_log_options)
    : base_(std::move(base)),
      options_(base_),
      launch_(std::move(launch)),
      logger_(logger),
      make_adjuster_(std::move(make_adjuster)),
      apply_log_options_(std::move(apply_log_options)),
      arena_block_(new char[kArenaBlock]) {}

Plugin::~Plugin() = default;

void Plugin::begin_session() {
  configured_ = false;
  registered_ = false;
  done_ = false;
}

std::chrono::milliseconds Plugin::effective_wait() const {
  // Leave the reply a quarter of the request timeout, and at least 500 ms.
  auto margin = std::max(std::chrono::milliseconds(500), request_timeout_ / 4);
  auto cap = std::max(std::chrono::milliseconds(0), request_timeout_ - margin);
  return std::min(options_.wait, cap);
}

Reply Plugin::call(std::string_view method, std::string_view payload) {
  if (method == kConfigure) return configure(payload);
  if (method == kSynchronize) return synchronize(payload);
  if (method == kCreateContainer) return create_container(payload);
  if (method == kStateChange) return Reply::ok(pb::Empty().SerializeAsString());
  if (method == kShutdown) {
    logger_.info("the runtime asked the plugin to shut down");
    done_ = true;
    return Reply::ok(pb::Empty().SerializeAsString());
  }
  return Reply::failure(Code::unimplemented, "method " + std::string(method));
}

void Plugin::registered(const Reply& reply) {
  if (reply.code != Code::ok) {
    logger_.error("the runtime refused the registration of " + launch_.plugin_idx + "-" + launch_.plugin_name + ": " +
                  std::string(code_name(reply.code)) + ": " + reply.message);
    return;
  }
  registered_ = true;
  logger_.info("registered as " + launch_.plugin_idx + "-" + launch_.plugin_name);
  if (on_registered_) on_registered_();
}

Reply Plugin::configure(std::string_view payload) {
  pb::ConfigureRequest request;
  if (!parse(request, payload)) return unparsable("ConfigureRequest");
  auto refuse = [&](const Error& e) {
    logger_.error("configuration refused: " + e.to_string());
    refused_ = true;
    done_ = true;
    return Reply::failure(Code::invalid_argument, "cdi-hook: " + e.to_string());
  };
  PluginOptions options = base_;
  if (!request.config().empty()) {
    std::string origin = "the runtime's config for " + launch_.plugin_idx + "-" + launch_.plugin_name;
    if (auto st = apply_config_text(options, request.config(), origin, OptionSource::runtime_config); !st.ok()) {
      return refuse(st.error());
    }
  }
  if (apply_log_options_) {
    if (auto st = apply_log_options_(options); !st.ok()) return refuse(st.error());
  }
  runtime_name_ = request.runtime_name();
  runtime_version_ = request.runtime_version();
  // Runtimes before NRI v0.7 (containerd 1.7.0-1.7.25) send 0: the plugin
  // cannot learn a timeout set below the default, and a reply later than it
  // makes such a runtime close the plugin and create the container without
  // its devices. The log says the value is assumed, so `wait` can be lowered.
  bool timeout_sent = request.request_timeout() > 0;
  request_timeout_ = std::chrono::milliseconds(timeout_sent ? request.request_timeout() : kDefaultRequestTimeoutMs);
  auto support = cdi_devices_support(runtime_name_, runtime_version_);
  auto capabilities = nri_capabilities(runtime_name_, runtime_version_, request.nri_version());
  auto references = use_cdi_references(options.cdi_mode, support, runtime_name_, runtime_version_);
  if (!references.ok()) return refuse(references.error());
  if (!adjuster_ || !same_resolution(options, options_)) {
    auto made = make_adjuster_(options, logger_);
    if (!made.ok()) return refuse(made.error());
    adjuster_ = std::move(*made);
  }
  options_ = std::move(options);
  references_ = *references;
  capabilities_ = capabilities;
  configured_ = true;
  std::string dirs = options_.spec_dirs.empty() ? "/etc/cdi, /var/run/cdi" : join(options_.spec_dirs, ", ");
  logger_.info("configured by " + describe_support(runtime_name_, runtime_version_, support) + " (" +
               capabilities_.describe() + "); cdi-mode " + std::string(cdi_mode_name(options_.cdi_mode)) +
               ": answering with " + (references_ ? "CDI device names" : "raw edits") + "; request timeout " +
               std::to_string(request_timeout_.count()) + " ms" +
               (timeout_sent ? "" : " (not sent by the runtime: its default assumed)") + ", wait up to " +
               std::to_string(effective_wait().count()) + " ms; spec dirs " + dirs);
  if (options_.cdi_mode == CdiMode::reference && support == CdiDevicesSupport::needs_enable_cdi) {
    logger_.warn("cdi-mode reference: the runtime drops the device names unless enable_cdi = true in its CRI config");
  }
  pb::ConfigureResponse response;
  response.set_events(kSubscribedEvents);
  return Reply::ok(response.SerializeAsString());
}

Reply Plugin::synchronize(std::string_view payload) {
  pb::SynchronizeRequest request;
  if (!parse(request, payload)) return unparsable("SynchronizeRequest");
  logger_.debug("synchronize: " + std::to_string(request.pods_size()) + " pods, " +
                std::to_string(request.containers_size()) + " containers" + (request.more() ? ", more to come" : ""));
  pb::SynchronizeResponse response;
  response.set_more(request.more());  // a split sync wants `more` echoed and no updates
  return Reply::ok(response.SerializeAsString());
}

Reply Plugin::create_container(std::string_view payload) {
  // The request on an arena: no allocation per field, nothing to free one by one.
  google::protobuf::ArenaOptions arena_options;
  arena_options.initial_block = arena_block_.get();
  arena_options.initial_block_size = kArenaBlock;
  google::protobuf::Arena arena(arena_options);
  auto* request = google::protobuf::Arena::CreateMessage<pb::CreateContainerRequest>(&arena);
  if (!parse(*request, payload)) return unparsable("CreateContainerRequest");
  // The reply is written into a buffer kept between requests (no growth once
  // warm): the adjustment after room for the head of CreateContainerResponse
  // {1: adjust}, which goes right before it once its length is known.
  if (response_.capacity() > kArenaBlock) std::string().swap(response_);  // a rare huge one is not kept
  response_.assign(kResponseHeadRoom, '\0');
  if (auto st = adjust_container(*request, response_); !st.ok()) {
    std::string line = app::error_line(st.error());
    logger_.error(container_label(request->pod(), request->container()) + ": " + line);
    // The status of the error's kind, as every front end classifies it (docs/errors.md).
    return Reply::failure(static_cast<Code>(app::rpc_code(st.error())), line);
  }
  // The adjustment is always present (the runtime reads an empty one as no change).
  std::string head;
  WireWriter(head).head(1, response_.size() - kResponseHeadRoom);
  size_t start = kResponseHeadRoom - head.size();
  response_.replace(start, head.size(), head);
  return Reply::ok_kept(std::string_view(response_).substr(start));
}

bool Plugin::skipped_runtime_handler(const pb::PodSandbox& pod, std::string& pattern) const {
  for (const auto& p : options_.skip_runtime_handlers) {
    if (fnmatch(p.c_str(), pod.runtime_handler().c_str(), 0) == 0) {
      pattern = p;
      return true;
    }
  }
  return false;
}

Status Plugin::adjust_container(const pb::CreateContainerRequest& request, std::string& adjustment) {
  const auto& pod = request.pod();
  const auto& container = request.container();
  std::string who = container_label(pod, container);
  AnnotationList annotations;
  AnnotationList pod_annotations = cdi_annotations(pod.annotations());
  if (options_.pod_annotations) annotations = pod_annotations;
  for (auto& kv : cdi_annotations(container.annotations())) annotations.push_back(std::move(kv));
  if (annotations.empty()) {
    if (!pod_annotations.empty()) {
      logger_.info(who + ": not injected: only the pod has cdi.k8s.io/ annotations and pod-annotations is off");
    } else {
      logger_.debug(who + ": no cdi.k8s.io/ annotations");
    }
    return {};
  }
  std::string pattern;
  if (skipped_runtime_handler(pod, pattern)) {
    logger_.info(who + ": not injected: runtime handler " + quote(pod.runtime_handler()) + " matches " +
                 quote(pattern) + " (skip-runtime-handler)");
    return {};
  }
  auto names = parse_annotations(annotations);
  if (!names.ok()) {
    Error e = std::move(names).error();  // the hook's error, naming the container where it names the config
    return std::move(e.in_file(who));
  }
  // Devices the runtime has already injected itself (containerd with enable_cdi, NRI v0.10+).
  std::vector<std::string> devices;
  for (auto& n : *names) {
    bool injected = std::any_of(container.cdi_devices().begin(), container.cdi_devices().end(),
                                [&](const pb::CDIDevice& d) { return d.name() == n; });
    if (injected) {
      logger_.info(who + ": skipped " + n + ": the runtime has already injected it (Container.CDI_devices)");
    } else if (std::find(devices.begin(), devices.end(), n) == devices.end()) {
      devices.push_back(std::move(n));
    }
  }
  if (devices.empty()) return {};
  if (!adjuster_) {
    auto made = make_adjuster_(options_, logger_);
    if (!made.ok()) return std::move(made).error();
    adjuster_ = std::move(*made);
  }
  AdjustRequest adjust{who, std::move(devices), &container, references_, capabilities_, effective_wait()};
  return adjuster_->adjust(adjust, adjustment);
}

}  // namespace cdi::nri
