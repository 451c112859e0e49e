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
// Prediction: the most specific partition of the row's path that has learned min_examples examples
// (rows, each counted once however many epochs of multi-pass training learn it: set_epoch)
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
#include "core/models/common/linear_form.hpp"
#include "core/models/common/nested_models.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
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
// The compact forms of the partitions' models (Model::linear_form): at most this many columns
// (features other than the keys), and this many doubles (8 MB) in all; past either, a partition
// without a form scores the row through its model.
constexpr size_t kMaxFormColumns = 256;
constexpr size_t kMaxFormDoubles = size_t(1) << 20;
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
        level_types_.assign(by_.size(), 0);
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
    // A row of a later pass (epoch 2, 3, ...) is not counted again toward min_examples. (Not part
    // of the value: a copy starts outside multi-pass training.)
    void set_epoch(uint32_t epoch) override {
        epoch_ = epoch;
        fresh_->set_epoch(epoch);
        global_->set_epoch(epoch);
        for (auto& [k, p] : parts_) p.model->set_epoch(epoch);
    }
    std::string segment(const Observation& x) const override {
        const Part* p = nullptr;
        if (!route_row(x, p)) {
            features().resolve(x, ignored(), seg_terms_);
            p = answering(seg_terms_);
        }
        return p ? path_name(*p) : kGlobalSegment;
    }
    // Scoring a row read by name takes the routed path (route_row) when it can, and a partition's
    // compact form when it has one.
    double predict(const Observation& x) const override {
        const Part* p = nullptr;
        if (task_ == Task::Multiclass || task_ == Task::Clustering || !route_row(x, p)) return FamilyModel::predict(x);
        double y;
        if (p && form_predict(*p, y)) return y;
        return (p ? *p->model : *global_).predict(routed_observation());
    }
    void predict_proba(const Observation& x, std::vector<double>& out) const override {
        const Part* p = nullptr;
        if ((task_ != Task::Binary && task_ != Task::Multiclass) || !route_row(x, p)) return FamilyModel::predict_proba(x, out);
        double p1;
        if (task_ == Task::Binary && p && form_predict(*p, p1)) {
            out.assign({1.0 - p1, p1});
            return;
        }
        proba_from(p ? *p->model : *global_, routed_observation(), out);
    }

    // Feature mismatches, by the route when it read every key given as a partition's name.
    void check_features(const Observation& x, FeatureCheck& out, bool name_missing = false) const override;

protected:
    void learn_terms(const std::vector<FeatureTerm>& x, double y_number, uint32_t y_class) override;
    double predict_terms(const std::vector<FeatureTerm>& x) const override;
    void proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const override;
    // A row is explained by the model that answers it (a partition's or the global one) over the
    // rest of the row: the partition keys chose the model and have no contribution of their own.
    // A multiclass partition explains the classes it learned.
    void explain_terms(const std::vector<FeatureTerm>& x, Explanation& out) const override {
        answering_model(x).explain(observation(x), out);
    }
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
        size_t old = std::min(n, key_level_.size());
        if (n < key_level_.size()) {
            // Names forgotten (a refused row): the types per level and the route are recomputed.
            old = 0;
            route_changed();
        }
        if (old == 0) level_types_.assign(by_.size(), 0);
        if (n != key_level_.size()) forms_changed();  // (the columns may be others)
        key_level_.resize(n, -1);
        for (size_t i = old; i < n; i++) {
            const std::string& name = features().name(i);
            const size_t eq = features().type(i) == FeatureType::Categorical ? name.find('=') : std::string::npos;
            const std::string_view key = eq == std::string::npos ? std::string_view(name) : std::string_view(name).substr(0, eq);
            key_level_[i] = -1;
            for (size_t l = 0; l < by_.size(); l++)
                if (key == by_[l]) {
                    key_level_[i] = static_cast<int>(l);
                    level_types_[l] |= type_bit(features().type(i));
                }
        }
    }

