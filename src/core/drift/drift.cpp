// Drift measures on KLL and Space-Saving sketches, with intervals derived from their error bounds.
#include "core/drift/drift.hpp"

#include "core/common/error.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>

namespace pg_learn::core {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kLn2 = 0.693147180559945309417232121458176568;
constexpr double kPi = 3.141592653589793238462643383279502884;

// The distinct retained values of a KLL sketch, ascending, with the inclusive cumulative weight
// of each (the sketch's step cdf is cum[i] / n on [x[i], x[i+1])).
struct StepCdf {
    std::vector<double> x;
    std::vector<uint64_t> cum;
    uint64_t n = 0;
    double min = 0, max = 0;
};

StepCdf step_cdf(const KllSketch& s) {
    StepCdf out;
    out.n = s.n();
    if (out.n) {
        out.min = s.min();
        out.max = s.max();
    }
    const std::vector<std::pair<double, uint64_t>> items = s.weighted_items();
    uint64_t c = 0;
    for (const auto& [v, w] : items) {
        c += w;
        if (!out.x.empty() && out.x.back() == v) {
            out.cum.back() = c;
        } else {
            out.x.push_back(v);
            out.cum.push_back(c);
        }
    }
    if (c != out.n) fail(ErrorKind::Internal, "drift: KLL item weights do not add up to the count");
    return out;
}

void check_options(const DriftOptions& o) {
    if (o.bins < 1 || o.bins > kDriftMaxBins)
        fail(ErrorKind::InvalidParameter,
             "the number of drift bins must be between 1 and " + std::to_string(kDriftMaxBins),
             "bins = " + std::to_string(o.bins));
    if (!(o.epsilon > 0.0 && o.epsilon <= 0.5))
        fail(ErrorKind::InvalidParameter, "the PSI epsilon must be in (0, 0.5]");
    if (!(o.delta > 0.0 && o.delta < 1.0))
        fail(ErrorKind::InvalidParameter, "the confidence delta must be between 0 and 1 (exclusive)");
}

void check_pair(const std::vector<double>& p, const std::vector<double>& q, const char* what) {
    if (p.size() != q.size() || p.empty())
        fail(ErrorKind::InvalidParameter,
             std::string(what) + ": the two proportion vectors must have the same, non-zero length");
    for (size_t i = 0; i < p.size(); i++)
        if (!(p[i] >= 0.0 && q[i] >= 0.0 && std::isfinite(p[i]) && std::isfinite(q[i])))
            fail(ErrorKind::InvalidParameter, std::string(what) + ": proportions must be finite and >= 0");
}

// The per-bin terms. Each is jointly convex in (p, q), zero on p == q, and for a fixed p
// (or q) minimal at q == p (or p == q): that is what interval_of() relies on.
double psi_term(double b, double c) { return (c - b) * std::log(c / b); }  // b, c > 0
double xlogy_ratio(double a, double m) { return a > 0.0 ? a * std::log(a / m) : 0.0; }
double js_term(double p, double q) {
    const double m = (p + q) / 2.0;
    return m > 0.0 ? xlogy_ratio(p, m) + xlogy_ratio(q, m) : 0.0;
}
double abs_term(double p, double q) { return std::fabs(p - q); }

struct Range {
    double lo, hi;
};

// The range of a per-bin term over the box [p_lo, p_hi] x [q_lo, q_hi]: the maximum of a
// convex function over a box is at a corner; its minimum is on an edge, where the term,
// convex along the edge with its minimum at p == q, is smallest at the clamped diagonal.
template <typename F>
Range range_on_box(F f, double p_lo, double p_hi, double q_lo, double q_hi) {
    const double hi = std::max({f(p_lo, q_lo), f(p_lo, q_hi), f(p_hi, q_lo), f(p_hi, q_hi)});
    const double lo =
        std::min({f(p_lo, std::clamp(p_lo, q_lo, q_hi)), f(p_hi, std::clamp(p_hi, q_lo, q_hi)),
                  f(std::clamp(q_lo, p_lo, p_hi), q_lo), f(std::clamp(q_hi, p_lo, p_hi), q_hi)});
    return {std::max(lo, 0.0), hi};
}

// lower/upper of a sum (or max) of per-bin terms over every proportion in the bounds.
template <typename F>
Range interval_of(F f, const Proportions& b, const Proportions& c, bool take_max) {
    Range total{0.0, 0.0};
    for (size_t i = 0; i < b.estimate.size(); i++) {
        const Range r = range_on_box(f, b.lower[i], b.upper[i], c.lower[i], c.upper[i]);
        if (take_max) {
            total.lo = std::max(total.lo, r.lo);
            total.hi = std::max(total.hi, r.hi);
        } else {
            total.lo += r.lo;
            total.hi += r.hi;
        }
    }
    return total;
}

DriftResult on_proportions(DriftMethod method, const Proportions& b, const Proportions& c, double epsilon) {
    DriftResult res{method, 0.0, 0.0, 0.0};
    switch (method) {
        case DriftMethod::Psi: {
            res.value = psi(b.estimate, c.estimate, epsilon);
            auto smoothed = [epsilon](double bb, double cc) {
                return psi_term(std::max(bb, epsilon), std::max(cc, epsilon));
            };
            const Range r = interval_of(smoothed, b, c, false);
            res.lower = r.lo;
            res.upper = r.hi;
            break;
        }
        case DriftMethod::JensenShannon: {
            res.value = js_distance(b.estimate, c.estimate);
            const Range r = interval_of(js_term, b, c, false);
            res.lower = std::sqrt(std::min(1.0, r.lo / (2.0 * kLn2)));
            res.upper = std::sqrt(std::min(1.0, r.hi / (2.0 * kLn2)));
            break;
        }
        case DriftMethod::LInfinity: {
            res.value = linf_distance(b.estimate, c.estimate);
            const Range r = interval_of(abs_term, b, c, true);
            res.lower = r.lo;
            res.upper = std::min(1.0, r.hi);
            break;
        }
        default:
            fail(ErrorKind::Internal, "drift: not a measure on proportions");
    }
    // Rounding must not put the value outside its own interval.
    res.lower = std::min(res.lower, res.value);
    res.upper = std::max(res.upper, res.value);
    return res;
}

// The smallest retained value whose inclusive cumulative weight reaches ceil(j n / bins): the
// j/bins quantile (percentile_disc's rule) in exact integer arithmetic.
std::vector<double> quantile_edges(const StepCdf& s, uint32_t bins) {
    std::vector<double> e;
    for (uint32_t j = 1; j < bins; j++) {
        const unsigned __int128 t = (static_cast<unsigned __int128>(s.n) * j + bins - 1) / bins;
        auto it = std::lower_bound(s.cum.begin(), s.cum.end(), t,
                                   [](uint64_t c, unsigned __int128 tt) { return c < tt; });
        e.push_back(it == s.cum.end() ? s.max : s.x[size_t(it - s.cum.begin())]);
    }
    return e;
}

// Radius of the error of the sketch's mass of (a, b] (a = -inf, b = +inf at the ends): zero when
// the interval holds none or all of [min, max], where the sketch is exact, else eps.
double mass_radius(double a, double b, double mn, double mx, double eps) {
    if (b < mn || a >= mx) return 0.0;
    if (a < mn && b >= mx) return 0.0;
    return eps;
}

Proportions with_radii(std::vector<double> est, const std::vector<double>& radius) {
    Proportions p;
    p.lower.resize(est.size());
    p.upper.resize(est.size());
    for (size_t i = 0; i < est.size(); i++) {
        p.lower[i] = std::max(0.0, est[i] - radius[i]);
        p.upper[i] = std::min(1.0, est[i] + radius[i]);
    }
    p.estimate = std::move(est);
    return p;
}

double ks_of(const StepCdf& a, const StepCdf& b) {
    const double na = static_cast<double>(a.n), nb = static_cast<double>(b.n);
    double d = 0.0;
    size_t i = 0, j = 0;
    uint64_t ca = 0, cb = 0;
    while (i < a.x.size() || j < b.x.size()) {
        double v;
        if (j == b.x.size() || (i < a.x.size() && a.x[i] <= b.x[j]))
            v = a.x[i];
        else
            v = b.x[j];
        if (i < a.x.size() && a.x[i] == v) ca = a.cum[i++];
        if (j < b.x.size() && b.x[j] == v) cb = b.cum[j++];
        d = std::max(d, std::fabs(static_cast<double>(ca) / na - static_cast<double>(cb) / nb));
    }
    return d;
}

// Integral over x of |F_a - F_b|, both step functions; a segment of infinite length counts only
// where the two differ (then the distance is infinite).
double wasserstein_of(const StepCdf& a, const StepCdf& b) {
    const double na = static_cast<double>(a.n), nb = static_cast<double>(b.n);
    double w = 0.0;
    size_t i = 0, j = 0;
    uint64_t ca = 0, cb = 0;
    bool started = false;
    double prev = 0.0, diff = 0.0;
    while (i < a.x.size() || j < b.x.size()) {
        double v;
        if (j == b.x.size() || (i < a.x.size() && a.x[i] <= b.x[j]))
            v = a.x[i];
        else
            v = b.x[j];
        if (started && diff != 0.0) w += diff * (v - prev);
        if (i < a.x.size() && a.x[i] == v) ca = a.cum[i++];
        if (j < b.x.size() && b.x[j] == v) cb = b.cum[j++];
        diff = std::fabs(static_cast<double>(ca) / na - static_cast<double>(cb) / nb);
        prev = v;
        started = true;
    }
    return w;
}

// Integral over t in [t0, t1] (within [0, 1]) of Q(t) - min, Q the sketch's quantile function
// (Q(t) = x[i] for t in (cum[i-1]/n, cum[i]/n]).
double quantile_integral(const StepCdf& s, double t0, double t1) {
    if (!(t1 > t0)) return 0.0;
    const double n = static_cast<double>(s.n);
    double acc = 0.0, lo = 0.0;
    for (size_t i = 0; i < s.x.size() && lo < t1; i++) {
        const double hi = static_cast<double>(s.cum[i]) / n;
        const double a = std::max(lo, t0), b = std::min(hi, t1);
        if (b > a) acc += (s.x[i] - s.min) * (b - a);
        lo = hi;
    }
    return acc;
}

// A bound on W1(true distribution, sketch's distribution) when every rank is within u: the true
// quantile Q(t) and the sketch's Q^(t) both lie in [Q^(t - u), Q^(t + u)] (clamped to the exact
// min and max), so W1 = int |Q - Q^| dt <= int_0^1 Q^(t + u) - Q^(t - u) dt
//   = int_{1-u}^1 (Q^ - min) + u (max - min) - int_0^u (Q^ - min).
double wasserstein_envelope(const StepCdf& s, double u) {
    if (u <= 0.0 || s.min == s.max) return 0.0;
    if (!std::isfinite(s.min) || !std::isfinite(s.max)) return kInf;
    const double range = s.max - s.min;
    if (u >= 1.0) return range;
    const double b = quantile_integral(s, 1.0 - u, 1.0) + u * range - quantile_integral(s, 0.0, u);
    return std::clamp(b, 0.0, range);
}

// W / sigma, with the degenerate baseline (sigma 0, or NaN: fewer than two finite values) giving 0
// for w == 0 and +inf otherwise; inf / inf is +inf.
double normalize(double w, double sigma) {
    if (!(sigma > 0.0)) return w > 0.0 ? kInf : 0.0;
    const double r = w / sigma;
    return std::isnan(r) ? kInf : r;
}

}  // namespace

