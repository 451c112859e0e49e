// Exact sums, the metric accumulators, their metrics (as scikit-learn 1.2 defines them) and forms.
#include "core/metrics/metrics.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <tuple>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;
using nlohmann::json;
using u128 = unsigned __int128;

namespace {

constexpr uint64_t kOnes = ~uint64_t(0);

int64_t floor_div64(int64_t e) { return e >= 0 ? e / 64 : -((-e + 63) / 64); }

// A finite double as sign, 53-bit integer m and exponent e: |x| = m * 2^e.
struct Parts {
    bool neg;
    uint64_t m;
    int64_t e;
};
Parts parts(double x) {
    uint64_t b = detail::double_bits(x);
    const uint64_t E = (b >> 52) & 0x7FF;
    if (E == 0x7FF) fail(ErrorKind::Internal, "exact sum given a non-finite value");
    const uint64_t frac = b & ((uint64_t(1) << 52) - 1);
    return {(b >> 63) != 0, E ? frac | (uint64_t(1) << 52) : frac, (E ? int64_t(E) : 1) - 1075};
}

void negate_limbs(std::vector<uint64_t>& v) {
    uint64_t carry = 1;
    for (auto& l : v) {
        l = ~l + carry;
        carry = (carry && l == 0) ? 1 : 0;
    }
}

}  // namespace

// ---- ExactSum ---------------------------------------------------------------------------------

void ExactSum::ensure(int64_t lo, int64_t hi) {
    if (limbs_.empty()) {
        lo_ = lo;
        limbs_.assign(size_t(hi - lo), 0);
        return;
    }
    const int64_t cur_hi = lo_ + int64_t(limbs_.size());
    if (hi > cur_hi) limbs_.resize(size_t(hi - lo_), negative() ? kOnes : 0);
    if (lo < lo_) {
        limbs_.insert(limbs_.begin(), size_t(lo_ - lo), 0);
        lo_ = lo;
    }
}

// Mutations keep the top limb a pure sign limb (0 or ~0) and never shrink the range, so a running
// sum settles on a few limbs and stops reallocating; the canonical form (span) is what is compared,
// encoded and printed.
void ExactSum::fix_top() {
    if (limbs_.back() != 0 && limbs_.back() != kOnes) limbs_.push_back((limbs_.back() >> 63) ? kOnes : 0);
}

ExactSum::Span ExactSum::span() const {
    size_t b = 0, e = limbs_.size();
    while (b < e && limbs_[b] == 0) b++;
    if (b == e) return {0, 0, 0};
    // Redundant sign limbs at the top: keep exactly one.
    while (e - b >= 2 && (limbs_[e - 1] == 0 || limbs_[e - 1] == kOnes) && limbs_[e - 2] == limbs_[e - 1]) e--;
    if (limbs_[e - 1] != 0 && limbs_[e - 1] != kOnes) fail(ErrorKind::Internal, "exact sum lost its sign limb");
    return {lo_ + int64_t(b), b, e};
}

void ExactSum::trim() {
    const Span sp = span();
    if (sp.begin == sp.end) {
        limbs_.clear();
        lo_ = 0;
        return;
    }
    limbs_.resize(sp.end);
    limbs_.erase(limbs_.begin(), limbs_.begin() + long(sp.begin));
    lo_ = sp.lo;
}

void ExactSum::add_mag(u128 m, int64_t e, bool negate) {
    if (m == 0) return;
    const int64_t idx = floor_div64(e);
    const int sh = int(e - 64 * idx);
    const u128 shifted = m << sh;  // mod 2^128; the bits above go to w[2]
    uint64_t w[3] = {uint64_t(shifted), uint64_t(shifted >> 64), sh ? uint64_t(m >> (128 - sh)) : 0};
    // The top limb is a pure sign limb, so |x| <= 2^(64 (hi - 1)); the term is below 2^(64 (idx + 3)):
    // with hi >= idx + 4 the sum fits in the limbs there are.
    if (limbs_.empty()) {
        ensure(idx, idx + 4);
    } else {
        const int64_t hi = lo_ + int64_t(limbs_.size());
        if (idx < lo_ || idx + 4 > hi) ensure(std::min(lo_, idx), std::max(hi, idx + 4));
    }
    size_t k = size_t(idx - lo_);
    const size_t n = limbs_.size();
    if (!negate) {
        uint64_t carry = 0;
        for (int j = 0; j < 3; j++, k++) {
            u128 s = u128(limbs_[k]) + w[j] + carry;
            limbs_[k] = uint64_t(s);
            carry = uint64_t(s >> 64);
        }
        for (; carry && k < n; k++) {
            limbs_[k] += 1;
            carry = limbs_[k] == 0;
        }
    } else {
        uint64_t borrow = 0;
        for (int j = 0; j < 3; j++, k++) {
            const uint64_t a = limbs_[k];
            const uint64_t d = a - w[j] - borrow;
            borrow = (u128(w[j]) + borrow > a) ? 1 : 0;
            limbs_[k] = d;
        }
        for (; borrow && k < n; k++) {
            borrow = limbs_[k] == 0;
            limbs_[k] -= 1;
        }
    }
    fix_top();
}

void ExactSum::add_double(double x, bool negate) {
    if (x == 0) return;
    Parts p = parts(x);
    add_mag(p.m, p.e, p.neg != negate);
}

void ExactSum::add_prod(double a, double b, bool negate) {
    if (a == 0 || b == 0) return;
    Parts p = parts(a), q = parts(b);
    add_mag(u128(p.m) * q.m, p.e + q.e, (p.neg != q.neg) != negate);
}

void ExactSum::add_sum(const ExactSum& o, bool negate) {
    if (o.limbs_.empty()) return;
    if (&o == this) {
        ExactSum copy(o);
        add_sum(copy, negate);
        return;
    }
    // Both top limbs are pure sign limbs: the sum fits in the wider of the two ranges.
    const int64_t hi = std::max(lo_ + int64_t(limbs_.size()), o.lo_ + int64_t(o.limbs_.size()));
    ensure(limbs_.empty() ? o.lo_ : std::min(lo_, o.lo_), hi);
    const uint64_t ext = o.negative() ? kOnes : 0;
    size_t k = size_t(o.lo_ - lo_);
    uint64_t c = 0;
    for (size_t j = 0; k < limbs_.size(); j++, k++) {
        const uint64_t b = j < o.limbs_.size() ? o.limbs_[j] : ext;
        const uint64_t a = limbs_[k];
        if (!negate) {
            u128 s = u128(a) + b + c;
            limbs_[k] = uint64_t(s);
            c = uint64_t(s >> 64);
        } else {
            limbs_[k] = a - b - c;
            c = (u128(b) + c > a) ? 1 : 0;
        }
    }
    fix_top();
}

bool ExactSum::is_zero() const {
    for (uint64_t l : limbs_)
        if (l) return false;
    return true;
}

int ExactSum::sign() const {
    if (is_zero()) return 0;
    return negative() ? -1 : 1;
}

std::vector<uint64_t> ExactSum::magnitude() const {
    std::vector<uint64_t> m(limbs_);
    if (negative()) negate_limbs(m);
    return m;
}

ExactSum ExactSum::from_magnitude(std::vector<uint64_t> mag, int64_t lo, bool neg) {
    ExactSum s;
    mag.push_back(0);
    if (neg) negate_limbs(mag);
    s.lo_ = lo;
    s.limbs_ = std::move(mag);
    s.trim();
    return s;
}

ExactSum ExactSum::times(const ExactSum& o) const {
    if (is_zero() || o.is_zero()) return ExactSum();
    const std::vector<uint64_t> a = magnitude(), b = o.magnitude();
    std::vector<uint64_t> r(a.size() + b.size(), 0);
    for (size_t i = 0; i < a.size(); i++) {
        uint64_t carry = 0;
        for (size_t j = 0; j < b.size(); j++) {
            u128 t = u128(a[i]) * b[j] + r[i + j] + carry;
            r[i + j] = uint64_t(t);
            carry = uint64_t(t >> 64);
        }
        r[i + b.size()] += carry;
    }
    return from_magnitude(std::move(r), lo_ + o.lo_, negative() != o.negative());
}

ExactSum ExactSum::times(uint64_t k) const {
    if (is_zero() || k == 0) return ExactSum();
    std::vector<uint64_t> a = magnitude();
    uint64_t carry = 0;
    for (auto& l : a) {
        u128 t = u128(l) * k + carry;
        l = uint64_t(t);
        carry = uint64_t(t >> 64);
    }
    a.push_back(carry);
    return from_magnitude(std::move(a), lo_, negative());
}

