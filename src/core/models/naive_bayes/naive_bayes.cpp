// The naive Bayes family (naive_bayes.hpp; docs/models.md, "Naive Bayes").
#include "core/models/naive_bayes/naive_bayes.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace pg_learn::core {

using nlohmann::json;

namespace {

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

bool finite_nonneg(double v) { return std::isfinite(v) && v >= 0; }

std::string number_text(double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace

// ---- shared ------------------------------------------------------------------------------------

NaiveBayesModel::NaiveBayesModel(const ModelFamily& family, FamilySpec spec, size_t n_tables)
    : FamilyModel(family, std::move(spec)), n_tables_(n_tables) {}

void NaiveBayesModel::assign(const Model& other) {
    const auto* o = dynamic_cast<const NaiveBayesModel*>(&other);
    if (!o || o->kind() != kind()) fail(ErrorKind::Internal, "assign between models of different kinds");
    FamilyModel::operator=(*o);
    n_tables_ = o->n_tables_;
    class_count_ = o->class_count_;
    for (size_t t = 0; t < 3; t++) tables_[t] = o->tables_[t];
}

void NaiveBayesModel::features_added(size_t n) {
    // (rows grow lazily; a refused example's names are forgotten: no row keeps them)
    for (size_t t = 0; t < n_tables_; t++)
        for (auto& row : tables_[t])
            if (row.size() > n) row.resize(n);
}

void NaiveBayesModel::classes_added(size_t k) {
    class_count_.resize(k, 0.0);
    for (size_t t = 0; t < n_tables_; t++) tables_[t].resize(k);
}

void NaiveBayesModel::widen(size_t c) {
    const size_t n = features().size();
    for (size_t t = 0; t < n_tables_; t++)
        if (tables_[t][c].size() < n) tables_[t][c].resize(n, 0.0);
}

uint32_t NaiveBayesModel::class_index(const FamilyModel& from, size_t c) const {
    const uint32_t i = class_dictionary().find(Label::of_text(from.classes()[c]));
    if (i == UINT32_MAX) fail(ErrorKind::Internal, "naive Bayes merge: a class of a partial model is unknown");
    return i;
}

uint32_t NaiveBayesModel::feature_index(const FamilyModel& from, size_t f) const {
    const uint32_t i = features().find(from.features().name(f));
    if (i == kUnknownFeature) fail(ErrorKind::Internal, "naive Bayes merge: a feature of a partial model is unknown");
    return i;
}

void NaiveBayesModel::normalize(std::vector<double>& jll, const std::vector<double>& class_count, std::vector<double>& p) {
    double top = -std::numeric_limits<double>::infinity();
    for (size_t c = 0; c < jll.size(); c++)
        if (class_count[c] > 0) top = std::max(top, jll[c]);
    p.assign(jll.size(), 0.0);
    if (!std::isfinite(top)) {
        if (top == -std::numeric_limits<double>::infinity()) {
            bool any = false;
            for (double n : class_count) any = any || n > 0;
            if (!any) {
                p.clear();  // nothing learned: no class to predict
                return;
            }
        }
        fail(ErrorKind::NumericRange, "naive Bayes log-likelihood is not finite",
             {}, "A feature value far outside what the model learned can overflow; check the input's scale.");
    }
    double sum = 0;
    for (size_t c = 0; c < jll.size(); c++)
        if (class_count[c] > 0) sum += std::exp(jll[c] - top);
    const double log_norm = top + std::log(sum);
    for (size_t c = 0; c < jll.size(); c++)
        if (class_count[c] > 0) p[c] = std::exp(jll[c] - log_norm);
}

// Binary state: u32 classes K, u32 features F, u32 tables T, u32 0; K class counts; then per
// table, per class, F doubles (rows written out in full).
void NaiveBayesModel::write_state(detail::ByteWriter& w) const {
    const size_t k = class_count_.size(), n = features().size();
    w.put<uint32_t>(static_cast<uint32_t>(k));
    w.put<uint32_t>(static_cast<uint32_t>(n));
    w.put<uint32_t>(static_cast<uint32_t>(n_tables_));
    w.put<uint32_t>(0);
    for (double v : class_count_) w.put<double>(v);
    for (size_t t = 0; t < n_tables_; t++)
        for (size_t c = 0; c < k; c++) {
            const std::vector<double>& row = tables_[t][c];
            w.bytes(row.data(), row.size() * sizeof(double));
            for (size_t f = row.size(); f < n; f++) w.put<double>(0.0);
        }
}

void NaiveBayesModel::read_state(detail::ByteReader& r) {
    const auto k = r.get<uint32_t>("naive Bayes state");
    const auto n = r.get<uint32_t>("naive Bayes state");
    const auto t_count = r.get<uint32_t>("naive Bayes state");
    if (r.get<uint32_t>("naive Bayes state") != 0) r.corrupt("reserved field of the naive Bayes state is not zero");
    if (k != classes().size()) r.corrupt("naive Bayes state: class count differs from the class list");
    if (n != features().size()) r.corrupt("naive Bayes state: feature count differs from the feature list");
    if (t_count != n_tables_) r.corrupt("naive Bayes state: wrong number of tables");
    // Checked before allocating: a forged header cannot make the decoder allocate more than the
    // bytes it was given.
    const double need = (double(k) + double(n_tables_) * double(k) * double(n)) * sizeof(double);
    if (need > double(r.remaining())) r.corrupt("truncated in naive Bayes state");
    class_count_.assign(k, 0.0);
    for (auto& v : class_count_) v = r.get<double>("naive Bayes state");
    for (size_t t = 0; t < n_tables_; t++) {
        tables_[t].assign(k, {});
        for (size_t c = 0; c < k; c++) {
            tables_[t][c].resize(n);
            r.bytes(tables_[t][c].data(), size_t(n) * sizeof(double), "naive Bayes state");
        }
    }
}

json NaiveBayesModel::state_json() const {
    const size_t k = class_count_.size(), n = features().size();
    json j = {{"class_count", class_count_}};
    for (size_t t = 0; t < n_tables_; t++) {
        json rows = json::array();
        for (size_t c = 0; c < k; c++) {
            std::vector<double> row = tables_[t][c];
            row.resize(n, 0.0);
            rows.push_back(std::move(row));
        }
        j[table_name(t)] = std::move(rows);
    }
    return j;
}

void NaiveBayesModel::state_from_json(const json& j) {
    const size_t k = classes().size(), n = features().size();
    if (!j.is_object() || j.size() != 1 + n_tables_) bad_json(std::string("\"state\" of a ") + kind() + " model has the wrong keys");
    auto numbers = [](const json& a, size_t len, const std::string& what) {
        if (!a.is_array() || a.size() != len) bad_json(what + " must be an array of " + std::to_string(len) + " numbers");
        std::vector<double> out(len);
        for (size_t i = 0; i < len; i++) {
            if (!a[i].is_number()) bad_json(what + " must be an array of numbers");
            out[i] = a[i].get<double>();
        }
        return out;
    };
    if (!j.contains("class_count")) bad_json("\"state\" lacks \"class_count\"");
    class_count_ = numbers(j["class_count"], k, "\"class_count\"");
    for (size_t t = 0; t < n_tables_; t++) {
        const std::string name = table_name(t);
        if (!j.contains(name)) bad_json("\"state\" lacks \"" + name + "\"");
        const json& rows = j[name];
        if (!rows.is_array() || rows.size() != k) bad_json("\"" + name + "\" must hold one array per class");
        tables_[t].assign(k, {});
        for (size_t c = 0; c < k; c++) tables_[t][c] = numbers(rows[c], n, "each row of \"" + name + "\"");
    }
}

std::string NaiveBayesModel::invalid_state() const {
    const size_t k = classes().size(), n = features().size();
    if (class_count_.size() != k) return "naive Bayes state: class count differs from the class list";
    for (size_t t = 0; t < n_tables_; t++) {
        if (tables_[t].size() != k) return "naive Bayes state: class count differs from the class list";
        for (const auto& row : tables_[t])
            if (row.size() > n) return "naive Bayes state: a row is longer than the feature list";
    }
    for (size_t c = 0; c < k; c++) {
        if (!finite_nonneg(class_count_[c]) || class_count_[c] != std::floor(class_count_[c]))
            return "naive Bayes state: a class count is not a whole number >= 0";
        if (std::string why = invalid_row(c); !why.empty()) return "naive Bayes state: " + why;
    }
    return {};
}

json NaiveBayesModel::info_extra() const {
    json counts = json::object();
    for (size_t c = 0; c < class_count_.size(); c++) counts[classes()[c]] = class_count_[c];
    return {{"class_counts", counts}};
}

namespace {

extern const ModelFamily kGaussian, kMultinomial, kBernoulli;

// ---- Gaussian ----------------------------------------------------------------------------------

// Per class and feature: the number of values learned, their mean and the sum of squared
// deviations from it (M2); merged with Chan et al.'s formula.
struct Moments {
    double n, mean, m2;
};

Moments combine(Moments a, Moments b) {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const double n = a.n + b.n, d = b.mean - a.mean;
    return {n, a.mean + d * (b.n / n), a.m2 + b.m2 + d * d * (a.n * b.n / n)};
}

// The moments a of whole = a (+) part.
Moments remove(Moments whole, Moments part) {
    const double n = whole.n - part.n;
    if (n < 0) fail(ErrorKind::InvalidParameter, "cannot merge partial models that started from different models");
    if (n == 0) return {0, 0, 0};
    if (part.n == 0) return whole;
    const double mean = (whole.n * whole.mean - part.n * part.mean) / n;
    const double d = part.mean - mean;
    const double m2 = whole.m2 - part.m2 - d * d * (n * part.n / whole.n);
    return {n, mean, std::max(m2, 0.0)};
}

class GaussianNB final : public NaiveBayesModel {
public:
    GaussianNB(FamilySpec spec, double var_smoothing)
        : NaiveBayesModel(kGaussian, std::move(spec), 3), var_smoothing_(var_smoothing) {}
    std::unique_ptr<Model> clone() const override { return std::make_unique<GaussianNB>(*this); }

protected:
    const char* table_name(size_t t) const override { return t == 0 ? "count" : t == 1 ? "mean" : "m2"; }

    Moments moments(size_t c, size_t f) const { return {at(0, c, f), at(1, c, f), at(2, c, f)}; }
    void set(size_t c, size_t f, Moments m) {
        tables_[0][c][f] = m.n;
        tables_[1][c][f] = m.mean;
        tables_[2][c][f] = m.m2;
    }
    // A feature's moments over every class.
    Moments pooled(size_t f) const {
        Moments all{0, 0, 0};
        for (size_t c = 0; c < class_count_.size(); c++) all = combine(all, moments(c, f));
        return all;
    }

    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t y) override {
        for (const FeatureTerm& t : x)
            if (features().type(t.index) == FeatureType::Categorical)
                fail(ErrorKind::InvalidParameter,
                     "a gaussian_nb model takes numeric features only: \"" + message_name(features().name(t.index)) + "\" is categorical",
                     {}, "Give the category as numeric 0/1 columns, leave it out with \"ignore\", or use multinomial_nb or bernoulli_nb.");
        // Welford's update, computed first: values whose moments would overflow (magnitudes
        // near 1e154 and more) are refused before anything changes.
        next_.resize(x.size());
        for (size_t i = 0; i < x.size(); i++) {
            const FeatureTerm& t = x[i];
            Moments m = moments(y, t.index);
            m.n += 1;
            const double d = t.value - m.mean;
            m.mean += d / m.n;
            m.m2 += d * (t.value - m.mean);
            if (!std::isfinite(m.mean) || !std::isfinite(m.m2))
                fail(ErrorKind::NumericRange,
                     "a gaussian_nb model cannot learn feature \"" + message_name(features().name(t.index)) + "\" = " +
                         number_text(t.value) + ": its mean or variance would overflow",
                     {}, "Values near the limits of float8 cannot be summarised; scale them down first.");
            next_[i] = m;
        }
        widen(y);
        class_count_[y] += 1;
        for (size_t i = 0; i < x.size(); i++) set(y, x[i].index, next_[i]);
    }

    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override {
        const size_t k = class_count_.size();
        // epsilon as scikit-learn's: var_smoothing times the largest variance of a feature over
        // every example (1 when no feature varies, which scikit-learn leaves as 0 and divides by).
        double top = 0;
        for (size_t f = 0; f < features().size(); f++) {
            const Moments m = pooled(f);
            if (m.n > 0) top = std::max(top, m.m2 / m.n);
        }
        const double eps = var_smoothing_ * (top > 0 ? top : 1.0);
        double total = 0;
        for (double n : class_count_) total += n;
        std::vector<double> jll(k, 0.0);
        for (size_t c = 0; c < k; c++)
            if (class_count_[c] > 0) jll[c] = std::log(class_count_[c] / total);
        constexpr double kTwoPi = 6.283185307179586476925286766559;
        for (const FeatureTerm& t : x) {
            const Moments all = pooled(t.index);
            if (all.n == 0) continue;  // learned by no class: left out
            for (size_t c = 0; c < k; c++) {
                if (class_count_[c] == 0) continue;
                // a feature the class never saw: its distribution over every class
                Moments m = moments(c, t.index);
                if (m.n == 0) m = all;
                const double var = m.m2 / m.n + eps;
                const double d = t.value - m.mean;
                jll[c] += -0.5 * std::log(kTwoPi * var) - 0.5 * (d * d / var);
            }
        }
        normalize(jll, class_count_, p);
    }

    void merge_state(const FamilyModel& other_model, const std::vector<uint32_t>& fmap,
                     const std::vector<uint32_t>& cmap, const FamilyModel* base_model) override {
        const auto& other = static_cast<const GaussianNB&>(other_model);
        const auto* base = static_cast<const GaussianNB*>(base_model);
        // base's classes and features in other's numbering (base's dictionaries are prefixes of
        // other's, which learned from it; found by name all the same)
        std::vector<uint32_t> bc, bf;
        if (base) {
            for (size_t c = 0; c < base->classes().size(); c++) bc.push_back(other.class_index(*base, c));
            for (size_t f = 0; f < base->features().size(); f++) bf.push_back(other.feature_index(*base, f));
        }
        for (size_t c = 0; c < other.class_count_.size(); c++) {
            widen(cmap[c]);
        }
        std::vector<double> base_count(other.class_count_.size(), 0.0);
        std::vector<std::vector<Moments>> base_moments(other.class_count_.size());
        if (base)
            for (size_t c = 0; c < bc.size(); c++) {
                base_count[bc[c]] = base->class_count_[c];
                base_moments[bc[c]].assign(other.features().size(), Moments{0, 0, 0});
                for (size_t f = 0; f < bf.size(); f++) base_moments[bc[c]][bf[f]] = base->moments(c, f);
            }
        for (size_t c = 0; c < other.class_count_.size(); c++) {
            const double own = other.class_count_[c] - base_count[c];
            if (own < 0) fail(ErrorKind::InvalidParameter, "cannot merge partial models that started from different models");
            class_count_[cmap[c]] += own;
            for (size_t f = 0; f < other.features().size(); f++) {
                Moments o = other.moments(c, f);
                if (!base_moments[c].empty()) o = remove(o, base_moments[c][f]);
                if (o.n == 0) continue;
                set(cmap[c], fmap[f], combine(moments(cmap[c], fmap[f]), o));
            }
        }
    }

    std::string invalid_row(size_t c) const override {
        for (size_t f = 0; f < tables_[0][c].size(); f++) {
            const Moments m = moments(c, f);
            if (!finite_nonneg(m.n) || m.n != std::floor(m.n) || m.n > class_count_[c])
                return "a feature count is not a whole number between 0 and its class's count";
            if (!std::isfinite(m.mean) || !finite_nonneg(m.m2)) return "a mean or M2 is not finite (M2 >= 0)";
            if (m.n == 0 && (m.mean != 0 || m.m2 != 0)) return "a feature without values has a mean or M2";
        }
        return {};
    }

private:
    double var_smoothing_;
    std::vector<Moments> next_;  // learn_terms' scratch
};

// ---- multinomial and Bernoulli ----------------------------------------------------------------

// Per class and feature one sum: of the counts (multinomial) or of the examples whose value
// exceeds the threshold (Bernoulli).
class DiscreteNB : public NaiveBayesModel {
protected:
    DiscreteNB(const ModelFamily& family, FamilySpec spec, double alpha, bool fit_prior)
        : NaiveBayesModel(family, std::move(spec), 1), alpha_(alpha), fit_prior_(fit_prior) {}

    const char* table_name(size_t) const override { return "feature_count"; }

    // log P(c), as scikit-learn: log(count) - log(total), or uniform over the classes.
    std::vector<double> log_prior() const {
        const size_t k = class_count_.size();
        double total = 0, active = 0;
        for (double n : class_count_) total += n, active += n > 0 ? 1 : 0;
        std::vector<double> out(k, 0.0);
        for (size_t c = 0; c < k; c++)
            if (class_count_[c] > 0) out[c] = fit_prior_ ? std::log(class_count_[c]) - std::log(total) : -std::log(active);
        return out;
    }

    void merge_state(const FamilyModel& other_model, const std::vector<uint32_t>& fmap,
                     const std::vector<uint32_t>& cmap, const FamilyModel* base_model) override {
        const auto& other = static_cast<const DiscreteNB&>(other_model);
        const auto* base = static_cast<const DiscreteNB*>(base_model);
        // other minus base, in other's numbering
        std::vector<double> count = other.class_count_;
        std::vector<std::vector<double>> fc(count.size());
        for (size_t c = 0; c < count.size(); c++) {
            fc[c] = other.tables_[0][c];
            fc[c].resize(other.features().size(), 0.0);
        }
        if (base)
            for (size_t c = 0; c < base->classes().size(); c++) {
                const uint32_t oc = other.class_index(*base, c);
                count[oc] -= base->class_count_[c];
                for (size_t f = 0; f < base->features().size(); f++)
                    fc[oc][other.feature_index(*base, f)] -= base->at(0, c, f);
            }
        for (size_t c = 0; c < count.size(); c++) {
            if (count[c] < 0) fail(ErrorKind::InvalidParameter, "cannot merge partial models that started from different models");
            widen(cmap[c]);
            class_count_[cmap[c]] += count[c];
            for (size_t f = 0; f < fc[c].size(); f++) {
                // (a sum of real counts minus the base's may round below zero)
                const double v = tables_[0][cmap[c]][fmap[f]] + fc[c][f];
                tables_[0][cmap[c]][fmap[f]] = std::max(v, 0.0);
            }
        }
    }

    double alpha_;
    bool fit_prior_;
};

class MultinomialNB final : public DiscreteNB {
public:
    MultinomialNB(FamilySpec spec, double alpha, bool fit_prior)
        : DiscreteNB(kMultinomial, std::move(spec), alpha, fit_prior) {}
    std::unique_ptr<Model> clone() const override { return std::make_unique<MultinomialNB>(*this); }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t y) override {
        for (const FeatureTerm& t : x)
            if (t.value < 0)
                fail(ErrorKind::InvalidParameter,
                     "a multinomial_nb model learns counts: feature \"" + message_name(features().name(t.index)) +
                         "\" is negative (" + number_text(t.value) + ")",
                     {}, "Counts and frequencies must be >= 0; for real-valued features use gaussian_nb.");
            else if (!std::isfinite(at(0, y, t.index) + t.value))
                fail(ErrorKind::NumericRange,
                     "a multinomial_nb model cannot learn feature \"" + message_name(features().name(t.index)) + "\" = " +
                         number_text(t.value) + ": its count would overflow",
                     {}, "Values near the limits of float8 cannot be summed; scale them down first.");
        widen(y);
        class_count_[y] += 1;
        double* fc = tables_[0][y].data();
        for (const FeatureTerm& t : x) fc[t.index] += t.value;
    }

    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override {
        const size_t k = class_count_.size(), n = features().size();
        std::vector<double> jll = log_prior();
        for (size_t c = 0; c < k; c++) {
            if (class_count_[c] == 0) continue;
            // log P(f | c) = log(count + alpha) - log(sum over features of (count + alpha))
            double total = 0;
            for (size_t f = 0; f < n; f++) total += at(0, c, f) + alpha_;
            const double log_total = std::log(total);
            for (const FeatureTerm& t : x) jll[c] += t.value * (std::log(at(0, c, t.index) + alpha_) - log_total);
        }
        normalize(jll, class_count_, p);
    }

    std::string invalid_row(size_t c) const override {
        for (double v : tables_[0][c])
            if (!finite_nonneg(v)) return "a feature count is not a finite number >= 0";
        return {};
    }
};

class BernoulliNB final : public DiscreteNB {
public:
    BernoulliNB(FamilySpec spec, double alpha, bool fit_prior, double binarize)
        : DiscreteNB(kBernoulli, std::move(spec), alpha, fit_prior), binarize_(binarize) {}
    std::unique_ptr<Model> clone() const override { return std::make_unique<BernoulliNB>(*this); }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t y) override {
        widen(y);
        class_count_[y] += 1;
        double* fc = tables_[0][y].data();
        for (const FeatureTerm& t : x)
            if (t.value > binarize_) fc[t.index] += 1;
    }

    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override {
        const size_t k = class_count_.size(), n = features().size();
        std::vector<double> jll = log_prior();
        for (size_t c = 0; c < k; c++) {
            if (class_count_[c] == 0) continue;
            // P(f | c) = (count + alpha) / (class count + 2 alpha); every feature learned is off
            // (its value 0, absent or missing) unless the example has it above the threshold.
            const double log_denom = std::log(class_count_[c] + 2 * alpha_);
            for (size_t f = 0; f < n; f++) jll[c] += std::log(class_count_[c] - at(0, c, f) + alpha_) - log_denom;
            for (const FeatureTerm& t : x) {
                if (!(t.value > binarize_)) continue;
                const double on = at(0, c, t.index);
                jll[c] += std::log(on + alpha_) - std::log(class_count_[c] - on + alpha_);
            }
        }
        normalize(jll, class_count_, p);
    }