DriftMethod parse_drift_method(std::string_view text) {
    std::string t(text);
    for (char& ch : t) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    static const std::map<std::string, DriftMethod> names = {
        {"auto", DriftMethod::Auto},
        {"psi", DriftMethod::Psi},
        {"js", DriftMethod::JensenShannon},
        {"jensen_shannon", DriftMethod::JensenShannon},
        {"ks", DriftMethod::KolmogorovSmirnov},
        {"kolmogorov_smirnov", DriftMethod::KolmogorovSmirnov},
        {"wasserstein", DriftMethod::Wasserstein},
        {"emd", DriftMethod::Wasserstein},
        {"linf", DriftMethod::LInfinity},
        {"l_infinity", DriftMethod::LInfinity},
    };
    auto it = names.find(t);
    if (it == names.end())
        fail(ErrorKind::InvalidParameter, "unknown drift method \"" + std::string(text) + "\"", {},
             "use auto, psi, js, ks, wasserstein or linf");
    return it->second;
}

const char* drift_method_name(DriftMethod method) {
    switch (method) {
        case DriftMethod::Auto:
            return "auto";
        case DriftMethod::Psi:
            return "psi";
        case DriftMethod::JensenShannon:
            return "js";
        case DriftMethod::KolmogorovSmirnov:
            return "ks";
        case DriftMethod::Wasserstein:
            return "wasserstein";
        case DriftMethod::LInfinity:
            return "linf";
    }
    return "unknown";
}

