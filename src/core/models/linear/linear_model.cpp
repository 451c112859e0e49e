// The update rules of the online linear models (docs/algorithms.md is their specification).
#include "core/models/linear/linear_model.hpp"

#include "core/models/common/linear_form.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

namespace pg_learn::core {

namespace {

constexpr uint32_t kAbsent = UINT32_MAX;

// (models/common/linear_form.hpp: one function for both)
inline double sigmoid(double z) { return linear_sigmoid(z); }

int optimizer_slots(OptimizerKind k) {
    switch (k) {
        case OptimizerKind::Sgd: return 0;
        case OptimizerKind::AdaGrad: return 1;
        case OptimizerKind::Adam: return 2;
        case OptimizerKind::Ftrl: return 2;
    }
    return 0;
}

// a == b, inline for the short names features have (std::string's == calls memcmp).
inline bool same_bytes(const std::string& a, std::string_view b) {
    const size_t n = a.size();
    if (n != b.size()) return false;
    if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
    const char* p = a.data();
    const char* q = b.data();
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i]) return false;
    return true;
}

// z + w[0] * x[0] + ... + w[n-1] * x[n-1], summed left to right (the order score_terms() uses:
// the same bits), unrolled so the loop's own bookkeeping stays off the chain of additions.
inline double dense_dot(double z, const double* w, const double* x, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        z += w[i] * x[i];
        z += w[i + 1] * x[i + 1];
        z += w[i + 2] * x[i + 2];
        z += w[i + 3] * x[i + 3];
    }
    for (; i < n; i++) z += w[i] * x[i];
    return z;
}

}  // namespace

LinearModel::LinearModel(ModelSpec spec) : LinearModel(std::move(spec), 0) {
    identity_ = identity_of(spec_.canonical_text());
}

uint64_t LinearModel::identity_of(const std::string& canonical_spec) {
    return hash64(canonical_spec.data(), canonical_spec.size(), 0x706c6561726e31ull);
}

LinearModel::LinearModel(ModelSpec spec, uint64_t identity)
    : spec_(std::move(spec)), identity_(identity), intercept_(spec_.intercept_init),
      dict_(spec_.hashed() ? kMaxRememberedNames : kMaxFeatures, spec_.hashed()) {
    dict_.set_limit_message(" without hashing", "Set \"hash_bits\" in the spec to bound the number of weights.");
    if (spec_.hashed()) grow(size_t(1) << spec_.hash_bits);
}

void LinearModel::grow(size_t n) const {
    n_idx_ = n;
    const size_t nk = n * n_outputs();  // feature-major: a new feature's K values go at the end
    w_.resize(nk, 0.0);
    int slots = optimizer_slots(spec_.optimizer.kind);
    if (slots >= 1) s1_.resize(nk, 0.0);
    if (slots >= 2) s2_.resize(nk, 0.0);
    if (spec_.keeps_feature_stats()) {
        cnt_.resize(n, 0.0);
        mean_.resize(n, 0.0);
        m2_.resize(n, 0.0);
    }
}

void LinearModel::remember(std::string_view name, FeatureType type) const {
    const size_t before = dict_.size();
    dict_.add(name, type);  // checks the name; a hashed model stops remembering past its bound
    if (dict_.size() != before) dense_map_.clear();  // a position that was unknown may be known now
}

uint32_t LinearModel::index_of(std::string_view name, FeatureType type, bool learning) const {
    if (spec_.hashed()) {
        if (learning) remember(name, type);
        return murmur3_32(name.data(), name.size(), 0) & ((uint32_t(1) << spec_.hash_bits) - 1);
    }
    const uint32_t i = dict_.find(name);
    if (i != kUnknownFeature) return i;
    if (!learning) return kAbsent;
    remember(name, type);
    grow(dict_.size());
    return static_cast<uint32_t>(dict_.size() - 1);
}

void LinearModel::check_label(double y) const { core::check_label(spec_.kind, y); }

void LinearModel::ignore_feature(std::string_view name) {
    if (spec_.ignores(name.data(), name.size())) return;
    if (spec_.ignore.size() >= kMaxIgnoredNames) fail(ErrorKind::ProgramLimit, "option \"ignore\" lists too many names");
    if (!is_valid_utf8(name) || name.find('\0') != std::string_view::npos)
        fail(ErrorKind::InvalidText, "an ignored feature name must be UTF-8 text without NUL bytes");
    spec_.ignore.emplace_back(name);
    identity_ = identity_of(spec_.canonical_text());
    dense_map_.clear();  // a position's name may be ignored now
}

Task LinearModel::task() const {
    switch (spec_.kind) {
        case ModelKind::LinearRegression: return Task::Regression;
        case ModelKind::LogisticRegression: return Task::Binary;
        case ModelKind::SoftmaxRegression: return Task::Multiclass;
    }
    return Task::Regression;
}

void LinearModel::assign(const Model& other) {
    const auto* o = dynamic_cast<const LinearModel*>(&other);
    if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
    *this = *o;
}

const std::vector<std::string>& LinearModel::classes() const {
    static const std::vector<std::string> binary = {"0", "1"};
    if (multi()) return classes_;
    if (spec_.kind == ModelKind::LogisticRegression) return binary;
    return Model::classes();
}

namespace {

// The number a regression or a binary classifier learns from a label of any type.
double numeric_label(ModelKind kind, Task task, const Label& y) {
    if (y.type == Label::Type::Boolean) check_label(model_kind_name(kind), task, y);  // not for a regression
    if (y.type != Label::Type::Text) return y.number;
    double v;
    if (parse_number_label(y.text, v)) return v;  // the number's own checks follow in learn()
    check_label(model_kind_name(kind), task, y);  // throws unless a binary class
    return y.text == "true" ? 1.0 : 0.0;
}

}  // namespace

uint32_t LinearModel::class_index(const Label& y, bool learning) {
    if (y.type == Label::Type::Text) {
        // A class the model knows needs no check (every class was checked when added): the
        // previous example's class first, as a stream's labels often repeat, then the index.
        if (last_class_ < classes_.size() && classes_[last_class_] == y.text) return last_class_;
        scratch_.assign(y.text.data(), y.text.size());
        if (auto it = class_index_.find(scratch_); it != class_index_.end()) return last_class_ = it->second;
    }
    std::string name = class_of_label(y);
    auto it = class_index_.find(name);
    if (it != class_index_.end()) return it->second;
    if (!learning) return UINT32_MAX;
    add_class(name);
    return static_cast<uint32_t>(classes_.size() - 1);
}

// A new class: every per-weight array goes from K to K+1 values per feature (the new one zero).
void LinearModel::add_class(const std::string& name) {
    if (classes_.size() >= kMaxClasses)
        fail(ErrorKind::ProgramLimit, "model has too many classes",
             "the limit is " + std::to_string(kMaxClasses) + " classes; \"" + message_name(name) + "\" would be one more");
    const size_t k = classes_.size(), n = n_idx_;
    const size_t arrays = 1 + optimizer_slots(spec_.optimizer.kind);
    if (double(n) * double(k + 1) * double(arrays) * 8.0 > 1e9)
        fail(ErrorKind::ProgramLimit, "model is too large to store",
             std::to_string(k + 1) + " classes of " + std::to_string(n) + " weights each exceed the 1 GB limit",
             "Use fewer hash_bits or fewer classes.");
    auto restride = [&](std::vector<double>& v) {
        if (v.empty() && k > 0) return;  // an array the spec does not keep
        std::vector<double> out(n * (k + 1), 0.0);
        for (size_t i = 0; i < n; i++)
            for (size_t c = 0; c < k; c++) out[i * (k + 1) + c] = v[i * k + c];
        v.swap(out);
    };
    restride(w_);
    const int slots = optimizer_slots(spec_.optimizer.kind);
    if (slots >= 1) restride(s1_);
    if (slots >= 2) restride(s2_);
    class_index_.emplace(name, static_cast<uint32_t>(k));
    classes_.push_back(name);
    b_.push_back(spec_.intercept_init);
}