private:
    struct Part {
        std::vector<std::string> values;  // the path: one value per level, values.size() its level
        std::unique_ptr<Model> model;
        // The examples counted toward min_examples: rows learned, but not again in a later pass of
        // multi-pass training (set_epoch); at most the model's n_seen.
        uint64_t examples = 0;
        bool trained(uint64_t min_examples) const { return examples >= min_examples; }
        // Its compact form: forms_'s slot, valid in the layout form_layout (0: none), rebuilt from
        // the model when stale (the model learned).
        mutable uint64_t form_layout = 0;
        mutable uint32_t form_slot = 0;
        mutable bool form_stale = true;
    };

    void copy_parts(const Partitioned& o) {
        parts_.clear();
        for (const auto& [k, p] : o.parts_) parts_.emplace(k, Part{p.values, p.model->clone(), p.examples});
        level_types_ = o.level_types_;
        route_.clear();
        route_count_ = 0;
        route_changed();
    }
    static uint8_t type_bit(FeatureType t) { return t == FeatureType::Categorical ? 2 : 1; }
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

    // ---- the route: scoring without resolving the partition keys --------------------------------
    // A row's partition keys change from row to row (a store per row), so resolving them through
    // the dictionary is a hash look-up per key and row, and the path's partitions were a map
    // look-up per level. The route reads the keys' values from the observation itself and finds
    // each level's partition by a hash of its path (route_: hash64 of the map's key -> the
    // partition), and gives the partition's model the rest of the row (resolved through the
    // dictionary, whose position cache then hits every row: the other names repeat).
    //
    // It decides as answering() does: a key's entry counts when its name is one the model
    // learned (a level learned with one type, whose partitions are known names: `known` below);
    // a level learned both as text and as a number leaves the row to the general path
    // (route_row returns false).
    struct RouteSlot {
        uint64_t hash = 0;
        Part* part = nullptr;  // nullptr: an empty slot
        bool known = false;    // the partition's key value is a name of the dictionary
        std::string key;       // the map's key of the partition (its path joined by NUL bytes)
    };
    // The partition of a path (parts_'s key), by the route (nullptr: none).
    Part* routed(const std::string& key, bool need_known) const;
    void route_add(const std::string& key, Part& p, bool known) const;
    void route_build() const;
    // The model changed: the route is rebuilt before its next use, the last row forgotten, and so
    // are the compact forms.
    void route_changed() const {
        route_dirty_ = true;
        memo_row_ = nullptr;
        forms_changed();
    }

    // ---- compact forms: a partition's model in a few cache lines ------------------------------
    // Scoring a row through a partition's own model object reads that object, its dictionary's
    // cache of the last row's names, and its weight and statistics arrays: a score of cache lines
    // scattered over the heap, which for a thousand partitions no longer stay in the cache. When
    // the base has a linear form (Model::linear_form), each partition's form is kept instead as
    // one row of forms_ (columns: the dictionary's features other than the keys), and a row routed
    // to it reads that row only: the same number, bit for bit (models/common/linear_form.hpp).
    // The forms are a cache: made when first needed, remade when the partition learns (stale) or
    // when the columns or the partitions change (a new layout).
    void forms_changed() const { layout_gen_++; }
    void ensure_layout() const;
    const double* form_of(const Part& p) const;
    // The routed row's prediction by p's form; false when it has none or the row is not one it
    // reads (a missing value, a name or type the dictionary does not hold as a column).
    bool form_predict(const Part& p, double& y) const;
    bool route_row(const Observation& x, const Part*& best) const;
    bool same_row_as_memo(const Observation& x) const;
    void remember_row(const Observation& x, const Part* best) const;
    // The rest of the row route_row read, as the partition's model sees it.
    const Observation& routed_observation() const;
    void proba_from(const Model& m, const Observation& x, std::vector<double>& p) const;

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
    std::vector<uint8_t> level_types_;  // per level: the types its key was learned as (type_bit)
    uint32_t epoch_ = 0;                // set_epoch: the pass of multi-pass training (0: none)
    // The compact forms (a cache, never copied: a copy makes its own).
    mutable std::vector<double> forms_;                   // form_stride_ doubles per slot
    mutable std::vector<uint32_t> column_of_;             // per feature index: its column, or UINT32_MAX (a key)
    mutable std::vector<std::string_view> column_names_;  // per column: its name (the dictionary's), type
    mutable std::vector<FeatureType> column_types_;
    mutable size_t form_stride_ = 0;
    mutable bool forms_on_ = false;     // the base has a form, and the columns are few enough
    mutable uint64_t layout_gen_ = 1;   // bumped by forms_changed()
    mutable uint64_t layout_built_ = 0;
    mutable std::vector<uint32_t> row_columns_;
    mutable std::vector<double> row_values_;
    // The route: open addressing (linear probing) over a power-of-two table, each slot holding
    // its key, so that a look-up reads one slot (a map node per level before).
    mutable std::vector<RouteSlot> route_;
    mutable size_t route_count_ = 0;
    mutable bool route_dirty_ = true;   // route_ is rebuilt from parts_ before its next use
    // The last row route_row read (its entries: where their names are, their bytes, values and
    // types), so that the calls scoring makes on one row (check_features, predict, segment)
    // route it once. Any change of the model forgets it.
    struct MemoEntry {
        const char* data;
        uint32_t length;
        double value;
        FeatureType type;
        bool missing;
    };
    mutable const Observation* memo_row_ = nullptr;
    mutable std::vector<MemoEntry> memo_;
    mutable std::string memo_bytes_;
    mutable size_t memo_ignored_ = 0;
    mutable const Part* memo_best_ = nullptr;
    mutable Observation rest_;          // route_row: the row without its keys
    mutable std::vector<FeatureTerm> route_terms_;
    mutable std::vector<std::string_view> route_values_;
    mutable std::vector<std::string> route_numbers_;
    mutable bool route_keys_checked_ = false;  // route_row: every key given names a partition found
    mutable size_t route_key_count_ = 0;       // and how many keys were given
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
        if (it->second.trained(min_examples_)) best = &it->second;
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
    memo_row_ = nullptr;  // the partitions' counts change
    const size_t n = path_of(x, path_);
    // The partitions of the path (by the route; a partition missing there is looked up in the
    // map), and those this row creates: refused as a whole, before anything learns, past the bound.
    Part* found[kMaxLevels] = {};
    size_t new_parts = 0;
    key_.clear();
    for (size_t level = 0; level < n; level++) {
        if (level) key_.push_back('\0');
        key_ += path_[level];
        if (new_parts == 0) {  // a missing partition's children are missing too
            found[level] = routed(key_, false);
            if (!found[level]) {
                auto it = parts_.find(key_);
                if (it != parts_.end()) found[level] = &it->second;
            }
        }
        if (!found[level]) new_parts++;
    }
    if (parts_.size() + new_parts > max_partitions_)
        fail(ErrorKind::ProgramLimit, "partitioned model has too many partitions",
             "the limit is " + std::to_string(max_partitions_) + " partitions (option \"max_partitions\"); the row's path \"" +
                 message_name(path_name(Part{path_, nullptr})) + "\" would add " + std::to_string(new_parts),
             "Raise \"max_partitions\" (at most " + std::to_string(kMaxPartitionsLimit) +
                 "; each partition holds a model of the base spec) or partition by coarser keys.");
    const Observation& obs = observation(x);
    std::vector<std::string> created;
    try {
        global_->learn(obs, y);
        for (size_t level = 0; level < n; level++) {
            Part* part = found[level];
            if (!part) {
                std::string k = key_of(path_, level + 1);
                auto it = parts_.emplace(k, Part{std::vector<std::string>(path_.begin(), path_.begin() + level + 1), fresh_->clone(), 0}).first;
                it->second.model->set_epoch(epoch_);
                created.push_back(k);
                part = &it->second;
                // The row's key values are names it learned.
                route_add(it->first, *part, true);
            }
            part->model->learn(obs, y);
            part->form_stale = true;
            // Counted once: in the first pass (a partition made in a later one counts its row).
            if (epoch_ <= 1 || part->examples == 0) part->examples++;
        }
    } catch (...) {
        for (const auto& k : created) parts_.erase(k);
        if (!created.empty()) route_changed();
        throw;
    }
}

