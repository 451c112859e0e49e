// Evaluation metrics as mergeable, invertible accumulators: binary classification, regression, equality.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace pg_learn::core {

namespace detail {
class ByteWriter;
class ByteReader;
}  // namespace detail

// ---------------------------------------------------------------------------------------------
// ExactSum: the exact sum of doubles and of products of two doubles.
//
// A two's-complement fixed-point integer over 64-bit limbs, limb k weighing 2^(64 (lo + k)); it
// grows to the range actually used (a few limbs for ordinary data). Every finite double and every
// product of two finite doubles (a 106-bit integer times a power of two) is added without
// rounding, so sums are independent of the order of the rows and of how partial sums were
// merged, and subtracting what was added restores the previous value bit for bit. That is what
// makes the metrics' inverse transitions (moving windows) and parallel merges give exactly the
// result of one pass: the only rounding happens when a metric is read.
//
// Why not Welford/Chan for the variance of y: removal under Welford drifts (PostgreSQL refuses
// an inverse transition for float8 sums for this very reason), and merges round differently
// from one pass. Exact sums are stable by construction, including 1e8 offsets and magnitudes
// whose squares exceed the double range (products are held exactly up to 2^2112).
// ---------------------------------------------------------------------------------------------
class ExactSum {
public:
    // x must be finite (callers validate); adding +-0 does nothing.
    void add(double x) { add_double(x, false); }
    void sub(double x) { add_double(x, true); }
    void add_product(double a, double b) { add_prod(a, b, false); }
    void sub_product(double a, double b) { add_prod(a, b, true); }
    void add(const ExactSum& o) { add_sum(o, false); }
    void sub(const ExactSum& o) { add_sum(o, true); }
    // Exact products (for finalisation: results may exceed the stored range).
    ExactSum times(const ExactSum& o) const;
    ExactSum times(uint64_t k) const;

    bool is_zero() const;
    int sign() const;  // -1, 0, 1

    // Nearest double (ties to even); +-inf beyond the double range. In the subnormal range the
    // result may be rounded twice.
    double to_double() const;
    // value = mant * 2^exp with 0.5 <= |mant| < 1 (mant rounded to 53 bits), or (0, 0): for ratios
    // of sums whose values lie outside the double range.
    struct Scaled {
        double mant;
        int64_t exp;
    };
    Scaled scaled() const;

    // Exact text: "0", or "[-]0x<hex digits>p<binary exponent>" (C99/Python hex-float syntax,
    // float.fromhex reads it), canonical: the hex integer is odd ("0x3p-1" is 1.5).
    std::string to_hex() const;
    // Strict parse of to_hex's form; InvalidText on anything else, ProgramLimit out of range.
    static ExactSum from_hex(const std::string& s);

    size_t encoded_size() const;
    void encode(detail::ByteWriter& w) const;
    static ExactSum decode(detail::ByteReader& r);

    bool operator==(const ExactSum& o) const;
    bool operator!=(const ExactSum& o) const { return !(*this == o); }

    // The stored range (limb indices) accepted by decode and from_hex: 2^-2304 .. 2^2304, wider
    // than any sum of up to 2^64 products of doubles.
    static constexpr int kMinLimb = -36;
    static constexpr int kMaxLimb = 36;

private:
    void add_double(double x, bool negate);
    void add_prod(double a, double b, bool negate);
    // Adds (or subtracts) m * 2^e, m < 2^106.
    void add_mag(unsigned __int128 m, int64_t e, bool negate);
    void add_sum(const ExactSum& o, bool negate);
    void ensure(int64_t lo, int64_t hi);  // covers limb indices [lo, hi), keeping the value
    void fix_top();                       // keeps the top limb a pure sign limb
    void trim();                          // canonical form
    struct Span {
        int64_t lo;
        size_t begin, end;  // limbs_[begin, end) is the canonical form; begin == end for zero
    };
    Span span() const;
    bool negative() const { return !limbs_.empty() && (limbs_.back() >> 63); }
    std::vector<uint64_t> magnitude() const;
    static ExactSum from_magnitude(std::vector<uint64_t> mag, int64_t lo, bool negative);
    void validate_range(const char* what) const;

