// libFuzzer harness: model specs (core::ModelSpec::from_json over JSON text, with this release's
// defaults and with the stored ones). An accepted spec's stored form (canonical_text, the
// binary spec section) and its spelled-out form (to_json) read back to the same spec, and the
// fresh model its family makes from it round-trips (test/fuzz/model_harness.hpp).
#include "model_harness.hpp"

#include "core/common/envelope.hpp"
#include "core/models/linear/spec.hpp"

#include <nlohmann/json.hpp>

#include <optional>

using namespace pg_learn;
using nlohmann::json;

namespace {

void check_spec(const core::ModelSpec& s) {
    fuzz::must("a spec's stored form reads back", [&] {
        const std::string canonical = s.canonical_text();
        const core::ModelSpec back = core::ModelSpec::from_json(json::parse(canonical), core::SpecDefaults::Stored);
        FUZZ_REQUIRE(back.canonical_text() == canonical, "the stored form of a spec is stable");
        FUZZ_REQUIRE(back.to_json() == s.to_json(), "the stored form keeps every option");
    });
    fuzz::must("a spec's spelled-out form reads back", [&] {
        const json full = s.to_json();
        const core::ModelSpec back = core::ModelSpec::from_json(full, core::SpecDefaults::Current);
        FUZZ_REQUIRE(back.to_json() == full, "to_json is stable");
        FUZZ_REQUIRE(back.canonical_text() == s.canonical_text(), "to_json keeps the stored form");
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text = fuzz::c_string(data, size);
    if (core::json_too_deep(text.data(), text.size(), 64)) return 0;  // refused before parsing, as the glue does
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return 0;
    for (core::SpecDefaults d : {core::SpecDefaults::Current, core::SpecDefaults::Stored}) {
        std::optional<core::ModelSpec> s;
        if (!fuzz::accepts([&] { s.emplace(core::ModelSpec::from_json(j, d)); })) continue;
        check_spec(*s);
    }
    // The model a spec makes (what ml_model's input does with a bare spec).
    std::unique_ptr<core::Model> m;
    if (!fuzz::accepts([&] { m = core::model_from_json(j); })) return 0;
    std::string encoded;
    fuzz::must("a fresh model encodes", [&] { encoded = fuzz::model_bytes(*m); });
    fuzz::check_model_round_trips(*m, encoded);
    fuzz::use_model(*m, fuzz::probe_observation(), size);
    return 0;
}
