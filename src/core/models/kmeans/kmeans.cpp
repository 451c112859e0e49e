// Online k-means (river's cluster.KMeans; docs/models.md, "k-means"): k centers, each feature of
// each center drawn from N(mu, sigma) when the model first learns the feature; an example goes
// to the center nearest in the Minkowski distance of order p, which then moves towards it by
// halflife (c += halflife * (x - c), on the example's features only). The nearest center is the
// prediction (ml_predict_class: "0" .. "k-1").
#include "core/models/kmeans/kmeans.hpp"

#include "core/common/error.hpp"
#include "core/models/common/family_model.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace pg_learn::core {

using nlohmann::json;

namespace {

constexpr int64_t kMaxClusters = 1000;
// Centers hold n_clusters x features doubles: past this many the model is refused (8 bytes each).
constexpr double kMaxCenterValues = 64.0 * 1024 * 1024;

// SplitMix64 (its state is part of the model: a model read back draws what the original would
// have), uniforms on [0, 1) from the top 53 bits, normals by Box-Muller from two uniforms each.
struct Rng {
    uint64_t state = 0;
    uint64_t next() {
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    void rewind(uint64_t draws) { state -= draws * 0x9e3779b97f4a7c15ull; }  // undoes `draws` next()
    double normal() {
        const double u1 = uniform(), u2 = uniform();
        return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(2.0 * M_PI * u2);
    }
};

[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

std::unique_ptr<Model> kmeans_from_spec(const json& spec);

const ModelFamily kKMeans = family_entry("kmeans", 50, Task::Clustering, &kmeans_from_spec);

class KMeansModel final : public FamilyModel {
public:
    explicit KMeansModel(FamilySpec spec) : FamilyModel(kKMeans, std::move(spec)) {
        const json& o = options();
        k_ = static_cast<size_t>(o["n_clusters"].get<int64_t>());
        halflife_ = o["halflife"].get<double>();
        mu_ = o["mu"].get<double>();
        sigma_ = o["sigma"].get<double>();
        p_ = o["p"].get<double>();
        rng_.state = static_cast<uint64_t>(o["seed"].get<int64_t>());
        counts_.assign(k_, 0);
        for (size_t c = 0; c < k_; c++) names_.push_back(std::to_string(c));
    }

    std::unique_ptr<Model> clone() const override { return std::make_unique<KMeansModel>(*this); }
    void assign(const Model& other) override {
        const auto* o = dynamic_cast<const KMeansModel*>(&other);
        if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
        *this = *o;
    }
    // Partial models start from independent random centers: their cluster "2" need not be the
    // same cluster, so there is no sound merge (docs/models.md, "k-means").
    bool can_merge() const override { return false; }

protected:
    void features_added(size_t n) override {
        const size_t d = centers_.size() / k_;
        if (double(n) * double(k_) > kMaxCenterValues)
            fail(ErrorKind::ProgramLimit, "kmeans model is too large",
                 std::to_string(k_) + " centers of " + std::to_string(n) + " features exceed " +
                     std::to_string(static_cast<long long>(kMaxCenterValues)) + " values");
        // Feature-major: the values of feature f are centers_[f * k .. f * k + k - 1].
        for (size_t f = d; f < n; f++)
            for (size_t c = 0; c < k_; c++) centers_.push_back(mu_ + sigma_ * rng_.normal());
        if (n < d) {
            // The names of a refused example are forgotten: their draws are taken back too, so
            // the model is as if it had never seen the example (two uniforms per normal).
            centers_.resize(n * k_);
            rng_.rewind(2 * (d - n) * k_);
        }
    }

    void learn_terms(const std::vector<FeatureTerm>& x, double, uint32_t) override {
        for (const FeatureTerm& t : x)
            if (!std::isfinite(t.value)) fail(ErrorKind::NumericRange, "feature value is not finite");
        const size_t c = nearest(x);
        // An extreme example (1e308 against a center at -1e308) would move the center past the
        // largest double: refused before anything changes, as a model must stay storable.
        for (const FeatureTerm& t : x) {
            const double v = centers_[size_t(t.index) * k_ + c];
            if (!std::isfinite(v + halflife_ * (t.value - v)))
                fail(ErrorKind::NumericRange, "the example moves a kmeans center beyond the range of a double",
                     {}, "Scale the features to a smaller range.");
        }
        for (const FeatureTerm& t : x) {
            double& v = centers_[size_t(t.index) * k_ + c];
            v += halflife_ * (t.value - v);
        }
        counts_[c]++;
    }

    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override {
        // A hard assignment: 1 for the nearest center, 0 for the others.
        p.assign(k_, 0.0);
        p[nearest(x)] = 1.0;
    }

    const std::vector<std::string>& cluster_names() const override { return names_; }

    void merge_state(const FamilyModel&, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override {
        fail(ErrorKind::Internal, "kmeans models do not merge");
    }

    void write_state(detail::ByteWriter& w) const override {
        w.put<uint64_t>(rng_.state);
        w.put<uint32_t>(static_cast<uint32_t>(k_));
        w.put<uint32_t>(static_cast<uint32_t>(centers_.size() / k_));
        for (uint64_t n : counts_) w.put<uint64_t>(n);
        for (double v : centers_) w.put<double>(v);
    }

    void read_state(detail::ByteReader& r) override {
        rng_.state = r.get<uint64_t>("kmeans state");
        const auto k = r.get<uint32_t>("kmeans state");
        const auto d = r.get<uint32_t>("kmeans state");
        if (k != k_) r.corrupt("kmeans state holds " + std::to_string(k) + " centers, its spec " + std::to_string(k_));
        if (d != features().size()) r.corrupt("kmeans centers do not match the features");
        if (double(d) * double(k) > kMaxCenterValues) r.corrupt("kmeans centers too large");
        for (size_t c = 0; c < k_; c++) counts_[c] = r.get<uint64_t>("kmeans counts");
        centers_.resize(size_t(d) * k_);
        for (double& v : centers_) v = r.get<double>("kmeans centers");
    }

    json state_json() const override {
        // Centers by cluster, each in the order of "features".
        json centers = json::array();
        const size_t d = centers_.size() / k_;
        for (size_t c = 0; c < k_; c++) {
            json row = json::array();
            for (size_t f = 0; f < d; f++) row.push_back(centers_[f * k_ + c]);
            centers.push_back(std::move(row));
        }
        char rng[17];
        snprintf(rng, sizeof rng, "%016llx", static_cast<unsigned long long>(rng_.state));
        return {{"centers", std::move(centers)}, {"counts", counts_}, {"rng", rng}};
    }

    void state_from_json(const json& j) override {
        if (!j.is_object() || j.size() != 3 || !j.contains("centers") || !j.contains("counts") || !j.contains("rng"))
            bad_json("the state of a kmeans model is {\"centers\", \"counts\", \"rng\"}");
        const json& rng = j["rng"];
        if (!rng.is_string() || rng.get_ref<const std::string&>().size() != 16 ||
            rng.get_ref<const std::string&>().find_first_not_of("0123456789abcdef") != std::string::npos)
            bad_json("\"rng\" must be 16 lower-case hexadecimal digits");
        rng_.state = std::strtoull(rng.get_ref<const std::string&>().c_str(), nullptr, 16);
        const json& counts = j["counts"];
        const json& centers = j["centers"];
        if (!counts.is_array() || counts.size() != k_) bad_json("\"counts\" must hold one count per cluster");
        if (!centers.is_array() || centers.size() != k_) bad_json("\"centers\" must hold one center per cluster");
        const size_t d = features().size();
        centers_.assign(d * k_, 0.0);
        for (size_t c = 0; c < k_; c++) {
            if (!counts[c].is_number_unsigned()) bad_json("\"counts\" must be non-negative integers");
            counts_[c] = counts[c].get<uint64_t>();
            const json& row = centers[c];
            if (!row.is_array() || row.size() != d) bad_json("each center must hold one number per feature");
            for (size_t f = 0; f < d; f++) {
                if (!row[f].is_number()) bad_json("each center must hold one number per feature");
                centers_[f * k_ + c] = row[f].get<double>();
            }
        }
    }

    std::string invalid_state() const override {
        if (counts_.size() != k_) return "kmeans counts do not match n_clusters";
        if (centers_.size() != features().size() * k_) return "kmeans centers do not match the features";
        for (double v : centers_)
            if (!std::isfinite(v)) return "a kmeans center is not finite";
        uint64_t total = 0;
        for (uint64_t n : counts_) {
            if (n > n_seen() - total) return "kmeans counts exceed the examples seen";
            total += n;
        }
        if (total != n_seen()) return "kmeans counts do not add up to the examples seen";
        return {};
    }

    json info_extra() const override {
        json s = state_json();
        s.erase("rng");
        return {{"clusters", names_}, {"centers", s["centers"]}, {"counts", s["counts"]}};
    }

private:
    // The nearest center (the first of equals): sum over every feature of |c_f - x_f|^p, a
    // feature the example lacks being 0 (river's dictionaries). A feature the model never learned
    // adds |x_f|^p to every center alike and changes nothing, so it is left out.
    size_t nearest(const std::vector<FeatureTerm>& x) const {
        const size_t d = centers_.size() / k_;
        dist_.assign(k_, 0.0);
        xs_.assign(d, 0.0);
        for (const FeatureTerm& t : x)
            if (t.index < d) xs_[t.index] = t.value;
        for (size_t f = 0; f < d; f++) {
            const double* c = &centers_[f * k_];
            const double xv = xs_[f];
            for (size_t j = 0; j < k_; j++) dist_[j] += power(std::fabs(c[j] - xv));
        }
        size_t best = 0;
        for (size_t j = 1; j < k_; j++)
            if (dist_[j] < dist_[best]) best = j;
        return best;
    }
    double power(double a) const {
        if (p_ == 2.0) return a * a;
        if (p_ == 1.0) return a;
        return std::pow(a, p_);
    }

    size_t k_ = 5;
    double halflife_ = 0.5, mu_ = 0, sigma_ = 1, p_ = 2;
    Rng rng_;
    std::vector<double> centers_;  // feature-major: k values per feature
    std::vector<uint64_t> counts_;  // examples each center took
    std::vector<std::string> names_;
    mutable std::vector<double> dist_, xs_;
};

std::unique_ptr<Model> kmeans_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"n_clusters", "halflife", "mu", "sigma", "p", "seed"});
    s.options["n_clusters"] = integer_option(spec, "n_clusters", 5, 1, kMaxClusters);
    s.options["halflife"] = number_option(spec, "halflife", 0.5, 0.0, 1.0);
    if (s.options["halflife"].get<double>() <= 0.0)
        fail(ErrorKind::InvalidParameter, "option \"halflife\" must be greater than 0 and at most 1",
             {}, "A center moves by halflife times its distance to each example it takes.");
    s.options["mu"] = number_option(spec, "mu", 0.0, -1e300, 1e300);
    s.options["sigma"] = number_option(spec, "sigma", 1.0, 0.0, 1e300);
    s.options["p"] = number_option(spec, "p", 2.0, 1.0, 100.0);
    s.options["seed"] = integer_option(spec, "seed", 0, 0, (int64_t(1) << 53));
    return std::make_unique<KMeansModel>(std::move(s));
}

}  // namespace

const std::vector<const ModelFamily*>& kmeans_families() {
    static const std::vector<const ModelFamily*> all = {&kKMeans};
    return all;
}

}  // namespace pg_learn::core
