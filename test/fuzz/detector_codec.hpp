// The Codec of ml_detector for the harnesses of state_harness.hpp (issue 13's drift detectors).
#pragma once

#include "state_harness.hpp"

#include "core/drift/detectors.hpp"

#include <string>

namespace pg_learn::fuzz {

struct DetectorCodec {
    using T = core::DriftDetector;
    static std::string encode(const T& v) { return v.encode(); }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = true;
    static std::string to_text(const T& v) { return v.to_text(); }
    static T from_text(const std::string& s) { return T::from_text(s); }
    // Read every way SQL can (ml_detector_info), then fed more values as a stored detector is:
    // each update is refused with a core::Error or gives a value that round-trips.
    static void use(const T& v) {
        must("a decoded ml_detector is summarised", [&] {
            (void)v.info().dump();
            (void)v.width();
            (void)v.estimate();
        });
        T d = v;
        const double xs[] = {0.0, 1.0, 1.0, 0.0, 0.5, -3.0, 1e6, 1.0, 0.0, 1.0};
        for (int i = 0; i < 40; i++) {
            if (!accepts([&] { d.update(xs[i % 10]); })) return;
        }
        std::string encoded;
        must("an updated ml_detector encodes", [&] { encoded = encode(d); });
        check_round_trips<DetectorCodec>(d, encoded);
    }
};

}  // namespace pg_learn::fuzz