double psi(const std::vector<double>& baseline, const std::vector<double>& current, double epsilon) {
    check_pair(baseline, current, "PSI");
    if (!(epsilon > 0.0 && epsilon <= 0.5))
        fail(ErrorKind::InvalidParameter, "the PSI epsilon must be in (0, 0.5]");
    double s = 0.0;
    for (size_t i = 0; i < baseline.size(); i++)
        s += psi_term(std::max(baseline[i], epsilon), std::max(current[i], epsilon));
    return s;
}

double js_distance(const std::vector<double>& p, const std::vector<double>& q) {
    check_pair(p, q, "Jensen-Shannon distance");
    double sp = 0.0, sq = 0.0;
    for (size_t i = 0; i < p.size(); i++) {
        sp += p[i];
        sq += q[i];
    }
    if (!(sp > 0.0 && sq > 0.0))
        fail(ErrorKind::InvalidParameter, "Jensen-Shannon distance: a proportion vector sums to zero");
    double s = 0.0;
    for (size_t i = 0; i < p.size(); i++) s += js_term(p[i] / sp, q[i] / sq);
    return std::sqrt(std::clamp(s / (2.0 * kLn2), 0.0, 1.0));
}

double linf_distance(const std::vector<double>& p, const std::vector<double>& q) {
    check_pair(p, q, "L-infinity distance");
    double d = 0.0;
    for (size_t i = 0; i < p.size(); i++) d = std::max(d, abs_term(p[i], q[i]));
    return d;
}