double Partitioned::predict_terms(const std::vector<FeatureTerm>& x) const {
    if (task_ == Task::Multiclass || task_ == Task::Clustering) return FamilyModel::predict_terms(x);  // refuses
    const Model& m = answering_model(x);
    return m.predict(observation(x));
}

void Partitioned::proba_terms(const std::vector<FeatureTerm>& x, std::vector<double>& p) const {
    proba_from(answering_model(x), observation(x), p);
}

void Partitioned::proba_from(const Model& m, const Observation& x, std::vector<double>& p) const {
    if (task_ == Task::Binary) {
        const double p1 = m.predict(x);
        p.assign({1.0 - p1, p1});
        return;
    }
    // Multiclass: the answering model's probabilities by class name (it learned its classes in
    // its own order, and perhaps not all of them).
    const ClassDictionary& classes = class_dictionary();
    p.assign(classes.size(), 0.0);
    if (m.n_seen() == 0 || p.empty()) {
        for (double& v : p) v = p.empty() ? 0.0 : 1.0 / static_cast<double>(p.size());
        return;
    }
    m.predict_proba(x, q_);
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
                              const FamilyModel* base_model) {
    // Partition by partition (each merges as its kind does, counting its aggregation base once);
    // a partition only one part holds is taken as it is.
    const auto& other = static_cast<const Partitioned&>(other_model);
    const auto* base = static_cast<const Partitioned*>(base_model);
    size_t total = parts_.size();
    for (const auto& [k, p] : other.parts_)
        if (parts_.find(k) == parts_.end()) total++;
    if (total > max_partitions_)
        fail(ErrorKind::ProgramLimit, "partitioned model has too many partitions",
             "merging the partial models gives " + std::to_string(total) + " partitions; the limit is " +
                 std::to_string(max_partitions_) + " (option \"max_partitions\")",
             "Raise \"max_partitions\" or partition by coarser keys.");
    global_->merge(*other.global_);
    route_changed();
    for (const auto& [k, p] : other.parts_) {
        auto it = parts_.find(k);
        if (it == parts_.end()) {
            parts_.emplace(k, Part{p.values, p.model->clone(), p.examples});
            continue;
        }
        it->second.model->merge(*p.model);
        // The examples the aggregation base counted, both parts hold: counted once (as n_seen).
        uint64_t from_base = 0;
        if (base)
            if (auto b = base->parts_.find(k); b != base->parts_.end() && p.examples >= b->second.examples)
                from_base = b->second.examples;
        it->second.examples += p.examples - from_base;
    }
}

