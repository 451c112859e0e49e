// Concept-drift detectors: ADWIN, Page-Hinkley, DDM, KSWIN; their options, the exact KS test, and
// the validated binary and JSON forms (docs/detectors.md).
#include "core/drift/detectors.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/json_options.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;
using detail::JsonOptions;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// magic "PLDD", version, kind, flags, u32 total length, reserved, checksum of every byte but its own.
constexpr HeaderSpec kHeader{"ml_detector", {'P', 'L', 'D', 'D'}, 1, 24, LengthField::Total32, 8,
                             ChecksumKind::AllButField, 16, 0x706C2D6465746563ull /* "pl-detec" */,
                             HeaderWording::Stats};
constexpr int kTextVersion = 1;
constexpr int kMaxJsonDepth = 5;
constexpr size_t kMaxAdwinRows = 64;

const double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void bad_text(const std::string& why) {
    fail(ErrorKind::InvalidText, "invalid input syntax for type ml_detector: " + why, {},
         "The text form of ml_detector is the JSON that ml_detector values print; a new detector is "
         "ml_detector(kind, options).");
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool kind_of(std::string_view name, DetectorKind& kind) {
    const std::string k = lower(name);
    if (k == "adwin") kind = DetectorKind::Adwin;
    else if (k == "page_hinkley" || k == "pagehinkley" || k == "ph") kind = DetectorKind::PageHinkley;
    else if (k == "ddm") kind = DetectorKind::Ddm;
    else if (k == "kswin") kind = DetectorKind::Kswin;
    else return false;
    return true;
}

const char* mode_name(PhMode m) { return m == PhMode::Up ? "up" : m == PhMode::Down ? "down" : "both"; }

// ---- option ranges: the one place they are written ----------------------------------------------

struct Problem {
    const char* key = nullptr;  // nullptr: none
    std::string why;
};

std::string num(double v) { return format_double(v); }

Problem options_problem(DetectorKind kind, const DetectorOptions& o) {
    auto open01 = [](double v) { return std::isfinite(v) && v > 0 && v < 1; };
    auto count = [](int64_t v, int64_t lo, int64_t hi) { return v >= lo && v <= hi; };
    auto between = [](int64_t lo, int64_t hi, int64_t v) {
        return "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi) + ", not " +
               std::to_string(v);
    };
    const int64_t M = kDetectorMaxCount;
    switch (kind) {
        case DetectorKind::Adwin:
            if (!open01(o.delta)) return {"delta", "must be a number greater than 0 and less than 1, not " + num(o.delta)};
            if (!count(o.clock, 1, M)) return {"clock", between(1, M, o.clock)};
            if (!count(o.max_buckets, 2, kAdwinMaxBuckets)) return {"max_buckets", between(2, kAdwinMaxBuckets, o.max_buckets)};
            if (!count(o.min_window_length, 1, M)) return {"min_window_length", between(1, M, o.min_window_length)};
            if (!count(o.grace_period, 0, M)) return {"grace_period", between(0, M, o.grace_period)};
            break;
        case DetectorKind::PageHinkley:
            if (!count(o.min_instances, 1, M)) return {"min_instances", between(1, M, o.min_instances)};
            if (!(std::isfinite(o.ph_delta) && o.ph_delta >= 0))
                return {"delta", "must be a number >= 0, not " + num(o.ph_delta)};
            if (!(std::isfinite(o.threshold) && o.threshold > 0))
                return {"threshold", "must be a number greater than 0, not " + num(o.threshold)};
            if (!(std::isfinite(o.alpha) && o.alpha > 0 && o.alpha <= 1))
                return {"alpha", "must be a number greater than 0 and at most 1, not " + num(o.alpha)};
            if (o.mode != PhMode::Up && o.mode != PhMode::Down && o.mode != PhMode::Both)
                return {"mode", "must be \"up\", \"down\" or \"both\""};
            break;
        case DetectorKind::Ddm:
            if (!count(o.warm_start, 1, M)) return {"warm_start", between(1, M, o.warm_start)};
            if (!(std::isfinite(o.warning_threshold) && o.warning_threshold > 0))
                return {"warning_threshold", "must be a number greater than 0, not " + num(o.warning_threshold)};
            if (!(std::isfinite(o.drift_threshold) && o.drift_threshold >= o.warning_threshold))
                return {"drift_threshold", "must be a number >= warning_threshold (" + num(o.warning_threshold) +
                                               "), not " + num(o.drift_threshold)};
            break;
        case DetectorKind::Kswin:
            if (!open01(o.ks_alpha)) return {"alpha", "must be a number greater than 0 and less than 1, not " + num(o.ks_alpha)};
            if (!count(o.window_size, 2, kKswinMaxWindow)) return {"window_size", between(2, kKswinMaxWindow, o.window_size)};
            if (!count(o.stat_size, 1, kKswinMaxStatSize)) return {"stat_size", between(1, kKswinMaxStatSize, o.stat_size)};
            if (2 * o.stat_size > o.window_size)
                return {"stat_size", "must be at most half of window_size (" + std::to_string(o.window_size) + "), not " +
                                         std::to_string(o.stat_size)};
            if (o.seed > uint64_t(std::numeric_limits<int64_t>::max()))
                return {"seed", "must be an integer between 0 and " + std::to_string(std::numeric_limits<int64_t>::max())};
            break;
    }
    return {};
}

// The options object of a kind, read strictly: unknown keys and wrong types through JsonOptions,
// then the ranges through options_problem (the decoders' check).
DetectorOptions read_options(DetectorKind kind, const json& j, const JsonOptions& jo) {
    jo.require_object(j, "");
    DetectorOptions o;
    const double inf = std::numeric_limits<double>::infinity();
    const int64_t big = std::numeric_limits<int64_t>::max();
    auto dbl = [&](const char* key, double& out) {
        if (auto it = j.find(key); it != j.end()) out = jo.number(*it, key, -inf, inf);
    };
    auto i64 = [&](const char* key, int64_t& out) {
        if (auto it = j.find(key); it != j.end()) out = jo.integer(*it, key, std::numeric_limits<int64_t>::min(), big);
    };
    switch (kind) {
        case DetectorKind::Adwin:
            jo.check_keys(j, "", {"delta", "clock", "max_buckets", "min_window_length", "grace_period"});
            dbl("delta", o.delta);
            i64("clock", o.clock);
            i64("max_buckets", o.max_buckets);
            i64("min_window_length", o.min_window_length);
            i64("grace_period", o.grace_period);
            break;
        case DetectorKind::PageHinkley:
            jo.check_keys(j, "", {"min_instances", "delta", "threshold", "alpha", "mode"});
            i64("min_instances", o.min_instances);
            dbl("delta", o.ph_delta);
            dbl("threshold", o.threshold);
            dbl("alpha", o.alpha);
            if (auto it = j.find("mode"); it != j.end()) {
                const std::string m = lower(jo.string(*it, "mode"));
                if (m == "up") o.mode = PhMode::Up;
                else if (m == "down") o.mode = PhMode::Down;
                else if (m == "both") o.mode = PhMode::Both;
                else jo.fail_at("mode", "must be \"up\", \"down\" or \"both\", not \"" + message_name(m) + "\"");
            }
            break;
        case DetectorKind::Ddm:
            jo.check_keys(j, "", {"warm_start", "warning_threshold", "drift_threshold"});
            i64("warm_start", o.warm_start);
            dbl("warning_threshold", o.warning_threshold);
            dbl("drift_threshold", o.drift_threshold);
            break;
        case DetectorKind::Kswin: {
            jo.check_keys(j, "", {"alpha", "window_size", "stat_size", "seed"});
            dbl("alpha", o.ks_alpha);
            i64("window_size", o.window_size);
            i64("stat_size", o.stat_size);
            int64_t seed = 1;
            if (auto it = j.find("seed"); it != j.end()) seed = jo.integer(*it, "seed", 0, big);
            o.seed = uint64_t(seed);
            break;
        }
    }
    const Problem p = options_problem(kind, o);
    if (p.key) jo.fail_at(p.key, p.why);
    return o;
}

const char* options_what(DetectorKind kind) {
    switch (kind) {
        case DetectorKind::Adwin: return "adwin options";
        case DetectorKind::PageHinkley: return "page_hinkley options";
        case DetectorKind::Ddm: return "ddm options";
        case DetectorKind::Kswin: return "kswin options";
    }
    return "detector options";
}

}  // namespace