void check_label(ModelKind kind, double y) {
    if (!std::isfinite(y))
        fail(ErrorKind::NumericRange, std::string("label is ") + (std::isnan(y) ? "NaN" : "infinite"));
    if (kind == ModelKind::LogisticRegression && y != 0.0 && y != 1.0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", y);
        fail(ErrorKind::InvalidParameter,
             std::string("label ") + buf + " is not a class of a binary classifier",
             {}, "Labels of logistic_regression must be 0 or 1 (false or true).");
    }
}

void LinearModel::resolve(const Observation& x, bool learning) const {
    terms_.clear();
    terms_may_collide_ = spec_.hashed();
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        std::string_view key = x.key(e);
        if (!spec_.ignore.empty() && spec_.ignores(key.data(), key.size())) continue;
        std::string_view name = x.name(e);
        if (e.missing) {
            if (spec_.missing == MissingPolicy::Error)
                fail(ErrorKind::NullValue,
                     "feature \"" + message_name(name) + "\" is missing (NULL)",
                     {}, "The model's missing-value policy is \"error\"; use \"zero\" or \"mean\" to accept missing values.");
            if (spec_.missing == MissingPolicy::Zero) continue;
            uint32_t idx = index_of(name, FeatureType::Numeric, false);
            if (idx == kAbsent || cnt_[idx] == 0) continue;
            terms_.push_back({idx, mean_[idx], true, false});
            continue;
        }
        uint32_t idx;
        if (i < recent_.size() && same_bytes(recent_[i].name, name)) {
            idx = recent_[i].index;
        } else {
            idx = index_of(name, e.type, learning);
            if (idx == kAbsent) continue;
            // Indices never change once given (the dictionary only grows), so this stays true.
            // A hashed model caches only while learning, when index_of also remembered the name.
            if (learning || !spec_.hashed()) {
                if (i >= recent_.size()) recent_.resize(i + 1);
                recent_[i].name.assign(name.data(), name.size());
                recent_[i].index = idx;
            }
        }
        Term& t = terms_.emplace_back();  // in place: see resolve_dense
        t.index = idx;
        t.value = e.value;
        t.numeric = e.type == FeatureType::Numeric;
        t.observed = true;
    }
}

void LinearModel::check_dense(const double* x, size_t n, bool learning) const {
    if (n == 0) fail(ErrorKind::InvalidParameter, "feature array is empty");
    if (n > kMaxFeatures)
        fail(ErrorKind::ProgramLimit, "feature array is too long",
             "it has " + std::to_string(n) + " elements; the limit is " + std::to_string(kMaxFeatures));
    if (dense_dim_ != 0 && n != dense_dim_)
        fail(ErrorKind::InvalidParameter,
             "feature array has " + std::to_string(n) + " elements but the model was trained on " +
                 std::to_string(dense_dim_),
             {}, "Every float8[] given to one model must have the same length.");
    (void)learning;
    for (size_t i = 0; i < n; i++)
        if (!std::isfinite(x[i]))
            fail(ErrorKind::NumericRange,
                 "element " + std::to_string(i + 1) + " of the feature array is " +
                     (std::isnan(x[i]) ? "NaN" : "infinite"),
                 {}, "Features must be finite numbers.");
}

void LinearModel::ensure_dense_map(size_t n) const {
    if (dense_map_.size() == n) return;
    dense_map_.assign(n, -1);
    dense_map_complete_ = true;
    for (size_t i = 0; i < n; i++) {
        std::string nm = position_name(i);
        if (spec_.ignores(nm.data(), nm.size())) {
            dense_map_[i] = -2;
            continue;
        }
        uint32_t idx = index_of(nm, FeatureType::Numeric, false);
        if (idx != kAbsent) dense_map_[i] = idx;
        else dense_map_complete_ = false;
    }
    dense_map_identity_ = true;
    for (size_t i = 0; i < n; i++) dense_map_identity_ &= dense_map_[i] == static_cast<int64_t>(i);
    dense_map_collides_ = false;
    if (spec_.hashed()) {
        std::vector<int64_t> sorted(dense_map_);
        std::sort(sorted.begin(), sorted.end());
        for (size_t i = 1; i < sorted.size(); i++)
            if (sorted[i] >= 0 && sorted[i] == sorted[i - 1]) dense_map_collides_ = true;
    }
}

void LinearModel::resolve_dense(const double* x, size_t n, bool learning) const {
    ensure_dense_map(n);
    if (learning && !dense_map_complete_) {
        std::vector<size_t> unknown;
        for (size_t i = 0; i < n; i++)
            if (dense_map_[i] == -1) unknown.push_back(i);
        if (!unknown.empty()) {
            for (size_t i : unknown) index_of(position_name(i), FeatureType::Numeric, true);
            ensure_dense_map(n);
        }
    }
    terms_may_collide_ = dense_map_collides_;
    // Fields written in place: building a Term on the stack and copying it made the compiler
    // read back a 16-byte value stored in narrower parts (a store-forwarding stall per term).
    terms_.resize(n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const int64_t idx = dense_map_[i];
        if (idx < 0) continue;
        Term& t = terms_[m++];
        t.index = static_cast<uint32_t>(idx);
        t.value = x[i];
        t.numeric = true;
        t.observed = true;
    }
    terms_.resize(m);
}

void LinearModel::stats_overflow(uint32_t index, double value) const {
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", value);
    const std::string which = !spec_.hashed() && index < dict_.size()
                                  ? "feature \"" + message_name(dict_.name(index)) + "\""
                                  : std::string("a feature");
    fail(ErrorKind::NumericRange, "values of " + which + " are too large for its running statistics",
         "learning the value " + std::string(buf) +
             " would overflow the feature's running variance (magnitudes near 1e154 or more), and the model "
             "could not be stored",
         "Scale such a feature down before learning, or turn \"scale\" and \"missing\": \"mean\" off.");
}