    int64_t lo_ = 0;
    // The top limb is a pure sign limb (0 or ~0). Canonical form (span(), what is stored): empty for
    // zero; otherwise the lowest limb is not 0 and the limb below the top one differs from it.
    std::vector<uint64_t> limbs_;
};

// ---------------------------------------------------------------------------------------------
// Binary classification
// ---------------------------------------------------------------------------------------------

// sklearn 1.2's log_loss clips p to [eps, 1 - eps] with eps="auto" = np.finfo(float64).eps =
// 2^-52 (1.1 and earlier used 1e-15).
constexpr double kLogLossEps = 2.220446049250313e-16;
// Per-row term, as sklearn computes it: -log(clip(p)) for a positive, -log(1 - clip(p)) for a
// negative (1 - p rounded first, not log1p, to agree with sklearn to the last digits).
double logloss_term(double p, bool positive);

// Bins of sklearn.calibration.calibration_curve(strategy='uniform') in sklearn 1.2: interior
// edges i * (1.0 / n_bins) (numpy.linspace(0, 1, n_bins + 1)), p goes to the number of interior
// edges strictly below it (numpy.searchsorted, side='left'), so a p on an edge joins the lower bin.
uint32_t calibration_bin(double p, uint32_t n_bins);
constexpr uint32_t kMaxCalibrationBins = 10000;
constexpr uint32_t kDefaultCalibrationBins = 10;
constexpr double kDefaultThreshold = 0.5;

// One distinct score with the number of positive and negative rows that have it.
struct ScoreCount {
    double score;
    uint64_t pos;
    uint64_t neg;
};

struct RocCurve {
    std::vector<double> thresholds, fpr, tpr;
};
struct PrCurve {
    std::vector<double> precision, recall, thresholds;
};

// Metrics of a multiset of (score, label), given as distinct scores in ascending order.
namespace ranking {
// Mann-Whitney U / (P N): pairs ordered correctly count 1, tied pairs 1/2; the area under the
// trapezoidal ROC curve through every distinct threshold, as sklearn's roc_auc_score. Exact:
// 2U is an integer, the one rounding is the final division. nullopt without both classes.
std::optional<double> auc(const std::vector<ScoreCount>& asc);
double auc_from_u2(unsigned __int128 u2, uint64_t pos, uint64_t neg);
// sklearn.metrics.roc_curve (1.2): thresholds are the distinct scores, descending, preceded by
// max + 1 (1.2's convention; 1.3 uses +inf); drop_intermediate as sklearn's flag (default true).
// nullopt without both classes (sklearn returns NaN rates with a warning).
std::optional<RocCurve> roc_curve(const std::vector<ScoreCount>& asc, bool drop_intermediate);
// sklearn.metrics.precision_recall_curve (1.2): thresholds ascending, precision and recall one
// longer (ending 1 and 0); with no positive row, recall is 1 everywhere, as sklearn.
std::optional<PrCurve> pr_curve(const std::vector<ScoreCount>& asc);
}  // namespace ranking

// The scores of a binary classification and their labels, as distinct score -> (positives,
// negatives). Adding is amortised O(log n): rows wait in unsorted buffers and are sorted into
// the distinct list in batches. Holds every distinct score: exact AUC and curves need them.
class RankingCounts {
public:
    void add(double score, bool positive);
    // Removes one row (score, label) added before; InvalidParameter if there is none.
    void remove(double score, bool positive);
    void merge(const RankingCounts& o);

    uint64_t positives() const { return pos_; }
    uint64_t negatives() const { return neg_; }
    uint64_t count() const { return pos_ + neg_; }
    // Distinct scores ascending (sorts the waiting rows in, hence logically const).
    const std::vector<ScoreCount>& distinct() const;

    // From distinct scores (validated: finite, strictly ascending, counts not both zero).
    static RankingCounts from_distinct(std::vector<ScoreCount> v);

private:
    void normalize() const;
    mutable std::vector<ScoreCount> sorted_;
    mutable std::vector<double> pend_pos_, pend_neg_;
    uint64_t pos_ = 0, neg_ = 0;
};