const char* detector_kind_name(DetectorKind kind) {
    switch (kind) {
        case DetectorKind::Adwin: return "adwin";
        case DetectorKind::PageHinkley: return "page_hinkley";
        case DetectorKind::Ddm: return "ddm";
        case DetectorKind::Kswin: return "kswin";
    }
    return "unknown";
}

DriftDetector DriftDetector::create(std::string_view kind_name, std::string_view options_json) {
    DetectorKind kind;
    if (!kind_of(kind_name, kind))
        fail(ErrorKind::InvalidParameter, "unknown drift detector \"" + message_name(kind_name) + "\"", {},
             "The detectors are adwin, page_hinkley, ddm and kswin.");
    const JsonOptions jo(options_what(kind));
    const json j = jo.parse(options_json);
    DriftDetector d;
    d.kind_ = kind;
    d.opt_ = read_options(kind, j, jo);
    if (kind == DetectorKind::Adwin) d.rows_.emplace_back();
    if (kind == DetectorKind::Kswin) d.rng_ = d.opt_.seed;
    return d;
}

// ---- updates ------------------------------------------------------------------------------------

bool DriftDetector::update(double x) {
    if (!std::isfinite(x))
        fail(ErrorKind::NumericRange,
             std::string("a drift detector cannot take ") + (std::isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity"),
             {}, "Filter the value out (WHERE x = x AND x NOT IN ('Infinity', '-Infinity')) or replace it first.");
    if (kind_ == DetectorKind::Ddm && x != 0.0 && x != 1.0)
        fail(ErrorKind::InvalidParameter, "ddm takes 0 (a correct prediction) or 1 (an error), not " + format_double(x),
             {}, "Give DDM an error indicator, e.g. (prediction <> label)::int; for a real-valued error use adwin or page_hinkley.");
    bool change = false;
    switch (kind_) {
        case DetectorKind::Adwin: change = update_adwin(x); break;
        case DetectorKind::PageHinkley: change = update_page_hinkley(x); break;
        case DetectorKind::Ddm: change = update_ddm(x); break;
        case DetectorKind::Kswin: change = update_kswin(x); break;
    }
    n_++;
    drift_ = change;
    if (change) {
        detections_++;
        last_change_ = n_;
    }
    if (warning_) warnings_++;
    return change;
}

// ADWIN2 (Bifet & Gavaldà 2007): the window is an exponential histogram; every `clock` values
// (once it holds more than grace_period), each cut W = W0 . W1 at a bucket boundary, oldest
// first, is tested with river's bound; a cut that holds drops the oldest bucket and the scan
// starts again, until no cut holds.
bool DriftDetector::update_adwin(double x) {
    // Insert: the window's sums, then a bucket of one value in row 0.
    width_++;
    if (width_ > 1) {
        const double w1 = double(width_ - 1);
        const double d = x - total_ / w1;
        variance_ += w1 * d * d / double(width_);
    }
    total_ += x;
    rows_[0].push_back({x, 0.0});
    // Compress: a row of max_buckets + 1 buckets merges its two oldest into one of the next row.
    const size_t cap = size_t(opt_.max_buckets);
    for (size_t i = 0; i < rows_.size() && rows_[i].size() > cap; i++) {
        if (i + 1 == rows_.size()) rows_.emplace_back();
        std::vector<AdwinBucket>& row = rows_[i];
        const double n = std::ldexp(1.0, int(i));
        const double mu1 = row[0].total / n, mu2 = row[1].total / n;
        const AdwinBucket merged{row[0].total + row[1].total, row[0].m2 + row[1].m2 + n * n * (mu1 - mu2) * (mu1 - mu2) / (n + n)};
        row.erase(row.begin(), row.begin() + 2);
        rows_[i + 1].push_back(merged);
    }
    if (!(std::isfinite(total_) && std::isfinite(variance_)))
        fail(ErrorKind::NumericRange, "adwin cannot summarise values this large",
             "the window's sum or variance left the range of float8", "Scale the values down first.");

    if ((n_ + 1) % uint64_t(opt_.clock) != 0 || width_ <= uint64_t(opt_.grace_period)) return false;
    bool change = false;
    const double mwl = double(opt_.min_window_length);
    for (bool cut = true; cut;) {
        cut = false;
        const double n = double(width_);
        const double var = std::max(variance_, 0.0) / n;
        const double delta_prime = std::log(2.0 * std::log(n) / opt_.delta);
        double n0 = 0, u0 = 0;
        double n1 = n, u1 = total_;
        for (size_t r = rows_.size(); r-- > 0 && !cut;) {
            const double size = std::ldexp(1.0, int(r));
            const std::vector<AdwinBucket>& row = rows_[r];
            for (size_t k = 0; k < row.size(); k++) {
                if (r == 0 && k + 1 == row.size()) break;  // W1 would be empty
                n0 += size;
                n1 -= size;
                u0 += row[k].total;
                u1 -= row[k].total;
                if (n0 < mwl || n1 < mwl) continue;
                const double m_recip = 1.0 / (n0 - mwl + 1) + 1.0 / (n1 - mwl + 1);
                const double epsilon = std::sqrt(2.0 * m_recip * var * delta_prime) + 2.0 / 3.0 * delta_prime * m_recip;
                if (std::fabs(u0 / n0 - u1 / n1) > epsilon) {
                    cut = change = true;
                    adwin_delete_oldest();
                    break;
                }
            }
        }
    }
    return change;
}

void DriftDetector::adwin_delete_oldest() {
    std::vector<AdwinBucket>& row = rows_.back();
    const double n = std::ldexp(1.0, int(rows_.size() - 1));
    const AdwinBucket b = row.front();
    width_ -= uint64_t(n);
    total_ -= b.total;
    const double w = double(width_);
    const double d = b.total / n - total_ / w;
    variance_ -= b.m2 + n * w * d * d / (n + w);
    row.erase(row.begin());
    if (row.empty() && rows_.size() > 1) rows_.pop_back();
}

// Page-Hinkley (Page 1954; Mouss et al. 2004's form with a forgetting factor): with x̄ the mean
// since the last change, U = alpha U + (x - x̄ - delta) and L = alpha L + (x - x̄ + delta); an
// increase when U - min U > threshold, a decrease when max L - L > threshold, once
// min_instances values were seen since the last change; a change starts over.
bool DriftDetector::update_page_hinkley(double x) {
    count_++;
    mean_ += (x - mean_) / double(count_);
    const double dev = x - mean_;
    sum_up_ = opt_.alpha * sum_up_ + (dev - opt_.ph_delta);
    sum_down_ = opt_.alpha * sum_down_ + (dev + opt_.ph_delta);
    if (count_ == 1) {
        min_up_ = sum_up_;
        max_down_ = sum_down_;
    } else {
        min_up_ = std::min(min_up_, sum_up_);
        max_down_ = std::max(max_down_, sum_down_);
    }
    if (!(std::isfinite(mean_) && std::isfinite(sum_up_) && std::isfinite(sum_down_)))
        fail(ErrorKind::NumericRange, "page_hinkley cannot summarise values this large",
             "the running mean or a cumulative sum left the range of float8", "Scale the values down first.");
    if (count_ < uint64_t(opt_.min_instances)) return false;
    const bool up = sum_up_ - min_up_ > opt_.threshold;
    const bool down = max_down_ - sum_down_ > opt_.threshold;
    const bool change = (opt_.mode != PhMode::Down && up) || (opt_.mode != PhMode::Up && down);
    if (change) reset_page_hinkley();
    return change;
}

void DriftDetector::reset_page_hinkley() {
    count_ = 0;
    mean_ = sum_up_ = min_up_ = sum_down_ = max_down_ = 0.0;
}

// DDM (Gama, Medas, Castillo & Rodrigues 2004): p the error rate since the last change and
// s = sqrt(p (1 - p) / count); from warm_start values on, the smallest p + s is remembered
// (p_min, s_min); p + s > p_min + drift_threshold s_min is a change (and DDM starts over),
// p + s > p_min + warning_threshold s_min a warning.
bool DriftDetector::update_ddm(double x) {
    count_++;
    if (x == 1.0) errors_++;
    warning_ = false;
    const double c = double(count_);
    const double p = double(errors_) / c;
    const double s = std::sqrt(p * (1 - p) / c);
    if (count_ < uint64_t(opt_.warm_start)) return false;
    if (!has_min_ || p + s <= p_min_ + s_min_) {
        has_min_ = true;
        p_min_ = p;
        s_min_ = s;
    }
    if (p + s > p_min_ + opt_.drift_threshold * s_min_) {
        reset_ddm();
        return true;
    }
    warning_ = p + s > p_min_ + opt_.warning_threshold * s_min_;
    return false;
}

void DriftDetector::reset_ddm() {
    count_ = errors_ = 0;
    has_min_ = false;
    p_min_ = s_min_ = 0.0;
}

// KSWIN (Raab, Heusinger & Schleif 2020, as river's): a sliding window of window_size values;
// once full, its last stat_size values are compared with stat_size values drawn without
// replacement from the others by the two-sample Kolmogorov-Smirnov test; p <= alpha and
// D > 0.1 is a change, after which the window keeps only its last stat_size values.
bool DriftDetector::update_kswin(double x) {
    const size_t w = size_t(opt_.window_size), k = size_t(opt_.stat_size);
    if (window_.size() == w) window_.erase(window_.begin());
    window_.push_back(x);
    if (window_.size() < w) return false;
    const std::vector<uint64_t> idx = kswin_sample(rng_, w - k, k);
    std::vector<double> a(k), b(window_.end() - long(k), window_.end());
    for (size_t i = 0; i < k; i++) a[i] = window_[idx[i]];
    const KsResult r = ks_2samp_equal(a, b);
    tests_++;
    statistic_ = r.statistic;
    pvalue_ = r.pvalue;
    if (r.pvalue <= opt_.ks_alpha && r.statistic > 0.1) {
        window_.erase(window_.begin(), window_.end() - long(k));
        return true;
    }
    return false;
}

std::vector<uint64_t> kswin_sample(uint64_t& state, uint64_t m, uint64_t k) {
    std::vector<uint64_t> out;
    out.reserve(k);
    for (uint64_t j = m - k; j < m; j++) {
        const uint64_t t = detail::splitmix64(state) % (j + 1);
        out.push_back(std::find(out.begin(), out.end(), t) == out.end() ? t : j);
    }
    return out;
}

KsResult ks_2samp_equal(std::vector<double>& a, std::vector<double>& b) {
    const size_t n = a.size();
    if (n == 0 || b.size() != n) fail(ErrorKind::Internal, "ks_2samp_equal needs two samples of the same size");
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    // h = n D: the largest difference of the counts at or below any value.
    size_t i = 0, j = 0;
    long h = 0;
    while (i < n && j < n) {
        const double v = std::min(a[i], b[j]);
        while (i < n && a[i] == v) i++;
        while (j < n && b[j] == v) j++;
        h = std::max(h, std::labs(long(i) - long(j)));
    }
    KsResult r{double(h) / double(n), 1.0};
    if (h == 0) return r;
    // P(D_{n,n} >= h/n) = 2 sum_{k>=1} (-1)^(k-1) C(2n, n - k h) / C(2n, n) (the reflection principle),
    // nested as 2 A_0 (1 - A_1 (1 - A_2 ...)) to avoid cancellation
    double p = 0.0;
    const long nn = long(n);
    // (A_k = C(2n, n - (k+1) h) / C(2n, n - k h), a product of h factors.)
    for (long k = nn / h; k >= 0; k--) {
        double a_k = 1.0;
        for (long t = 0; t < h; t++) a_k = a_k * double(nn - k * h - t) / double(nn + k * h + t + 1);
        p = a_k * (1.0 - p);
    }
    r.pvalue = std::min(1.0, std::max(0.0, 2.0 * p));
    return r;
}

// ---- queries ------------------------------------------------------------------------------------

uint64_t DriftDetector::width() const {
    switch (kind_) {
        case DetectorKind::Adwin: return width_;
        case DetectorKind::PageHinkley:
        case DetectorKind::Ddm: return count_;
        case DetectorKind::Kswin: return window_.size();
    }
    return 0;
}

double DriftDetector::estimate() const {
    switch (kind_) {
        case DetectorKind::Adwin: return width_ ? total_ / double(width_) : kNaN;
        case DetectorKind::PageHinkley: return count_ ? mean_ : kNaN;
        case DetectorKind::Ddm: return count_ ? double(errors_) / double(count_) : kNaN;
        case DetectorKind::Kswin: {
            if (window_.empty()) return kNaN;
            double s = 0;
            for (double v : window_) s += v;
            return s / double(window_.size());
        }
    }
    return kNaN;
}

namespace {
ordered_json maybe(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }
}  // namespace

ordered_json DriftDetector::options_json() const {
    ordered_json j = ordered_json::object();
    const DetectorOptions& o = opt_;
    switch (kind_) {
        case DetectorKind::Adwin:
            j["delta"] = o.delta;
            j["clock"] = o.clock;
            j["max_buckets"] = o.max_buckets;
            j["min_window_length"] = o.min_window_length;
            j["grace_period"] = o.grace_period;
            break;
        case DetectorKind::PageHinkley:
            j["min_instances"] = o.min_instances;
            j["delta"] = o.ph_delta;
            j["threshold"] = o.threshold;
            j["alpha"] = o.alpha;
            j["mode"] = mode_name(o.mode);
            break;
        case DetectorKind::Ddm:
            j["warm_start"] = o.warm_start;
            j["warning_threshold"] = o.warning_threshold;
            j["drift_threshold"] = o.drift_threshold;
            break;
        case DetectorKind::Kswin:
            j["alpha"] = o.ks_alpha;
            j["window_size"] = o.window_size;
            j["stat_size"] = o.stat_size;
            j["seed"] = o.seed;
            break;
    }
    return j;
}

ordered_json DriftDetector::info() const {
    ordered_json j;
    j["kind"] = detector_kind_name(kind_);
    j["options"] = options_json();
    j["n"] = n_;
    j["detections"] = detections_;
    j["last_change"] = last_change_ ? ordered_json(last_change_) : ordered_json(nullptr);
    j["drift"] = drift_;
    if (kind_ == DetectorKind::Ddm) {
        j["warning"] = warning_;
        j["warnings"] = warnings_;
    }
    j["width"] = width();
    j["estimate"] = maybe(estimate());
    switch (kind_) {
        case DetectorKind::Adwin: {
            size_t buckets = 0;
            for (const auto& r : rows_) buckets += r.size();
            j["buckets"] = buckets;
            j["variance"] = width_ ? maybe(std::max(variance_, 0.0) / double(width_)) : ordered_json(nullptr);
            break;
        }
        case DetectorKind::PageHinkley:
            j["ph_up"] = count_ ? ordered_json(sum_up_ - min_up_) : ordered_json(nullptr);
            j["ph_down"] = count_ ? ordered_json(max_down_ - sum_down_) : ordered_json(nullptr);
            break;
        case DetectorKind::Ddm:
            j["p_min"] = has_min_ ? ordered_json(p_min_) : ordered_json(nullptr);
            j["s_min"] = has_min_ ? ordered_json(s_min_) : ordered_json(nullptr);
            break;
        case DetectorKind::Kswin:
            j["tests"] = tests_;
            j["statistic"] = tests_ ? ordered_json(statistic_) : ordered_json(nullptr);
            j["pvalue"] = tests_ ? ordered_json(pvalue_) : ordered_json(nullptr);
            break;
    }
    return j;
}

// ---- validation ---------------------------------------------------------------------------------

std::string DriftDetector::inconsistency() const {
    if (const Problem p = options_problem(kind_, opt_); p.key) return std::string("option \"") + p.key + "\" " + p.why;
    if (detections_ > n_ || last_change_ > n_ || warnings_ > n_) return "counters exceed the values seen";
    if ((detections_ == 0) != (last_change_ == 0)) return "the last change does not match the detections";
    if (drift_ && last_change_ != n_) return "a change at the last value that is not the last change";
    if (warning_ && (kind_ != DetectorKind::Ddm || drift_)) return "a warning where none can be";
    if (kind_ != DetectorKind::Ddm && warnings_ != 0) return "warnings counted by a detector without warnings";
    auto finite = [](double v) { return std::isfinite(v); };
    switch (kind_) {
        case DetectorKind::Adwin: {
            if (rows_.empty() || rows_.size() > kMaxAdwinRows) return "wrong number of bucket rows";
            if (rows_.size() > 1 && rows_.back().empty()) return "the oldest bucket row is empty";
            uint64_t w = 0;
            for (size_t r = 0; r < rows_.size(); r++) {
                if (rows_[r].size() > uint64_t(opt_.max_buckets)) return "a bucket row holds more than max_buckets buckets";
                for (const AdwinBucket& b : rows_[r])
                    if (!finite(b.total) || !finite(b.m2) || b.m2 < 0) return "a bucket is not finite";
                const uint64_t add = uint64_t(rows_[r].size()) << r;
                if (r >= 63 && !rows_[r].empty()) return "a bucket is too large";
                if (add > std::numeric_limits<uint64_t>::max() - w) return "the window width overflows";
                w += add;
            }
            if (w != width_) return "the buckets do not add up to the window width";
            if (width_ > n_ || (width_ == 0) != (n_ == 0)) return "the window width does not match the values seen";
            if (!finite(total_) || !finite(variance_)) return "the window's sums are not finite";
            break;
        }
        case DetectorKind::PageHinkley:
            if (count_ > n_) return "more values since the last change than values seen";
            if (!finite(mean_) || !finite(sum_up_) || !finite(min_up_) || !finite(sum_down_) || !finite(max_down_))
                return "the cumulative sums are not finite";
            if (count_ > 0 && (min_up_ > sum_up_ || max_down_ < sum_down_)) return "the extremes do not bound the sums";
            if (count_ == 0 && (mean_ != 0 || sum_up_ != 0 || min_up_ != 0 || sum_down_ != 0 || max_down_ != 0))
                return "a reset state holds sums";
            break;
        case DetectorKind::Ddm:
            if (count_ > n_ || errors_ > count_) return "more errors than values";
            if (!has_min_ && (p_min_ != 0 || s_min_ != 0)) return "a minimum without values";
            if (has_min_ && !(p_min_ >= 0 && p_min_ <= 1 && s_min_ >= 0 && s_min_ <= 0.5))
                return "the minimum is out of range";
            if (has_min_ && count_ < uint64_t(opt_.warm_start)) return "a minimum before warm_start values";
            break;
        case DetectorKind::Kswin:
            if (window_.size() > uint64_t(opt_.window_size) || window_.size() > n_)
                return "the window holds more values than it can";
            for (double v : window_)
                if (!finite(v)) return "the window holds a value that is not finite";
            if (tests_ > n_) return "more tests than values";
            if (!(statistic_ >= 0 && statistic_ <= 1 && pvalue_ >= 0 && pvalue_ <= 1)) return "the last test is out of range";
            break;
    }
    return {};
}

// ---- binary form --------------------------------------------------------------------------------

size_t DriftDetector::encoded_size() const {
    size_t s = kHeader.size + 8 * 4 + 8;  // counters, flags
    switch (kind_) {
        case DetectorKind::Adwin:
            s += 8 * 5 + 8 * 3 + 8;
            for (const auto& r : rows_) s += 8 + 16 * r.size();
            break;
        case DetectorKind::PageHinkley: s += 8 * 5 + 8 * 6; break;
        case DetectorKind::Ddm: s += 8 * 3 + 8 * 5; break;
        case DetectorKind::Kswin: s += 8 * 4 + 8 * 4 + 8 + 8 * window_.size(); break;
    }
    return s;
}

std::string DriftDetector::encode() const {
    if (const std::string why = inconsistency(); !why.empty()) unstorable("ml_detector", why);
    std::string out;
    out.reserve(encoded_size());
    ByteWriter w(out);
    begin_header(kHeader, w);
    w.put<uint8_t>(static_cast<uint8_t>(kind_));
    w.put<uint8_t>(0);   // flags
    w.put<uint32_t>(0);  // total length, set by seal_header
    w.put<uint32_t>(0);  // reserved
    w.put<uint64_t>(0);  // checksum, set by seal_header
    w.put<uint64_t>(n_);
    w.put<uint64_t>(detections_);
    w.put<uint64_t>(last_change_);
    w.put<uint64_t>(warnings_);
    w.put<uint8_t>(drift_ ? 1 : 0);
    w.put<uint8_t>(warning_ ? 1 : 0);
    w.put<uint16_t>(0);
    w.put<uint32_t>(0);
    const DetectorOptions& o = opt_;
    switch (kind_) {
        case DetectorKind::Adwin:
            w.put<double>(o.delta);
            w.put<int64_t>(o.clock);
            w.put<int64_t>(o.max_buckets);
            w.put<int64_t>(o.min_window_length);
            w.put<int64_t>(o.grace_period);
            w.put<uint64_t>(width_);
            w.put<double>(total_);
            w.put<double>(variance_);
            w.put<uint32_t>(uint32_t(rows_.size()));
            w.put<uint32_t>(0);
            for (const auto& r : rows_) {
                w.put<uint32_t>(uint32_t(r.size()));
                w.put<uint32_t>(0);
                for (const AdwinBucket& b : r) {
                    w.put<double>(b.total);
                    w.put<double>(b.m2);
                }
            }
            break;
        case DetectorKind::PageHinkley:
            w.put<int64_t>(o.min_instances);
            w.put<double>(o.ph_delta);
            w.put<double>(o.threshold);
            w.put<double>(o.alpha);
            w.put<uint64_t>(uint64_t(o.mode));
            w.put<uint64_t>(count_);
            w.put<double>(mean_);
            w.put<double>(sum_up_);
            w.put<double>(min_up_);
            w.put<double>(sum_down_);
            w.put<double>(max_down_);
            break;
        case DetectorKind::Ddm:
            w.put<int64_t>(o.warm_start);
            w.put<double>(o.warning_threshold);
            w.put<double>(o.drift_threshold);
            w.put<uint64_t>(count_);
            w.put<uint64_t>(errors_);
            w.put<uint64_t>(has_min_ ? 1 : 0);
            w.put<double>(p_min_);
            w.put<double>(s_min_);
            break;
        case DetectorKind::Kswin:
            w.put<double>(o.ks_alpha);
            w.put<int64_t>(o.window_size);
            w.put<int64_t>(o.stat_size);
            w.put<uint64_t>(o.seed);
            w.put<uint64_t>(rng_);
            w.put<uint64_t>(tests_);
            w.put<double>(statistic_);
            w.put<double>(pvalue_);
            w.put<uint64_t>(window_.size());
            for (double v : window_) w.put<double>(v);
            break;
    }
    if (out.size() != encoded_size()) fail(ErrorKind::Internal, "ml_detector encoder size mismatch");
    seal_header(kHeader, reinterpret_cast<uint8_t*>(&out[0]), out.size());
    return out;
}

void DriftDetector::encode(uint8_t* out, size_t size) const {
    const std::string s = encode();
    if (s.size() != size) fail(ErrorKind::Internal, "ml_detector encoder size mismatch");
    std::memcpy(out, s.data(), size);
}

DriftDetector DriftDetector::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "ml_detector");
    read_header(kHeader, r, data, size);
    const uint8_t kind = data[6], flags = data[7];
    if (kind < 1 || kind > 4) r.corrupt("unknown detector kind " + std::to_string(kind));
    if (flags != 0) r.corrupt("unknown flags");
    if (header_field<uint32_t>(data, 12) != 0) r.corrupt("reserved field is not zero");
    DriftDetector d;
    d.kind_ = static_cast<DetectorKind>(kind);
    d.n_ = r.get<uint64_t>("counters");
    d.detections_ = r.get<uint64_t>("counters");
    d.last_change_ = r.get<uint64_t>("counters");
    d.warnings_ = r.get<uint64_t>("counters");
    auto flag = [&](const char* field) {
        const uint8_t v = r.get<uint8_t>(field);
        if (v > 1) r.corrupt(std::string("bad ") + field);
        return v == 1;
    };
    d.drift_ = flag("flags");
    d.warning_ = flag("flags");
    if (r.get<uint16_t>("flags") != 0 || r.get<uint32_t>("flags") != 0) r.corrupt("reserved field is not zero");
    DetectorOptions& o = d.opt_;
    switch (d.kind_) {
        case DetectorKind::Adwin: {
            o.delta = r.get<double>("options");
            o.clock = r.get<int64_t>("options");
            o.max_buckets = r.get<int64_t>("options");
            o.min_window_length = r.get<int64_t>("options");
            o.grace_period = r.get<int64_t>("options");
            d.width_ = r.get<uint64_t>("state");
            d.total_ = r.get<double>("state");
            d.variance_ = r.get<double>("state");
            const uint32_t rows = r.get<uint32_t>("state");
            if (r.get<uint32_t>("state") != 0) r.corrupt("reserved field is not zero");
            if (rows == 0 || rows > kMaxAdwinRows) r.corrupt("wrong number of bucket rows");
            d.rows_.resize(rows);
            for (auto& row : d.rows_) {
                const uint32_t len = r.get<uint32_t>("buckets");
                if (r.get<uint32_t>("buckets") != 0) r.corrupt("reserved field is not zero");
                if (len > r.remaining() / 16) r.corrupt("truncated in buckets");
                row.resize(len);
                for (AdwinBucket& b : row) {
                    b.total = r.get<double>("buckets");
                    b.m2 = r.get<double>("buckets");
                }
            }
            break;
        }
        case DetectorKind::PageHinkley: {
            o.min_instances = r.get<int64_t>("options");
            o.ph_delta = r.get<double>("options");
            o.threshold = r.get<double>("options");
            o.alpha = r.get<double>("options");
            const uint64_t mode = r.get<uint64_t>("options");
            if (mode < 1 || mode > 3) r.corrupt("unknown page_hinkley mode");
            o.mode = static_cast<PhMode>(mode);
            d.count_ = r.get<uint64_t>("state");
            d.mean_ = r.get<double>("state");
            d.sum_up_ = r.get<double>("state");
            d.min_up_ = r.get<double>("state");
            d.sum_down_ = r.get<double>("state");
            d.max_down_ = r.get<double>("state");
            break;
        }
        case DetectorKind::Ddm: {
            o.warm_start = r.get<int64_t>("options");
            o.warning_threshold = r.get<double>("options");
            o.drift_threshold = r.get<double>("options");
            d.count_ = r.get<uint64_t>("state");
            d.errors_ = r.get<uint64_t>("state");
            const uint64_t has = r.get<uint64_t>("state");
            if (has > 1) r.corrupt("bad state flag");
            d.has_min_ = has == 1;
            d.p_min_ = r.get<double>("state");
            d.s_min_ = r.get<double>("state");
            break;
        }
        case DetectorKind::Kswin: {
            o.ks_alpha = r.get<double>("options");
            o.window_size = r.get<int64_t>("options");
            o.stat_size = r.get<int64_t>("options");
            o.seed = r.get<uint64_t>("options");
            d.rng_ = r.get<uint64_t>("state");
            d.tests_ = r.get<uint64_t>("state");
            d.statistic_ = r.get<double>("state");
            d.pvalue_ = r.get<double>("state");
            const uint64_t len = r.get<uint64_t>("state");
            if (len > r.remaining() / 8) r.corrupt("truncated in window");
            d.window_.resize(len);
            for (double& v : d.window_) v = r.get<double>("window");
            break;
        }
    }
    r.expect_end();
    if (const std::string why = d.inconsistency(); !why.empty()) r.corrupt(why);
    return d;
}