ExactSum::Scaled ExactSum::scaled() const {
    if (is_zero()) return {0.0, 0};
    const std::vector<uint64_t> mag = magnitude();
    size_t t = mag.size();
    while (t > 0 && mag[t - 1] == 0) t--;
    // t > 0: a nonzero value has a nonzero magnitude limb.
    const int top_bit = 63 - __builtin_clzll(mag[t - 1]);
    const int64_t rel = int64_t(64 * (t - 1)) + top_bit;  // bit index of the leading 1 within mag
    auto limb = [&](int64_t i) -> uint64_t { return (i >= 0 && i < int64_t(mag.size())) ? mag[size_t(i)] : 0; };
    // 64 bits [rel - 63, rel] and whether anything below them is set.
    const int64_t p = rel - 63;
    const int64_t li = floor_div64(p);
    const int sh = int(p - 64 * li);
    uint64_t top64 = sh ? (limb(li) >> sh) | (limb(li + 1) << (64 - sh)) : limb(li);
    bool sticky = sh && (limb(li) & ((uint64_t(1) << sh) - 1)) != 0;
    for (int64_t i = 0; i < li && !sticky; i++) sticky = limb(i) != 0;
    uint64_t mant53 = top64 >> 11;
    const uint64_t rest = top64 & 0x7FF;
    int64_t lead = int64_t(64) * lo_ + rel;  // exponent of the leading bit
    if (rest > 0x400 || (rest == 0x400 && (sticky || (mant53 & 1)))) {
        mant53++;
        if (mant53 == (uint64_t(1) << 53)) {
            mant53 >>= 1;
            lead++;
        }
    }
    double m = std::ldexp(double(mant53), -53);
    return {negative() ? -m : m, lead + 1};
}

double ExactSum::to_double() const {
    Scaled s = scaled();
    if (s.mant == 0) return 0.0;
    if (s.exp > 1024) return s.mant > 0 ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    if (s.exp < -1200) return s.mant > 0 ? 0.0 : -0.0;
    return std::ldexp(s.mant, int(s.exp));
}

std::string ExactSum::to_hex() const {
    if (is_zero()) return "0";
    std::vector<uint64_t> mag = magnitude();
    // value = M * 2^exp with M odd: shift the trailing zero bits out of the magnitude.
    size_t z = 0;
    while (mag[z] == 0) z++;
    const int tz = __builtin_ctzll(mag[z]);
    mag.erase(mag.begin(), mag.begin() + long(z));
    if (tz) {
        for (size_t i = 0; i < mag.size(); i++) mag[i] = (mag[i] >> tz) | (i + 1 < mag.size() ? mag[i + 1] << (64 - tz) : 0);
    }
    while (mag.size() > 1 && mag.back() == 0) mag.pop_back();
    static const char* kDigits = "0123456789abcdef";
    std::string digits;
    for (size_t i = mag.size(); i-- > 0;)
        for (int d = 15; d >= 0; d--) digits.push_back(kDigits[(mag[i] >> (4 * d)) & 0xF]);
    digits.erase(0, digits.find_first_not_of('0'));
    const int64_t exp = 64 * (lo_ + int64_t(z)) + tz;
    return std::string(negative() ? "-" : "") + "0x" + digits + "p" + std::to_string(exp);
}

ExactSum ExactSum::from_hex(const std::string& s) {
    auto bad = [&]() {
        fail(ErrorKind::InvalidText, "invalid exact sum \"" + s.substr(0, 80) + "\"",
             "expected \"0\" or a hex float such as \"0x1.8p3\" written as \"0x18p-1\"");
    };
    if (s == "0") return ExactSum();
    size_t i = 0;
    bool neg = false;
    if (i < s.size() && s[i] == '-') {
        neg = true;
        i++;
    }
    if (s.compare(i, 2, "0x") != 0) bad();
    i += 2;
    const size_t d0 = i;
    while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) i++;
    const size_t nd = i - d0;
    if (nd == 0 || nd > 1200) bad();
    if (i >= s.size() || s[i] != 'p') bad();
    i++;
    bool eneg = false;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
        eneg = s[i] == '-';
        i++;
    }
    const size_t e0 = i;
    int64_t exp = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && i - e0 < 7) exp = exp * 10 + (s[i++] - '0');
    if (i == e0 || i != s.size()) bad();
    if (eneg) exp = -exp;
    // Digits, least significant first, into limbs; then shift to the exponent's position.
    std::vector<uint64_t> mag((4 * nd + 63) / 64 + 1, 0);
    for (size_t k = 0; k < nd; k++) {
        const char c = s[d0 + nd - 1 - k];
        const uint64_t v = std::isdigit(static_cast<unsigned char>(c)) ? uint64_t(c - '0')
                                                                       : uint64_t(std::tolower(c) - 'a' + 10);
        mag[(4 * k) / 64] |= v << ((4 * k) % 64);
    }
    const int64_t lo = floor_div64(exp);
    const int sh = int(exp - 64 * lo);
    if (sh) {
        for (size_t k = mag.size(); k-- > 0;) {
            mag[k] = (mag[k] << sh) | (k ? mag[k - 1] >> (64 - sh) : 0);
        }
    }
    ExactSum r = from_magnitude(std::move(mag), lo, neg);
    r.validate_range("exact sum text");
    return r;
}

void ExactSum::validate_range(const char* what) const {
    const Span sp = span();
    if (sp.begin == sp.end) return;
    if (sp.lo < kMinLimb || sp.lo + int64_t(sp.end - sp.begin) > kMaxLimb)
        fail(ErrorKind::InvalidParameter, std::string(what) + " is out of range",
             "exact sums hold magnitudes from 2^" + std::to_string(64 * kMinLimb) + " to 2^" +
                 std::to_string(64 * kMaxLimb - 1));
}

size_t ExactSum::encoded_size() const {
    const Span sp = span();
    return 4 + 8 * (sp.end - sp.begin);
}

void ExactSum::encode(ByteWriter& w) const {
    const Span sp = span();
    w.put<int16_t>(static_cast<int16_t>(sp.lo));
    w.put<uint16_t>(static_cast<uint16_t>(sp.end - sp.begin));
    if (sp.end > sp.begin) w.bytes(limbs_.data() + sp.begin, 8 * (sp.end - sp.begin));
}

ExactSum ExactSum::decode(ByteReader& r) {
    ExactSum s;
    const int16_t lo = r.get<int16_t>("exact sum");
    const uint16_t n = r.get<uint16_t>("exact sum");
    if (n == 0) {
        if (lo != 0) r.corrupt("zero exact sum with an offset");
        return s;
    }
    if (lo < kMinLimb || int(lo) + int(n) > kMaxLimb) r.corrupt("exact sum out of range");
    s.lo_ = lo;
    s.limbs_.resize(n);
    r.bytes(s.limbs_.data(), 8 * size_t(n), "exact sum");
    const uint64_t top = s.limbs_.back();
    if (s.limbs_[0] == 0 || (top != 0 && top != kOnes) || (n >= 2 && s.limbs_[n - 2] == top))
        r.corrupt("exact sum is not in canonical form");
    return s;
}

bool ExactSum::operator==(const ExactSum& o) const {
    const Span a = span(), b = o.span();
    return a.lo == b.lo && a.end - a.begin == b.end - b.begin &&
           std::equal(limbs_.begin() + long(a.begin), limbs_.begin() + long(a.end), o.limbs_.begin() + long(b.begin));
}

// ---- validation helpers --------------------------------------------------------------------------

double check_threshold(double t) {
    if (!std::isfinite(t)) fail(ErrorKind::InvalidParameter, "threshold must be a finite number");
    return t == 0 ? 0.0 : t;
}

uint32_t check_bins(int64_t bins) {
    if (bins < 1 || bins > int64_t(kMaxCalibrationBins))
        fail(ErrorKind::InvalidParameter,
             "number of calibration bins must be between 1 and " + std::to_string(kMaxCalibrationBins),
             "got " + std::to_string(bins));
    return uint32_t(bins);
}

double check_score(double s, const char* what) {
    if (!std::isfinite(s))
        fail(ErrorKind::NumericRange, std::string(what) + " must be finite, not " +
                                          (std::isnan(s) ? "NaN" : (s > 0 ? "Infinity" : "-Infinity")));
    return s == 0 ? 0.0 : s;
}

double check_probability(double p, const char* what) {
    check_score(p, what);
    if (p < 0 || p > 1) {
        // The shortest of 15 or 17 significant digits that reads back as p.
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.15g", p);
        if (std::strtod(buf, nullptr) != p) std::snprintf(buf, sizeof buf, "%.17g", p);
        fail(ErrorKind::InvalidParameter, std::string(what) + " must be between 0 and 1",
             std::string("got ") + buf);
    }
    return p == 0 ? 0.0 : p;
}

double logloss_term(double p, bool positive) {
    const double c = std::min(std::max(p, kLogLossEps), 1.0 - kLogLossEps);
    return positive ? -std::log(c) : -std::log(1.0 - c);
}

uint32_t calibration_bin(double p, uint32_t n_bins) {
    const double step = 1.0 / double(n_bins);
    auto edge = [&](uint32_t i) { return double(i) * step; };
    // The answer is the largest i in [0, n_bins - 1] with edge(i) < p (edge(0) = 0 counts as none).
    double g = std::floor(p * double(n_bins));
    uint32_t b = g <= 0 ? 0 : (g >= double(n_bins - 1) ? n_bins - 1 : uint32_t(g));
    while (b > 0 && !(edge(b) < p)) b--;
    while (b + 1 < n_bins && edge(b + 1) < p) b++;
    return b;
}