double kll_uniform_rank_error(const KllSketch& sketch, double delta) {
    if (!(delta > 0.0 && delta < 1.0))
        fail(ErrorKind::InvalidParameter, "the confidence delta must be between 0 and 1 (exclusive)");
    // Exact while nothing was compacted; and a constant sketch's cdf is the true one.
    if (sketch.rank_error_bound(delta) == 0.0 || sketch.min() == sketch.max()) return 0.0;
    // A grid of M true quantiles i/M: between two grid points both cdfs move by at most 1/M
    // beyond the error at the grid's 2(M - 1) points (x and x-), each within eps(delta / 2M).
    double best = 1.0;
    for (double m = 2.0; m <= 1e7; m = std::max(m + 1.0, std::floor(m * 1.02)))
        best = std::min(best, sketch.rank_error_bound(delta / (2.0 * m)) + 1.0 / m);
    return best;
}

std::optional<NumericBins> numeric_bins(const KllSketch& baseline, const KllSketch& current,
                                        const DriftOptions& options) {
    check_options(options);
    if (baseline.empty() || current.empty()) return std::nullopt;
    const StepCdf b = step_cdf(baseline);
    // Splits: just below the baseline's min (a bin for values under its range), the baseline's
    // 1/bins, ..., (bins-1)/bins quantiles, and its max (a bin for values above its range);
    // duplicates (ties, constant data) are merged and +inf dropped, (+inf, +inf) being empty.
    std::vector<double> s;
    if (b.min > -kInf) s.push_back(std::nextafter(b.min, -kInf));
    for (double e : quantile_edges(b, options.bins)) s.push_back(e);
    s.push_back(b.max);
    s.erase(std::unique(s.begin(), s.end()), s.end());
    if (!s.empty() && s.back() == kInf) s.pop_back();  // may leave one bin: nothing to compare

    NumericBins out;
    out.splits = s;
    const size_t nb = s.size() + 1;
    // The bins are chosen by the baseline's own (random) sketch, so its masses need the uniform
    // bound; the current's masses are fixed queries for its independent coins.
    const double ub = kll_uniform_rank_error(baseline, options.delta / 2.0);
    const double ec = current.rank_error_bound(options.delta / (2.0 * static_cast<double>(nb)));
    std::vector<double> rb(nb), rc(nb);
    for (size_t i = 0; i < nb; i++) {
        const double a = i ? s[i - 1] : -kInf, z = i < s.size() ? s[i] : kInf;
        // The baseline's cdf errs by at most ub at each inner split, and not at all at a split
        // below its min or at/above its max.
        auto err_at = [&](double x) { return (x < baseline.min() || x >= baseline.max()) ? 0.0 : ub; };
        rb[i] = (i ? err_at(a) : 0.0) + (i < s.size() ? err_at(z) : 0.0);
        rc[i] = mass_radius(a, z, current.min(), current.max(), ec);
    }
    out.baseline = with_radii(baseline.pmf(s), rb);
    out.current = with_radii(current.pmf(s), rc);
    return out;
}

