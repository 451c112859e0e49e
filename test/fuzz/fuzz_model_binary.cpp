// libFuzzer harness: the binary form of ml_model (core::decode_model, every family). Whatever
// decodes re-encodes to the input's own bytes (a stored value is read and written bit for bit),
// and is used as test/fuzz/model_harness.hpp says.
#include "model_harness.hpp"

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::unique_ptr<core::Model> m;
    if (!fuzz::accepts([&] { m = core::decode_model(data, size); })) return 0;
    std::string encoded;
    fuzz::must("an accepted model re-encodes", [&] { encoded = fuzz::model_bytes(*m); });
    FUZZ_REQUIRE(encoded == std::string(reinterpret_cast<const char*>(data), size),
                 "an accepted binary model re-encodes to the same bytes");
    fuzz::check_model_round_trips(*m, encoded);
    fuzz::use_model(*m, fuzz::probe_observation(), size);
    return 0;
}