namespace {

// A count as a double for exact products: counts beyond 2^53 are split in two.
void add_count_product(ExactSum& s, double v, uint64_t count) {
    const uint64_t hi = count >> 32, lo = count & 0xFFFFFFFFu;
    if (hi) s.add_product(v, std::ldexp(double(hi), 32));
    if (lo) s.add_product(v, double(lo));
}

// s / n, rounded once from the exact sum (well, twice at most: scaled mantissa, then quotient).
double divide(const ExactSum& s, uint64_t n) {
    ExactSum::Scaled sc = s.scaled();
    if (sc.mant == 0) return 0.0;
    const double q = sc.mant / double(n);
    if (sc.exp > 2000) return std::copysign(std::numeric_limits<double>::infinity(), q);
    return std::ldexp(q, int(sc.exp));
}

double ratio(const ExactSum& a, const ExactSum& b) {
    ExactSum::Scaled x = a.scaled(), y = b.scaled();
    if (x.mant == 0) return 0.0;
    const int64_t e = x.exp - y.exp;
    const double q = x.mant / y.mant;
    if (e > 2000) return std::copysign(std::numeric_limits<double>::infinity(), q);
    if (e < -2000) return std::copysign(0.0, q);
    return std::ldexp(q, int(e));
}

uint64_t sub_count(uint64_t a, uint64_t b, const char* what) {
    if (b > a)
        fail(ErrorKind::InvalidParameter, std::string("cannot remove a row from ") + what + " that does not hold it");
    return a - b;
}

}  // namespace

// ---- ranking metrics -----------------------------------------------------------------------------

namespace ranking {

double auc_from_u2(u128 u2, uint64_t pos, uint64_t neg) {
    const u128 den = u128(2) * pos * neg;
    // Below 2^53 both are exact doubles and the quotient is correctly rounded.
    return double(u2) / double(den);
}

std::optional<double> auc(const std::vector<ScoreCount>& asc) {
    uint64_t P = 0, N = 0;
    u128 u2 = 0;
    for (const auto& s : asc) {
        u2 += u128(s.pos) * (u128(2) * N + s.neg);
        P += s.pos;
        N += s.neg;
    }
    if (P == 0 || N == 0) return std::nullopt;
    return auc_from_u2(u2, P, N);
}

namespace {
// Cumulative (fps, tps) at each distinct score, descending, as sklearn's _binary_clf_curve.
void clf_curve(const std::vector<ScoreCount>& asc, std::vector<uint64_t>& fps, std::vector<uint64_t>& tps,
               std::vector<double>& thr) {
    uint64_t f = 0, t = 0;
    fps.reserve(asc.size());
    tps.reserve(asc.size());
    thr.reserve(asc.size());
    for (size_t i = asc.size(); i-- > 0;) {
        f += asc[i].neg;
        t += asc[i].pos;
        fps.push_back(f);
        tps.push_back(t);
        thr.push_back(asc[i].score);
    }
}
}  // namespace

std::optional<RocCurve> roc_curve(const std::vector<ScoreCount>& asc, bool drop_intermediate) {
    std::vector<uint64_t> fps, tps;
    std::vector<double> thr;
    clf_curve(asc, fps, tps, thr);
    if (fps.empty() || fps.back() == 0 || tps.back() == 0) return std::nullopt;
    std::vector<size_t> keep;
    const size_t n = fps.size();
    for (size_t i = 0; i < n; i++) {
        bool k = true;
        if (drop_intermediate && n > 2 && i > 0 && i + 1 < n) {
            auto d2 = [&](const std::vector<uint64_t>& v) {
                return (__int128(v[i + 1]) - __int128(v[i])) != (__int128(v[i]) - __int128(v[i - 1]));
            };
            k = d2(fps) || d2(tps);
        }
        if (k) keep.push_back(i);
    }
    RocCurve c;
    const double F = double(fps.back()), T = double(tps.back());
    c.thresholds.push_back(thr[0] + 1);
    c.fpr.push_back(0.0);
    c.tpr.push_back(0.0);
    for (size_t i : keep) {
        c.thresholds.push_back(thr[i]);
        c.fpr.push_back(double(fps[i]) / F);
        c.tpr.push_back(double(tps[i]) / T);
    }
    return c;
}

std::optional<PrCurve> pr_curve(const std::vector<ScoreCount>& asc) {
    std::vector<uint64_t> fps, tps;
    std::vector<double> thr;
    clf_curve(asc, fps, tps, thr);
    if (fps.empty()) return std::nullopt;
    const size_t n = fps.size();
    PrCurve c;
    const double T = double(tps.back());
    for (size_t i = n; i-- > 0;) {
        c.precision.push_back(double(tps[i]) / double(tps[i] + fps[i]));
        c.recall.push_back(tps.back() == 0 ? 1.0 : double(tps[i]) / T);
        c.thresholds.push_back(thr[i]);
    }
    c.precision.push_back(1.0);
    c.recall.push_back(0.0);
    return c;
}

}  // namespace ranking

// ---- RankingCounts -------------------------------------------------------------------------------

namespace {
constexpr size_t kMinPending = 4096;
}

void RankingCounts::add(double score, bool positive) {
    score = check_score(score, "score");
    (positive ? pend_pos_ : pend_neg_).push_back(score);
    (positive ? pos_ : neg_)++;
    if (pend_pos_.size() + pend_neg_.size() >= std::max(kMinPending, sorted_.size())) normalize();
}

void RankingCounts::normalize() const {
    if (pend_pos_.empty() && pend_neg_.empty()) return;
    std::sort(pend_pos_.begin(), pend_pos_.end());
    std::sort(pend_neg_.begin(), pend_neg_.end());
    std::vector<ScoreCount> out;
    out.reserve(sorted_.size() + pend_pos_.size() + pend_neg_.size());
    size_t i = 0, a = 0, b = 0;
    const size_t ns = sorted_.size(), np = pend_pos_.size(), nn = pend_neg_.size();
    const double inf = std::numeric_limits<double>::infinity();
    while (i < ns || a < np || b < nn) {
        const double x = std::min({i < ns ? sorted_[i].score : inf, a < np ? pend_pos_[a] : inf,
                                   b < nn ? pend_neg_[b] : inf});
        ScoreCount c{x, 0, 0};
        if (i < ns && sorted_[i].score == x) {
            c.pos = sorted_[i].pos;
            c.neg = sorted_[i].neg;
            i++;
        }
        while (a < np && pend_pos_[a] == x) c.pos++, a++;
        while (b < nn && pend_neg_[b] == x) c.neg++, b++;
        out.push_back(c);
    }
    sorted_.swap(out);
    pend_pos_.clear();
    pend_neg_.clear();
}

const std::vector<ScoreCount>& RankingCounts::distinct() const {
    normalize();
    return sorted_;
}

void RankingCounts::remove(double score, bool positive) {
    score = check_score(score, "score");
    normalize();
    auto it = std::lower_bound(sorted_.begin(), sorted_.end(), score,
                               [](const ScoreCount& c, double s) { return c.score < s; });
    uint64_t ScoreCount::*field = positive ? &ScoreCount::pos : &ScoreCount::neg;
    if (it == sorted_.end() || it->score != score || (*it).*field == 0)
        fail(ErrorKind::InvalidParameter, "cannot remove a row from a ranking state that does not hold it");
    (*it).*field -= 1;
    (positive ? pos_ : neg_)--;
    if (it->pos == 0 && it->neg == 0) sorted_.erase(it);
}

void RankingCounts::merge(const RankingCounts& o) {
    if (&o == this) {
        RankingCounts copy(o);
        merge(copy);
        return;
    }
    normalize();
    const auto& b = o.distinct();
    std::vector<ScoreCount> out;
    out.reserve(sorted_.size() + b.size());
    size_t i = 0, j = 0;
    while (i < sorted_.size() || j < b.size()) {
        if (j == b.size() || (i < sorted_.size() && sorted_[i].score < b[j].score)) out.push_back(sorted_[i++]);
        else if (i == sorted_.size() || b[j].score < sorted_[i].score) out.push_back(b[j++]);
        else {
            out.push_back({sorted_[i].score, sorted_[i].pos + b[j].pos, sorted_[i].neg + b[j].neg});
            i++, j++;
        }
    }
    sorted_.swap(out);
    pos_ += o.pos_;
    neg_ += o.neg_;
}

namespace {

// The distinct scores of a ranking state, checked (finite, strictly ascending, counts not both
// zero, no overflow): by the decoders (from_distinct) and the encoder (validate). Returns the
// class counts.
template <typename Bad>
std::pair<uint64_t, uint64_t> check_distinct(const std::vector<ScoreCount>& v, Bad&& bad) {
    uint64_t pos = 0, neg = 0;
    for (size_t i = 0; i < v.size(); i++) {
        if (!std::isfinite(v[i].score)) bad("ranking state holds a non-finite score");
        if (i && !(v[i - 1].score < v[i].score)) bad("ranking state scores are not strictly ascending");
        if (v[i].pos == 0 && v[i].neg == 0) bad("ranking state holds a score with no rows");
        if (v[i].pos > std::numeric_limits<uint64_t>::max() - pos || v[i].neg > std::numeric_limits<uint64_t>::max() - neg)
            bad("ranking state counts overflow");
        pos += v[i].pos;
        neg += v[i].neg;
    }
    return {pos, neg};
}

}  // namespace