// ---- the route ---------------------------------------------------------------------------------

Partitioned::Part* Partitioned::routed(const std::string& key, bool need_known) const {
    if (route_dirty_) route_build();
    if (route_.empty()) return nullptr;
    const uint64_t h = hash64(key.data(), key.size());
    const size_t mask = route_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const RouteSlot& s = route_[i];
        if (!s.part) return nullptr;
        if (s.hash == h && s.key == key) return need_known && !s.known ? nullptr : s.part;
    }
}

void Partitioned::route_add(const std::string& key, Part& p, bool known) const {
    // At most 70% full: past it, a table twice as large, every slot moved.
    if ((route_count_ + 1) * 10 > route_.size() * 7) {
        size_t size = 16;
        while ((route_count_ + 1) * 10 > size * 7) size *= 2;
        std::vector<RouteSlot> old(size);
        old.swap(route_);
        route_count_ = 0;
        for (RouteSlot& s : old)
            if (s.part) route_add(s.key, *s.part, s.known);
    }
    const uint64_t h = hash64(key.data(), key.size());
    const size_t mask = route_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        RouteSlot& s = route_[i];
        if (!s.part) {
            s.hash = h;
            s.part = &p;
            s.known = known;
            s.key = key;
            route_count_++;
            return;
        }
        if (s.hash == h && s.key == key) {
            s.part = &p;
            s.known = known;
            return;
        }
    }
}