void LinearModel::update_stats_and_scale(bool learning) const {
    for (auto& t : terms_) {
        if (!spec_.keeps_feature_stats()) break;
        if (!t.numeric) continue;
        const uint32_t i = t.index;
        if (learning && t.observed) {
            // Welford's update, checked before it is kept: a value whose square overflows
            // would store statistics no decoder accepts (a model that could never be read back).
            const double c = cnt_[i] + 1.0;
            const double d = t.value - mean_[i];
            const double mean = mean_[i] + d / c;
            const double m2 = m2_[i] + d * (t.value - mean);
            if (!std::isfinite(mean) || !std::isfinite(m2)) stats_overflow(i, t.value);
            cnt_[i] = c;
            mean_[i] = mean;
            m2_[i] = m2;
        }
        if (spec_.scale) {
            double var = cnt_[i] > 0 ? m2_[i] / cnt_[i] : 0.0;
            double sd = std::sqrt(var);
            t.value = sd > 0 ? (t.value - mean_[i]) / sd : 0.0;
        }
    }
    // Colliding hashed names act as one feature: sum their values before the update (a
    // prediction, being a sum, does not need it).
    if (learning && terms_may_collide_ && terms_.size() > 1) {
        std::sort(terms_.begin(), terms_.end(),
                  [](const Term& a, const Term& b) { return a.index < b.index; });
        size_t out = 0;
        for (size_t i = 1; i < terms_.size(); i++) {
            if (terms_[i].index == terms_[out].index) terms_[out].value += terms_[i].value;
            else terms_[++out] = terms_[i];
        }
        terms_.resize(out + 1);
    } else if (learning && terms_.size() > 1) {
        // Without hashing two terms share a weight only when one example names a feature twice
        // (jsonb {"c": "x", "c=x": 1}, a row with two columns of one name): one feature too.
        // Rows usually list features in index order, which rules that out in one pass.
        bool increasing = true;
        for (size_t i = 1; i < terms_.size() && increasing; i++)
            increasing = terms_[i - 1].index < terms_[i].index;
        if (!increasing) merge_repeated_terms();
    }
}

// Sums repeated indices into their first occurrence, keeping the terms' order (and so the
// order of the prediction's sum) unchanged when nothing repeats.
void LinearModel::merge_repeated_terms() const {
    term_order_.resize(terms_.size());
    for (size_t i = 0; i < terms_.size(); i++) term_order_[i] = static_cast<uint32_t>(i);
    std::sort(term_order_.begin(), term_order_.end(), [this](uint32_t a, uint32_t b) {
        return terms_[a].index != terms_[b].index ? terms_[a].index < terms_[b].index : a < b;
    });
    bool repeated = false;
    for (size_t k = 1, first = term_order_[0]; k < term_order_.size(); k++) {
        Term& t = terms_[term_order_[k]];
        if (t.index == terms_[first].index) {
            terms_[first].value += t.value;
            t.index = kAbsent;
            repeated = true;
        } else {
            first = term_order_[k];
        }
    }
    if (repeated)
        terms_.erase(std::remove_if(terms_.begin(), terms_.end(),
                                    [](const Term& t) { return t.index == kAbsent; }),
                     terms_.end());
}

double LinearModel::link(double z) const {
    return spec_.kind == ModelKind::LogisticRegression ? sigmoid(z) : z;
}

double LinearModel::label_sd() const {
    return ts_.y_count > 0 ? std::sqrt(ts_.y_m2 / ts_.y_count) : 0.0;
}

double LinearModel::output(double z) const {
    if (!spec_.scale_target || ts_.y_count == 0) return link(z);
    return z * label_sd() + ts_.y_mean;
}

double LinearModel::prepare_label(double y) {
    if (!spec_.keeps_training_state() || spec_.kind != ModelKind::LinearRegression) return y;
    // Welford's update, checked before it is kept (as the feature statistics are).
    const double c = ts_.y_count + 1.0;
    const double d = y - ts_.y_mean;
    const double mean = ts_.y_mean + d / c;
    const double m2 = ts_.y_m2 + d * (y - mean);
    if (!std::isfinite(mean) || !std::isfinite(m2)) {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", y);
        fail(ErrorKind::NumericRange, "labels are too large for the model's running label statistics",
             std::string("learning the label ") + buf +
                 " would overflow their running variance (magnitudes near 1e154 or more), and the model could not be stored",
             "Scale the label down before learning.");
    }
    ts_.y_count = c;
    ts_.y_mean = mean;
    ts_.y_m2 = m2;
    if (!spec_.scale_target) return y;
    const double sd = label_sd();
    return sd > 0 ? (y - mean) / sd : 0.0;
}

void LinearModel::track_loss(double loss) {
    if (!spec_.check_divergence) return;
    if (std::isnan(loss)) loss = HUGE_VAL;
    const double recent = ts_.loss_count == 0 ? loss
                                              : ts_.loss_recent + kRecentLossWeight * (loss - ts_.loss_recent);
    // What "exploded" means: a regression whose recent squared error is a million times the
    // labels' mean square (errors a thousand times the labels' size), a classifier whose recent
    // log loss is 100 times that of guessing uniformly (docs/algorithms.md, "Divergence").
    double limit;
    const char* what;
    if (spec_.kind == ModelKind::LinearRegression) {
        const double mean_square = ts_.y_count > 0 ? ts_.y_m2 / ts_.y_count + ts_.y_mean * ts_.y_mean : 0.0;
        limit = mean_square > 0 ? 1e6 * mean_square : HUGE_VAL;
        what = "squared error";
    } else {
        limit = 100.0 * std::log(std::max<double>(2.0, static_cast<double>(n_outputs())));
        what = "log loss";
    }
    // One example's loss a hundred times the limit is an explosion too, whatever the recent mean
    // (which moves by 1% of it): a regression's label cannot give it on its own before 1e8
    // examples, since the labels' mean square counts that label.
    if (!(recent <= limit) || !(loss <= 100.0 * limit)) {
        const bool one = recent <= limit;
        char buf[200];
        snprintf(buf, sizeof buf, "%s training %s is %.6g, above the limit %.6g, after %.0f examples",
                 one ? "the example's" : "its recent", what, one ? loss : recent, one ? 100.0 * limit : limit,
                 ts_.loss_count);
        fail(ErrorKind::NumericRange, "the model diverged: its training loss exploded", buf,
             "The update was refused. Train again from the spec with a lower learning rate, or with \"scale\": true.");
    }
    ts_.loss_count += 1.0;
    ts_.loss_mean += (loss - ts_.loss_mean) / ts_.loss_count;
    ts_.loss_recent = recent;
}

double LinearModel::score_terms() const {
    double z = intercept_;
    for (const auto& t : terms_) z += w_[t.index] * t.value;
    return z;
}

template <OptimizerKind K, bool L1, typename Drive>
bool LinearModel::update_weights(const Drive& drive) {
    // Parameters in locals: read through spec_, they would be reloaded after every store to a
    // weight (both are doubles, so the compiler must assume they may alias).
    const OptimizerSpec& o = spec_.optimizer;
    const double lr = o.lr, eps = o.eps, beta1 = o.beta1, beta2 = o.beta2;
    const double alpha = o.alpha, beta = o.beta, ftrl_l1 = o.l1, ftrl_l2 = o.l2;
    const double l1 = spec_.l1, l2 = spec_.l2;
    double adam_lr = 0;
    if constexpr (K == OptimizerKind::Adam) {
        const double t = static_cast<double>(n_seen_ + 1);
        adam_lr = lr * std::sqrt(1.0 - std::pow(beta2, t)) / (1.0 - std::pow(beta1, t));
    }
    double* const w_data = w_.data();
    double* const s1 = s1_.data();
    double* const s2 = s2_.data();
    bool finite = true;
    // One weight's step, from gv = g * value (the loss gradient times the feature's value).
    const auto apply = [&](uint32_t i, double gv) {
        double w = w_data[i];
        if constexpr (K == OptimizerKind::Sgd) {
            double gi = gv + 2.0 * l2 * w;
            w -= lr * gi;
        } else if constexpr (K == OptimizerKind::AdaGrad) {
            double gi = gv + 2.0 * l2 * w;
            s1[i] += gi * gi;
            w -= lr * gi / std::sqrt(s1[i] + eps);
        } else if constexpr (K == OptimizerKind::Adam) {
            double gi = gv + 2.0 * l2 * w;
            s1[i] = beta1 * s1[i] + (1.0 - beta1) * gi;
            s2[i] = beta2 * s2[i] + (1.0 - beta2) * gi * gi;
            w -= adam_lr * s1[i] / (std::sqrt(s2[i]) + eps);
        } else {
            // McMahan et al. 2013, Algorithm 1: s1 = z, s2 = n.
            double gi = gv;
            double sigma = (std::sqrt(s2[i] + gi * gi) - std::sqrt(s2[i])) / alpha;
            s1[i] += gi - sigma * w;
            s2[i] += gi * gi;
            double z = s1[i];
            w = std::fabs(z) <= ftrl_l1
                    ? 0.0
                    : -(z - std::copysign(ftrl_l1, z)) / ((beta + std::sqrt(s2[i])) / alpha + ftrl_l2);
        }
        if constexpr (L1) {
            // Truncated gradient: move toward zero by lr * l1, never across it.
            double shrink = lr * l1;
            w = std::fabs(w) <= shrink ? 0.0 : w - std::copysign(shrink, w);
        }
        w_data[i] = w;
        finite &= std::isfinite(w);
        // The optimizer's state must stay finite too, or the model could not be read back.
        if constexpr (K != OptimizerKind::Sgd) finite &= std::isfinite(s1[i]);
        if constexpr (K == OptimizerKind::Adam || K == OptimizerKind::Ftrl) finite &= std::isfinite(s2[i]);
    };
    drive(apply);
    return finite;
}