RankingCounts RankingCounts::from_distinct(std::vector<ScoreCount> v) {
    RankingCounts r;
    for (auto& c : v)
        if (c.score == 0) c.score = 0.0;  // -0 read as 0
    std::tie(r.pos_, r.neg_) =
        check_distinct(v, [](const std::string& why) { fail(ErrorKind::InvalidParameter, why); });
    r.sorted_ = std::move(v);
    return r;
}

// ---- RankingWindow -------------------------------------------------------------------------------

RankingWindow::RankingWindow() : rng_(0x6D6574726963735FULL) {}

RankingWindow::Around RankingWindow::around(double key) const {
    Around a;
    int32_t t = root_;
    while (t >= 0) {
        const Node& n = nodes_[size_t(t)];
        if (key < n.key) {
            t = n.left;
            continue;
        }
        if (n.left >= 0) {
            a.less_pos += nodes_[size_t(n.left)].sum_pos;
            a.less_neg += nodes_[size_t(n.left)].sum_neg;
        }
        if (key > n.key) {
            a.less_pos += n.pos;
            a.less_neg += n.neg;
            t = n.right;
        } else {
            a.eq_pos = n.pos;
            a.eq_neg = n.neg;
            a.node = t;
            break;
        }
    }
    return a;
}

void RankingWindow::update(int32_t t) {
    Node& n = nodes_[size_t(t)];
    n.sum_pos = n.pos;
    n.sum_neg = n.neg;
    if (n.left >= 0) {
        n.sum_pos += nodes_[size_t(n.left)].sum_pos;
        n.sum_neg += nodes_[size_t(n.left)].sum_neg;
    }
    if (n.right >= 0) {
        n.sum_pos += nodes_[size_t(n.right)].sum_pos;
        n.sum_neg += nodes_[size_t(n.right)].sum_neg;
    }
}

void RankingWindow::split(int32_t t, double key, bool key_goes_left, int32_t& l, int32_t& r) {
    if (t < 0) {
        l = r = -1;
        return;
    }
    const double k = nodes_[size_t(t)].key;
    if (key_goes_left ? k <= key : k < key) {
        int32_t a, b;
        split(nodes_[size_t(t)].right, key, key_goes_left, a, b);
        nodes_[size_t(t)].right = a;
        update(t);
        l = t;
        r = b;
    } else {
        int32_t a, b;
        split(nodes_[size_t(t)].left, key, key_goes_left, a, b);
        nodes_[size_t(t)].left = b;
        update(t);
        l = a;
        r = t;
    }
}

int32_t RankingWindow::join(int32_t l, int32_t r) {
    if (l < 0) return r;
    if (r < 0) return l;
    if (nodes_[size_t(l)].prio > nodes_[size_t(r)].prio) {
        const int32_t j = join(nodes_[size_t(l)].right, r);
        nodes_[size_t(l)].right = j;
        update(l);
        return l;
    }
    const int32_t j = join(l, nodes_[size_t(r)].left);
    nodes_[size_t(r)].left = j;
    update(r);
    return r;
}

void RankingWindow::change(double key, bool positive, bool add) {
    const Around a = around(key);
    if (!add && (a.node < 0 || (positive ? a.eq_pos : a.eq_neg) == 0))
        fail(ErrorKind::InvalidParameter, "cannot remove a row from a ranking window that does not hold it");
    // The pairs this row forms with rows of the other class: below it 1, tied 1/2 (doubled).
    const u128 pairs = positive ? u128(2) * a.less_neg + a.eq_neg
                                : u128(2) * (pos_ - a.less_pos - a.eq_pos) + a.eq_pos;
    if (add) {
        u2_ += pairs;
        (positive ? pos_ : neg_)++;
    } else {
        u2_ -= pairs;
        (positive ? pos_ : neg_)--;
    }
    if (a.node >= 0) {
        // Walk the same path, changing the subtree sums on the way.
        int32_t t = root_;
        while (true) {
            Node& n = nodes_[size_t(t)];
            if (positive) n.sum_pos = add ? n.sum_pos + 1 : n.sum_pos - 1;
            else n.sum_neg = add ? n.sum_neg + 1 : n.sum_neg - 1;
            if (t == a.node) {
                if (positive) n.pos = add ? n.pos + 1 : n.pos - 1;
                else n.neg = add ? n.neg + 1 : n.neg - 1;
                break;
            }
            t = key < n.key ? n.left : n.right;
        }
        const Node& n = nodes_[size_t(a.node)];
        if (n.pos == 0 && n.neg == 0) {
            int32_t l, mid, r;
            split(root_, key, false, l, r);
            split(r, key, true, mid, r);
            free_.push_back(mid);
            live_--;
            root_ = join(l, r);
        }
        return;
    }
    int32_t id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
    } else {
        if (nodes_.size() >= size_t(std::numeric_limits<int32_t>::max()))
            fail(ErrorKind::ProgramLimit, "too many distinct scores in one window");
        id = int32_t(nodes_.size());
        nodes_.emplace_back();
    }
    Node& n = nodes_[size_t(id)];
    n.key = key;
    n.pos = positive ? 1 : 0;
    n.neg = positive ? 0 : 1;
    n.sum_pos = n.pos;
    n.sum_neg = n.neg;
    n.prio = detail::splitmix64(rng_);
    n.left = n.right = -1;
    live_++;
    int32_t l, r;
    split(root_, key, false, l, r);
    root_ = join(join(l, id), r);
}

void RankingWindow::add(double score, bool positive) { change(check_score(score, "score"), positive, true); }
void RankingWindow::remove(double score, bool positive) { change(check_score(score, "score"), positive, false); }

std::optional<double> RankingWindow::auc() const {
    if (pos_ == 0 || neg_ == 0) return std::nullopt;
    return ranking::auc_from_u2(u2_, pos_, neg_);
}

std::vector<ScoreCount> RankingWindow::distinct() const {
    std::vector<ScoreCount> out;
    out.reserve(live_);
    std::vector<int32_t> stack;
    int32_t t = root_;
    while (t >= 0 || !stack.empty()) {
        while (t >= 0) {
            stack.push_back(t);
            t = nodes_[size_t(t)].left;
        }
        t = stack.back();
        stack.pop_back();
        const Node& n = nodes_[size_t(t)];
        out.push_back({n.key, n.pos, n.neg});
        t = n.right;
    }
    return out;
}

// ---- the small accumulators ----------------------------------------------------------------------

void ConfusionCounts::change(double score, bool positive, int delta) {
    score = check_score(score, "score");
    const bool predicted = score >= threshold;
    uint64_t& c = predicted ? (positive ? tp : fp) : (positive ? fn : tn);
    if (delta > 0) c++;
    else c = sub_count(c, 1, "a confusion state");
}

void ConfusionCounts::merge(const ConfusionCounts& o) {
    tp += o.tp;
    fp += o.fp;
    tn += o.tn;
    fn += o.fn;
}

void LogLossSum::change(double p, bool positive, bool remove) {
    p = check_probability(p, "probability");
    const double t = logloss_term(p, positive);
    if (remove) {
        n = sub_count(n, 1, "a log-loss state");
        if (positive) positives = sub_count(positives, 1, "a log-loss state");
        sum.sub(t);
    } else {
        n++;
        if (positive) positives++;
        sum.add(t);
    }
}

void LogLossSum::merge(const LogLossSum& o) {
    n += o.n;
    positives += o.positives;
    sum.add(o.sum);
}

CalibrationBins::CalibrationBins(uint32_t bins)
    : n_bins(check_bins(bins)), count(bins, 0), positives(bins, 0), sum(bins) {}

void CalibrationBins::change(double p, bool positive, bool remove) {
    p = check_probability(p, "probability");
    const uint32_t b = calibration_bin(p, n_bins);
    if (remove) {
        count[b] = sub_count(count[b], 1, "a calibration state");
        if (positive) positives[b] = sub_count(positives[b], 1, "a calibration state");
        sum[b].sub(p);
    } else {
        count[b]++;
        if (positive) positives[b]++;
        sum[b].add(p);
    }
}

void CalibrationBins::merge(const CalibrationBins& o) {
    for (uint32_t b = 0; b < n_bins; b++) {
        count[b] += o.count[b];
        positives[b] += o.positives[b];
        sum[b].add(o.sum[b]);
    }
}

uint64_t CalibrationBins::total() const {
    uint64_t t = 0;
    for (uint64_t c : count) t += c;
    return t;
}

