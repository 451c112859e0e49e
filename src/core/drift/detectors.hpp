// Concept-drift detectors over a stream of numbers (the ml_detector value): ADWIN, Page-Hinkley,
// DDM and KSWIN behind one interface, with the validated binary and JSON forms.
#pragma once

#include "core/common/cpp_only.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pg_learn::core {

enum class DetectorKind : uint8_t { Adwin = 1, PageHinkley = 2, Ddm = 3, Kswin = 4 };
const char* detector_kind_name(DetectorKind kind);

enum class PhMode : uint8_t { Up = 1, Down = 2, Both = 3 };

// Every option of every kind, with river's defaults (docs/detectors.md). Only the fields of the
// detector's kind are used, read and written.
struct DetectorOptions {
    // ADWIN (Bifet & Gavaldà 2007, ADWIN2)
    double delta = 0.002;
    int64_t clock = 32;
    int64_t max_buckets = 5;
    int64_t min_window_length = 5;
    int64_t grace_period = 10;
    // Page-Hinkley
    int64_t min_instances = 30;
    double ph_delta = 0.005;  // "delta" in the options object
    double threshold = 50.0;
    double alpha = 1 - 0.0001;
    PhMode mode = PhMode::Both;
    // DDM (Gama et al. 2004)
    int64_t warm_start = 30;
    double warning_threshold = 2.0;
    double drift_threshold = 3.0;
    // KSWIN (Raab et al. 2020)
    double ks_alpha = 0.005;  // "alpha" in the options object
    int64_t window_size = 100;
    int64_t stat_size = 30;
    uint64_t seed = 1;
};

// Limits of the options (InvalidParameter beyond, naming the key).
constexpr int64_t kAdwinMaxBuckets = 1000;
constexpr int64_t kKswinMaxWindow = 100000;
constexpr int64_t kKswinMaxStatSize = 1000;
constexpr int64_t kDetectorMaxCount = int64_t(1) << 40;  // clock, periods, min lengths

// One bucket of ADWIN's exponential histogram: the sum of its 2^row values and the sum of
// squared deviations from their mean.
struct AdwinBucket {
    double total;
    double m2;
};

// A detector of changes in a stream of finite numbers. update(x) returns whether a change was
// detected at x; the counters say how many values and changes there were, and where the last
// change was. NaN and infinite input are NumericRange errors (the detector is unchanged); DDM
// takes only 0 and 1 (an error indicator), anything else is InvalidParameter. Same input in the
// same order gives the same value, byte for byte (KSWIN's sampling is seeded).
class DriftDetector {
public:
    // kind: adwin, page_hinkley (or ph), ddm, kswin (case-insensitive); options: a JSON object
    // of that kind's options, checked strictly (unknown key, wrong type, out of range:
    // InvalidParameter naming the key).
    static DriftDetector create(std::string_view kind, std::string_view options_json);

    DetectorKind kind() const { return kind_; }
    const DetectorOptions& options() const { return opt_; }

    bool update(double x);
    // A value that is skipped (SQL NULL): nothing is learned, no change is reported at it.
    void skip() { drift_ = false; }

    bool drift() const { return drift_; }      // a change was detected at the last value
    bool warning() const { return warning_; }  // DDM: the last value is in the warning zone
    uint64_t n() const { return n_; }          // values seen
    uint64_t detections() const { return detections_; }
    uint64_t last_change() const { return last_change_; }  // 1-based index of the value; 0: none
    uint64_t warnings() const { return warnings_; }        // DDM: values in the warning zone
    // The values the detector currently judges: ADWIN's window; Page-Hinkley's and DDM's values
    // since the last change; KSWIN's window.
    uint64_t width() const;
    // ADWIN: the window's mean; Page-Hinkley: the mean since the last change; DDM: the error
    // rate since the last change; KSWIN: the window's mean. NaN when there is no value.
    double estimate() const;

    // For people and dashboards (ml_detector_info): kind, options, counters, the estimate, and
    // the kind's own test values.
    nlohmann::ordered_json info() const;
    nlohmann::ordered_json options_json() const;

    // Binary form (docs/detectors.md): magic "PLDD", version, kind, length, checksum, counters,
    // options, state. Text form: JSON of the exact state. Both are read through one validation
    // (bad input: InvalidBinary / InvalidText), and the encoders refuse what it refuses.
    size_t encoded_size() const;
    void encode(uint8_t* out, size_t size) const;  // size must be encoded_size()
    std::string encode() const;
    static DriftDetector decode(const uint8_t* data, size_t size);
    static DriftDetector decode(const std::string& s) {
        return decode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    }
    std::string to_text() const;
    static DriftDetector from_text(const char* text, size_t len);
    static DriftDetector from_text(const std::string& s) { return from_text(s.data(), s.size()); }

    bool operator==(const DriftDetector& o) const { return encode() == o.encode(); }
    bool operator!=(const DriftDetector& o) const { return !(*this == o); }

private:
    DriftDetector() = default;
    // Empty when the value is one update() could have produced (options in range, counters and
    // the kind's state consistent and finite), else why not: the one check of both decoders and
    // both encoders.
    std::string inconsistency() const;
    bool update_adwin(double x);
    bool update_page_hinkley(double x);
    bool update_ddm(double x);
    bool update_kswin(double x);
    void adwin_delete_oldest();
    void reset_page_hinkley();
    void reset_ddm();

    DetectorKind kind_ = DetectorKind::Adwin;
    DetectorOptions opt_;
    uint64_t n_ = 0;
    uint64_t detections_ = 0;
    uint64_t last_change_ = 0;
    uint64_t warnings_ = 0;
    bool drift_ = false;
    bool warning_ = false;

    // ADWIN: rows of buckets, row i holding buckets of 2^i values, oldest first in each row.
    std::vector<std::vector<AdwinBucket>> rows_;
    uint64_t width_ = 0;
    double total_ = 0.0;
    double variance_ = 0.0;  // sum of squared deviations from the window's mean

    // Page-Hinkley since the last change: count_, mean_, and the two cumulative sums with their
    // extremes. DDM since the last change: count_, errors_, and the minimum of p + s.
    uint64_t count_ = 0;
    double mean_ = 0.0;
    double sum_up_ = 0.0, min_up_ = 0.0;
    double sum_down_ = 0.0, max_down_ = 0.0;
    uint64_t errors_ = 0;
    bool has_min_ = false;
    double p_min_ = 0.0, s_min_ = 0.0;

    // KSWIN: the window (oldest first), the generator's state, the last test.
    std::vector<double> window_;
    uint64_t rng_ = 0;
    uint64_t tests_ = 0;
    double statistic_ = 0.0, pvalue_ = 1.0;
};

// The two-sample Kolmogorov-Smirnov test of a and b (of the same size n >= 1, finite values):
// the statistic D = max |F_a - F_b| and the exact two-sided p-value P(D_{n,n} >= D) (as
// scipy.stats.ks_2samp's method "exact" for equal sizes). a and b are sorted in place.
struct KsResult {
    double statistic;
    double pvalue;
};
KsResult ks_2samp_equal(std::vector<double>& a, std::vector<double>& b);

// KSWIN's sample: k distinct indices of [0, m) (k <= m) drawn by Floyd's algorithm with
// SplitMix64 (state advanced), in the order drawn (docs/detectors.md).
std::vector<uint64_t> kswin_sample(uint64_t& state, uint64_t m, uint64_t k);

}  // namespace pg_learn::core
