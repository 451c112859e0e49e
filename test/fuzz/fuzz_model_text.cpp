// libFuzzer harness: the text form of ml_model (core::model_from_text): a spec ({"model": ...},
// a fresh model) or a whole model's JSON form, as ml_model's input function reads it (a C
// string). What is accepted round-trips and is used as test/fuzz/model_harness.hpp says.
#include "model_harness.hpp"

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text = fuzz::c_string(data, size);
    std::unique_ptr<core::Model> m;
    if (!fuzz::accepts([&] { m = core::model_from_text(text.data(), text.size()); })) return 0;
    std::string encoded;
    fuzz::must("an accepted model encodes", [&] { encoded = fuzz::model_bytes(*m); });
    fuzz::check_model_round_trips(*m, encoded);
    fuzz::use_model(*m, fuzz::probe_observation(), size);
    return 0;
}