void RegressionSums::change(double pred, double yv, bool remove) {
    pred = check_score(pred, "prediction");
    yv = check_score(yv, "y");
    auto acc = [remove](ExactSum& s, double v) { remove ? s.sub(v) : s.add(v); };
    auto accp = [remove](ExactSum& s, double a, double b) { remove ? s.sub_product(a, b) : s.add_product(a, b); };
    const double hi = pred - yv;
    if (std::isfinite(hi)) {
        // TwoSum: pred - y == hi + lo exactly.
        const double bb = hi - pred;
        const double lo = (pred - (hi - bb)) + (-yv - bb);
        acc(err, hi);
        acc(err, lo);
        const double s = hi < 0 ? -1.0 : 1.0;
        acc(abs_err, s * hi);
        acc(abs_err, s * lo);
        accp(sq_err, hi, hi);
        accp(sq_err, hi, lo);
        accp(sq_err, hi, lo);
        accp(sq_err, lo, lo);
    } else {
        // |pred - y| beyond the double range: pred and y have opposite signs.
        acc(err, pred);
        acc(err, -yv);
        acc(abs_err, std::fabs(pred));
        acc(abs_err, std::fabs(yv));
        accp(sq_err, pred, pred);
        accp(sq_err, pred, -yv);
        accp(sq_err, pred, -yv);
        accp(sq_err, yv, yv);
    }
    const double term = std::fabs(hi) / std::max(std::fabs(yv), std::numeric_limits<double>::epsilon());
    if (std::isfinite(term)) acc(ape, term);
    else ape_infinite = remove ? sub_count(ape_infinite, 1, "a regression state") : ape_infinite + 1;
    acc(y, yv);
    accp(yy, yv, yv);
    n = remove ? sub_count(n, 1, "a regression state") : n + 1;
}

void RegressionSums::merge(const RegressionSums& o) {
    n += o.n;
    ape_infinite += o.ape_infinite;
    err.add(o.err);
    abs_err.add(o.abs_err);
    sq_err.add(o.sq_err);
    ape.add(o.ape);
    y.add(o.y);
    yy.add(o.yy);
}

std::optional<double> RegressionSums::mae() const {
    if (n == 0) return std::nullopt;
    return divide(abs_err, n);
}

std::optional<double> RegressionSums::mean_error() const {
    if (n == 0) return std::nullopt;
    return divide(err, n);
}

std::optional<double> RegressionSums::rmse() const {
    if (n == 0) return std::nullopt;
    ExactSum::Scaled s = sq_err.scaled();
    if (s.mant == 0) return 0.0;
    double q = s.mant / double(n);
    int64_t e = s.exp;
    if (e % 2 != 0) {
        q *= 2;
        e -= 1;
    }
    return std::ldexp(std::sqrt(q), int(e / 2));
}

std::optional<double> RegressionSums::mape() const {
    if (n == 0) return std::nullopt;
    if (ape_infinite) return std::numeric_limits<double>::infinity();
    return divide(ape, n);
}

std::optional<double> RegressionSums::r2() const {
    if (n < 2) return std::nullopt;
    // n * SS_tot = n * sum(y^2) - sum(y)^2, exactly.
    ExactSum den = yy.times(n);
    den.sub(y.times(y));
    if (sq_err.is_zero()) return 1.0;
    if (den.is_zero()) return 0.0;
    return 1.0 - ratio(sq_err.times(n), den);
}

void EqualityCounts::add(bool eq) {
    total++;
    if (eq) equal++;
}

void EqualityCounts::remove(bool eq) {
    total = sub_count(total, 1, "an accuracy state");
    if (eq) equal = sub_count(equal, 1, "an accuracy state");
}

void EqualityCounts::merge(const EqualityCounts& o) {
    equal += o.equal;
    total += o.total;
}

// ---- MetricState ---------------------------------------------------------------------------------

const char* metric_kind_name(MetricKind k) {
    switch (k) {
        case MetricKind::Ranking: return "ranking";
        case MetricKind::Confusion: return "confusion";
        case MetricKind::LogLoss: return "logloss";
        case MetricKind::Calibration: return "calibration";
        case MetricKind::Regression: return "regression";
        case MetricKind::Equality: return "equality";
    }
    return "unknown";
}

MetricState MetricState::make_confusion(double threshold) {
    ConfusionCounts c;
    c.threshold = check_threshold(threshold);
    return MetricState(c);
}

MetricState MetricState::make_calibration(int64_t bins) { return MetricState(CalibrationBins(check_bins(bins))); }

uint64_t MetricState::count() const {
    switch (kind()) {
        case MetricKind::Ranking: return as<RankingCounts>().count();
        case MetricKind::Confusion: return as<ConfusionCounts>().count();
        case MetricKind::LogLoss: return as<LogLossSum>().n;
        case MetricKind::Calibration: return as<CalibrationBins>().total();
        case MetricKind::Regression: return as<RegressionSums>().n;
        case MetricKind::Equality: return as<EqualityCounts>().total;
    }
    return 0;
}

void MetricState::merge(const MetricState& o) {
    if (kind() != o.kind())
        fail(ErrorKind::InvalidParameter,
             std::string("cannot merge a ") + metric_kind_name(kind()) + " metric state with a " +
                 metric_kind_name(o.kind()) + " one");
    switch (kind()) {
        case MetricKind::Ranking: as<RankingCounts>().merge(o.as<RankingCounts>()); break;
        case MetricKind::Confusion: {
            auto& a = as<ConfusionCounts>();
            const auto& b = o.as<ConfusionCounts>();
            if (a.threshold != b.threshold)
                fail(ErrorKind::InvalidParameter, "cannot merge confusion states of different thresholds",
                     "The threshold must be the same for every row.");
            a.merge(b);
            break;
        }
        case MetricKind::LogLoss: as<LogLossSum>().merge(o.as<LogLossSum>()); break;
        case MetricKind::Calibration: {
            auto& a = as<CalibrationBins>();
            const auto& b = o.as<CalibrationBins>();
            if (a.n_bins != b.n_bins)
                fail(ErrorKind::InvalidParameter, "cannot merge calibration states of different bin counts",
                     "The number of bins must be the same for every row.");
            a.merge(b);
            break;
        }
        case MetricKind::Regression: as<RegressionSums>().merge(o.as<RegressionSums>()); break;
        case MetricKind::Equality: as<EqualityCounts>().merge(o.as<EqualityCounts>()); break;
    }
}

namespace {
[[noreturn]] void wrong_kind(MetricKind k, const char* metric) {
    fail(ErrorKind::InvalidParameter,
         std::string("a ") + metric_kind_name(k) + " metric state cannot give " + metric,
         "Compute it from a state of a kind that holds what it needs (ml_binary_state holds every "
         "binary-classification metric, ml_regression_state every regression metric).");
}

void require_probabilities(const std::vector<ScoreCount>& asc, const char* metric) {
    if (!asc.empty() && (asc.front().score < 0 || asc.back().score > 1))
        fail(ErrorKind::InvalidParameter, std::string(metric) + " needs scores that are probabilities between 0 and 1");
}
}  // namespace

std::optional<double> MetricState::auc() const {
    if (kind() != MetricKind::Ranking) wrong_kind(kind(), "the AUC");
    return ranking::auc(as<RankingCounts>().distinct());
}

std::optional<double> MetricState::logloss() const {
    if (kind() == MetricKind::LogLoss) {
        const auto& l = as<LogLossSum>();
        if (l.n == 0) return std::nullopt;
        return divide(l.sum, l.n);
    }
    if (kind() != MetricKind::Ranking) wrong_kind(kind(), "the log loss");
    const auto& asc = as<RankingCounts>().distinct();
    require_probabilities(asc, "the log loss");
    ExactSum s;
    uint64_t n = 0;
    for (const auto& c : asc) {
        if (c.pos) add_count_product(s, logloss_term(c.score, true), c.pos);
        if (c.neg) add_count_product(s, logloss_term(c.score, false), c.neg);
        n += c.pos + c.neg;
    }
    if (n == 0) return std::nullopt;
    return divide(s, n);
}

ConfusionCounts MetricState::confusion_at(std::optional<double> threshold, const char* metric) const {
    if (kind() == MetricKind::Confusion) {
        const auto& c = as<ConfusionCounts>();
        if (threshold && check_threshold(*threshold) != c.threshold)
            fail(ErrorKind::InvalidParameter, "this confusion state was counted at another threshold");
        return c;
    }
    if (kind() != MetricKind::Ranking) wrong_kind(kind(), metric);
    ConfusionCounts c;
    c.threshold = check_threshold(threshold.value_or(kDefaultThreshold));
    for (const auto& s : as<RankingCounts>().distinct()) {
        if (s.score >= c.threshold) {
            c.tp += s.pos;
            c.fp += s.neg;
        } else {
            c.fn += s.pos;
            c.tn += s.neg;
        }
    }
    return c;
}

std::optional<double> MetricState::accuracy(std::optional<double> threshold) const {
    if (kind() == MetricKind::Equality) {
        if (threshold) fail(ErrorKind::InvalidParameter, "an accuracy state of equal values has no threshold");
        const auto& e = as<EqualityCounts>();
        if (e.total == 0) return std::nullopt;
        return double(e.equal) / double(e.total);
    }
    ConfusionCounts c = confusion_at(threshold, "the accuracy");
    if (c.count() == 0) return std::nullopt;
    return double(c.tp + c.tn) / double(c.count());
}

std::optional<double> MetricState::precision(std::optional<double> threshold) const {
    ConfusionCounts c = confusion_at(threshold, "the precision");
    if (c.tp + c.fp == 0) return std::nullopt;
    return double(c.tp) / double(c.tp + c.fp);
}