void Partitioned::route_build() const {
    route_.clear();
    route_count_ = 0;
    route_dirty_ = false;
    std::string name;
    for (auto& [k, p] : parts_) {
        // A text key's partition is reached by its name "key=value" (a number's by the key's
        // name, which its level having learned numbers means the dictionary holds).
        const size_t level = p.values.size() - 1;
        bool known = true;
        if (level_types_[level] & type_bit(FeatureType::Categorical)) {
            name = by_[level] + "=" + p.values[level];
            const uint32_t i = features().find(name);
            known = i != kUnknownFeature && features().type(i) == FeatureType::Categorical;
        }
        route_add(k, const_cast<Part&>(p), known);
    }
}

// The row is the one route_row read last, unchanged, and so is the model: the same entries at
// the same places with the same bytes (rest_ borrows them).
bool Partitioned::same_row_as_memo(const Observation& x) const {
    if (memo_row_ != &x || x.size() != memo_.size() || ignored().size() != memo_ignored_) return false;
    size_t at = 0;
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        const MemoEntry& m = memo_[i];
        const std::string_view name = x.name(e);
        if (name.data() != m.data || name.size() != m.length || e.type != m.type || e.missing != m.missing ||
            !(e.value == m.value) || std::memcmp(name.data(), memo_bytes_.data() + at, name.size()) != 0)
            return false;
        at += name.size();
    }
    return true;
}

void Partitioned::remember_row(const Observation& x, const Part* best) const {
    memo_.clear();
    memo_bytes_.clear();
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        const std::string_view name = x.name(e);
        memo_.push_back({name.data(), static_cast<uint32_t>(name.size()), e.value, e.type, e.missing});
        memo_bytes_.append(name.data(), name.size());
    }
    memo_ignored_ = ignored().size();
    memo_best_ = best;
    memo_row_ = &x;
}