template <typename Drive>
bool LinearModel::update_all_weights(const Drive& drive) {
    const bool l1 = spec_.l1 > 0;
    switch (spec_.optimizer.kind) {
        case OptimizerKind::Sgd:
            return l1 ? update_weights<OptimizerKind::Sgd, true>(drive) : update_weights<OptimizerKind::Sgd, false>(drive);
        case OptimizerKind::AdaGrad:
            return l1 ? update_weights<OptimizerKind::AdaGrad, true>(drive)
                      : update_weights<OptimizerKind::AdaGrad, false>(drive);
        case OptimizerKind::Adam:
            return l1 ? update_weights<OptimizerKind::Adam, true>(drive) : update_weights<OptimizerKind::Adam, false>(drive);
        case OptimizerKind::Ftrl: return update_weights<OptimizerKind::Ftrl, false>(drive);
    }
    return true;
}

template <typename ForEach>
void LinearModel::step(double z, double y, const ForEach& for_each) {
    const double p = link(z);
    if (!std::isfinite(p))
        fail(ErrorKind::NumericRange, "the model diverged: its prediction is not finite",
             {}, "Lower the learning rate, scale the features (\"scale\": true) or clip gradients.");
    if (spec_.check_divergence) {
        if (spec_.kind == ModelKind::LogisticRegression) {
            // -log p(y) from the score: softplus(-z) for y = 1, softplus(z) for y = 0.
            const double t = y != 0.0 ? -z : z;
            track_loss(std::max(t, 0.0) + std::log1p(std::exp(-std::fabs(t))));
        } else {
            // In the label's units: the standardised label and score scaled back.
            const double sd = spec_.scale_target ? label_sd() : 1.0;
            const double e = (p - y) * sd;
            track_loss(e * e);
        }
    }
    double g = spec_.kind == ModelKind::LogisticRegression ? p - y : 2.0 * (p - y);
    g = std::clamp(g, -spec_.clip_gradient, spec_.clip_gradient);

    intercept_ -= spec_.intercept_lr * g;

    // One loop per optimizer: the choice is made once per example, not once per weight.
    // (FTRL has its own L1 inside its closed form; the others truncate after the step.)
    const bool finite = update_all_weights([&](const auto& apply) {
        for_each([&](uint32_t i, double value) { apply(i, g * value); });
    });
    n_seen_++;
    updates_++;
    // Every weight the example touched was checked as it was written (terms never repeat an
    // index here: repeats were summed into one term).
    if (!finite || !std::isfinite(intercept_))
        fail(ErrorKind::NumericRange, "the model diverged: a weight is no longer finite",
             {}, "Lower the learning rate, scale the features (\"scale\": true) or clip gradients.");
}

// The scores of every class, z_c = b_c + sum of w_ic * v_i over the features for_each(f) lists
// (f(weight index, value), in order), turned into probabilities in probs_ (a softmax shifted by
// the largest score, so no exp overflows). False when a probability is not finite.
template <typename ForEach>
bool LinearModel::softmax_of(const ForEach& for_each) const {
    const size_t k = classes_.size();
    probs_.assign(b_.begin(), b_.end());
    double* const z = probs_.data();
    const double* const w = w_.data();
    for_each([&](uint32_t idx, double v) {
        const double* row = w + size_t(idx) * k;
        for (size_t c = 0; c < k; c++) z[c] += row[c] * v;
    });
    if (k == 0) return true;
    double top = z[0];
    for (size_t c = 1; c < k; c++) top = std::max(top, z[c]);
    double sum = 0;
    for (size_t c = 0; c < k; c++) sum += (z[c] = std::exp(z[c] - top));
    bool finite = true;
    for (size_t c = 0; c < k; c++) finite &= std::isfinite(z[c] /= sum);
    return finite;
}

bool LinearModel::softmax_terms() const {
    return softmax_of([this](const auto& f) {
        for (const Term& t : terms_) f(t.index, t.value);
    });
}

// A float8[] a softmax model reads directly: no statistics, and position i is weight i.
bool LinearModel::dense_direct(size_t n) const {
    if (spec_.keeps_feature_stats() || dense_dim_ == 0 || n != dense_dim_) return false;
    ensure_dense_map(n);
    return dense_map_identity_;
}

[[noreturn]] static void diverged() {
    fail(ErrorKind::NumericRange, "the model diverged: its prediction is not finite",
         {}, "Lower the learning rate, scale the features (\"scale\": true) or clip gradients.");
}

// One step of multinomial logistic regression on the features for_each lists, whose
// probabilities softmax_of has just put in probs_: the gradient of the cross-entropy with
// respect to class c's score is p_c - [c is the label]; each class's weights take the
// optimizer's step.
template <typename ForEach>
void LinearModel::learn_multi(uint32_t cls, const ForEach& for_each) {
    const size_t k = classes_.size();
    if (spec_.check_divergence) track_loss(-std::log(std::max(probs_[cls], std::numeric_limits<double>::min())));
    // The gradients of every class's score, then the intercepts; then each feature's K weights
    // in one pass (they are adjacent, feature-major), every weight's step as in step().
    grads_.resize(k);
    bool finite = true;
    for (size_t c = 0; c < k; c++) {
        double g = probs_[c] - (c == cls ? 1.0 : 0.0);
        grads_[c] = std::clamp(g, -spec_.clip_gradient, spec_.clip_gradient);
        b_[c] -= spec_.intercept_lr * grads_[c];
        finite &= std::isfinite(b_[c]);
    }
    const double* const g = grads_.data();
    finite &= update_all_weights([&](const auto& apply) {
        for_each([&](uint32_t idx, double v) {
            const uint32_t base = static_cast<uint32_t>(size_t(idx) * k);
            for (size_t c = 0; c < k; c++) apply(base + static_cast<uint32_t>(c), g[c] * v);
        });
    });
    n_seen_++;
    updates_++;
    if (!finite)
        fail(ErrorKind::NumericRange, "the model diverged: a weight is no longer finite",
             {}, "Lower the learning rate, scale the features (\"scale\": true) or clip gradients.");
}

