// FeatureStats: updates, merge, queries, histograms, the validated binary and JSON forms.
#include "core/stats/feature_stats.hpp"

#include "core/common/byte_codec.hpp"
#include "core/common/envelope.hpp"
#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace pg_learn::core {

using detail::ByteReader;
using detail::ByteWriter;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

// magic "PLFS", version, kind, flags, u32 total length, reserved, checksum of every byte but its own.
constexpr HeaderSpec kHeader{"ml_stats", {'P', 'L', 'F', 'S'}, 1, 24, LengthField::Total32, 8,
                             ChecksumKind::AllButField, 16, 0x706C2D7374617473ull /* "pl-stats" */,
                             HeaderWording::Stats};
constexpr size_t kHeaderSize = kHeader.size;
constexpr size_t kNumericFields = 88;      // six u64 counts, five f64 moments
constexpr size_t kCategoricalFields = 16;  // two u64 counts
constexpr int kTextVersion = 1;
constexpr int kMaxJsonDepth = 4;
constexpr uint32_t kSummaryBins = 10;

const double kInf = std::numeric_limits<double>::infinity();

[[noreturn]] void bad_text(const std::string& why) {
    // ml_stats(x) with x a string literal, a name or a citext value is parsed by PostgreSQL as a
    // cast of x to ml_stats (the typename(x) rule), which lands here.
    fail(ErrorKind::InvalidText, "invalid input syntax for type ml_stats: " + why, {},
         "The text form of ml_stats is the JSON that ml_stats values print. For the statistics of a "
         "string literal, a name or a citext value, write ml_stats(x::text).");
}

