// Partitioned models (docs/models.md, "Partitioned models").
//
// The spec {"model": "partitioned", "by": ["country", "city"], "base": {a model spec},
// "min_examples": 30, "max_partitions": 10000} makes a model that holds a global model and one
// model per partition path, all of the base spec: level 1 is a country ("country=FR"), level 2
// a city within it ("country=FR/city=Paris"). The partition keys are features of the row: a
// categorical value, or a number (the partition is named by the number: 3, 2.5).
//
// Learning: a row learns in the global model and in the partition of every level of its path,
// creating the partitions it is the first row of. A key that is NULL or absent ends the path:
// the row learns in the global model and the levels above the missing key only.
// Prediction: the most specific partition of the row's path that has learned min_examples rows
// answers, else its parent, ..., else the global model (a partition never seen, a NULL key: the
// path ends there). segment() names the answering partition for the prediction log.
//
// Memory bound: at most max_partitions partition models (of every level together) besides the
// global one; the row that would create one more is refused (ProgramLimit), leaving the model
// as it was. A model's size is about (max_partitions + 1) times its base model's, and the value
// is at most kMaxModelBytes like every ml_model.
//
// The members are whole models (the contract), given the row rebuilt from the partitioned
// model's own feature dictionary (its "ignore" list applied, missing values left out), as the
// ensembles do, without the partition keys: a partition's key is the same in every row it
// learns, and a base that takes numbers only (gaussian_nb) takes a row partitioned by text.
#include "core/models/partitioned/partitioned.hpp"

#include "core/common/error.hpp"
#include "core/common/text.hpp"
#include "core/models/common/family_model.hpp"
#include "core/models/common/nested_models.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>

