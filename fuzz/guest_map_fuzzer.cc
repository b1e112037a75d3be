// The guest map parser (JSON): no crash, no hang, and every error says where.
#include <string>

#include "fuzz_check.h"
#include "guest/guest_map.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = cdi::fuzz::as_view(data, size);
  cdi::Result<cdi::GuestMap> map = cdi::parse_guest_map(bytes, "guest-map.json");
  if (!map.ok()) {
    FUZZ_CHECK(!map.error().message.empty(), "an error without a message");
    return 0;
  }
  // Every entry the parser kept has a position, for later errors.
  for (size_t i = 0; i < map->devices.size(); ++i) {
    std::string entry = "devices[" + std::to_string(i) + "]";
    FUZZ_CHECK(map->positions.count(entry) == 1, "no position for " + entry);
    (void)map->error_at(entry + ".guestPath", "x").to_string();
  }
  for (size_t i = 0; i < map->pci.size(); ++i) {
    std::string entry = "pci[" + std::to_string(i) + "]";
    FUZZ_CHECK(map->positions.count(entry) == 1, "no position for " + entry);
  }
  return 0;
}
