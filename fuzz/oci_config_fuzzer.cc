// The OCI config parser and serialiser: whatever parses serialises to bytes
// that parse again, and parse -> serialise -> parse -> serialise is a fixed
// point, in both the pretty and the compact form. The annotations and the
// state test read the parsed document without failing.
#include <string>

#include "edits/oci_document.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = cdi::fuzz::as_view(data, size);
  cdi::Result<cdi::OciDocument> doc = cdi::OciDocument::parse(bytes);
  if (!doc.ok()) return 0;
  (void)doc->annotations();
  (void)doc->is_state();
  for (bool pretty : {true, false}) {
    std::string first = doc->serialize(pretty);
    cdi::Result<cdi::OciDocument> again = cdi::OciDocument::parse(first);
    FUZZ_CHECK(again.ok(), "the serialised config does not parse: " + again.error().to_string() + "\n" + first);
    std::string second = again->serialize(pretty);
    FUZZ_CHECK(first == second, "the round trip is not a fixed point:\n" + first + "\n" + second);
    FUZZ_CHECK(again->annotations() == doc->annotations(), "the annotations changed in the round trip");
    std::string cloned = doc->clone().serialize(pretty);
    FUZZ_CHECK(cloned == first, "a clone serialises differently:\n" + cloned + "\n" + first);
  }
  return 0;
}