bool Partitioned::route_row(const Observation& x, const Part*& best) const {
    best = nullptr;
    if (route_dirty_) route_build();
    const size_t levels = by_.size();
    for (uint8_t t : level_types_)
        if (t == (type_bit(FeatureType::Numeric) | type_bit(FeatureType::Categorical))) return false;
    if (same_row_as_memo(x)) {
        best = memo_best_;
        return true;
    }
    memo_row_ = nullptr;
    route_values_.resize(levels);
    route_numbers_.resize(levels);
    rest_.clear();
    const std::vector<std::string>& ignore = ignored();
    uint32_t known = 0;  // a bit per level
    route_keys_checked_ = true;
    for (size_t i = 0; i < x.size(); i++) {
        const auto& e = x[i];
        const std::string_view key = x.key(e);
        if (!ignore.empty() && ignored_key(ignore, key)) continue;
        int level = -1;
        for (size_t l = 0; l < levels; l++)
            if (key.size() == by_[l].size() && std::memcmp(key.data(), by_[l].data(), key.size()) == 0) {
                level = static_cast<int>(l);
                break;
            }
        const std::string_view name = x.name(e);
        if (level < 0) {
            // (a missing value is kept for check_features, which counts it as given)
            if (e.missing)
                rest_.add_missing(name);
            else if (e.type == FeatureType::Categorical)
                rest_.add_category(key, name.substr(key.size() + 1));
            else
                rest_.add_numeric_borrowed(name, e.value);
            continue;
        }
        // A key of a type its level never learned is a name the model does not know: as
        // answering() skips it, so does the route. (check_features then takes the general path.)
        if (e.missing || !(level_types_[level] & type_bit(e.type)) || (known >> level & 1u)) {
            route_keys_checked_ = false;
            continue;
        }
        if (e.type == FeatureType::Categorical) {
            route_values_[level] = name.substr(key.size() + 1);
        } else {
            route_numbers_[level] = number_text(e.value);
            route_values_[level] = route_numbers_[level];
        }
        known |= 1u << level;
    }
    key_.clear();
    size_t found = 0;
    bool trained = true;
    for (size_t level = 0; level < levels && (known >> level & 1u); level++) {
        if (level) key_.push_back('\0');
        key_.append(route_values_[level].data(), route_values_[level].size());
        const Part* p = routed(key_, true);
        if (!p) break;  // its children do not exist either
        found++;
        // The deepest partition of a trained chain answers (a child has seen no more rows than
        // its parent).
        trained = trained && p->trained(min_examples_);
        if (trained) best = p;
    }
    // Every key given is the name of a partition found: a name the model learned.
    route_key_count_ = found;
    route_keys_checked_ = route_keys_checked_ && known == (found >= 32 ? UINT32_MAX : (1u << found) - 1u);
    features().resolve(rest_, ignore, route_terms_);
    remember_row(x, best);
    return true;
}

void Partitioned::check_features(const Observation& x, FeatureCheck& out, bool name_missing) const {
    const Part* best = nullptr;
    if (name_missing || !route_row(x, best) || !route_keys_checked_) return FamilyModel::check_features(x, out, name_missing);
    // The keys are names the model learned, with the type learned: no issue, each a key given.
    features().check(rest_, ignored(), out, false);
    if (out.checked) out.missing_features -= std::min<uint32_t>(out.missing_features, static_cast<uint32_t>(route_key_count_));
}

// The rest of the row itself when each of its entries is a name the model learned, with the type
// learned (the row observation() would rebuild from the terms); else that rebuilt row.
const Observation& Partitioned::routed_observation() const {
    bool same = route_terms_.size() == rest_.size();
    for (size_t i = 0; same && i < route_terms_.size(); i++) same = features().type(route_terms_[i].index) == rest_[i].type;
    return same ? rest_ : observation(route_terms_);
}

// ---- compact forms -----------------------------------------------------------------------------

void Partitioned::ensure_layout() const {
    if (layout_built_ == layout_gen_) return;
    layout_built_ = layout_gen_;
    forms_.clear();
    const FeatureDictionary& d = features();
    column_of_.assign(d.size(), UINT32_MAX);
    column_names_.clear();
    column_types_.clear();
    for (size_t i = 0; i < d.size(); i++) {
        if (i < key_level_.size() && key_level_[i] >= 0) continue;
        column_of_[i] = static_cast<uint32_t>(column_names_.size());
        column_names_.push_back(d.name(i));
        column_types_.push_back(d.type(i));
    }
    form_stride_ = linear_form_size(column_names_.size());
    forms_on_ = false;
    if (column_names_.size() <= kMaxFormColumns) {
        std::vector<double> probe(form_stride_);
        forms_on_ = fresh_->linear_form(column_names_, column_types_, probe.data());
    }
}

const double* Partitioned::form_of(const Part& p) const {
    ensure_layout();
    if (!forms_on_) return nullptr;
    if (p.form_layout != layout_gen_) {
        if (forms_.size() + form_stride_ > kMaxFormDoubles) return nullptr;
        p.form_slot = static_cast<uint32_t>(forms_.size() / form_stride_);
        forms_.resize(forms_.size() + form_stride_);
        p.form_layout = layout_gen_;
        p.form_stale = true;
    }
    double* f = forms_.data() + size_t(p.form_slot) * form_stride_;
    if (p.form_stale) {
        if (!p.model->linear_form(column_names_, column_types_, f)) return nullptr;
        p.form_stale = false;
    }
    return f;
}

