// libFuzzer harness: the text form of ml_model (core::model_value_from_text, as ml_model's input
// function reads it: a C string): a spec ({"model": ...}, a fresh model), a whole model's JSON
// form, or one with the "training_history" ml_train records. What is accepted round-trips (its
// text and its binary form, history included) and is used as test/fuzz/model_harness.hpp says.
#include "model_harness.hpp"

#include "core/models/training_history.hpp"

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text = fuzz::c_string(data, size);
    std::unique_ptr<core::Model> m;
    core::TrainingHistory h;
    bool has = false;
    if (!fuzz::accepts([&] { m = core::model_value_from_text(text.data(), text.size(), &h, &has); })) return 0;
    if (has) {
        fuzz::must("a model with a history round-trips", [&] {
            std::string bytes(core::model_value_size(*m, &h), '\0');
            core::encode_model_value(*m, &h, reinterpret_cast<uint8_t*>(bytes.data()), bytes.size());
            core::TrainingHistory back;
            bool back_has = false;
            const std::unique_ptr<core::Model> again =
                core::decode_model_value(fuzz::bytes_of(bytes), bytes.size(), &back, &back_has);
            FUZZ_REQUIRE(back_has && back == h, "the binary form keeps the history");
            FUZZ_REQUIRE(fuzz::model_bytes(*again) == fuzz::model_bytes(*m), "the binary form keeps the model");
            const std::string printed = core::model_value_to_json(*m, &h).dump();
            const std::unique_ptr<core::Model> reread =
                core::model_value_from_text(printed.data(), printed.size(), &back, &back_has);
            FUZZ_REQUIRE(back_has && back == h, "the text form keeps the history");
            FUZZ_REQUIRE(core::model_value_to_json(*reread, &back).dump() == printed, "the text form is stable");
        });
    }
    std::string encoded;
    fuzz::must("an accepted model encodes", [&] { encoded = fuzz::model_bytes(*m); });
    fuzz::check_model_round_trips(*m, encoded);
    fuzz::use_model(*m, fuzz::probe_observation(), size);
    return 0;
}