namespace pg_learn::core {

using nlohmann::json;

namespace {

constexpr int64_t kMaxLevels = 8;
constexpr int64_t kDefaultMaxPartitions = 10000;
constexpr int64_t kMaxPartitionsLimit = 1000000;
constexpr int64_t kDefaultMinExamples = 30;
constexpr size_t kTopPartitions = 10;
const char* const kGlobalSegment = "(global)";

std::unique_ptr<Model> partitioned_from_spec(const json& spec);

// The task of a partitioned model is its base's (task() below); the entry's is a placeholder.
const ModelFamily kPartitioned = family_entry("partitioned", 71, Task::Regression, &partitioned_from_spec);

[[noreturn]] void bad_spec(const std::string& why, const std::string& hint = {}) {
    fail(ErrorKind::InvalidParameter, "invalid model spec: " + why, {}, hint);
}
[[noreturn]] void bad_json(const std::string& why) { fail(ErrorKind::InvalidParameter, "invalid ml_model: " + why); }

using nested::encode_model;
using nested::get_blob;
using nested::put_blob;

// A numeric key's partition name: a whole number in decimal, else the shortest exact form.
std::string number_text(double v) {
    char buf[40];
    if (v == std::floor(v) && std::fabs(v) < 1e15)
        snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
    else
        snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

class Partitioned final : public FamilyModel {
public:
    Partitioned(const ModelFamily& family, FamilySpec spec, Task task) : FamilyModel(family, std::move(spec)), task_(task) {
        const json& o = options();
        for (const auto& k : o["by"]) by_.push_back(k.get<std::string>());
        min_examples_ = static_cast<uint64_t>(o["min_examples"].get<int64_t>());
        max_partitions_ = static_cast<size_t>(o["max_partitions"].get<int64_t>());
        fresh_ = model_from_json(o["base"]);
        base_identity_ = fresh_->identity();
        global_ = fresh_->clone();
    }

    Partitioned(const Partitioned& o)
        : FamilyModel(o), task_(o.task_), by_(o.by_), min_examples_(o.min_examples_),
          max_partitions_(o.max_partitions_), base_identity_(o.base_identity_), fresh_(o.fresh_->clone()),
          key_level_(o.key_level_), global_(o.global_->clone()) {
        copy_parts(o);
    }

    Partitioned& operator=(const Partitioned& o) {
        if (this == &o) return *this;
        FamilyModel::operator=(o);
        task_ = o.task_;
        by_ = o.by_;
        min_examples_ = o.min_examples_;
        max_partitions_ = o.max_partitions_;
        base_identity_ = o.base_identity_;
        fresh_ = o.fresh_->clone();
        key_level_ = o.key_level_;
        global_ = o.global_->clone();
        copy_parts(o);
        return *this;
    }

    Task task() const override { return task_; }
    std::unique_ptr<Model> clone() const override { return std::make_unique<Partitioned>(*this); }
    void assign(const Model& other) override {
        const auto* o = dynamic_cast<const Partitioned*>(&other);
        if (!o) fail(ErrorKind::Internal, "assigning a model of another family");
        *this = *o;
    }
    bool reads_timestamps() const override { return fresh_->reads_timestamps(); }
    bool features_learn_labels() const override { return fresh_->features_learn_labels(); }
    bool can_merge() const override { return fresh_->can_merge(); }
    void begin_aggregation() override {
        FamilyModel::begin_aggregation();
        global_->begin_aggregation();
        for (auto& [k, p] : parts_) p.model->begin_aggregation();
    }
    void end_aggregation() override {
        FamilyModel::end_aggregation();
        global_->end_aggregation();
        for (auto& [k, p] : parts_) p.model->end_aggregation();
    }
    std::string segment(const Observation& x) const override {
        features().resolve(x, ignored(), seg_terms_);
        const Part* p = answering(seg_terms_);
        return p ? path_name(*p) : kGlobalSegment;
    }

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) override;
    double predict_terms(const std::vector<FeatureTerm>& x) const override;
    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override;
    void merge_state(const FamilyModel& other, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                     const FamilyModel*) override;
    void write_state(detail::ByteWriter& w) const override;
    void read_state(detail::ByteReader& r) override;
    json state_json() const override;
    void state_from_json(const json& j) override;
    std::string invalid_state() const override;
    json info_extra() const override;
    // Which features are partition keys (a categorical "city=Paris" or a numeric "store"), kept
    // as the dictionary grows.
    void features_added(size_t n) override {
        const size_t old = std::min(n, key_level_.size());
        key_level_.resize(n, -1);
        for (size_t i = old; i < n; i++) {
            const std::string& name = features().name(i);
            const size_t eq = features().type(i) == FeatureType::Categorical ? name.find('=') : std::string::npos;
            const std::string_view key = eq == std::string::npos ? std::string_view(name) : std::string_view(name).substr(0, eq);
            key_level_[i] = -1;
            for (size_t l = 0; l < by_.size(); l++)
                if (key == by_[l]) key_level_[i] = static_cast<int>(l);
        }
    }

private:
    struct Part {
        std::vector<std::string> values;  // the path: one value per level, values.size() its level
        std::unique_ptr<Model> model;
    };

    void copy_parts(const Partitioned& o) {
        parts_.clear();
        for (const auto& [k, p] : o.parts_) parts_.emplace(k, Part{p.values, p.model->clone()});
    }
    // The map's key of a path: its values joined by NUL bytes (no value holds one).
    static std::string key_of(const std::vector<std::string>& values, size_t level) {
        std::string k;
        for (size_t i = 0; i < level; i++) {
            if (i) k.push_back('\0');
            k += values[i];
        }
        return k;
    }
    std::string path_name(const Part& p) const {
        std::string s;
        for (size_t i = 0; i < p.values.size(); i++) s += (i ? "/" : "") + by_[i] + "=" + p.values[i];
        return s;
    }
    // The row's path: its known key values, up to the first level whose key is NULL or absent.
    size_t path_of(const std::vector<FeatureTerm>& x, std::vector<std::string>& values) const;
    // The partition that answers the row (nullptr: the global model).
    const Part* answering(const std::vector<FeatureTerm>& x) const;
    const Model& answering_model(const std::vector<FeatureTerm>& x) const {
        const Part* p = answering(x);
        return p ? *p->model : *global_;
    }
    const Observation& observation(const std::vector<FeatureTerm>& x) const;
    std::string invalid_part(const std::string& key, const Part& p) const;

    Task task_;
    std::vector<std::string> by_;
    uint64_t min_examples_ = 0;
    size_t max_partitions_ = 0;
    uint64_t base_identity_ = 0;
    std::unique_ptr<Model> fresh_;  // a fresh model of the base spec, cloned for new partitions
    std::vector<int> key_level_;    // per feature index: the level whose key it is, or -1
    // State.
    std::unique_ptr<Model> global_;
    std::map<std::string, Part> parts_;
    mutable Observation obs_;
    mutable std::vector<std::string> path_;
    mutable std::string key_;
    mutable std::vector<double> q_;
    mutable std::vector<FeatureTerm> seg_terms_;
};

// ---- routing, learning and prediction --------------------------------------------------------

size_t Partitioned::path_of(const std::vector<FeatureTerm>& x, std::vector<std::string>& values) const {
    const FeatureDictionary& d = features();
    values.assign(by_.size(), std::string());
    uint32_t known = 0;  // a bit per level
    for (const FeatureTerm& t : x) {
        const int level = t.index < key_level_.size() ? key_level_[t.index] : -1;
        if (level < 0 || (known >> level & 1u)) continue;
        const std::string& name = d.name(t.index);
        const bool cat = d.type(t.index) == FeatureType::Categorical;
        values[level] = cat ? name.substr(name.find('=') + 1) : number_text(t.value);
        known |= 1u << level;
    }
    size_t n = 0;
    while (n < by_.size() && (known >> n & 1u)) n++;
    values.resize(n);
    return n;
}

const Partitioned::Part* Partitioned::answering(const std::vector<FeatureTerm>& x) const {
    const size_t n = path_of(x, path_);
    const Part* best = nullptr;
    key_.clear();
    for (size_t level = 0; level < n; level++) {
        if (level) key_.push_back('\0');
        key_ += path_[level];
        auto it = parts_.find(key_);
        if (it == parts_.end()) break;  // its children do not exist either
        // A child has seen no more rows than its parent: the deepest trained one answers.
        if (it->second.model->n_seen() >= min_examples_) best = &it->second;
        else break;
    }
    return best;
}

// The row the members see: the terms without the partition keys.
const Observation& Partitioned::observation(const std::vector<FeatureTerm>& x) const {
    obs_.clear();
    const FeatureDictionary& d = features();
    for (const FeatureTerm& t : x) {
        if (t.index < key_level_.size() && key_level_[t.index] >= 0) continue;
        const std::string& name = d.name(t.index);
        const size_t eq = name.find('=');
        if (d.type(t.index) == FeatureType::Categorical && eq != std::string::npos)
            obs_.add_category(std::string_view(name).substr(0, eq), std::string_view(name).substr(eq + 1));
        else
            obs_.add_numeric_borrowed(name, t.value);
    }
    return obs_;
}

void Partitioned::learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) {
    Label y = Label::none();
    std::string name;
    switch (task_) {
        case Task::Regression: y = Label::of_number(y_number); break;
        case Task::Binary: y = Label::of_number(y_class == 1 ? 1.0 : 0.0); break;
        case Task::Multiclass:
            if (y_class >= class_dictionary().size()) fail(ErrorKind::Internal, "class index out of range");
            name = class_dictionary().names()[y_class];
            y = Label::of_text(name);
            break;
        default: break;
    }
    std::vector<std::string> values;
    const size_t n = path_of(x, values);
    // The partitions this row creates: refused as a whole, before anything learns, past the bound.
    size_t new_parts = 0;
    for (size_t level = 1; level <= n; level++)
        if (parts_.find(key_of(values, level)) == parts_.end()) new_parts++;
    if (parts_.size() + new_parts > max_partitions_)
        fail(ErrorKind::ProgramLimit, "partitioned model has too many partitions",
             "the limit is " + std::to_string(max_partitions_) + " partitions (option \"max_partitions\"); the row's path \"" +
                 message_name(path_name(Part{values, nullptr})) + "\" would add " + std::to_string(new_parts),
             "Raise \"max_partitions\" (at most " + std::to_string(kMaxPartitionsLimit) +
                 "; each partition holds a model of the base spec) or partition by coarser keys.");
    const Observation& obs = observation(x);
    std::vector<std::string> created;
    try {
        global_->learn(obs, y);
        for (size_t level = 1; level <= n; level++) {
            std::string k = key_of(values, level);
            auto it = parts_.find(k);
            if (it == parts_.end()) {
                it = parts_.emplace(k, Part{std::vector<std::string>(values.begin(), values.begin() + level), fresh_->clone()}).first;
                created.push_back(k);
            }
            it->second.model->learn(obs, y);
        }
    } catch (...) {
        for (const auto& k : created) parts_.erase(k);
        throw;
    }
}

double Partitioned::predict_terms(const std::vector<FeatureTerm>& x) const {
    if (task_ == Task::Multiclass || task_ == Task::Clustering) return FamilyModel::predict_terms(x);  // refuses
    const Model& m = answering_model(x);
    return m.predict(observation(x));
}

void Partitioned::proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const {
    if (task_ == Task::Binary) {
        const double p1 = predict_terms(x);
        p.assign({1.0 - p1, p1});
        return;
    }
    // Multiclass: the answering model's probabilities by class name (it learned its classes in
    // its own order, and perhaps not all of them).
    const ClassDictionary& classes = class_dictionary();
    p.assign(classes.size(), 0.0);
    const Model& m = answering_model(x);
    if (m.n_seen() == 0 || p.empty()) {
        for (double& v : p) v = p.empty() ? 0.0 : 1.0 / static_cast<double>(p.size());
        return;
    }
    m.predict_proba(observation(x), q_);
    const auto& names = m.classes();
    double total = 0;
    for (size_t j = 0; j < q_.size() && j < names.size(); j++) {
        const uint32_t c = classes.find(Label::of_text(names[j]));
        if (c == UINT32_MAX || !std::isfinite(q_[j])) continue;
        p[c] += q_[j];
        total += q_[j];
    }
    if (total > 0)
        for (double& v : p) v /= total;
    else
        for (double& v : p) v = 1.0 / static_cast<double>(p.size());
}

void Partitioned::merge_state(const FamilyModel& other_model, const std::vector<uint32_t>&, const std::vector<uint32_t>&,
                              const FamilyModel*) {
    // Partition by partition (each merges as its kind does, counting its aggregation base once);
    // a partition only one part holds is taken as it is.
    const auto& other = static_cast<const Partitioned&>(other_model);
    size_t total = parts_.size();
    for (const auto& [k, p] : other.parts_)
        if (parts_.find(k) == parts_.end()) total++;
    if (total > max_partitions_)
        fail(ErrorKind::ProgramLimit, "partitioned model has too many partitions",
             "merging the partial models gives " + std::to_string(total) + " partitions; the limit is " +
                 std::to_string(max_partitions_) + " (option \"max_partitions\")",
             "Raise \"max_partitions\" or partition by coarser keys.");
    global_->merge(*other.global_);
    for (const auto& [k, p] : other.parts_) {
        auto it = parts_.find(k);
        if (it == parts_.end())
            parts_.emplace(k, Part{p.values, p.model->clone()});
        else
            it->second.model->merge(*p.model);
    }
}

// ---- storage -----------------------------------------------------------------------------------

std::string Partitioned::invalid_part(const std::string& key, const Part& p) const {
    if (p.values.empty() || p.values.size() > by_.size()) return "a partition's level is not one of the spec's";
    for (const auto& v : p.values)
        if (v.find('\0') != std::string::npos || !is_valid_utf8(v)) return "a partition value is not UTF-8 text without NUL bytes";
    if (key != key_of(p.values, p.values.size())) return "a partition's key does not match its path";
    if (!p.model || p.model->identity() != base_identity_) return "a partition is not a model of the base spec";
    if (p.values.size() > 1 && parts_.find(key_of(p.values, p.values.size() - 1)) == parts_.end())
        return "a partition's parent is missing";
    return {};
}

void Partitioned::write_state(detail::ByteWriter& w) const {
    put_blob(w, encode_model(*global_));
    w.put<uint64_t>(parts_.size());
    for (const auto& [k, p] : parts_) {
        w.put<uint32_t>(static_cast<uint32_t>(p.values.size()));
        for (const auto& v : p.values) {
            w.put<uint32_t>(static_cast<uint32_t>(v.size()));
            w.bytes(v.data(), v.size());
        }
        put_blob(w, encode_model(*p.model));
    }
}

void Partitioned::read_state(detail::ByteReader& r) {
    {
        auto [p, len] = get_blob(r, "global model");
        global_ = decode_model(p, len);
    }
    if (global_->identity() != base_identity_) r.corrupt("the global model is not a model of the base spec");
    const auto n = r.get<uint64_t>("partitions");
    if (n > max_partitions_) r.corrupt("more partitions than max_partitions");
    parts_.clear();
    for (uint64_t i = 0; i < n; i++) {
        const auto level = r.get<uint32_t>("partition");
        if (level == 0 || level > by_.size()) r.corrupt("a partition's level is not one of the spec's");
        Part part;
        for (uint32_t l = 0; l < level; l++) {
            const auto len = r.get<uint32_t>("partition value");
            if (len > kMaxDictionaryNameBytes) r.corrupt("a partition value is too long");
            const uint8_t* p = r.take(len, "partition value");
            part.values.emplace_back(reinterpret_cast<const char*>(p), len);
        }
        auto [p, len] = get_blob(r, "partition model");
        part.model = decode_model(p, len);
        const std::string k = key_of(part.values, level);
        if (!parts_.emplace(k, std::move(part)).second) r.corrupt("a partition repeats");
    }
    for (const auto& [k, p] : parts_)
        if (std::string why = invalid_part(k, p); !why.empty()) r.corrupt(why);
}

json Partitioned::state_json() const {
    json parts = json::array();
    for (const auto& [k, p] : parts_) parts.push_back({{"path", p.values}, {"model", p.model->to_json()}});
    return {{"global", global_->to_json()}, {"partitions", parts}};
}

void Partitioned::state_from_json(const json& j) {
    if (!j.is_object() || j.size() != 2 || !j.contains("global") || !j.contains("partitions"))
        bad_json("\"state\" must be an object with the keys \"global\" and \"partitions\"");
    auto member = [&](const json& mj) {
        if (!mj.is_object() || !mj.contains("pg_learn_model")) bad_json("a partition's model must be a whole model's JSON form");
        std::unique_ptr<Model> m = model_from_json(mj);
        if (m->identity() != base_identity_) bad_json("a partition is not a model of the base spec");
        return m;
    };
    global_ = member(j["global"]);
    const json& ps = j["partitions"];
    if (!ps.is_array() || ps.size() > max_partitions_)
        bad_json("\"partitions\" must be an array of at most max_partitions (" + std::to_string(max_partitions_) + ") partitions");
    parts_.clear();
    for (const auto& pj : ps) {
        if (!pj.is_object() || pj.size() != 2 || !pj.contains("path") || !pj.contains("model") || !pj["path"].is_array())
            bad_json("a partition must be an object with the keys \"path\" (an array of texts) and \"model\"");
        Part part;
        for (const auto& v : pj["path"]) {
            if (!v.is_string()) bad_json("a partition's path must be an array of texts");
            part.values.push_back(v.get<std::string>());
        }
        if (part.values.empty() || part.values.size() > by_.size()) bad_json("a partition's level is not one of the spec's");
        part.model = member(pj["model"]);
        const std::string k = key_of(part.values, part.values.size());
        if (!parts_.emplace(k, std::move(part)).second) bad_json("a partition repeats");
    }
    for (const auto& [k, p] : parts_)
        if (std::string why = invalid_part(k, p); !why.empty()) bad_json(why);
}

std::string Partitioned::invalid_state() const {
    if (!global_) return "the global model is missing";
    if (parts_.size() > max_partitions_) return "more partitions than max_partitions";
    for (const auto& [k, p] : parts_)
        if (std::string why = invalid_part(k, p); !why.empty()) return why;
    return {};
}

json Partitioned::info_extra() const {
    std::vector<size_t> count(by_.size(), 0), trained(by_.size(), 0);
    std::vector<const Part*> all;
    all.reserve(parts_.size());
    for (const auto& [k, p] : parts_) {
        count[p.values.size() - 1]++;
        if (p.model->n_seen() >= min_examples_) trained[p.values.size() - 1]++;
        all.push_back(&p);
    }
    json levels = json::array();
    for (size_t i = 0; i < by_.size(); i++)
        levels.push_back({{"level", i + 1}, {"by", by_[i]}, {"partitions", count[i]}, {"trained", trained[i]}});
    // The busiest partitions: most rows first, then by path.
    const size_t top = std::min(kTopPartitions, all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(top), all.end(), [&](const Part* a, const Part* b) {
        if (a->model->n_seen() != b->model->n_seen()) return a->model->n_seen() > b->model->n_seen();
        return path_name(*a) < path_name(*b);
    });
    json busiest = json::array();
    for (size_t i = 0; i < top; i++)
        busiest.push_back({{"partition", path_name(*all[i])},
                           {"level", all[i]->values.size()},
                           {"n_seen", all[i]->model->n_seen()},
                           {"trained", all[i]->model->n_seen() >= min_examples_}});
    return {{"partitions", parts_.size()},
            {"global", {{"n_seen", global_->n_seen()}, {"updates", global_->updates()}}},
            {"levels", levels},
            {"top_partitions", busiest}};
}

// ---- specs ---------------------------------------------------------------------------------------

std::unique_ptr<Model> partitioned_from_spec(const json& spec) {
    FamilySpec s = parse_family_spec(spec, {"by", "base", "min_examples", "max_partitions"});
    json& o = s.options;
    const char* example = "{\"model\": \"partitioned\", \"by\": [\"country\", \"city\"], \"base\": {\"model\": \"linear_regression\"}}";
    if (!spec.contains("by")) bad_spec("a partitioned model needs \"by\", its partition keys", std::string("e.g. ") + example);
    json by = spec["by"];
    if (by.is_string()) by = json::array({by});
    if (!by.is_array() || by.empty() || by.size() > static_cast<size_t>(kMaxLevels))
        bad_spec("\"by\" must be a key name or an array of 1 to " + std::to_string(kMaxLevels) + " key names",
                 std::string("e.g. ") + example);
    for (size_t i = 0; i < by.size(); i++) {
        if (!by[i].is_string() || by[i].get_ref<const std::string&>().empty())
            bad_spec("\"by\" must hold non-empty key names");
        const std::string& k = by[i].get_ref<const std::string&>();
        if (k.find('\0') != std::string::npos || !is_valid_utf8(k) || k.size() > kMaxDictionaryNameBytes ||
            k.find('=') != std::string::npos)
            bad_spec("a key of \"by\" must be UTF-8 text without NUL bytes or \"=\"");
        for (size_t j = 0; j < i; j++)
            if (by[j] == by[i]) bad_spec("\"by\" names the key \"" + message_name(k) + "\" twice");
        if (ignored_key(s.ignore, k))
            bad_spec("the partition key \"" + message_name(k) + "\" is in \"ignore\"",
                     "A partitioned model reads its keys from the row: do not ignore them.");
    }
    o["by"] = by;
    if (!spec.contains("base") || !spec["base"].is_object() || !spec["base"].contains("model") ||
        !spec["base"]["model"].is_string() || spec["base"].contains("pg_learn_model"))
        bad_spec("\"base\" must be a model spec, e.g. {\"model\": \"linear_regression\"}", std::string("e.g. ") + example);
    const json& base = spec["base"];
    const std::string base_kind = base["model"].get<std::string>();
    if (base_kind == kPartitioned.kind)
        bad_spec("the base of a partitioned model cannot be a partitioned model",
                 "List every level in one \"by\", e.g. [\"country\", \"city\"].");
    std::unique_ptr<Model> probe = model_from_json(base);
    if (probe->task() == Task::Clustering)
        bad_spec("the base of a partitioned model cannot be a clustering model (\"" + base_kind + "\")",
                 "Each partition would number its clusters its own way; cluster each group with ml_fit ... GROUP BY.");
    o["base"] = probe->info()["spec"];
    o["min_examples"] = integer_option(spec, "min_examples", kDefaultMinExamples, 1, int64_t(1) << 53);
    o["max_partitions"] = integer_option(spec, "max_partitions", kDefaultMaxPartitions, 1, kMaxPartitionsLimit);
    return std::make_unique<Partitioned>(kPartitioned, std::move(s), probe->task());
}

}  // namespace

const std::vector<const ModelFamily*>& partitioned_families() {
    static const std::vector<const ModelFamily*> all = {&kPartitioned};
    return all;
}

}  // namespace pg_learn::core