    std::string invalid_row(size_t c) const override {
        for (double v : tables_[0][c])
            if (!finite_nonneg(v) || v != std::floor(v) || v > class_count_[c])
                return "a feature count is not a whole number between 0 and its class's count";
        return {};
    }

private:
    double binarize_;
};

// ---- specs -------------------------------------------------------------------------------------

constexpr double kMaxOption = 1e300;

std::unique_ptr<Model> gaussian_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"var_smoothing"});
    const double var_smoothing = number_option(spec, "var_smoothing", 1e-9, 0, kMaxOption);
    if (!(var_smoothing > 0))
        fail(ErrorKind::InvalidParameter, "option \"var_smoothing\" must be > 0",
             {}, "It adds var_smoothing times the largest feature variance to every variance (default 1e-9).");
    s.options["var_smoothing"] = var_smoothing;
    return std::make_unique<GaussianNB>(std::move(s), var_smoothing);
}

double alpha_option(const json& spec) {
    // scikit-learn clips alpha below 1e-10 to 1e-10 (force_alpha=False); refused here instead
    return number_option(spec, "alpha", 1.0, 1e-10, kMaxOption);
}

std::unique_ptr<Model> multinomial_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"alpha", "fit_prior"});
    const double alpha = alpha_option(spec);
    const bool fit_prior = boolean_option(spec, "fit_prior", true);
    s.options["alpha"] = alpha;
    s.options["fit_prior"] = fit_prior;
    return std::make_unique<MultinomialNB>(std::move(s), alpha, fit_prior);
}

std::unique_ptr<Model> bernoulli_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"alpha", "fit_prior", "binarize"});
    const double alpha = alpha_option(spec);
    const bool fit_prior = boolean_option(spec, "fit_prior", true);
    // >= 0: a feature an example lacks is 0 and so off, as a value at or below the threshold
    const double binarize = number_option(spec, "binarize", 0.0, 0, kMaxOption);
    s.options["alpha"] = alpha;
    s.options["binarize"] = binarize;
    s.options["fit_prior"] = fit_prior;
    return std::make_unique<BernoulliNB>(std::move(s), alpha, fit_prior, binarize);
}

constexpr ModelFamily kGaussian = family_entry("gaussian_nb", 20, Task::Multiclass, &gaussian_from_spec);
constexpr ModelFamily kMultinomial = family_entry("multinomial_nb", 21, Task::Multiclass, &multinomial_from_spec);
constexpr ModelFamily kBernoulli = family_entry("bernoulli_nb", 22, Task::Multiclass, &bernoulli_from_spec);

}  // namespace

const std::vector<const ModelFamily*>& naive_bayes_families() {
    static const std::vector<const ModelFamily*> all = {&kGaussian, &kMultinomial, &kBernoulli};
    return all;
}

}  // namespace pg_learn::core