// ---- text form ----------------------------------------------------------------------------------

std::string DriftDetector::to_text() const {
    if (const std::string why = inconsistency(); !why.empty()) unstorable("ml_detector", why);
    ordered_json j;
    j["pg_learn_detector"] = kTextVersion;
    j["kind"] = detector_kind_name(kind_);
    j["options"] = options_json();
    j["n"] = n_;
    j["detections"] = detections_;
    j["last_change"] = last_change_;
    j["warnings"] = warnings_;
    j["drift"] = drift_;
    j["warning"] = warning_;
    ordered_json s;
    switch (kind_) {
        case DetectorKind::Adwin: {
            s["width"] = width_;
            s["total"] = total_;
            s["variance"] = variance_;
            ordered_json rows = ordered_json::array();
            for (const auto& r : rows_) {
                ordered_json row = ordered_json::array();
                for (const AdwinBucket& b : r) row.push_back(ordered_json::array({b.total, b.m2}));
                rows.push_back(std::move(row));
            }
            s["rows"] = std::move(rows);
            break;
        }
        case DetectorKind::PageHinkley:
            s["count"] = count_;
            s["mean"] = mean_;
            s["sum_up"] = sum_up_;
            s["min_up"] = min_up_;
            s["sum_down"] = sum_down_;
            s["max_down"] = max_down_;
            break;
        case DetectorKind::Ddm:
            s["count"] = count_;
            s["errors"] = errors_;
            s["has_min"] = has_min_;
            s["p_min"] = p_min_;
            s["s_min"] = s_min_;
            break;
        case DetectorKind::Kswin:
            s["rng"] = rng_;
            s["tests"] = tests_;
            s["statistic"] = statistic_;
            s["pvalue"] = pvalue_;
            s["window"] = window_;
            break;
    }
    j["state"] = std::move(s);
    return j.dump();
}