void LinearModel::learn_terms_multi(uint32_t cls) {
    if (!softmax_terms()) diverged();
    learn_multi(cls, [this](const auto& f) {
        for (const Term& t : terms_) f(t.index, t.value);
    });
}

void LinearModel::predict_proba(const Observation& x, std::vector<double>& p) const {
    if (!multi()) {
        if (spec_.kind != ModelKind::LogisticRegression) return Model::predict_proba(x, p);
        const double q = predict(x);
        p.assign({1.0 - q, q});
        return;
    }
    resolve(x, false);
    update_stats_and_scale(false);
    if (!softmax_terms()) diverged();
    p = probs_;
}

void LinearModel::predict_proba_dense(const double* x, size_t n, std::vector<double>& p) const {
    if (!multi()) {
        if (spec_.kind != ModelKind::LogisticRegression) return Model::predict_proba_dense(x, n, p);
        const double q = predict_dense(x, n);
        p.assign({1.0 - q, q});
        return;
    }
    // The fast path reads the array directly; a NaN or infinite element makes a probability
    // NaN, and the general path then names it.
    if (dense_direct(n) && softmax_of([x, n](const auto& f) {
            for (size_t i = 0; i < n; i++) f(static_cast<uint32_t>(i), x[i]);
        })) {
        p = probs_;
        return;
    }
    check_dense(x, n, false);
    resolve_dense(x, n, false);
    update_stats_and_scale(false);
    if (!softmax_terms()) diverged();
    p = probs_;
}

namespace {

[[noreturn]] void no_single_number(const LinearModel& m) {
    fail(ErrorKind::InvalidParameter,
         std::string("a ") + m.kind() + " model predicts classes, not one number",
         {}, "Use ml_predict_class for the most probable class or ml_predict_proba for every class's probability.");
}

}  // namespace

bool LinearModel::linear_form(const std::vector<std::string_view>& names, const std::vector<FeatureType>& types,
                              double* out) const {
    // (a softmax has no single score; an ignore list is matched on a row's keys, which names of
    // categories do not spell apart)
    if (multi() || !spec_.ignore.empty()) return false;
    const bool affine = spec_.scale_target && ts_.y_count != 0;
    out[0] = affine ? 2 : spec_.kind == ModelKind::LogisticRegression ? 1 : 0;
    out[1] = intercept_;
    out[2] = affine ? label_sd() : 0.0;
    out[3] = affine ? ts_.y_mean : 0.0;
    for (size_t j = 0; j < names.size(); j++) {
        double* c = out + kLinearFormHeader + kLinearFormColumn * j;
        c[0] = c[1] = c[2] = c[3] = 0;
        // As resolve() and update_stats_and_scale() read a row's value of this name.
        const uint32_t idx = index_of(names[j], types[j], false);
        if (idx == kAbsent) continue;
        const bool scaled = spec_.keeps_feature_stats() && spec_.scale && types[j] == FeatureType::Numeric;
        c[0] = scaled ? 2 : 1;
        c[1] = w_[idx];
        if (scaled) {
            c[2] = mean_[idx];
            c[3] = std::sqrt(cnt_[idx] > 0 ? m2_[idx] / cnt_[idx] : 0.0);
        }
    }
    return true;
}

double LinearModel::predict(const Observation& x) const {
    if (multi()) no_single_number(*this);
    resolve(x, false);
    update_stats_and_scale(false);
    return output(score_terms());
}

double LinearModel::predict_dense(const double* x, size_t n) const {
    if (multi()) no_single_number(*this);
    if (!spec_.keeps_feature_stats() && (dense_dim_ == 0 || n == dense_dim_) && n > 0 &&
        n <= kMaxFeatures) {
        // The scoring fast path: no scaling, so the dot product reads the inputs directly.
        ensure_dense_map(n);
        const double* const w = w_.data();
        double z = intercept_;
        bool finite = true;
        if (dense_map_identity_) {
            // A finite score proves every element finite (see learn_dense_direct); otherwise
            // the general path below names the bad element or scores an overflow as it does.
            z = dense_dot(z, w, x, n);
            finite = std::isfinite(z);
        } else {
            const int64_t* const map = dense_map_.data();
            for (size_t i = 0; i < n; i++) {
                finite &= std::isfinite(x[i]);
                const int64_t idx = map[i];
                if (idx >= 0) z += w[idx] * x[i];
            }
        }
        if (finite) return output(z);
        // fall through: check_dense names the offending element
    }
    check_dense(x, n, false);
    resolve_dense(x, n, false);
    update_stats_and_scale(false);
    return output(score_terms());
}

void LinearModel::learn(const Observation& x, const Label& y) {
    if (multi()) {
        const uint32_t c = class_index(y, true);
        resolve(x, true);
        update_stats_and_scale(true);
        learn_terms_multi(c);
        return;
    }
    learn(x, numeric_label(spec_.kind, task(), y));
}

void LinearModel::learn_dense(const double* x, size_t n, const Label& y) {
    if (multi()) {
        if (dense_direct(n)) {
            // The fast path, as learn_dense_direct: the same arithmetic as the terms would do.
            const uint32_t c = class_index(y, true);
            const auto each = [x, n](const auto& f) {
                for (size_t i = 0; i < n; i++) f(static_cast<uint32_t>(i), x[i]);
            };
            if (softmax_of(each)) return learn_multi(c, each);
        }
        check_dense(x, n, true);
        const uint32_t c = class_index(y, true);
        if (dense_dim_ == 0) {
            dense_dim_ = static_cast<uint32_t>(n);
            if (spec_.hashed())
                for (size_t i = 0; i < n; i++) remember(position_name(i), FeatureType::Numeric);
        }
        resolve_dense(x, n, true);
        update_stats_and_scale(true);
        learn_terms_multi(c);
        return;
    }
    learn_dense(x, n, numeric_label(spec_.kind, task(), y));
}

void LinearModel::learn(const Observation& x, double y) {
    if (multi()) return learn(x, Label::of_number(y));
    check_label(y);
    y = prepare_label(y);
    resolve(x, true);
    update_stats_and_scale(true);
    step(score_terms(), y, [this](const auto& f) {
        for (const Term& t : terms_) f(t.index, t.value);
    });
}

bool LinearModel::learn_dense_direct(const double* x, size_t n, double y) {
    const int64_t* const map = dense_map_.data();
    const double* const w = w_.data();
    // The score as score_terms() sums it (the terms would be the known positions in order),
    // and the elements' check in the same pass.
    double z = intercept_;
    bool finite = true;
    if (dense_map_identity_) {  // the usual case: weights x1..xn were the model's first names
        // Every element enters the score, and a NaN or infinite one makes it NaN or infinite
        // (w * inf is inf or, for w = 0, NaN): a finite score proves every element finite. A
        // score that overflowed from finite elements goes the general way, which handles it.
        z = dense_dot(z, w, x, n);
        if (!std::isfinite(z)) return false;
        step(z, y, [x, n](const auto& f) {
            for (size_t i = 0; i < n; i++) f(static_cast<uint32_t>(i), x[i]);
        });
        return true;
    }
    for (size_t i = 0; i < n; i++) {
        finite &= std::isfinite(x[i]);
        const int64_t idx = map[i];
        if (idx >= 0) z += w[idx] * x[i];
    }
    if (!finite) return false;
    step(z, y, [x, n, map](const auto& f) {
        for (size_t i = 0; i < n; i++)
            if (map[i] >= 0) f(static_cast<uint32_t>(map[i]), x[i]);
    });
    return true;
}