std::optional<CategoricalBins> categorical_bins(const SpaceSaving& baseline, const SpaceSaving& current) {
    if (baseline.n() == 0 || current.n() == 0) return std::nullopt;
    std::vector<std::string> values;
    for (const auto& c : baseline.top()) values.push_back(c.item);
    for (const auto& c : current.top()) values.push_back(c.item);
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());

    auto side = [&values](const SpaceSaving& ss) {
        const double n = static_cast<double>(ss.n());
        Proportions p;
        unsigned __int128 sum_lo = 0, sum_hi = 0;
        double listed = 0.0;
        for (const auto& v : values) {
            const SpaceSaving::Counter* c = ss.find(v);
            // Listed: f in [count - error, count]; not listed: f in [0, unmonitored bound]. The
            // estimate is the middle of that interval (exact when the summary lists every value).
            const uint64_t lo = c ? c->count - c->error : 0;
            const uint64_t hi = c ? c->count : ss.unmonitored_bound();
            const double mid = static_cast<double>(lo) + static_cast<double>(hi - lo) / 2.0;
            listed += mid;
            sum_lo += lo;
            sum_hi += hi;
            p.estimate.push_back(mid / n);
            p.lower.push_back(static_cast<double>(lo) / n);
            p.upper.push_back(std::min(1.0, static_cast<double>(hi) / n));
        }
        const unsigned __int128 total = ss.n();
        auto rest = [total](unsigned __int128 used) {
            return used >= total ? uint64_t(0) : static_cast<uint64_t>(total - used);
        };
        p.estimate.push_back(std::max(0.0, n - listed) / n);
        p.lower.push_back(static_cast<double>(rest(sum_hi)) / n);
        p.upper.push_back(static_cast<double>(rest(sum_lo)) / n);
        return p;
    };
    CategoricalBins out;
    out.baseline = side(baseline);
    out.current = side(current);
    out.values = std::move(values);
    return out;
}