// The moving-window form of RankingCounts: a treap over distinct scores with subtree counts, so
// adding or removing a row is O(log n) and keeps 2U (hence the AUC) up to date in O(1).
class RankingWindow {
public:
    RankingWindow();
    void add(double score, bool positive);
    void remove(double score, bool positive);  // InvalidParameter if absent
    uint64_t positives() const { return pos_; }
    uint64_t negatives() const { return neg_; }
    std::optional<double> auc() const;
    std::vector<ScoreCount> distinct() const;  // O(distinct)
    size_t distinct_count() const { return live_; }

private:
    struct Node {
        double key;
        uint64_t pos, neg, sum_pos, sum_neg;
        uint64_t prio;
        int32_t left, right;
    };
    struct Around {
        uint64_t less_pos = 0, less_neg = 0, eq_pos = 0, eq_neg = 0;
        int32_t node = -1;
    };
    Around around(double key) const;
    void update(int32_t t);
    void split(int32_t t, double key, bool key_goes_left, int32_t& l, int32_t& r);
    int32_t join(int32_t l, int32_t r);
    void change(double key, bool positive, bool add);

    std::vector<Node> nodes_;
    std::vector<int32_t> free_;
    int32_t root_ = -1;
    size_t live_ = 0;
    uint64_t pos_ = 0, neg_ = 0;
    unsigned __int128 u2_ = 0;
    uint64_t rng_;
};

// Counts at a fixed threshold: a row is predicted positive when score >= threshold (the
// convention of roc_curve's thresholds).
struct ConfusionCounts {
    double threshold = kDefaultThreshold;
    uint64_t tp = 0, fp = 0, tn = 0, fn = 0;
    void add(double score, bool positive) { change(score, positive, 1); }
    void remove(double score, bool positive) { change(score, positive, -1); }
    void merge(const ConfusionCounts& o);
    uint64_t count() const { return tp + fp + tn + fn; }
    void change(double score, bool positive, int delta);
};

struct LogLossSum {
    uint64_t n = 0, positives = 0;
    ExactSum sum;  // of the per-row terms
    void add(double p, bool positive) { change(p, positive, false); }
    void remove(double p, bool positive) { change(p, positive, true); }
    void merge(const LogLossSum& o);
    void change(double p, bool positive, bool remove);
};

struct CalibrationBins {
    uint32_t n_bins = kDefaultCalibrationBins;
    std::vector<uint64_t> count, positives;
    std::vector<ExactSum> sum;  // of p
    explicit CalibrationBins(uint32_t bins = kDefaultCalibrationBins);
    void add(double p, bool positive) { change(p, positive, false); }
    void remove(double p, bool positive) { change(p, positive, true); }
    void merge(const CalibrationBins& o);
    uint64_t total() const;
    void change(double p, bool positive, bool remove);
};

// ---------------------------------------------------------------------------------------------
// Regression: error = pred - y (positive when the prediction is too high). Sums are exact:
// the residual pred - y is split into its rounded value and rounding error (TwoSum), squares
// are exact products, so MAE, RMSE, R^2 and mean error are read from exact sums. MAPE's terms
// |pred - y| / max(|y|, eps) are rounded per row as sklearn computes them (eps = 2^-52), then
// summed exactly; a term that overflows makes MAPE +infinity (as in sklearn).
// ---------------------------------------------------------------------------------------------
struct RegressionSums {
    uint64_t n = 0;
    uint64_t ape_infinite = 0;
    ExactSum err, abs_err, sq_err, ape, y, yy;
    void add(double pred, double y) { change(pred, y, false); }
    void remove(double pred, double y) { change(pred, y, true); }
    void merge(const RegressionSums& o);
    void change(double pred, double y, bool remove);

    std::optional<double> mae() const;
    std::optional<double> rmse() const;
    std::optional<double> mean_error() const;
    std::optional<double> mape() const;
    // sklearn's r2_score with force_finite: nullopt below two rows (sklearn: NaN); constant y
    // (sum of squares about the mean exactly 0): 1 if every prediction is exact, else 0.
    std::optional<double> r2() const;
};