void LinearModel::learn_dense(const double* x, size_t n, double y) {
    if (multi()) return learn_dense(x, n, Label::of_number(y));
    check_label(y);
    y = prepare_label(y);
    // The fast path once the model knows every position: without feature statistics the
    // terms would be the array's known elements in position order, unchanged, so the update
    // reads the array directly (bit for bit the same arithmetic as the general path below).
    if (dense_dim_ != 0 && n == dense_dim_ && !spec_.keeps_feature_stats()) {
        ensure_dense_map(n);
        if (dense_map_complete_ && !dense_map_collides_ && learn_dense_direct(x, n, y)) return;
    }
    check_dense(x, n, true);
    if (dense_dim_ == 0) {
        dense_dim_ = static_cast<uint32_t>(n);
        if (spec_.hashed())  // hashed positions are never unknown: remember their names once
            for (size_t i = 0; i < n; i++) remember(position_name(i), FeatureType::Numeric);
    }
    resolve_dense(x, n, true);
    update_stats_and_scale(true);
    step(score_terms(), y, [this](const auto& f) {
        for (const Term& t : terms_) f(t.index, t.value);
    });
}

void LinearModel::begin_aggregation() {
    agg_base_ = n_seen_;
    base_ = AggregationBase{};
    if (n_seen_ == 0) return;
    if (spec_.keeps_feature_stats())
        for (size_t i = 0; i < cnt_.size(); i++)
            if (cnt_[i] != 0) {
                base_.at.push_back(static_cast<uint32_t>(i));
                base_.cnt.push_back(cnt_[i]);
                base_.mean.push_back(mean_[i]);
                base_.m2.push_back(m2_[i]);
            }
    base_.ts = ts_;
}

void LinearModel::end_aggregation() {
    agg_base_ = 0;
    base_ = AggregationBase{};
}

namespace {

// (n, mean, m2) of the values of a pooled set that are not in its part (n0, mean0, m20): Chan
// et al.'s pooling solved for the other part. Rounding can leave m2 a hair below zero.
void unpool(double& n, double& mean, double& m2, double n0, double mean0, double m20) {
    const double nr = n - n0;
    if (n0 == 0) return;
    if (nr <= 0) {
        n = mean = m2 = 0;
        return;
    }
    const double mr = (n * mean - n0 * mean0) / nr;
    const double d = mr - mean0;
    m2 = std::max(0.0, m2 - m20 - d * d * n0 * nr / n);
    mean = mr;
    n = nr;
}

}  // namespace

void LinearModel::merge(const Model& other) {
    const auto* o = dynamic_cast<const LinearModel*>(&other);
    if (!o) fail(ErrorKind::InvalidParameter, "cannot combine models of different kinds");
    merge(*o);
}

void LinearModel::merge(const LinearModel& other) {
    if (other.identity_ != identity_ || other.spec_.canonical_text() != spec_.canonical_text())
        fail(ErrorKind::InvalidParameter, "cannot combine models with different specs");
    if (dense_dim_ != 0 && other.dense_dim_ != 0 && dense_dim_ != other.dense_dim_)
        fail(ErrorKind::InvalidParameter, "cannot combine models trained on arrays of different lengths");
    if (other.dense_dim_ != 0) dense_dim_ = other.dense_dim_;

    const double a = static_cast<double>(n_seen_ - std::min(agg_base_, n_seen_));
    const double b = static_cast<double>(other.n_seen_ - std::min(other.agg_base_, other.n_seen_));

    // Softmax: the other model's classes, added to ours where new, and where each one is here.
    std::vector<size_t> cmap(other.n_outputs(), 0);
    if (multi()) {
        for (size_t c = 0; c < other.classes_.size(); c++) {
            auto it = class_index_.find(other.classes_[c]);
            if (it == class_index_.end()) {
                add_class(other.classes_[c]);
                cmap[c] = classes_.size() - 1;
            } else {
                cmap[c] = it->second;
            }
        }
    }
    // Map the other model's feature indices into ours (hashed models share the index space).
    std::vector<int64_t> map(other.n_idx_);
    if (spec_.hashed()) {
        for (size_t j = 0; j < map.size(); j++) map[j] = static_cast<int64_t>(j);
        for (size_t j = 0; j < other.dict_.size(); j++) remember(other.dict_.name(j), other.dict_.type(j));
    } else {
        for (size_t j = 0; j < other.dict_.size(); j++)
            map[j] = index_of(other.dict_.name(j), other.dict_.type(j), true);
    }

    if (a + b > 0) {
        const double fa = a / (a + b), fb = b / (a + b);
        const size_t k = n_outputs(), ko = other.n_outputs();
        std::vector<double> ow(w_.size(), 0.0), o1, o2;
        if (!s1_.empty()) o1.assign(w_.size(), 0.0);
        if (!s2_.empty()) o2.assign(w_.size(), 0.0);
        for (size_t j = 0; j < map.size(); j++) {
            for (size_t c = 0; c < ko; c++) {
                const size_t i = static_cast<size_t>(map[j]) * k + cmap[c], oj = j * ko + c;
                ow[i] = other.w_[oj];
                if (!o1.empty()) o1[i] = other.s1_[oj];
                if (!o2.empty()) o2[i] = other.s2_[oj];
            }
        }
        for (size_t i = 0; i < w_.size(); i++) {
            w_[i] = fa * w_[i] + fb * ow[i];
            if (!o1.empty()) s1_[i] = fa * s1_[i] + fb * o1[i];
            if (!o2.empty()) s2_[i] = fa * s2_[i] + fb * o2[i];
        }
        if (spec_.optimizer.kind == OptimizerKind::Ftrl) {
            const OptimizerSpec& o = spec_.optimizer;
            for (size_t i = 0; i < w_.size(); i++) {
                double z = s1_[i];
                w_[i] = std::fabs(z) <= o.l1
                            ? 0.0
                            : -(z - std::copysign(o.l1, z)) / ((o.beta + std::sqrt(s2_[i])) / o.alpha + o.l2);
            }
        }
        intercept_ = fa * intercept_ + fb * other.intercept_;
        if (multi()) {
            // A class the other model never saw keeps its initial intercept there.
            std::vector<double> ob(b_.size(), spec_.intercept_init);
            for (size_t c = 0; c < ko; c++) ob[cmap[c]] = other.b_[c];
            for (size_t c = 0; c < b_.size(); c++) b_[c] = fa * b_[c] + fb * ob[c];
        }
    }
    // Both models hold the statistics of the aggregation base (the model the aggregate started
    // from): the other's own statistics are its statistics without them.
    const AggregationBase& ob = other.base_;
    if (spec_.keeps_feature_stats()) {
        // Chan et al.: exact pooled count, mean and sum of squared deviations.
        size_t k = 0;  // the next base position (both walk positions upward)
        for (size_t j = 0; j < map.size(); j++) {
            size_t i = static_cast<size_t>(map[j]);
            double nb = other.cnt_[j], mb = other.mean_[j], m2b = other.m2_[j];
            while (k < ob.at.size() && ob.at[k] < j) k++;
            if (k < ob.at.size() && ob.at[k] == j) unpool(nb, mb, m2b, ob.cnt[k], ob.mean[k], ob.m2[k]);
            if (nb == 0) continue;
            double na = cnt_[i], n = na + nb;
            double d = mb - mean_[i];
            mean_[i] += d * nb / n;
            m2_[i] += m2b + d * d * na * nb / n;
            cnt_[i] = n;
            if (!std::isfinite(mean_[i]) || !std::isfinite(m2_[i]))
                fail(ErrorKind::NumericRange, "cannot combine models: pooled feature statistics overflow",
                     {}, "Scale features down before learning (magnitudes below about 1e154).");
        }
    }
    if (spec_.keeps_training_state()) {
        TrainingState& t = ts_;
        TrainingState o = other.ts_;
        unpool(o.y_count, o.y_mean, o.y_m2, ob.ts.y_count, ob.ts.y_mean, ob.ts.y_m2);
        if (ob.ts.loss_count > 0) {  // the other side's own losses: its sum less the base's
            const double own = o.loss_count - ob.ts.loss_count;
            o.loss_mean = own > 0 ? std::max(0.0, (o.loss_mean * o.loss_count - ob.ts.loss_mean * ob.ts.loss_count) / own) : 0.0;
            o.loss_count = std::max(0.0, own);
        }
        if (o.y_count > 0) {  // Chan et al., as the feature statistics
            const double na = t.y_count, nb = o.y_count, n = na + nb;
            const double d = o.y_mean - t.y_mean;
            t.y_mean += d * nb / n;
            t.y_m2 += o.y_m2 + d * d * na * nb / n;
            t.y_count = n;
            if (!std::isfinite(t.y_mean) || !std::isfinite(t.y_m2))
                fail(ErrorKind::NumericRange, "cannot combine models: pooled label statistics overflow");
        }
        if (o.loss_count > 0) {
            const double n = t.loss_count + o.loss_count, fo = o.loss_count / n;
            t.loss_mean += (o.loss_mean - t.loss_mean) * fo;
            t.loss_recent += (o.loss_recent - t.loss_recent) * fo;
            t.loss_count = n;
        }
    }
    const uint64_t base = std::max(agg_base_, other.agg_base_);
    n_seen_ = base + static_cast<uint64_t>(a) + static_cast<uint64_t>(b);
    updates_ = std::max(updates_, other.updates_) + 1;
    dense_map_.clear();
}