// ---- base64 (RFC 4648, standard alphabet, padded), strict on input -------------------------

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(const std::string& in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    size_t i = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(in.data());
    for (; i + 3 <= in.size(); i += 3) {
        const uint32_t v = uint32_t(p[i]) << 16 | uint32_t(p[i + 1]) << 8 | p[i + 2];
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += kB64[(v >> 6) & 63];
        out += kB64[v & 63];
    }
    const size_t rest = in.size() - i;
    if (rest) {
        uint32_t v = uint32_t(p[i]) << 16 | (rest == 2 ? uint32_t(p[i + 1]) << 8 : 0);
        out += kB64[v >> 18];
        out += kB64[(v >> 12) & 63];
        out += rest == 2 ? kB64[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

int b64_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

std::string base64_decode(const std::string& in, const char* field) {
    auto bad = [&](const char* why) { bad_text(std::string("\"") + field + "\" is not valid base64: " + why); };
    if (in.size() % 4) bad("length is not a multiple of 4");
    std::string out;
    out.reserve(in.size() / 4 * 3);
    for (size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        int v[4];
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            const char c = in[i + j];
            if (c == '=' && last && j >= 2) {
                pad++;
                v[j] = 0;
                continue;
            }
            if (pad) bad("padding in the middle");
            v[j] = b64_value(c);
            if (v[j] < 0) bad("unexpected character");
        }
        const uint32_t w = uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
        out += char(w >> 16);
        if (pad < 2) out += char((w >> 8) & 0xFF);
        if (pad < 1) out += char(w & 0xFF);
        // Canonical form only: the bits dropped by the padding must be zero.
        if ((pad == 1 && (w & 0xFF)) || (pad == 2 && (w & 0xFFFF))) bad("non-zero padding bits");
    }
    return out;
}

// ---- JSON helpers ---------------------------------------------------------------------------

// A double as JSON: a number when finite (nlohmann prints the shortest text that reads back
// exactly), else "Infinity", "-Infinity" or "NaN".
ordered_json exact_double(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
    return v;
}

// For the summary: null when absent, a string for an infinity (jsonb has no infinite numbers).
ordered_json summary_double(std::optional<double> v) {
    if (!v) return nullptr;
    if (std::isnan(*v)) return nullptr;
    return exact_double(*v);
}

const char* kStatsKeysNumeric[] = {"pg_learn_stats", "kind", "finite_count", "null_count",
                                   "nan_count", "pos_inf_count", "neg_inf_count", "zero_count",
                                   "shift", "shifted_mean", "m2", "min", "max", "quantile_sketch"};
const char* kStatsKeysCategorical[] = {"pg_learn_stats", "kind", "count", "null_count",
                                       "top_k", "distinct_sketch"};

}  // namespace

// ---- shifted moments -----------------------------------------------------------------------

constexpr double kMaxShift = 1e300;

void ShiftedMoments::add_general(double x) {
    if (std::isnan(x)) {
        nans++;
        return;
    }
    if (std::isinf(x)) {
        (x > 0 ? pos_infs : neg_infs)++;
        return;
    }
    if (x == 0.0) zeros++;
    if (count == 0) {
        shift = std::fabs(x) <= kMaxShift ? x : 0.0;
        min = max = x;
    } else {
        min = std::min(min, x);
        max = std::max(max, x);
    }
    count++;
    const double y = x - shift;
    const double d = y - shifted_mean;
    shifted_mean += d / static_cast<double>(count);
    m2 += d * (y - shifted_mean);
}

void ShiftedMoments::merge(const ShiftedMoments& o) {
    nulls += o.nulls;
    nans += o.nans;
    pos_infs += o.pos_infs;
    neg_infs += o.neg_infs;
    zeros += o.zeros;
    if (o.count == 0) return;
    if (count == 0) {
        count = o.count;
        shift = o.shift;
        shifted_mean = o.shifted_mean;
        m2 = o.m2;
        min = o.min;
        max = o.max;
        return;
    }
    // The other mean relative to our shift; the shifts' difference is exact when they are
    // within a factor of two (Sterbenz), and at most 2e300, never an overflow.
    const double ob = (o.shift - shift) + o.shifted_mean;
    const double na = static_cast<double>(count), nb = static_cast<double>(o.count);
    const double n = na + nb;
    const double d = ob - shifted_mean;
    shifted_mean += d * (nb / n);  // never forms na * mean, which could overflow for huge values
    m2 += o.m2 + d * d * (na * (nb / n));
    count += o.count;
    min = std::min(min, o.min);
    max = std::max(max, o.max);
}

const char* stats_kind_name(StatsKind kind) {
    return kind == StatsKind::Numeric ? "numeric" : "categorical";
}

FeatureStats::FeatureStats(StatsKind kind) : kind_(kind) {
    if (kind == StatsKind::Numeric) {
        kll_.emplace(kKllDefaultK);
    } else if (kind == StatsKind::Categorical) {
        topk_.emplace(kSpaceSavingDefaultCapacity);
        hll_.emplace(kHllDefaultPrecision);
    } else {
        fail(ErrorKind::Internal, "unknown statistics kind");
    }
}

void FeatureStats::require(StatsKind kind, const char* what) const {
    if (kind_ == kind) return;
    fail(ErrorKind::InvalidParameter,
         std::string(what) + " needs " + stats_kind_name(kind) + " statistics",
         std::string("these statistics are ") + stats_kind_name(kind_) +
             (kind_ == StatsKind::Numeric ? " (from ml_stats(float8))" : " (from ml_stats(text))"));
}


void FeatureStats::add(std::string_view value) {
    require(StatsKind::Categorical, "adding a text value");
    topk_->update(value);
    hll_->add(value);
    cat_count_++;
}

void FeatureStats::add_null() {
    if (numeric()) moments_.add_null();
    else cat_nulls_++;
}

void FeatureStats::merge(const FeatureStats& o) {
    if (o.kind_ != kind_)
        fail(ErrorKind::InvalidParameter,
             std::string("cannot merge ") + stats_kind_name(kind_) + " statistics with " +
                 stats_kind_name(o.kind_) + " statistics");
    if (&o == this) {
        const FeatureStats copy = o;
        merge(copy);
        return;
    }
    if (numeric()) {
        moments_.merge(o.moments_);
        kll_->merge(*o.kll_);
    } else {
        topk_->merge(*o.topk_);
        hll_->merge(*o.hll_);
        cat_count_ += o.cat_count_;
        cat_nulls_ += o.cat_nulls_;
    }
}

// ---- queries --------------------------------------------------------------------------------

uint64_t FeatureStats::count() const { return numeric() ? moments_.non_null() : cat_count_; }
uint64_t FeatureStats::null_count() const { return numeric() ? moments_.nulls : cat_nulls_; }

uint64_t FeatureStats::nan_count() const {
    require(StatsKind::Numeric, "the NaN count");
    return moments_.nans;
}
uint64_t FeatureStats::pos_inf_count() const {
    require(StatsKind::Numeric, "the infinity count");
    return moments_.pos_infs;
}
uint64_t FeatureStats::neg_inf_count() const {
    require(StatsKind::Numeric, "the infinity count");
    return moments_.neg_infs;
}
uint64_t FeatureStats::zero_count() const {
    require(StatsKind::Numeric, "the zero count");
    return moments_.zeros;
}
uint64_t FeatureStats::finite_count() const {
    require(StatsKind::Numeric, "the finite count");
    return moments_.count;
}

std::optional<double> FeatureStats::mean() const {
    require(StatsKind::Numeric, "the mean");
    if (moments_.count == 0) return std::nullopt;
    return moments_.mean();
}

std::optional<double> FeatureStats::variance() const {
    require(StatsKind::Numeric, "the variance");
    if (moments_.count < 2) return std::nullopt;
    return moments_.m2 / static_cast<double>(moments_.count - 1);
}

std::optional<double> FeatureStats::stddev() const {
    require(StatsKind::Numeric, "the standard deviation");
    if (moments_.count < 2) return std::nullopt;
    return std::sqrt(moments_.m2 / static_cast<double>(moments_.count - 1));
}

std::optional<double> FeatureStats::min() const {
    require(StatsKind::Numeric, "the minimum");
    if (moments_.count == 0) return std::nullopt;
    return moments_.min;
}

std::optional<double> FeatureStats::max() const {
    require(StatsKind::Numeric, "the maximum");
    if (moments_.count == 0) return std::nullopt;
    return moments_.max;
}

std::optional<double> FeatureStats::quantile(double q) const {
    require(StatsKind::Numeric, "a quantile");
    const double v = kll_->quantile(q);  // checks q first, even when empty
    if (kll_->empty()) return std::nullopt;
    return v;
}

std::optional<std::vector<double>> FeatureStats::quantiles(const std::vector<double>& qs) const {
    require(StatsKind::Numeric, "quantiles");
    std::vector<double> v = kll_->quantiles(qs);
    if (kll_->empty()) return std::nullopt;
    return v;
}

double FeatureStats::rank_error_bound(double delta) const {
    require(StatsKind::Numeric, "the rank error bound");
    return kll_->rank_error_bound(delta);
}

static void check_bins(uint32_t bins) {
    if (bins < 1 || bins > kStatsMaxBins)
        fail(ErrorKind::InvalidParameter,
             "the number of bins must be between 1 and " + std::to_string(kStatsMaxBins),
             "got " + std::to_string(bins));
}

std::vector<HistogramBin> FeatureStats::bins_from_edges(std::vector<double> edges) const {
    // edges: min first, max last, non-decreasing. Bin 0 is [e0, e1], bin i (e_i, e_i+1]: a bin
    // between equal edges is empty and dropped, except the first, [min, min], which holds the
    // values equal to min (a spike at the minimum, e.g. of zeros, stays visible).
    const bool spike_at_min = edges.size() > 1 && edges[1] == edges[0];
    edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
    if (spike_at_min || edges.size() == 1) edges.insert(edges.begin(), edges[0]);  // [x, x]
    const size_t m = edges.size() - 1;
    const uint64_t finite = moments_.count;
    // cum[i]: finite values <= edges[i] (cum[0] = 0 for the closed first bin, cum[m] = all), from
    // the sketch's weight of items <= edge, less the -Infinity items (below every edge).
    std::vector<uint64_t> cum(m + 1, 0);
    cum[m] = finite;
    if (m > 1) {
        const std::vector<double> interior(edges.begin() + 1, edges.end() - 1);
        const std::vector<double> ranks = kll_->cdf(interior);
        const double n = static_cast<double>(kll_->n());
        for (size_t i = 1; i < m; i++) {
            // rank * n is an integer weight of the sketch up to rounding: round it back.
            const double w = std::nearbyint(ranks[i - 1] * n) - static_cast<double>(moments_.neg_infs);
            const double c = std::clamp(w, 0.0, static_cast<double>(finite));
            cum[i] = std::max(cum[i - 1], static_cast<uint64_t>(c));
        }
    }
    std::vector<HistogramBin> out;
    out.reserve(m);
    for (size_t i = 0; i < m; i++) {
        const uint64_t c = cum[i + 1] - cum[i];
        out.push_back({edges[i], edges[i + 1], c, static_cast<double>(c) / static_cast<double>(finite)});
    }
    return out;
}

std::vector<HistogramBin> FeatureStats::histogram(uint32_t bins) const {
    require(StatsKind::Numeric, "a histogram");
    check_bins(bins);
    if (moments_.count == 0) return {};
    const double lo = moments_.min, hi = moments_.max;
    const double width = hi - lo;
    std::vector<double> edges(bins + 1);
    edges[0] = lo;
    edges[bins] = hi;
    for (uint32_t i = 1; i < bins; i++) {
        const double t = double(i) / double(bins);
        // lo + width * t, or a form that cannot overflow when the range itself does.
        double e = std::isfinite(width) ? lo + width * t : lo * (1.0 - t) + hi * t;
        edges[i] = std::clamp(e, edges[i - 1], hi);
    }
    return bins_from_edges(std::move(edges));
}

std::vector<HistogramBin> FeatureStats::histogram_equal_count(uint32_t bins) const {
    require(StatsKind::Numeric, "a histogram");
    check_bins(bins);
    if (moments_.count == 0) return {};
    // The i-th edge is the item of weight rank t = (-Inf count) + ceil(i * finite / bins) among
    // all the sketch's items, i.e. the i/bins quantile of the finite values (percentile_disc's
    // rule). The sketch's quantile(q) takes the item of rank ceil(q n): q = (t - 1/2) / n
    // reaches t whatever the rounding of q n.
    const double n = static_cast<double>(kll_->n());
    std::vector<double> qs;
    for (uint32_t i = 1; i < bins; i++) {
        const unsigned __int128 w = (static_cast<unsigned __int128>(moments_.count) * i + bins - 1) / bins;
        const double t = static_cast<double>(moments_.neg_infs) + static_cast<double>(w);
        qs.push_back(std::clamp((t - 0.5) / n, 0.0, 1.0));
    }
    const std::vector<double> vs = kll_->quantiles(qs);
    std::vector<double> edges;
    edges.reserve(bins + 1);
    edges.push_back(moments_.min);
    for (double v : vs) edges.push_back(std::clamp(v, edges.back(), moments_.max));
    edges.push_back(moments_.max);
    return bins_from_edges(std::move(edges));
}

std::vector<TopKEntry> FeatureStats::top_k() const {
    require(StatsKind::Categorical, "the top-k list");
    std::vector<TopKEntry> out;
    for (auto& c : topk_->top())
        out.push_back({c.item, c.count, c.error, static_cast<double>(c.count) / static_cast<double>(cat_count_)});
    return out;
}

uint64_t FeatureStats::top_k_unlisted_bound() const {
    require(StatsKind::Categorical, "the top-k list");
    return topk_->unmonitored_bound();
}

bool FeatureStats::distinct_is_exact() const {
    require(StatsKind::Categorical, "the distinct count");
    // The bound stays 0 until a value is evicted or dropped by a merge: until then every value
    // seen has its own counter.
    return topk_->unmonitored_bound() == 0;
}

uint64_t FeatureStats::distinct() const {
    require(StatsKind::Categorical, "the distinct count");
    if (distinct_is_exact()) return topk_->size();
    const double e = std::nearbyint(hll_->estimate());
    const double lo = static_cast<double>(topk_->size()), hi = static_cast<double>(cat_count_);
    return static_cast<uint64_t>(std::clamp(e, lo, hi));
}

const ShiftedMoments& FeatureStats::moments() const {
    require(StatsKind::Numeric, "moments");
    return moments_;
}
const KllSketch& FeatureStats::quantile_sketch() const {
    require(StatsKind::Numeric, "the quantile sketch");
    return *kll_;
}
const SpaceSaving& FeatureStats::top_k_summary() const {
    require(StatsKind::Categorical, "the top-k list");
    return *topk_;
}
const HyperLogLog& FeatureStats::distinct_sketch() const {
    require(StatsKind::Categorical, "the distinct count");
    return *hll_;
}

// ---- consistency ----------------------------------------------------------------------------

std::string FeatureStats::inconsistency() const {
    if (numeric()) {
        const ShiftedMoments& m = moments_;
        const uint64_t max = std::numeric_limits<uint64_t>::max();
        uint64_t total = m.count;
        for (uint64_t c : {m.nans, m.pos_infs, m.neg_infs, m.nulls}) {
            if (c > max - total) return "counts overflow";
            total += c;
        }
        if (m.zeros > m.count) return "more zeros than finite values";
        if (m.count == 0) {
            if (m.shift != 0.0 || m.shifted_mean != 0.0 || m.m2 != 0.0 || m.min != kInf || m.max != -kInf)
                return "moments of no finite value are not the empty ones";
        } else {
            if (!std::isfinite(m.min) || !std::isfinite(m.max) || !(m.min <= m.max))
                return "min and max are not finite and ordered";
            // m2 is a sum of squares: never negative (it may overflow to +Infinity, or be NaN
            // once values near the largest double overflow the mean).
            if (m.m2 < 0) return "negative sum of squares";
            if (!(std::fabs(m.shift) <= kMaxShift)) return "shift out of range";
            if (m.count == 1 && (m.mean() != m.min || m.min != m.max || m.m2 != 0.0))
                return "moments of one value are inconsistent";
            if (m.zeros == m.count && (m.min != 0.0 || m.max != 0.0)) return "zero count disagrees with min and max";
        }
        const KllSketch& k = *kll_;
        if (k.n() != m.count + m.pos_infs + m.neg_infs)
            return "the quantile sketch does not hold the finite and infinite values";
        if (!k.empty()) {
            const double lo = m.neg_infs ? -kInf : m.count ? m.min : kInf;
            const double hi = m.pos_infs ? kInf : m.count ? m.max : -kInf;
            if (k.min() != lo || k.max() != hi) return "the quantile sketch's extremes differ from min and max";
        }
    } else {
        if (cat_count_ > std::numeric_limits<uint64_t>::max() - cat_nulls_) return "counts overflow";
        if (topk_->n() != cat_count_) return "the top-k summary does not hold every value";
        if (hll_->empty() != (cat_count_ == 0)) return "the distinct sketch does not match the count";
    }
    return {};
}

// ---- binary form ----------------------------------------------------------------------------

size_t FeatureStats::encoded_size() const {
    if (numeric()) return kHeaderSize + kNumericFields + 8 + kll_->serialized_size();
    return kHeaderSize + kCategoricalFields + 8 + topk_->serialized_size() + hll_->serialized_size();
}

std::string FeatureStats::encode() const {
    // The decoder's own check (inconsistency(), and each sketch's): never write what it refuses.
    if (const std::string why = inconsistency(); !why.empty()) unstorable("ml_stats", why);
    std::string out;
    out.reserve(encoded_size());
    ByteWriter w(out);
    begin_header(kHeader, w);
    w.put<uint8_t>(static_cast<uint8_t>(kind_));
    w.put<uint8_t>(0);  // flags
    w.put<uint32_t>(0);  // total length, set by seal_header
    w.put<uint32_t>(0);  // reserved
    w.put<uint64_t>(0);  // checksum, set by seal_header
    if (numeric()) {
        const ShiftedMoments& m = moments_;
        w.put<uint64_t>(m.count);
        w.put<uint64_t>(m.nulls);
        w.put<uint64_t>(m.nans);
        w.put<uint64_t>(m.pos_infs);
        w.put<uint64_t>(m.neg_infs);
        w.put<uint64_t>(m.zeros);
        // A NaN (m2 and the mean once values near the largest double overflowed them) is
        // written as the one quiet NaN the text form's "NaN" reads back as: the arithmetic
        // gives x86's negative default NaN, whose bytes the text form could not reproduce.
        auto put_double = [&](double v) { w.put<double>(std::isnan(v) ? std::numeric_limits<double>::quiet_NaN() : v); };
        put_double(m.shift);
        put_double(m.shifted_mean);
        put_double(m.m2);
        put_double(m.min);
        put_double(m.max);
        w.put<uint32_t>(static_cast<uint32_t>(kll_->serialized_size()));
        w.put<uint32_t>(0);
        kll_->encode(out);
    } else {
        w.put<uint64_t>(cat_count_);
        w.put<uint64_t>(cat_nulls_);
        w.put<uint32_t>(static_cast<uint32_t>(topk_->serialized_size()));
        w.put<uint32_t>(static_cast<uint32_t>(hll_->serialized_size()));
        topk_->encode(out);
        hll_->encode(out);
    }
    if (out.size() != encoded_size()) fail(ErrorKind::Internal, "ml_stats encoder size mismatch");
    seal_header(kHeader, reinterpret_cast<uint8_t*>(&out[0]), out.size());  // "ml_stats value too large" past 4 GB
    return out;
}

void FeatureStats::encode(uint8_t* out, size_t size) const {
    const std::string s = encode();
    if (s.size() != size) fail(ErrorKind::Internal, "ml_stats encoder size mismatch");
    std::memcpy(out, s.data(), size);
}

FeatureStats FeatureStats::decode(const uint8_t* data, size_t size) {
    ByteReader r(data, size, "ml_stats");
    read_header(kHeader, r, data, size);
    const uint8_t kind = data[6], flags = data[7];
    const uint32_t reserved = header_field<uint32_t>(data, 12);
    if (kind != uint8_t(StatsKind::Numeric) && kind != uint8_t(StatsKind::Categorical))
        r.corrupt("unknown statistics kind " + std::to_string(kind));
    if (flags != 0) r.corrupt("unknown flags");
    if (reserved != 0) r.corrupt("reserved field is not zero");

    // A sketch's own decoder validates it; its message is kept, prefixed with where it was.
    auto part = [&](const char* what, auto decode, uint32_t len) {
        const uint8_t* p = r.take(len, what);
        try {
            return decode(p, size_t(len));
        } catch (const Error& e) {
            fail(ErrorKind::InvalidBinary, std::string("invalid binary ml_stats: ") + what + ": " + e.what(),
                 e.detail(), e.hint());
        }
    };

    FeatureStats s;
    s.kind_ = static_cast<StatsKind>(kind);
    if (s.numeric()) {
        ShiftedMoments& m = s.moments_;
        m.count = r.get<uint64_t>("counts");
        m.nulls = r.get<uint64_t>("counts");
        m.nans = r.get<uint64_t>("counts");
        m.pos_infs = r.get<uint64_t>("counts");
        m.neg_infs = r.get<uint64_t>("counts");
        m.zeros = r.get<uint64_t>("counts");
        m.shift = r.get<double>("moments");
        m.shifted_mean = r.get<double>("moments");
        m.m2 = r.get<double>("moments");
        m.min = r.get<double>("moments");
        m.max = r.get<double>("moments");
        const uint32_t len = r.get<uint32_t>("sketch lengths");
        if (r.get<uint32_t>("sketch lengths") != 0) r.corrupt("reserved field is not zero");
        if (len != r.remaining()) r.corrupt("quantile sketch length does not match the bytes present");
        s.kll_.emplace(part("quantile sketch", [](const uint8_t* p, size_t n) { return KllSketch::decode(p, n); }, len));
    } else {
        s.cat_count_ = r.get<uint64_t>("counts");
        s.cat_nulls_ = r.get<uint64_t>("counts");
        const uint32_t tlen = r.get<uint32_t>("sketch lengths");
        const uint32_t hlen = r.get<uint32_t>("sketch lengths");
        if (uint64_t(tlen) + hlen != r.remaining()) r.corrupt("sketch lengths do not match the bytes present");
        s.topk_.emplace(part("top-k summary", [](const uint8_t* p, size_t n) { return SpaceSaving::decode(p, n); }, tlen));
        s.hll_.emplace(part("distinct sketch", [](const uint8_t* p, size_t n) { return HyperLogLog::decode(p, n); }, hlen));
    }
    r.expect_end();
    const std::string why = s.inconsistency();
    if (!why.empty()) r.corrupt(why);
    return s;
}

// ---- text form ------------------------------------------------------------------------------

std::string FeatureStats::to_text() const {
    if (const std::string why = inconsistency(); !why.empty()) unstorable("ml_stats", why);
    ordered_json j;
    j["pg_learn_stats"] = kTextVersion;
    j["kind"] = stats_kind_name(kind_);
    if (numeric()) {
        const ShiftedMoments& m = moments_;
        j["finite_count"] = m.count;
        j["null_count"] = m.nulls;
        j["nan_count"] = m.nans;
        j["pos_inf_count"] = m.pos_infs;
        j["neg_inf_count"] = m.neg_infs;
        j["zero_count"] = m.zeros;
        j["shift"] = exact_double(m.shift);
        j["shifted_mean"] = exact_double(m.shifted_mean);
        j["m2"] = exact_double(m.m2);
        j["min"] = exact_double(m.min);
        j["max"] = exact_double(m.max);
        std::string b;
        kll_->encode(b);
        j["quantile_sketch"] = base64_encode(b);
    } else {
        j["count"] = cat_count_;
        j["null_count"] = cat_nulls_;
        std::string t, h;
        topk_->encode(t);
        hll_->encode(h);
        j["top_k"] = base64_encode(t);
        j["distinct_sketch"] = base64_encode(h);
    }
    return j.dump();
}

FeatureStats FeatureStats::from_text(const char* text, size_t len) {
    if (json_too_deep(text, len, kMaxJsonDepth)) bad_text("JSON nested too deeply");
    const json j = json::parse(text, text + len, nullptr, false);
    if (j.is_discarded()) bad_text("not valid JSON");
    if (!j.is_object()) bad_text(std::string("a JSON object was expected, not ") + j.type_name());
    auto need = [&](const char* key) -> const json& {
        auto it = j.find(key);
        if (it == j.end()) bad_text(std::string("missing key \"") + key + "\"");
        return *it;
    };
    const json& ver = need("pg_learn_stats");
    if (!ver.is_number_integer() || ver.get<int64_t>() != kTextVersion)
        bad_text("unsupported version " + ver.dump() + " (this build reads version 1)");
    const json& kj = need("kind");
    if (!kj.is_string()) bad_text("\"kind\" must be \"numeric\" or \"categorical\"");
    const std::string kname = kj.get<std::string>();
    StatsKind kind;
    if (kname == "numeric") kind = StatsKind::Numeric;
    else if (kname == "categorical") kind = StatsKind::Categorical;
    else bad_text("\"kind\" must be \"numeric\" or \"categorical\"");

    const auto keys = [&]() -> std::vector<const char*> {
        if (kind == StatsKind::Numeric) return {std::begin(kStatsKeysNumeric), std::end(kStatsKeysNumeric)};
        return {std::begin(kStatsKeysCategorical), std::end(kStatsKeysCategorical)};
    }();
    for (auto it = j.begin(); it != j.end(); ++it) {
        bool known = false;
        for (const char* k : keys) known = known || it.key() == k;
        if (!known) bad_text("unknown key \"" + it.key() + "\" for " + kname + " statistics");
    }
    auto u64 = [&](const char* key) -> uint64_t {
        const json& v = need(key);
        if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
            bad_text(std::string("\"") + key + "\" must be a non-negative integer");
        return v.get<uint64_t>();
    };
    auto dbl = [&](const char* key) -> double {
        const json& v = need(key);
        if (v.is_number()) return v.get<double>();
        if (v.is_string()) {
            const std::string s = v.get<std::string>();
            if (s == "Infinity") return kInf;
            if (s == "-Infinity") return -kInf;
            if (s == "NaN") return std::nan("");
        }
        bad_text(std::string("\"") + key + "\" must be a number, \"Infinity\", \"-Infinity\" or \"NaN\"");
    };
    auto sketch = [&](const char* key, auto decode) {
        const json& v = need(key);
        if (!v.is_string()) bad_text(std::string("\"") + key + "\" must be a base64 string");
        const std::string bytes = base64_decode(v.get<std::string>(), key);
        try {
            return decode(bytes);
        } catch (const Error& e) {
            bad_text(std::string("\"") + key + "\": " + e.what());
        }
    };

    FeatureStats s;
    s.kind_ = kind;
    if (kind == StatsKind::Numeric) {
        ShiftedMoments& m = s.moments_;
        m.count = u64("finite_count");
        m.nulls = u64("null_count");
        m.nans = u64("nan_count");
        m.pos_infs = u64("pos_inf_count");
        m.neg_infs = u64("neg_inf_count");
        m.zeros = u64("zero_count");
        m.shift = dbl("shift");
        m.shifted_mean = dbl("shifted_mean");
        m.m2 = dbl("m2");
        m.min = dbl("min");
        m.max = dbl("max");
        s.kll_.emplace(sketch("quantile_sketch", [](const std::string& b) { return KllSketch::decode(b); }));
    } else {
        s.cat_count_ = u64("count");
        s.cat_nulls_ = u64("null_count");
        s.topk_.emplace(sketch("top_k", [](const std::string& b) { return SpaceSaving::decode(b); }));
        s.hll_.emplace(sketch("distinct_sketch", [](const std::string& b) { return HyperLogLog::decode(b); }));
    }
    const std::string why = s.inconsistency();
    if (!why.empty()) bad_text(why);
    return s;
}

// ---- summary --------------------------------------------------------------------------------

ordered_json FeatureStats::summary() const {
    ordered_json j;
    j["kind"] = stats_kind_name(kind_);
    j["count"] = count();
    j["null_count"] = null_count();
    if (numeric()) {
        const ShiftedMoments& m = moments_;
        j["finite_count"] = m.count;
        j["nan_count"] = m.nans;
        j["pos_inf_count"] = m.pos_infs;
        j["neg_inf_count"] = m.neg_infs;
        j["zero_count"] = m.zeros;
        j["mean"] = summary_double(mean());
        j["stddev"] = summary_double(stddev());
        j["variance"] = summary_double(variance());
        j["min"] = summary_double(min());
        j["max"] = summary_double(max());
        static const std::pair<const char*, double> kPercentiles[] = {
            {"p1", 0.01}, {"p5", 0.05}, {"p10", 0.10}, {"p25", 0.25}, {"p50", 0.50},
            {"p75", 0.75}, {"p90", 0.90}, {"p95", 0.95}, {"p99", 0.99}};
        std::vector<double> qs;
        for (const auto& p : kPercentiles) qs.push_back(p.second);
        const auto vs = quantiles(qs);
        ordered_json pj = ordered_json::object();
        for (size_t i = 0; i < qs.size(); i++)
            pj[kPercentiles[i].first] = vs ? summary_double((*vs)[i]) : ordered_json(nullptr);
        j["percentiles"] = pj;
        j["rank_error_bound"] = kll_->rank_error_bound(0.01);
        ordered_json hj = ordered_json::array();
        for (const HistogramBin& b : histogram(kSummaryBins))
            hj.push_back({{"lo", b.lo}, {"hi", b.hi}, {"count", b.count}});
        j["histogram"] = hj;
    } else {
        j["distinct"] = distinct();
        j["distinct_exact"] = distinct_is_exact();
        ordered_json tj = ordered_json::array();
        // A value that is not valid UTF-8 (the bytes of a database of another encoding) is shown
        // with U+FFFD in place of its ill-formed sequences: the summary then dumps with any
        // error handler (test/fuzz/crashes' fuzz_profile_text-invalid-utf8).
        for (const TopKEntry& e : top_k())
            tj.push_back({{"value", utf8_or_replacement(e.value)}, {"count", e.count}, {"error", e.error}});
        j["top_k"] = tj;
        j["top_k_capacity"] = topk_->capacity();
        j["unlisted_bound"] = topk_->unmonitored_bound();
    }
    return j;
}

}  // namespace pg_learn::core
