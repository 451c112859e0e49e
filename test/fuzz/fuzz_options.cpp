// libFuzzer harness: the core's small parsers of SQL arguments, the first byte choosing which:
// 0 ml_anomalies' options, 1 ml_drift_report's options, 2 a drift method name, 3 an average
// ("macro"...), 4 a label given as text that spells a number, 5 an exact sum's hex-float text
// (the metric states' text form), 6 the JSON depth guard, 7 ml_search's space (its points and
// random trials applied to a base spec, which must stay a spec ml_model reads or refuses with a
// core::Error), 8 ml_search's method name, 9 ml_detector(kind, options): the kind, a newline, the
// options (a new detector round-trips and is fed values, test/fuzz/detector_codec.hpp). Refusals are core::Error; what is accepted prints back
// to a canonical form that parses to the same value.
#include "detector_codec.hpp"
#include "fuzz_util.hpp"

#include "core/common/envelope.hpp"
#include "core/drift/anomalies.hpp"
#include "core/drift/drift.hpp"
#include "core/drift/drift_report.hpp"
#include "core/evaluation/search.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"

#include <cmath>

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string text = fuzz::c_string(data + 1, size - 1);
    switch (data[0] % 10) {
        case 0: (void)fuzz::accepts([&] { (void)core::parse_anomaly_options(text); }); break;
        case 1: (void)fuzz::accepts([&] { (void)core::parse_drift_report_config(text); }); break;
        case 2: {
            core::DriftMethod m{};
            if (fuzz::accepts([&] { m = core::parse_drift_method(text); }))
                fuzz::must("a drift method's name parses back", [&] {
                    FUZZ_REQUIRE(core::parse_drift_method(core::drift_method_name(m)) == m, "same method");
                });
            break;
        }
        case 3: {
            core::Average a{};
            if (fuzz::accepts([&] { a = core::parse_average(text); }))
                fuzz::must("an average's name parses back", [&] {
                    FUZZ_REQUIRE(core::parse_average(core::average_name(a)) == a, "same average");
                });
            break;
        }
        case 4: {
            double v = 0;
            (void)fuzz::accepts([&] { (void)core::parse_number_label(text, v); });
            break;
        }
        case 5: {
            std::optional<core::ExactSum> s;
            if (fuzz::accepts([&] { s.emplace(core::ExactSum::from_hex(text)); })) {
                // Any hex float is read (0x18p-1 for 0x3p1, say); what it prints is canonical: it
                // reads back to the same sum and prints the same text.
                fuzz::must("an exact sum prints back", [&] {
                    const std::string hex = s->to_hex();
                    const core::ExactSum back = core::ExactSum::from_hex(hex);
                    FUZZ_REQUIRE(back == *s, "to_hex reads back to the same sum");
                    FUZZ_REQUIRE(back.to_hex() == hex, "to_hex is stable");
                    (void)s->to_double();
                    (void)s->scaled();
                });
            }
            break;
        }
        case 6: (void)core::json_too_deep(text.data(), text.size(), 8); break;
        case 7: {
            std::optional<core::SearchSpace> space;
            if (!fuzz::accepts([&] { space.emplace(core::SearchSpace::parse(core::search_json(text, "the search space"))); }))
                break;
            const nlohmann::json base = {{"model", "logistic_regression"}};
            std::vector<std::vector<nlohmann::json>> points;
            (void)fuzz::accepts([&] {  // a space with a distribution has no grid
                const uint64_t n = space->grid_size();
                FUZZ_REQUIRE(n > 0, "a grid has a point");
                points.push_back(space->grid_point(0));
                points.push_back(space->grid_point(n - 1));
                core::SplitMix64 rng(n);
                for (uint64_t i : space->draw_grid_indices(n < 3 ? n : 3, rng)) FUZZ_REQUIRE(i < n, "a drawn index is a point");
            });
            fuzz::must("a search space draws its trials", [&] {
                core::SplitMix64 rng(7);
                for (int i = 0; i < 2; i++) points.push_back(space->draw(rng));
            });
            for (const auto& values : points) {
                nlohmann::json spec;
                fuzz::must("a trial is applied to the base spec", [&] {
                    FUZZ_REQUIRE(values.size() == space->dimensions().size(), "one value per dimension");
                    spec = space->apply(base, values);
                    (void)space->named(values).dump();
                });
                (void)fuzz::accepts([&] { (void)core::model_from_json(spec); });
            }
            break;
        }
        case 9: {
            const size_t nl = text.find('\n');
            const std::string kind = text.substr(0, nl), options = nl == std::string::npos ? "{}" : text.substr(nl + 1);
            std::optional<core::DriftDetector> d;
            if (!fuzz::accepts([&] { d.emplace(core::DriftDetector::create(kind, options)); })) break;
            std::string encoded;
            fuzz::must("a new ml_detector encodes", [&] { encoded = d->encode(); });
            fuzz::check_round_trips<fuzz::DetectorCodec>(*d, encoded);
            fuzz::DetectorCodec::use(*d);
            break;
        }
        case 8: {
            core::SearchMethod m{};
            if (fuzz::accepts([&] { m = core::search_method_by_name(text); }))
                fuzz::must("a search method's name parses back", [&] {
                    FUZZ_REQUIRE(core::search_method_by_name(core::search_method_name(m)) == m, "same method");
                });
            break;
        }
    }
    return 0;
}
