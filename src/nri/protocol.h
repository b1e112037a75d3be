// NRI's names and numbers that the plugin and its tests share.
#pragma once

#include <cstdint>
#include <string_view>

namespace cdi::nri {

// The service the plugin serves on kPluginConn and the one it calls on kRuntimeConn.
inline constexpr std::string_view kPluginService = "nri.pkg.api.v1alpha1.Plugin";
inline constexpr std::string_view kRuntimeService = "nri.pkg.api.v1alpha1.Runtime";

// Methods of the Plugin service this plugin answers; any other gets Unimplemented.
inline constexpr std::string_view kConfigure = "Configure";
inline constexpr std::string_view kSynchronize = "Synchronize";
inline constexpr std::string_view kCreateContainer = "CreateContainer";
inline constexpr std::string_view kStateChange = "StateChange";  // the catch-all before NRI v0.12
inline constexpr std::string_view kShutdown = "Shutdown";
// The Runtime method this plugin calls.
inline constexpr std::string_view kRegisterPlugin = "RegisterPlugin";

// Events are numbered from 1; a plugin subscribes with bit (1 << (event - 1)).
// A mask of 0 means every event, and a bit the runtime does not know gets the
// plugin rejected: subscribe to exactly what is handled.
inline constexpr int kEventCreateContainer = 4;
inline constexpr int32_t event_mask(int event) { return int32_t{1} << (event - 1); }
inline constexpr int32_t kSubscribedEvents = event_mask(kEventCreateContainer);  // 0x8

// Timeouts a runtime older than NRI v0.7 does not send (it says 0).
inline constexpr int64_t kDefaultRequestTimeoutMs = 2000;
inline constexpr int64_t kDefaultRegistrationTimeoutMs = 5000;

// The pre-registered launch: the runtime starts /opt/nri/plugins/NN-name with
// these three variables only, and the socketpair end as fd 3.
inline constexpr std::string_view kEnvPluginSocket = "NRI_PLUGIN_SOCKET";
inline constexpr std::string_view kEnvPluginName = "NRI_PLUGIN_NAME";
inline constexpr std::string_view kEnvPluginIdx = "NRI_PLUGIN_IDX";

inline constexpr std::string_view kDefaultSocket = "/var/run/nri/nri.sock";

}  // namespace cdi::nri
