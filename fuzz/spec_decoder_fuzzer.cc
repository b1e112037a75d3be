// Bytes to a spec, as a spec file in either format. Invariants:
//   - a spec that decodes has the kind that the quick peek (the kind index's
//     reader) found, when the peek says it found one;
//   - collect mode (validate) reports problems exactly when the plain decode fails;
//   - the model written back to JSON decodes again, and writing that gives the
//     same bytes (the writer and the decoder agree on every field).
#include <string>
#include <vector>

#include "base/json.h"
#include "fuzz_check.h"
#include "spec/codec/spec_codec.h"
#include "spec/codec/spec_writer.h"

namespace {

using cdi::codec::SpecFormat;

std::string to_json(const cdi::Spec& spec) {
  rapidjson::Document doc = cdi::codec::spec_to_json(spec);
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> writer(out);
  doc.Accept(writer);
  return std::string(out.GetString(), out.GetSize());
}

void check(std::string_view bytes, SpecFormat format) {
  cdi::Result<cdi::Spec> spec = cdi::codec::parse_spec(bytes, format);

  cdi::codec::PeekedKind peek = cdi::codec::peek_spec_kind(bytes, format);
  if (spec.ok() && peek.result == cdi::codec::KindPeek::found) {
    FUZZ_CHECK(peek.kind == spec->kind, "peeked kind " + peek.kind + ", decoded kind " + spec->kind);
  }

  std::vector<cdi::Error> problems;
  cdi::codec::DecodeOptions collect{.record_positions = true, .collect = &problems};
  cdi::Result<cdi::Spec> collected = cdi::codec::parse_spec(bytes, format, collect);
  if (spec.ok()) {
    FUZZ_CHECK(collected.ok() && problems.empty(),
               "collect mode found problems in a spec that decodes: " +
                   (problems.empty() ? std::string("(none)") : problems.front().to_string()));
  } else {
    FUZZ_CHECK(!collected.ok() || !problems.empty(),
               "collect mode found nothing wrong where the decoder refused: " + spec.error().to_string());
  }
  if (!spec.ok()) return;

  std::string first = to_json(*spec);
  cdi::Result<cdi::Spec> again = cdi::codec::parse_spec(first, SpecFormat::json);
  FUZZ_CHECK(again.ok(), "the written spec does not decode: " + again.error().to_string() + "\n" + first);
  std::string second = to_json(*again);
  FUZZ_CHECK(first == second, "the round trip is not a fixed point:\n" + first + "\n" + second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = cdi::fuzz::as_view(data, size);
  check(bytes, SpecFormat::yaml);
  check(bytes, SpecFormat::json);
  return 0;
}