std::optional<double> MetricState::recall(std::optional<double> threshold) const {
    ConfusionCounts c = confusion_at(threshold, "the recall");
    if (c.tp + c.fn == 0) return std::nullopt;
    return double(c.tp) / double(c.tp + c.fn);
}

std::optional<double> MetricState::f1(std::optional<double> threshold) const {
    ConfusionCounts c = confusion_at(threshold, "the F1 score");
    const double den = 2.0 * double(c.tp) + double(c.fp) + double(c.fn);
    if (den == 0) return std::nullopt;
    return 2.0 * double(c.tp) / den;
}

std::optional<json> MetricState::confusion_matrix(std::optional<double> threshold) const {
    ConfusionCounts c = confusion_at(threshold, "a confusion matrix");
    if (c.count() == 0) return std::nullopt;
    return json{{"threshold", c.threshold}, {"tn", c.tn}, {"fp", c.fp}, {"fn", c.fn}, {"tp", c.tp},
                {"matrix", json::array({json::array({c.tn, c.fp}), json::array({c.fn, c.tp})})}};
}

std::optional<json> MetricState::roc_curve(bool drop_intermediate) const {
    if (kind() != MetricKind::Ranking) wrong_kind(kind(), "a ROC curve");
    auto c = ranking::roc_curve(as<RankingCounts>().distinct(), drop_intermediate);
    if (!c) return std::nullopt;
    return json{{"thresholds", c->thresholds}, {"fpr", c->fpr}, {"tpr", c->tpr}};
}

std::optional<json> MetricState::pr_curve() const {
    if (kind() != MetricKind::Ranking) wrong_kind(kind(), "a precision-recall curve");
    auto c = ranking::pr_curve(as<RankingCounts>().distinct());
    if (!c) return std::nullopt;
    return json{{"precision", c->precision}, {"recall", c->recall}, {"thresholds", c->thresholds}};
}

std::optional<json> MetricState::calibration(std::optional<int64_t> bins) const {
    std::optional<CalibrationBins> built;
    const CalibrationBins* cb = nullptr;
    if (kind() == MetricKind::Calibration) {
        cb = &as<CalibrationBins>();
        if (bins && check_bins(*bins) != cb->n_bins)
            fail(ErrorKind::InvalidParameter, "this calibration state was counted with another number of bins");
    } else if (kind() == MetricKind::Ranking) {
        built.emplace(check_bins(bins.value_or(kDefaultCalibrationBins)));
        const auto& asc = as<RankingCounts>().distinct();
        require_probabilities(asc, "calibration");
        for (const auto& c : asc) {
            const uint32_t b = calibration_bin(c.score, built->n_bins);
            built->count[b] += c.pos + c.neg;
            built->positives[b] += c.pos;
            add_count_product(built->sum[b], c.score, c.pos + c.neg);
        }
        cb = &*built;
    } else {
        wrong_kind(kind(), "calibration bins");
    }
    if (cb->total() == 0) return std::nullopt;
    json bin = json::array(), lower = json::array(), upper = json::array(), count = json::array(),
         mean = json::array(), frac = json::array();
    const double step = 1.0 / double(cb->n_bins);
    for (uint32_t b = 0; b < cb->n_bins; b++) {
        if (cb->count[b] == 0) continue;
        bin.push_back(b);
        lower.push_back(double(b) * step);
        upper.push_back(b + 1 == cb->n_bins ? 1.0 : double(b + 1) * step);
        count.push_back(cb->count[b]);
        mean.push_back(divide(cb->sum[b], cb->count[b]));
        frac.push_back(double(cb->positives[b]) / double(cb->count[b]));
    }
    return json{{"n_bins", cb->n_bins}, {"bin", bin},           {"lower", lower},
                {"upper", upper},       {"count", count},       {"mean_predicted", mean},
                {"fraction_positive", frac}};
}

#define PGL_REGRESSION_METRIC(name, label)                                   \
    std::optional<double> MetricState::name() const {                        \
        if (kind() != MetricKind::Regression) wrong_kind(kind(), label);     \
        return as<RegressionSums>().name();                                  \
    }
PGL_REGRESSION_METRIC(mae, "the mean absolute error")
PGL_REGRESSION_METRIC(rmse, "the root mean squared error")
PGL_REGRESSION_METRIC(r2, "R^2")
PGL_REGRESSION_METRIC(mape, "the mean absolute percentage error")
PGL_REGRESSION_METRIC(mean_error, "the mean error")
#undef PGL_REGRESSION_METRIC

// ---- validation shared by both forms -------------------------------------------------------------

namespace {

// magic "PLMS", version, kind, flags, u64 payload length, checksum of the payload.
constexpr HeaderSpec kHeader{"ml_metric_state", {'P', 'L', 'M', 'S'}, 1, 24, LengthField::Payload64, 8,
                             ChecksumKind::Payload, 16, 0, HeaderWording::Brief};
constexpr size_t kHeaderSize = kHeader.size;
constexpr uint16_t kVersion = kHeader.version;  // the text form's too
// A varlena holds at most 1 GB; leave room for its header.
constexpr size_t kMaxStateBytes = (size_t(1) << 30) - 64;

// Everything a state must satisfy beyond its syntax; bad(why) throws.
template <typename Bad>
void validate(const MetricState& s, Bad&& bad) {
    switch (s.kind()) {
        case MetricKind::Ranking: {
            const auto& rc = s.as<RankingCounts>();
            if (check_distinct(rc.distinct(), bad) != std::make_pair(rc.positives(), rc.negatives()))
                bad("class counts do not match the scores");
            break;
        }
        case MetricKind::Confusion: {
            const auto& c = s.as<ConfusionCounts>();
            if (!std::isfinite(c.threshold)) bad("threshold is not finite");
            const uint64_t m = std::numeric_limits<uint64_t>::max();
            if (c.tp > m - c.fp || c.tp + c.fp > m - c.tn || c.tp + c.fp + c.tn > m - c.fn) bad("counts overflow");
            break;
        }
        case MetricKind::LogLoss: {
            const auto& l = s.as<LogLossSum>();
            if (l.positives > l.n) bad("more positives than rows");
            if (l.sum.sign() < 0) bad("negative sum of losses");
            // Each term is at most -log(eps) < 36.05.
            ExactSum limit;
            add_count_product(limit, 36.05, l.n);
            limit.sub(l.sum);
            if (limit.sign() < 0) bad("sum of losses exceeds what the rows can give");
            break;
        }
        case MetricKind::Calibration: {
            const auto& c = s.as<CalibrationBins>();
            if (c.n_bins < 1 || c.n_bins > kMaxCalibrationBins) bad("bin count out of range");
            uint64_t total = 0;
            for (uint32_t b = 0; b < c.n_bins; b++) {
                if (c.positives[b] > c.count[b]) bad("more positives than rows in a bin");
                if (c.count[b] > std::numeric_limits<uint64_t>::max() - total) bad("counts overflow");
                total += c.count[b];
                // Probabilities of the rows of bin b lie in [0, 1]: 0 <= sum <= count.
                ExactSum room;
                add_count_product(room, 1.0, c.count[b]);
                room.sub(c.sum[b]);
                if (c.sum[b].sign() < 0 || room.sign() < 0) bad("sum of probabilities out of range in a bin");
            }
            break;
        }
        case MetricKind::Regression: {
            const auto& r = s.as<RegressionSums>();
            if (r.ape_infinite > r.n) bad("more infinite percentage errors than rows");
            if (r.abs_err.sign() < 0 || r.sq_err.sign() < 0 || r.ape.sign() < 0 || r.yy.sign() < 0)
                bad("a sum of nonnegative terms is negative");
            if (r.n == 0 && (!r.err.is_zero() || !r.abs_err.is_zero() || !r.sq_err.is_zero() || !r.ape.is_zero() ||
                             !r.y.is_zero() || !r.yy.is_zero()))
                bad("sums of an empty state are not zero");
            // |sum(e)| <= sum(|e|) and (sum y)^2 <= n sum(y^2) (Cauchy-Schwarz), exactly.
            ExactSum a = r.abs_err;
            if (r.err.sign() < 0) a.add(r.err);
            else a.sub(r.err);
            if (a.sign() < 0) bad("sum of errors exceeds the sum of absolute errors");
            ExactSum cs = r.yy.times(r.n);
            cs.sub(r.y.times(r.y));
            if (cs.sign() < 0) bad("sums of y are inconsistent");
            break;
        }
        case MetricKind::Equality: {
            const auto& e = s.as<EqualityCounts>();
            if (e.equal > e.total) bad("more equal rows than rows");
            break;
        }
    }
}

size_t payload_size(const MetricState& s) {
    switch (s.kind()) {
        case MetricKind::Ranking: return 24 + 24 * s.as<RankingCounts>().distinct().size();
        case MetricKind::Confusion: return 40;
        case MetricKind::LogLoss: return 16 + s.as<LogLossSum>().sum.encoded_size();
        case MetricKind::Calibration: {
            size_t n = 8;
            for (const auto& x : s.as<CalibrationBins>().sum) n += 16 + x.encoded_size();
            return n;
        }
        case MetricKind::Regression: {
            const auto& r = s.as<RegressionSums>();
            return 16 + r.err.encoded_size() + r.abs_err.encoded_size() + r.sq_err.encoded_size() +
                   r.ape.encoded_size() + r.y.encoded_size() + r.yy.encoded_size();
        }
        case MetricKind::Equality: return 16;
    }
    return 0;
}

}  // namespace