bool Partitioned::form_predict(const Part& p, double& y) const {
    // Every entry of the rest of the row is a name of the dictionary, not missing (resolve left
    // out neither), so term i is entry i.
    const size_t n = rest_.size();
    if (route_terms_.size() != n) return false;
    const double* f = form_of(p);
    if (!f) return false;
    row_columns_.resize(n);
    row_values_.resize(n);
    for (size_t i = 0; i < n; i++) {
        const auto& e = rest_[i];
        const uint32_t idx = route_terms_[i].index;
        const uint32_t c = idx < column_of_.size() ? column_of_[idx] : UINT32_MAX;
        if (e.missing || c == UINT32_MAX || column_types_[c] != e.type) return false;
        row_columns_[i] = c;
        row_values_[i] = e.value;
    }
    y = score_linear_form(f, row_columns_.data(), row_values_.data(), n);
    return true;
}

// ---- storage -----------------------------------------------------------------------------------

std::string Partitioned::invalid_part(const std::string& key, const Part& p) const {
    if (p.values.empty() || p.values.size() > by_.size()) return "a partition's level is not one of the spec's";
    for (const auto& v : p.values)
        if (v.find('\0') != std::string::npos || !is_valid_utf8(v)) return "a partition value is not UTF-8 text without NUL bytes";
    if (key != key_of(p.values, p.values.size())) return "a partition's key does not match its path";
    if (!p.model || p.model->identity() != base_identity_) return "a partition is not a model of the base spec";
    if (p.examples > p.model->n_seen()) return "a partition counts more examples than its model learned";
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
    // Then each partition's examples (min_examples), in the same order. A value without them (one
    // written before they were kept) ends after the partitions: each counts its model's n_seen.
    for (const auto& [k, p] : parts_) w.put<uint64_t>(p.examples);
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
    route_changed();
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
        part.examples = part.model->n_seen();
        const std::string k = key_of(part.values, level);
        if (!parts_.emplace(k, std::move(part)).second) r.corrupt("a partition repeats");
    }
    if (r.remaining() > 0)
        for (auto& [k, p] : parts_) p.examples = r.get<uint64_t>("partition examples");
    for (const auto& [k, p] : parts_)
        if (std::string why = invalid_part(k, p); !why.empty()) r.corrupt(why);
}

json Partitioned::state_json() const {
    json parts = json::array();
    for (const auto& [k, p] : parts_)
        parts.push_back({{"path", p.values}, {"examples", p.examples}, {"model", p.model->to_json()}});
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
    route_changed();
    for (const auto& pj : ps) {
        // ("examples" may be absent, as in values written before it was kept: the model's n_seen)
        if (!pj.is_object() || pj.size() != 2u + pj.contains("examples") || !pj.contains("path") || !pj.contains("model") ||
            !pj["path"].is_array())
            bad_json("a partition must be an object with the keys \"path\" (an array of texts), \"examples\" and \"model\"");
        Part part;
        for (const auto& v : pj["path"]) {
            if (!v.is_string()) bad_json("a partition's path must be an array of texts");
            part.values.push_back(v.get<std::string>());
        }
        if (part.values.empty() || part.values.size() > by_.size()) bad_json("a partition's level is not one of the spec's");
        part.model = member(pj["model"]);
        part.examples = part.model->n_seen();
        if (pj.contains("examples")) {
            if (!pj["examples"].is_number_unsigned()) bad_json("a partition's \"examples\" must be a whole number");
            part.examples = pj["examples"].get<uint64_t>();
        }
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
        if (p.trained(min_examples_)) trained[p.values.size() - 1]++;
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
                           {"examples", all[i]->examples},
                           {"trained", all[i]->trained(min_examples_)}});
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