nlohmann::json LinearModel::info() const {
    nlohmann::json weights = nlohmann::json::object();
    for (size_t j = 0; j < dict_.names().size() && !multi(); j++) {
        uint32_t idx = spec_.hashed()
                           ? murmur3_32(dict_.names()[j].data(), dict_.names()[j].size(), 0) &
                                 ((uint32_t(1) << spec_.hash_bits) - 1)
                           : static_cast<uint32_t>(j);
        weights[dict_.names()[j]] = w_[idx];
    }
    size_t nonzero = 0;
    for (double v : w_) nonzero += v != 0.0;
    char id[17];
    snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(identity_));
    nlohmann::json feature_types = nlohmann::json::array();
    for (auto t : dict_.types()) feature_types.push_back(t == 0 ? "numeric" : "categorical");
    if (multi()) {
        // One map of weights per class.
        const size_t k = classes_.size();
        weights = nlohmann::json::object();
        for (size_t c = 0; c < k; c++) {
            nlohmann::json wc = nlohmann::json::object();
            for (size_t j = 0; j < dict_.names().size(); j++) {
                uint32_t idx = spec_.hashed()
                                   ? murmur3_32(dict_.names()[j].data(), dict_.names()[j].size(), 0) &
                                         ((uint32_t(1) << spec_.hash_bits) - 1)
                                   : static_cast<uint32_t>(j);
                wc[dict_.names()[j]] = w_[size_t(idx) * k + c];
            }
            weights[classes_[c]] = wc;
        }
    }
    nlohmann::json out = {{"kind", model_kind_name(spec_.kind)},
            {"task", task_name(task())},
            {"spec", spec_.to_json()},
            {"identity", id},
            {"updates", updates_},
            {"n_seen", n_seen_},
            {"n_weights", w_.size()},
            {"n_nonzero_weights", nonzero},
            {"n_features", dict_.names().size()},
            {"features", dict_.names()},
            {"feature_types", feature_types},
            {"dense_dim", dense_dim_},
            {"intercept", intercept_},
            {"weights", weights},
            {"size_bytes", encoded_size()}};
    if (is_classifier(task())) out["classes"] = classes();
    // How training went: the progressive loss (each example's loss before it was learned).
    if (spec_.check_divergence)
        out["training_loss"] = {{"loss", spec_.kind == ModelKind::LinearRegression ? "squared_error" : "log_loss"},
                                {"examples", static_cast<uint64_t>(ts_.loss_count)},
                                {"mean", ts_.loss_count > 0 ? nlohmann::json(ts_.loss_mean) : nlohmann::json()},
                                {"recent", ts_.loss_count > 0 ? nlohmann::json(ts_.loss_recent) : nlohmann::json()}};
    else
        out["training_loss"] = nullptr;
    if (spec_.keeps_training_state() && spec_.kind == ModelKind::LinearRegression)
        out["label"] = {{"count", static_cast<uint64_t>(ts_.y_count)}, {"mean", ts_.y_mean}, {"sd", label_sd()}};
    if (multi()) {
        out.erase("intercept");
        nlohmann::json b = nlohmann::json::object();
        for (size_t c = 0; c < classes_.size(); c++) b[classes_[c]] = b_[c];
        out["intercepts"] = b;
    }
    // Issue 16: a scaled model's weights per raw unit of each feature (the scaled weight divided
    // by the feature's sd; times the label's sd when the label is standardised) and the intercept
    // in raw units (the prediction's margin at all-zero features), beside the scaled ones.
    if (spec_.scale || spec_.scale_target) {
        auto raw_of = [&](size_t c) {
            nlohmann::json r = nlohmann::json::object();
            for (size_t j = 0; j < dict_.names().size(); j++) {
                uint32_t idx = spec_.hashed()
                                   ? murmur3_32(dict_.names()[j].data(), dict_.names()[j].size(), 0) &
                                         ((uint32_t(1) << spec_.hash_bits) - 1)
                                   : static_cast<uint32_t>(j);
                r[dict_.names()[j]] = raw_weight(idx, c, dict_.types()[j] == 0);
            }
            return r;
        };
        if (multi()) {
            nlohmann::json rw = nlohmann::json::object(), rb = nlohmann::json::object();
            for (size_t c = 0; c < classes_.size(); c++) {
                rw[classes_[c]] = raw_of(c);
                rb[classes_[c]] = raw_intercept(c);
            }
            out["raw_weights"] = rw;
            out["raw_intercepts"] = rb;
        } else {
            out["raw_weights"] = raw_of(0);
            out["raw_intercept"] = raw_intercept(0);
        }
    }
    return out;
}

// ---- feature mismatches (docs/features.md, "Feature mismatches"): the feature dictionary's ------

void LinearModel::check_features(const Observation& x, FeatureCheck& out, bool name_missing) const {
    dict_.check(x, spec_.ignore, out, name_missing);
}

void LinearModel::check_features_dense(size_t n, FeatureCheck& out) const { dict_.check_dense(n, spec_.ignore, out); }

std::string LinearModel::closest_feature(std::string_view name) const { return dict_.closest(name); }