DriftDetector DriftDetector::from_text(const char* text, size_t len) {
    if (json_too_deep(text, len, kMaxJsonDepth)) bad_text("JSON nested too deeply");
    const json j = json::parse(text, text + len, nullptr, false);
    if (j.is_discarded()) bad_text("not valid JSON");
    if (!j.is_object()) bad_text(std::string("a JSON object was expected, not ") + j.type_name());
    auto keys_of = [&](const json& obj, std::initializer_list<const char*> keys, const char* where) {
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            bool known = false;
            for (const char* k : keys) known = known || it.key() == k;
            if (!known) bad_text("unknown key \"" + message_name(it.key()) + "\"" + where);
        }
    };
    auto need = [&](const json& obj, const char* key) -> const json& {
        auto it = obj.find(key);
        if (it == obj.end()) bad_text(std::string("missing key \"") + key + "\"");
        return *it;
    };
    keys_of(j, {"pg_learn_detector", "kind", "options", "n", "detections", "last_change", "warnings", "drift",
                "warning", "state"}, "");
    const json& ver = need(j, "pg_learn_detector");
    if (!ver.is_number_integer() || ver.get<int64_t>() != kTextVersion)
        bad_text("unsupported version " + ver.dump() + " (this build reads version 1)");
    const json& kj = need(j, "kind");
    DriftDetector d;
    if (!kj.is_string() || !kind_of(kj.get<std::string>(), d.kind_) || kj.get<std::string>() != detector_kind_name(d.kind_))
        bad_text("\"kind\" must be \"adwin\", \"page_hinkley\", \"ddm\" or \"kswin\"");
    try {
        const JsonOptions jo(options_what(d.kind_));
        d.opt_ = read_options(d.kind_, need(j, "options"), jo);
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::InvalidParameter) throw;
        bad_text(e.what());
    }
    auto u64 = [&](const json& obj, const char* key) -> uint64_t {
        const json& v = need(obj, key);
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
            bad_text(std::string("\"") + key + "\" must be a non-negative integer");
        return v.get<uint64_t>();
    };
    auto boolean = [&](const json& obj, const char* key) -> bool {
        const json& v = need(obj, key);
        if (!v.is_boolean()) bad_text(std::string("\"") + key + "\" must be true or false");
        return v.get<bool>();
    };
    auto number = [&](const json& v, const char* key) -> double {
        if (!v.is_number()) bad_text(std::string("\"") + key + "\" must be a finite number");
        return v.get<double>();
    };
    auto dbl = [&](const json& obj, const char* key) { return number(need(obj, key), key); };
    d.n_ = u64(j, "n");
    d.detections_ = u64(j, "detections");
    d.last_change_ = u64(j, "last_change");
    d.warnings_ = u64(j, "warnings");
    d.drift_ = boolean(j, "drift");
    d.warning_ = boolean(j, "warning");
    const json& s = need(j, "state");
    if (!s.is_object()) bad_text("\"state\" must be an object");
    switch (d.kind_) {
        case DetectorKind::Adwin: {
            keys_of(s, {"width", "total", "variance", "rows"}, " in \"state\"");
            d.width_ = u64(s, "width");
            d.total_ = dbl(s, "total");
            d.variance_ = dbl(s, "variance");
            const json& rows = need(s, "rows");
            if (!rows.is_array() || rows.empty() || rows.size() > kMaxAdwinRows)
                bad_text("\"rows\" must be an array of 1 to 64 bucket rows");
            for (const json& row : rows) {
                if (!row.is_array()) bad_text("a bucket row must be an array");
                std::vector<AdwinBucket> out;
                for (const json& b : row) {
                    if (!b.is_array() || b.size() != 2) bad_text("a bucket must be an array [total, m2]");
                    out.push_back({number(b[0], "rows"), number(b[1], "rows")});
                }
                d.rows_.push_back(std::move(out));
            }
            break;
        }
        case DetectorKind::PageHinkley:
            keys_of(s, {"count", "mean", "sum_up", "min_up", "sum_down", "max_down"}, " in \"state\"");
            d.count_ = u64(s, "count");
            d.mean_ = dbl(s, "mean");
            d.sum_up_ = dbl(s, "sum_up");
            d.min_up_ = dbl(s, "min_up");
            d.sum_down_ = dbl(s, "sum_down");
            d.max_down_ = dbl(s, "max_down");
            break;
        case DetectorKind::Ddm:
            keys_of(s, {"count", "errors", "has_min", "p_min", "s_min"}, " in \"state\"");
            d.count_ = u64(s, "count");
            d.errors_ = u64(s, "errors");
            d.has_min_ = boolean(s, "has_min");
            d.p_min_ = dbl(s, "p_min");
            d.s_min_ = dbl(s, "s_min");
            break;
        case DetectorKind::Kswin: {
            keys_of(s, {"rng", "tests", "statistic", "pvalue", "window"}, " in \"state\"");
            d.rng_ = u64(s, "rng");
            d.tests_ = u64(s, "tests");
            d.statistic_ = dbl(s, "statistic");
            d.pvalue_ = dbl(s, "pvalue");
            const json& w = need(s, "window");
            if (!w.is_array() || w.size() > size_t(kKswinMaxWindow)) bad_text("\"window\" must be an array of numbers");
            for (const json& v : w) d.window_.push_back(number(v, "window"));
            break;
        }
    }
    if (const std::string why = d.inconsistency(); !why.empty()) bad_text(why);
    return d;
}

}  // namespace pg_learn::core