size_t MetricState::encoded_size() const {
    const size_t n = kHeaderSize + payload_size(*this);
    if (n > kMaxStateBytes)
        fail(ErrorKind::ProgramLimit, "metric state is too large to store",
             "it needs " + std::to_string(n) + " bytes; the limit is " + std::to_string(kMaxStateBytes),
             "An exact AUC keeps every distinct score; round the scores to fewer distinct values.");
    return n;
}

void MetricState::encode(uint8_t* out, size_t n) const {
    // The decoder's own check: never write what it refuses.
    validate(*this, [](const std::string& why) { unstorable("ml_metric_state", why); });
    const size_t payload = payload_size(*this);
    if (n != kHeaderSize + payload) fail(ErrorKind::Internal, "metric state encode size mismatch");
    // The header goes in last (it holds the payload's checksum). A ranking payload, which may be
    // large, is written straight into out; the small ones through a buffer.
    std::string buf;
    ByteWriter w(buf);
    switch (kind()) {
        case MetricKind::Ranking: {
            const auto& r = as<RankingCounts>();
            const auto& d = r.distinct();
            uint8_t* q = out + kHeaderSize;
            auto put = [&q](auto v) {
                std::memcpy(q, &v, sizeof v);
                q += sizeof v;
            };
            put(uint64_t(r.positives()));
            put(uint64_t(r.negatives()));
            put(uint64_t(d.size()));
            for (const auto& c : d) {
                put(c.score);
                put(uint64_t(c.pos));
                put(uint64_t(c.neg));
            }
            if (size_t(q - out) != n) fail(ErrorKind::Internal, "metric state encode size mismatch");
            break;
        }
        case MetricKind::Confusion: {
            const auto& c = as<ConfusionCounts>();
            w.put<double>(c.threshold);
            w.put<uint64_t>(c.tp);
            w.put<uint64_t>(c.fp);
            w.put<uint64_t>(c.tn);
            w.put<uint64_t>(c.fn);
            break;
        }
        case MetricKind::LogLoss: {
            const auto& l = as<LogLossSum>();
            w.put<uint64_t>(l.n);
            w.put<uint64_t>(l.positives);
            l.sum.encode(w);
            break;
        }
        case MetricKind::Calibration: {
            const auto& c = as<CalibrationBins>();
            w.put<uint32_t>(c.n_bins);
            w.put<uint32_t>(0);
            for (uint32_t b = 0; b < c.n_bins; b++) {
                w.put<uint64_t>(c.count[b]);
                w.put<uint64_t>(c.positives[b]);
                c.sum[b].encode(w);
            }
            break;
        }
        case MetricKind::Regression: {
            const auto& r = as<RegressionSums>();
            w.put<uint64_t>(r.n);
            w.put<uint64_t>(r.ape_infinite);
            for (const ExactSum* x : {&r.err, &r.abs_err, &r.sq_err, &r.ape, &r.y, &r.yy}) x->encode(w);
            break;
        }
        case MetricKind::Equality: {
            const auto& e = as<EqualityCounts>();
            w.put<uint64_t>(e.equal);
            w.put<uint64_t>(e.total);
            break;
        }
    }
    if (kind() != MetricKind::Ranking) {
        if (buf.size() != payload) fail(ErrorKind::Internal, "metric state encode size mismatch");
        std::memcpy(out + kHeaderSize, buf.data(), payload);
    }
    std::string header;
    ByteWriter h(header);
    begin_header(kHeader, h);
    h.put<uint8_t>(static_cast<uint8_t>(kind()));
    h.put<uint8_t>(0);
    h.put<uint64_t>(0);  // payload length, set by seal_header
    h.put<uint64_t>(0);  // checksum, set by seal_header
    if (header.size() != kHeaderSize) fail(ErrorKind::Internal, "metric state header size mismatch");
    std::memcpy(out, header.data(), kHeaderSize);
    seal_header(kHeader, out, n);
}

MetricState MetricState::decode(const uint8_t* p, size_t n) {
    ByteReader r(p, n, "ml_metric_state");
    open_header(kHeader, r, n);
    const uint8_t k = r.get<uint8_t>("header");
    if (k < 1 || k > 6) r.corrupt("unknown kind " + std::to_string(k));
    if (r.get<uint8_t>("header") != 0) r.corrupt("unknown flags");
    verify_header(kHeader, p, n);
    r.take(16, "header");  // payload length and checksum
    auto bad = [&](const std::string& why) { r.corrupt(why); };
    std::optional<MetricState> out;
    switch (static_cast<MetricKind>(k)) {
        case MetricKind::Ranking: {
            const uint64_t P = r.get<uint64_t>("ranking"), N = r.get<uint64_t>("ranking");
            const uint64_t nd = r.get<uint64_t>("ranking");
            if (nd > r.remaining() / 24 || nd * 24 != r.remaining()) r.corrupt("score list length does not match the data");
            std::vector<ScoreCount> v(nd);
            for (auto& c : v) {
                c.score = r.get<double>("scores");
                c.pos = r.get<uint64_t>("scores");
                c.neg = r.get<uint64_t>("scores");
            }
            RankingCounts rc;
            try {
                rc = RankingCounts::from_distinct(std::move(v));
            } catch (const Error& e) {
                r.corrupt(e.what());
            }
            if (rc.positives() != P || rc.negatives() != N) r.corrupt("class counts do not match the scores");
            out.emplace(std::move(rc));
            break;
        }
        case MetricKind::Confusion: {
            ConfusionCounts c;
            c.threshold = r.get<double>("confusion");
            if (std::isfinite(c.threshold) && c.threshold == 0 && std::signbit(c.threshold)) r.corrupt("threshold is -0");
            c.tp = r.get<uint64_t>("confusion");
            c.fp = r.get<uint64_t>("confusion");
            c.tn = r.get<uint64_t>("confusion");
            c.fn = r.get<uint64_t>("confusion");
            out.emplace(c);
            break;
        }
        case MetricKind::LogLoss: {
            LogLossSum l;
            l.n = r.get<uint64_t>("logloss");
            l.positives = r.get<uint64_t>("logloss");
            l.sum = ExactSum::decode(r);
            out.emplace(std::move(l));
            break;
        }
        case MetricKind::Calibration: {
            const uint32_t bins = r.get<uint32_t>("calibration");
            if (bins < 1 || bins > kMaxCalibrationBins) r.corrupt("bin count out of range");
            if (r.get<uint32_t>("calibration") != 0) r.corrupt("reserved field is not zero");
            if (r.remaining() < size_t(bins) * 20) r.corrupt("truncated in calibration bins");
            CalibrationBins c(bins);
            for (uint32_t b = 0; b < bins; b++) {
                c.count[b] = r.get<uint64_t>("calibration bins");
                c.positives[b] = r.get<uint64_t>("calibration bins");
                c.sum[b] = ExactSum::decode(r);
            }
            out.emplace(std::move(c));
            break;
        }
        case MetricKind::Regression: {
            RegressionSums s;
            s.n = r.get<uint64_t>("regression");
            s.ape_infinite = r.get<uint64_t>("regression");
            for (ExactSum* x : {&s.err, &s.abs_err, &s.sq_err, &s.ape, &s.y, &s.yy}) *x = ExactSum::decode(r);
            out.emplace(std::move(s));
            break;
        }
        case MetricKind::Equality: {
            EqualityCounts e;
            e.equal = r.get<uint64_t>("equality");
            e.total = r.get<uint64_t>("equality");
            out.emplace(e);
            break;
        }
    }
    r.expect_end();
    validate(*out, bad);
    return std::move(*out);
}

// ---- text form -----------------------------------------------------------------------------------

namespace {

[[noreturn]] void bad_text(const std::string& why) {
    // A string literal where an accessor takes a state (ml_auc('0.3')) is read as a state.
    fail(ErrorKind::InvalidText, "invalid input syntax for type ml_metric_state: " + why, {},
         "The text form of ml_metric_state is the JSON that metric states print. A metric over "
         "predictions and labels takes typed values: cast string literals (e.g. '0.3'::float8, '1'::int).");
}

const json& field(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) bad_text(std::string("missing \"") + key + "\"");
    return *it;
}

uint64_t count_field(const json& v, const std::string& what) {
    if (!v.is_number_unsigned()) bad_text("\"" + what + "\" must be a nonnegative integer");
    return v.get<uint64_t>();
}

double number_field(const json& v, const std::string& what) {
    if (!v.is_number()) bad_text("\"" + what + "\" must be a number");
    return v.get<double>();
}

ExactSum sum_field(const json& v, const std::string& what) {
    if (!v.is_string()) bad_text("\"" + what + "\" must be an exact sum written as a hex-float string");
    return ExactSum::from_hex(v.get<std::string>());
}