struct EqualityCounts {
    uint64_t equal = 0, total = 0;
    void add(bool eq);
    void remove(bool eq);
    void merge(const EqualityCounts& o);
};

// ---------------------------------------------------------------------------------------------
// The state of every metric aggregate (SQL type ml_metric_state): one kind of accumulator.
// ---------------------------------------------------------------------------------------------
enum class MetricKind : uint8_t {
    Ranking = 1,      // distinct scores with label counts: every binary metric, exactly
    Confusion = 2,    // counts at one threshold
    LogLoss = 3,
    Calibration = 4,  // reliability bins
    Regression = 5,
    Equality = 6,     // equal / total
};
const char* metric_kind_name(MetricKind k);

class MetricState {
public:
    using Body = std::variant<RankingCounts, ConfusionCounts, LogLossSum, CalibrationBins, RegressionSums,
                              EqualityCounts>;

    explicit MetricState(Body b) : body_(std::move(b)) {}
    static MetricState make_ranking() { return MetricState(RankingCounts()); }
    static MetricState make_confusion(double threshold);  // InvalidParameter unless finite
    static MetricState make_logloss() { return MetricState(LogLossSum()); }
    static MetricState make_calibration(int64_t bins);  // InvalidParameter unless 1..kMaxCalibrationBins
    static MetricState make_regression() { return MetricState(RegressionSums()); }
    static MetricState make_equality() { return MetricState(EqualityCounts()); }

    MetricKind kind() const { return static_cast<MetricKind>(body_.index() + 1); }
    template <typename T> T& as() { return std::get<T>(body_); }
    template <typename T> const T& as() const { return std::get<T>(body_); }
    uint64_t count() const;  // rows held

    // Kinds and parameters (threshold, bins) must agree: InvalidParameter otherwise.
    void merge(const MetricState& o);

    // Metrics. nullopt where the metric is undefined (no rows, or a class missing: see each).
    // A state of a kind that cannot give the metric: InvalidParameter. A threshold or bin count
    // given for a confusion or calibration state must be the one it was built with.
    std::optional<double> auc() const;
    std::optional<double> logloss() const;
    std::optional<double> accuracy(std::optional<double> threshold = std::nullopt) const;
    std::optional<double> precision(std::optional<double> threshold = std::nullopt) const;
    std::optional<double> recall(std::optional<double> threshold = std::nullopt) const;
    std::optional<double> f1(std::optional<double> threshold = std::nullopt) const;
    std::optional<nlohmann::json> confusion_matrix(std::optional<double> threshold = std::nullopt) const;
    std::optional<nlohmann::json> roc_curve(bool drop_intermediate = true) const;
    std::optional<nlohmann::json> pr_curve() const;
    std::optional<nlohmann::json> calibration(std::optional<int64_t> bins = std::nullopt) const;
    std::optional<double> mae() const;
    std::optional<double> rmse() const;
    std::optional<double> r2() const;
    std::optional<double> mape() const;
    std::optional<double> mean_error() const;

    // Binary form: magic "PLMS", version, kind, flags, payload length, XXH64 checksum of the
    // payload, then the kind's payload; decode checks every field and length.
    size_t encoded_size() const;
    void encode(uint8_t* out, size_t n) const;
    static MetricState decode(const uint8_t* p, size_t n);
    // Text form: JSON ({"kind": ..., "version": 1, ...}); exact sums as hex floats.
    std::string to_text() const;
    static MetricState from_text(const char* p, size_t n);

    bool operator==(const MetricState& o) const;

private:
    ConfusionCounts confusion_at(std::optional<double> threshold, const char* metric) const;
    Body body_;
};

// A threshold from SQL: finite, -0 made +0; InvalidParameter otherwise.
double check_threshold(double t);
// A bin count from SQL; InvalidParameter outside 1..kMaxCalibrationBins.
uint32_t check_bins(int64_t bins);
// Validates a score (finite) / probability (finite, in [0, 1]); NumericRange / InvalidParameter.
double check_score(double s, const char* what);
double check_probability(double p, const char* what);

}  // namespace pg_learn::core
