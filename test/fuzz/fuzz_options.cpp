// libFuzzer harness: the core's small parsers of SQL arguments, the first byte choosing which:
// 0 ml_anomalies' options, 1 ml_drift_report's options, 2 a drift method name, 3 an average
// ("macro"...), 4 a label given as text that spells a number, 5 an exact sum's hex-float text
// (the metric states' text form), 6 the JSON depth guard. Refusals are core::Error; what is
// accepted prints back to a canonical form that parses to the same value.
#include "fuzz_util.hpp"

#include "core/common/envelope.hpp"
#include "core/drift/anomalies.hpp"
#include "core/drift/drift.hpp"
#include "core/drift/drift_report.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"

#include <cmath>

using namespace pg_learn;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string text = fuzz::c_string(data + 1, size - 1);
    switch (data[0] % 7) {
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
    }
    return 0;
}
