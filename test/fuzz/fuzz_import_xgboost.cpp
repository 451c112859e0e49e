// libFuzzer harness: ml_import('xgboost', text) (core::import_model), XGBoost's JSON model as
// Booster.save_model writes it. What is accepted is a predict-only model that round-trips and is
// used as test/fuzz/model_harness.hpp says (predicting with any observation; learning is refused).
#include "model_harness.hpp"

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::unique_ptr<core::Model> m;
    if (!fuzz::accepts([&] { m = core::import_model("xgboost", text.data(), text.size()); })) return 0;
    FUZZ_REQUIRE(!m->can_learn(), "an imported model is predict-only");
    std::string encoded;
    fuzz::must("an imported model encodes", [&] { encoded = fuzz::model_bytes(*m); });
    fuzz::check_model_round_trips(*m, encoded);
    fuzz::use_model(*m, fuzz::probe_observation(), size);
    return 0;
}