// ---- Issue 16: explanations ------------------------------------------------------------------
// A linear margin is a sum: the intercept plus one weight times one (scaled) value per feature,
// so its explanation is exact. With "scale", a feature's value is (x - mean) / sd: its
// contribution w (x - mean) / sd is in the feature's raw units relative to its training mean
// (the SHAP value of a linear model with independent features), and the base is the intercept,
// the margin at the means. Without scaling the base is the intercept (the margin at zero).

double LinearModel::feature_sd(uint32_t idx) const {
    if (!spec_.keeps_feature_stats() || idx >= cnt_.size() || cnt_[idx] <= 0) return 0.0;
    return std::sqrt(m2_[idx] / cnt_[idx]);
}

void LinearModel::explain_terms(Explanation& out) const {
    const size_t n = out.features.size();
    if (!multi()) {
        // A standardised label: prediction = z * sd + mean, so each part scales by sd too.
        const bool target = spec_.scale_target && ts_.y_count > 0;
        const double ysd = target ? label_sd() : 1.0;
        out.scale = spec_.kind == ModelKind::LogisticRegression ? "log_odds" : "value";
        out.base.push_back(target ? intercept_ * ysd + ts_.y_mean : intercept_);
        out.contributions.assign(n, 0.0);
        for (size_t j = 0; j < n; j++) {
            const Term& t = terms_[j];
            if (t.index == kAbsent) continue;
            out.contributions[j] = w_[t.index] * t.value * ysd;
        }
        return;
    }
    const size_t k = classes_.size();
    if (k == 0)
        fail(ErrorKind::InvalidParameter, "a softmax_regression model that learned no class has nothing to explain");
    out.scale = "logit";
    out.outputs = classes_;
    out.base.assign(b_.begin(), b_.end());
    out.contributions.assign(n * k, 0.0);
    for (size_t j = 0; j < n; j++) {
        const Term& t = terms_[j];
        if (t.index == kAbsent) continue;
        for (size_t c = 0; c < k; c++) out.contributions[c * n + j] = w_[size_t(t.index) * k + c] * t.value;
    }
}

void LinearModel::explain(const Observation& x, Explanation& out) const {
    out.clear();
    out.method = "exact_linear";
    // resolve()'s loop, keeping a term (index kAbsent: contribution 0) for every feature the
    // observation gives that the model reads, so that each term has its name.
    terms_.clear();
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        std::string_view key = x.key(e);
        if (!spec_.ignore.empty() && spec_.ignores(key.data(), key.size())) continue;
        std::string_view name = x.name(e);
        Term t{kAbsent, 0.0, e.type == FeatureType::Numeric, true};
        double raw = e.value;
        if (e.missing) {
            if (spec_.missing == MissingPolicy::Error)
                fail(ErrorKind::NullValue, "feature \"" + message_name(name) + "\" is missing (NULL)", {},
                     "The model's missing-value policy is \"error\"; use \"zero\" or \"mean\" to accept missing values.");
            raw = std::numeric_limits<double>::quiet_NaN();
            if (spec_.missing == MissingPolicy::Mean) {
                uint32_t idx = index_of(name, FeatureType::Numeric, false);
                if (idx != kAbsent && cnt_[idx] != 0) t = {idx, mean_[idx], true, false};
            }
        } else {
            t.index = index_of(name, e.type, false);
            t.value = e.value;
        }
        out.features.emplace_back(name);
        out.values.push_back(raw);
        terms_.push_back(t);
    }
    // update_stats_and_scale(false) for the terms the model knows.
    if (spec_.scale)
        for (auto& t : terms_) {
            if (t.index == kAbsent || !t.numeric) continue;
            const double sd = feature_sd(t.index);
            t.value = sd > 0 ? (t.value - mean_[t.index]) / sd : 0.0;
        }
    explain_terms(out);
}

void LinearModel::explain_dense(const double* x, size_t n, Explanation& out) const {
    out.clear();
    out.method = "exact_linear";
    check_dense(x, n, false);
    ensure_dense_map(n);
    terms_.clear();
    for (size_t i = 0; i < n; i++) {
        const int64_t idx = dense_map_[i];
        if (idx == -2) continue;
        out.features.push_back(position_name(i));
        out.values.push_back(x[i]);
        terms_.push_back({idx < 0 ? kAbsent : static_cast<uint32_t>(idx), x[i], true, true});
    }
    if (spec_.scale)
        for (auto& t : terms_) {
            if (t.index == kAbsent) continue;
            const double sd = feature_sd(t.index);
            t.value = sd > 0 ? (t.value - mean_[t.index]) / sd : 0.0;
        }
    explain_terms(out);
}

double LinearModel::raw_weight(uint32_t idx, size_t c, bool numeric) const {
    const size_t k = multi() ? classes_.size() : 1;
    double w = w_[size_t(idx) * k + c];
    if (spec_.scale && numeric) {  // a category's 0/1 is not scaled
        const double sd = feature_sd(idx);
        w = sd > 0 ? w / sd : 0.0;
    }
    if (!multi() && spec_.scale_target && ts_.y_count > 0) w *= label_sd();
    return w;
}

double LinearModel::raw_intercept(size_t c) const {
    const size_t k = multi() ? classes_.size() : 1;
    double b = multi() ? b_[c] : intercept_;
    if (spec_.scale)
        for (size_t j = 0; j < dict_.size(); j++) {
            if (dict_.types()[j] != 0) continue;  // categories are not scaled
            const uint32_t idx = spec_.hashed() ? murmur3_32(dict_.name(j).data(), dict_.name(j).size(), 0) &
                                                      ((uint32_t(1) << spec_.hash_bits) - 1)
                                                : static_cast<uint32_t>(j);
            const double sd = feature_sd(idx);
            if (sd > 0) b -= w_[size_t(idx) * k + c] * mean_[idx] / sd;
        }
    if (!multi() && spec_.scale_target && ts_.y_count > 0) b = b * label_sd() + ts_.y_mean;
    return b;
}

void LinearModel::importance(FeatureImportance& out) const {
    // |weight| per standard deviation of the feature: how far the margin moves when the feature
    // moves by one sd (a scaled model's weights already are per sd); the mean over a softmax's
    // classes. Without feature statistics, |weight| (per raw unit).
    const bool per_sd = spec_.keeps_feature_stats();
    out.kind = per_sd ? "abs_weight_per_sd" : "abs_weight";
    out.features.clear();
    out.importance.clear();
    const size_t k = multi() ? classes_.size() : 1;
    for (size_t j = 0; j < dict_.size(); j++) {
        const uint32_t idx = spec_.hashed() ? murmur3_32(dict_.name(j).data(), dict_.name(j).size(), 0) &
                                                  ((uint32_t(1) << spec_.hash_bits) - 1)
                                            : static_cast<uint32_t>(j);
        double sum = 0;
        for (size_t c = 0; c < k; c++) {
            const double w = idx * k + c < w_.size() ? w_[size_t(idx) * k + c] : 0.0;
            // Scaled numeric weights are per sd already; categories (0/1) are read as they are.
            const bool numeric = dict_.types()[j] == 0;
            const double factor = per_sd && !spec_.scale && numeric ? feature_sd(idx) : 1.0;
            sum += std::fabs(w) * factor;
        }
        out.features.push_back(dict_.name(j));
        out.importance.push_back(k > 0 ? sum / static_cast<double>(k) : 0.0);
    }
}

}  // namespace pg_learn::core