std::optional<DriftResult> numeric_drift(const KllSketch& baseline, const KllSketch& current,
                                         double baseline_stddev, DriftMethod method,
                                         const DriftOptions& options) {
    check_options(options);
    if (method == DriftMethod::Auto) method = kDefaultNumericDrift;
    if (method == DriftMethod::LInfinity)
        fail(ErrorKind::InvalidParameter, "drift method linf applies to categorical statistics only", {},
             "for numeric statistics use psi, js, ks or wasserstein");
    if (method == DriftMethod::Wasserstein && baseline_stddev < 0.0)
        fail(ErrorKind::InvalidParameter, "the baseline standard deviation must not be negative");
    if (baseline.empty() || current.empty()) return std::nullopt;

    if (method == DriftMethod::Psi || method == DriftMethod::JensenShannon) {
        const NumericBins bins = *numeric_bins(baseline, current, options);
        return on_proportions(method, bins.baseline, bins.current, options.epsilon);
    }
    const StepCdf b = step_cdf(baseline), c = step_cdf(current);
    const double ub = kll_uniform_rank_error(baseline, options.delta / 2.0);
    const double uc = kll_uniform_rank_error(current, options.delta / 2.0);
    DriftResult res{method, 0.0, 0.0, 0.0};
    if (method == DriftMethod::KolmogorovSmirnov) {
        res.value = ks_of(b, c);
        res.lower = std::max(0.0, res.value - ub - uc);
        res.upper = std::min(1.0, res.value + ub + uc);
        return res;
    }
    // Wasserstein: |W(F_b, F_c) - W(F^_b, F^_c)| <= W(F_b, F^_b) + W(F_c, F^_c).
    const double w = wasserstein_of(b, c);
    const double slack = wasserstein_envelope(b, ub) + wasserstein_envelope(c, uc);
    res.value = normalize(w, baseline_stddev);
    res.lower =
        normalize(std::isinf(w) ? (std::isinf(slack) ? 0.0 : w) : std::max(0.0, w - slack), baseline_stddev);
    res.upper = normalize(w + slack, baseline_stddev);
    return res;
}

std::optional<DriftResult> categorical_drift(const SpaceSaving& baseline, const SpaceSaving& current,
                                             DriftMethod method, const DriftOptions& options) {
    check_options(options);
    if (method == DriftMethod::Auto) method = kDefaultCategoricalDrift;
    if (method == DriftMethod::KolmogorovSmirnov || method == DriftMethod::Wasserstein)
        fail(ErrorKind::InvalidParameter,
             std::string("drift method ") + drift_method_name(method) + " applies to numeric statistics only",
             {}, "for categorical statistics use linf, psi or js");
    const auto bins = categorical_bins(baseline, current);
    if (!bins) return std::nullopt;
    return on_proportions(method, bins->baseline, bins->current, options.epsilon);
}

double kolmogorov_sf(double lambda) {
    if (std::isnan(lambda)) return lambda;
    if (lambda <= 0.0) return 1.0;
    if (lambda < 1.0) {
        // 1 - P(K > x) = sqrt(2 pi) / x sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 x^2)), which converges
        // fast for small x, where the alternating series does not.
        const double a = -kPi * kPi / (8.0 * lambda * lambda);
        double s = 0.0;
        for (int k = 1; k <= 50; k++) {
            const double t = std::exp(a * double((2 * k - 1) * (2 * k - 1)));
            s += t;
            if (t <= 1e-18 * s) break;
        }
        return std::clamp(1.0 - std::sqrt(2.0 * kPi) / lambda * s, 0.0, 1.0);
    }
    double s = 0.0;
    for (int k = 1; k <= 100; k++) {
        const double t = std::exp(-2.0 * double(k) * double(k) * lambda * lambda);
        s += (k & 1) ? t : -t;
        if (t <= 1e-18 * s) break;
    }
    return std::clamp(2.0 * s, 0.0, 1.0);
}

double ks_pvalue(double d, uint64_t n, uint64_t m) {
    if (!(d >= 0.0 && d <= 1.0))
        fail(ErrorKind::InvalidParameter, "the Kolmogorov-Smirnov statistic must be between 0 and 1");
    if (n == 0 || m == 0)
        fail(ErrorKind::InvalidParameter, "the Kolmogorov-Smirnov p-value needs two non-empty samples");
    const double nn = static_cast<double>(n), mm = static_cast<double>(m);
    return kolmogorov_sf(d * std::sqrt(nn * mm / (nn + mm)));
}

std::optional<double> ks_pvalue(const KllSketch& baseline, const KllSketch& current) {
    if (baseline.empty() || current.empty()) return std::nullopt;
    return ks_pvalue(ks_of(step_cdf(baseline), step_cdf(current)), baseline.n(), current.n());
}

}  // namespace pg_learn::core