void only_keys(const json& j, std::initializer_list<const char*> keys) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool ok = false;
        for (const char* k : keys) ok = ok || it.key() == k;
        if (!ok) bad_text("unknown key \"" + it.key().substr(0, 64) + "\"");
    }
}

}  // namespace

std::string MetricState::to_text() const {
    validate(*this, [](const std::string& why) { unstorable("ml_metric_state", why); });
    json j = {{"version", kVersion}, {"kind", metric_kind_name(kind())}};
    switch (kind()) {
        case MetricKind::Ranking: {
            const auto& r = as<RankingCounts>();
            json scores = json::array();
            for (const auto& c : r.distinct()) scores.push_back(json::array({c.score, c.pos, c.neg}));
            j["positives"] = r.positives();
            j["negatives"] = r.negatives();
            j["scores"] = std::move(scores);
            break;
        }
        case MetricKind::Confusion: {
            const auto& c = as<ConfusionCounts>();
            j["threshold"] = c.threshold;
            j["tp"] = c.tp;
            j["fp"] = c.fp;
            j["tn"] = c.tn;
            j["fn"] = c.fn;
            break;
        }
        case MetricKind::LogLoss: {
            const auto& l = as<LogLossSum>();
            j["count"] = l.n;
            j["positives"] = l.positives;
            j["sum"] = l.sum.to_hex();
            break;
        }
        case MetricKind::Calibration: {
            const auto& c = as<CalibrationBins>();
            json sums = json::array();
            for (const auto& s : c.sum) sums.push_back(s.to_hex());
            j["bins"] = c.n_bins;
            j["count"] = c.count;
            j["positives"] = c.positives;
            j["sum"] = std::move(sums);
            break;
        }
        case MetricKind::Regression: {
            const auto& r = as<RegressionSums>();
            j["count"] = r.n;
            j["sum_error"] = r.err.to_hex();
            j["sum_abs_error"] = r.abs_err.to_hex();
            j["sum_squared_error"] = r.sq_err.to_hex();
            j["sum_ape"] = r.ape.to_hex();
            j["ape_infinite"] = r.ape_infinite;
            j["sum_y"] = r.y.to_hex();
            j["sum_y2"] = r.yy.to_hex();
            break;
        }
        case MetricKind::Equality: {
            const auto& e = as<EqualityCounts>();
            j["equal"] = e.equal;
            j["total"] = e.total;
            break;
        }
    }
    return j.dump();
}

MetricState MetricState::from_text(const char* p, size_t n) {
    json j = json::parse(p, p + n, nullptr, false);
    if (j.is_discarded()) bad_text("not valid JSON");
    if (!j.is_object()) bad_text("must be a JSON object");
    const json& v = field(j, "version");
    if (!v.is_number_unsigned() || v.get<uint64_t>() != kVersion) bad_text("unsupported version");
    const json& kj = field(j, "kind");
    if (!kj.is_string()) bad_text("\"kind\" must be a string");
    const std::string k = kj.get<std::string>();
    std::optional<MetricState> out;
    if (k == "ranking") {
        only_keys(j, {"version", "kind", "positives", "negatives", "scores"});
        const json& sc = field(j, "scores");
        if (!sc.is_array()) bad_text("\"scores\" must be an array");
        std::vector<ScoreCount> v;
        v.reserve(sc.size());
        for (const auto& e : sc) {
            if (!e.is_array() || e.size() != 3) bad_text("each score must be [score, positives, negatives]");
            v.push_back({number_field(e[0], "score"), count_field(e[1], "positives"), count_field(e[2], "negatives")});
        }
        RankingCounts rc = RankingCounts::from_distinct(std::move(v));
        if (rc.positives() != count_field(field(j, "positives"), "positives") ||
            rc.negatives() != count_field(field(j, "negatives"), "negatives"))
            fail(ErrorKind::InvalidParameter, "ml_metric_state class counts do not match the scores");
        out.emplace(std::move(rc));
    } else if (k == "confusion") {
        only_keys(j, {"version", "kind", "threshold", "tp", "fp", "tn", "fn"});
        ConfusionCounts c;
        c.threshold = check_threshold(number_field(field(j, "threshold"), "threshold"));
        c.tp = count_field(field(j, "tp"), "tp");
        c.fp = count_field(field(j, "fp"), "fp");
        c.tn = count_field(field(j, "tn"), "tn");
        c.fn = count_field(field(j, "fn"), "fn");
        out.emplace(c);
    } else if (k == "logloss") {
        only_keys(j, {"version", "kind", "count", "positives", "sum"});
        LogLossSum l;
        l.n = count_field(field(j, "count"), "count");
        l.positives = count_field(field(j, "positives"), "positives");
        l.sum = sum_field(field(j, "sum"), "sum");
        out.emplace(std::move(l));
    } else if (k == "calibration") {
        only_keys(j, {"version", "kind", "bins", "count", "positives", "sum"});
        const json& b = field(j, "bins");
        if (!b.is_number_unsigned() || b.get<uint64_t>() < 1 || b.get<uint64_t>() > kMaxCalibrationBins)
            bad_text("\"bins\" must be an integer between 1 and " + std::to_string(kMaxCalibrationBins));
        CalibrationBins c(uint32_t(b.get<uint64_t>()));
        const json &cj = field(j, "count"), &pj = field(j, "positives"), &sj = field(j, "sum");
        if (!cj.is_array() || !pj.is_array() || !sj.is_array() || cj.size() != c.n_bins || pj.size() != c.n_bins ||
            sj.size() != c.n_bins)
            bad_text("\"count\", \"positives\" and \"sum\" must be arrays of one entry per bin");
        for (uint32_t i = 0; i < c.n_bins; i++) {
            c.count[i] = count_field(cj[i], "count");
            c.positives[i] = count_field(pj[i], "positives");
            c.sum[i] = sum_field(sj[i], "sum");
        }
        out.emplace(std::move(c));
    } else if (k == "regression") {
        only_keys(j, {"version", "kind", "count", "sum_error", "sum_abs_error", "sum_squared_error", "sum_ape",
                      "ape_infinite", "sum_y", "sum_y2"});
        RegressionSums r;
        r.n = count_field(field(j, "count"), "count");
        r.ape_infinite = count_field(field(j, "ape_infinite"), "ape_infinite");
        r.err = sum_field(field(j, "sum_error"), "sum_error");
        r.abs_err = sum_field(field(j, "sum_abs_error"), "sum_abs_error");
        r.sq_err = sum_field(field(j, "sum_squared_error"), "sum_squared_error");
        r.ape = sum_field(field(j, "sum_ape"), "sum_ape");
        r.y = sum_field(field(j, "sum_y"), "sum_y");
        r.yy = sum_field(field(j, "sum_y2"), "sum_y2");
        out.emplace(std::move(r));
    } else if (k == "equality") {
        only_keys(j, {"version", "kind", "equal", "total"});
        EqualityCounts e;
        e.equal = count_field(field(j, "equal"), "equal");
        e.total = count_field(field(j, "total"), "total");
        out.emplace(e);
    } else {
        bad_text("unknown kind \"" + k.substr(0, 64) + "\"");
    }
    validate(*out, [](const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_metric_state: " + why); });
    return std::move(*out);
}

bool MetricState::operator==(const MetricState& o) const {
    if (kind() != o.kind()) return false;
    switch (kind()) {
        case MetricKind::Ranking: {
            const auto &a = as<RankingCounts>().distinct(), &b = o.as<RankingCounts>().distinct();
            if (a.size() != b.size()) return false;
            for (size_t i = 0; i < a.size(); i++)
                if (detail::double_bits(a[i].score) != detail::double_bits(b[i].score) || a[i].pos != b[i].pos ||
                    a[i].neg != b[i].neg)
                    return false;
            return true;
        }
        case MetricKind::Confusion: {
            const auto &a = as<ConfusionCounts>(), &b = o.as<ConfusionCounts>();
            return a.threshold == b.threshold && a.tp == b.tp && a.fp == b.fp && a.tn == b.tn && a.fn == b.fn;
        }
        case MetricKind::LogLoss: {
            const auto &a = as<LogLossSum>(), &b = o.as<LogLossSum>();
            return a.n == b.n && a.positives == b.positives && a.sum == b.sum;
        }
        case MetricKind::Calibration: {
            const auto &a = as<CalibrationBins>(), &b = o.as<CalibrationBins>();
            return a.n_bins == b.n_bins && a.count == b.count && a.positives == b.positives && a.sum == b.sum;
        }
        case MetricKind::Regression: {
            const auto &a = as<RegressionSums>(), &b = o.as<RegressionSums>();
            return a.n == b.n && a.ape_infinite == b.ape_infinite && a.err == b.err && a.abs_err == b.abs_err &&
                   a.sq_err == b.sq_err && a.ape == b.ape && a.y == b.y && a.yy == b.yy;
        }
        case MetricKind::Equality: {
            const auto &a = as<EqualityCounts>(), &b = o.as<EqualityCounts>();
            return a.equal == b.equal && a.total == b.total;
        }
    }
    return false;
}

}  // namespace pg_learn::core
