// libFuzzer harness: the binary form of ml_model (core::decode_model_value: every family, with or
// without the training history ml_train records). Whatever decodes re-encodes to the input's own
// bytes (a stored value is read and written bit for bit), and is used as
// test/fuzz/model_harness.hpp says. (One form is read but not written: a partitioned model stored
// before its partitions' example counts were (pre-release builds of 0.2.0) takes each count from
// n_seen and re-encodes with the counts; the seeds are this release's form, make_corpus.sh.)
#include "model_harness.hpp"

#include "core/models/training_history.hpp"

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::unique_ptr<core::Model> m;
    core::TrainingHistory h;
    bool has = false;
    if (!fuzz::accepts([&] { m = core::decode_model_value(data, size, &h, &has); })) return 0;
    std::string encoded;
    fuzz::must("an accepted model re-encodes", [&] {
        encoded.assign(core::model_value_size(*m, has ? &h : nullptr), '\0');
        core::encode_model_value(*m, has ? &h : nullptr, reinterpret_cast<uint8_t*>(encoded.data()), encoded.size());
    });
    FUZZ_REQUIRE(encoded == std::string(reinterpret_cast<const char*>(data), size),
                 "an accepted binary model re-encodes to the same bytes");
    if (has) {
        fuzz::must("a model's history reads back from its text form", [&] {
            const std::string text = core::model_value_to_json(*m, &h).dump();
            core::TrainingHistory back;
            bool back_has = false;
            const std::unique_ptr<core::Model> again = core::model_value_from_text(text.data(), text.size(), &back, &back_has);
            FUZZ_REQUIRE(back_has && back == h, "the text form keeps the history");
        });
    }
    fuzz::check_model_round_trips(*m, fuzz::model_bytes(*m));
    fuzz::use_model(*m, fuzz::probe_observation(), size);
    return 0;
}
