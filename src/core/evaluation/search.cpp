// Hyperparameter search: the search space, its grid and random draws, and the trials.
#include "core/evaluation/search.hpp"

#include "core/common/envelope.hpp"
#include "core/common/error.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace pg_learn::core {

using json = nlohmann::json;

namespace {

const char* const kDistributions[] = {"uniform", "log_uniform", "int_uniform", "choice"};

std::string path_name(const std::vector<std::string>& path) {
    std::string s;
    for (const auto& k : path) s += (s.empty() ? "" : ".") + k;
    return s.empty() ? "(the space)" : s;
}

// u in [0, 1) from the top 53 bits of one output.
double unit(SplitMix64& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }

// high64(next() * k): an integer in [0, k), k >= 1.
uint64_t below(SplitMix64& rng, uint64_t k) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(rng.next()) * k) >> 64);
}

bool integral(const json& v, int64_t& out) {
    if (v.is_number_integer()) {
        if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return false;
        out = v.get<int64_t>();
        return true;
    }
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) <= 9007199254740992.0) {
            out = static_cast<int64_t>(d);
            return true;
        }
    }
    return false;
}

[[noreturn]] void bad_space(const std::string& message, const std::string& detail = {}) {
    fail(ErrorKind::InvalidParameter, message, detail,
         "A search space mirrors the spec: a list of values is a choice, {\"uniform\": [a, b]}, "
         "{\"log_uniform\": [a, b]}, {\"int_uniform\": [a, b]} and {\"choice\": [...]} are distributions, "
         "e.g. {\"l2\": {\"log_uniform\": [1e-6, 1e-2]}, \"optimizer\": {\"adam\": {\"lr\": [0.001, 0.01]}}}.");
}

void set_path(json& root, const std::vector<std::string>& path, const json& value) {
    json* node = &root;
    for (size_t i = 0; i < path.size(); i++) {
        if (!node->is_object()) *node = json::object();
        node = &(*node)[path[i]];
    }
    *node = value;
}

}  // namespace

std::string SearchDimension::name() const { return path_name(path); }

void SearchSpace::walk(const json& node, std::vector<std::string>& path) {
    if (node.is_array()) {
        if (node.empty()) bad_space("the search space's \"" + path_name(path) + "\" lists no values");
        SearchDimension d;
        d.path = path;
        d.values.assign(node.begin(), node.end());
        dims_.push_back(std::move(d));
        return;
    }
    if (!node.is_object()) {
        fixed_.emplace_back(path, node);
        return;
    }
    for (const char* dist : kDistributions) {
        auto it = node.find(dist);
        if (it == node.end()) continue;
        const std::string where = path_name(path);
        if (node.size() != 1)
            bad_space("the distribution at \"" + where + "\" must be an object with the one key \"" + dist + "\"",
                      "it has " + std::to_string(node.size()) + " keys");
        const json& a = *it;
        SearchDimension d;
        d.path = path;
        if (std::string(dist) == "choice") {
            if (!a.is_array()) bad_space("\"choice\" at \"" + where + "\" must be an array of values");
            if (a.empty()) bad_space("the search space's \"" + where + "\" lists no values");
            d.values.assign(a.begin(), a.end());
            dims_.push_back(std::move(d));
            return;
        }
        if (!a.is_array() || a.size() != 2)
            bad_space("\"" + std::string(dist) + "\" at \"" + where + "\" must be [low, high]");
        if (std::string(dist) == "int_uniform") {
            d.kind = SearchDimension::Kind::IntUniform;
            if (!integral(a[0], d.ilow) || !integral(a[1], d.ihigh))
                bad_space("\"int_uniform\" at \"" + where + "\" must be [low, high] of integers");
            if (d.ilow > d.ihigh)
                bad_space("\"int_uniform\" at \"" + where + "\" has low > high", a.dump());
        } else {
            d.kind = std::string(dist) == "uniform" ? SearchDimension::Kind::Uniform : SearchDimension::Kind::LogUniform;
            if (!a[0].is_number() || !a[1].is_number())
                bad_space("\"" + std::string(dist) + "\" at \"" + where + "\" must be [low, high] of numbers");
            d.low = a[0].get<double>();
            d.high = a[1].get<double>();
            if (!std::isfinite(d.low) || !std::isfinite(d.high))
                bad_space("\"" + std::string(dist) + "\" at \"" + where + "\" must have finite bounds");
            if (d.low > d.high) bad_space("\"" + std::string(dist) + "\" at \"" + where + "\" has low > high", a.dump());
            if (d.kind == SearchDimension::Kind::LogUniform && d.low <= 0)
                bad_space("\"log_uniform\" at \"" + where + "\" needs 0 < low", a.dump());
        }
        dims_.push_back(std::move(d));
        return;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
        path.push_back(it.key());
        walk(it.value(), path);
        path.pop_back();
    }
}

SearchSpace SearchSpace::parse(const json& space) {
    if (!space.is_object())
        bad_space(std::string("the search space must be a JSON object, not ") + space.type_name());
    SearchSpace s;
    std::vector<std::string> path;
    s.walk(space, path);
    if (s.dims_.empty())
        bad_space("the search space has no values to search",
                  "it holds no list of values and no distribution");
    if (s.dims_.size() > 1000) fail(ErrorKind::ProgramLimit, "the search space has more than 1000 dimensions");
    return s;
}

bool SearchSpace::is_grid() const {
    for (const auto& d : dims_)
        if (d.kind != SearchDimension::Kind::Choice) return false;
    return true;
}

uint64_t SearchSpace::grid_size() const {
    uint64_t n = 1;
    for (const auto& d : dims_) {
        if (d.kind != SearchDimension::Kind::Choice)
            fail(ErrorKind::InvalidParameter,
                 "grid search takes lists of values, and \"" + d.name() + "\" is a distribution", {},
                 "List the values to try, or use method => 'random', which draws from distributions.");
        const uint64_t k = d.values.size();
        n = n > std::numeric_limits<uint64_t>::max() / k ? std::numeric_limits<uint64_t>::max() : n * k;
    }
    return n;
}

std::vector<json> SearchSpace::grid_point(uint64_t index) const {
    std::vector<json> out(dims_.size());
    for (size_t i = dims_.size(); i-- > 0;) {
        const uint64_t k = dims_[i].values.size();
        out[i] = dims_[i].values[index % k];
        index /= k;
    }
    return out;
}

std::vector<json> SearchSpace::draw(SplitMix64& rng) const {
    std::vector<json> out;
    out.reserve(dims_.size());
    for (const auto& d : dims_) {
        switch (d.kind) {
            case SearchDimension::Kind::Choice: out.push_back(d.values[below(rng, d.values.size())]); break;
            case SearchDimension::Kind::Uniform:
                out.push_back(std::min(d.high, d.low + (d.high - d.low) * unit(rng)));
                break;
            case SearchDimension::Kind::LogUniform: {
                const double a = std::log(d.low), b = std::log(d.high);
                out.push_back(std::min(d.high, std::max(d.low, std::exp(a + (b - a) * unit(rng)))));
                break;
            }
            case SearchDimension::Kind::IntUniform: {
                const uint64_t k = static_cast<uint64_t>(d.ihigh) - static_cast<uint64_t>(d.ilow) + 1;
                const uint64_t r = k == 0 ? rng.next() : below(rng, k);
                out.push_back(static_cast<int64_t>(static_cast<uint64_t>(d.ilow) + r));
                break;
            }
        }
    }
    return out;
}

std::vector<uint64_t> SearchSpace::draw_grid_indices(uint64_t count, SplitMix64& rng) const {
    const uint64_t size = grid_size();
    count = std::min(count, size);
    std::unordered_map<uint64_t, uint64_t> moved;  // the sparse permutation: index -> value
    auto at = [&](uint64_t i) {
        auto it = moved.find(i);
        return it == moved.end() ? i : it->second;
    };
    std::vector<uint64_t> out;
    out.reserve(count);
    for (uint64_t j = 0; j < count; j++) {
        const uint64_t r = j + below(rng, size - j);
        const uint64_t vj = at(j), vr = at(r);
        moved[j] = vr;
        moved[r] = vj;
        out.push_back(vr);
    }
    return out;
}

json SearchSpace::apply(const json& base, const std::vector<json>& values) const {
    json spec = base;
    for (const auto& [path, v] : fixed_) set_path(spec, path, v);
    for (size_t i = 0; i < dims_.size() && i < values.size(); i++) set_path(spec, dims_[i].path, values[i]);
    return spec;
}

json SearchSpace::named(const std::vector<json>& values) const {
    json out = json::object();
    for (size_t i = 0; i < dims_.size() && i < values.size(); i++) out[dims_[i].name()] = values[i];
    return out;
}

json search_json(const std::string& text, const char* what) {
    check_json_depth(text.data(), text.size(), 32, what);
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) fail(ErrorKind::InvalidText, std::string(what) + " is not valid JSON");
    return j;
}

// ---- metrics to choose by -------------------------------------------------------------------

bool higher_is_better(std::string_view m) {
    for (const char* h : {"auc", "accuracy", "precision", "recall", "f1", "r2"})
        if (m == h) return true;
    for (const char* l : {"logloss", "mae", "rmse", "mape"})
        if (m == l) return false;
    if (m == "mean_error")
        fail(ErrorKind::InvalidParameter, "metric \"mean_error\" has no better direction",
             "A mean error is best at 0, on either side.", "Choose by mae or rmse.");
    fail(ErrorKind::InvalidParameter, "unknown metric \"" + std::string(m) + "\"", {},
         "Metrics with a direction: auc, accuracy, precision, recall, f1, r2 (higher is better); "
         "logloss, mae, rmse, mape (lower is better).");
}

std::string default_search_metric(Task task) {
    return task == Task::Regression ? "rmse" : "logloss";
}

std::string check_search_metric(std::string_view kind, Task task, const std::string& metric) {
    const std::vector<std::string> ok =
        check_metrics(kind, task, metric.empty() ? std::vector<std::string>{default_search_metric(task)}
                                                 : std::vector<std::string>{metric});
    higher_is_better(ok[0]);
    return ok[0];
}

SearchMethod search_method_by_name(std::string_view name) {
    if (name == "grid") return SearchMethod::Grid;
    if (name == "random") return SearchMethod::Random;
    if (name == "halving") return SearchMethod::Halving;
    fail(ErrorKind::InvalidParameter, "unknown search method \"" + std::string(name) + "\"", {},
         "The methods: grid (every combination of the listed values), random (draws) and halving "
         "(successive halving of the grid's points or of random draws).");
}

const char* search_method_name(SearchMethod m) {
    switch (m) {
        case SearchMethod::Grid: return "grid";
        case SearchMethod::Random: return "random";
        case SearchMethod::Halving: return "halving";
    }
    return "grid";
}

// ---- running the trials ---------------------------------------------------------------------

namespace {

int epochs_for(const Model& m, int epochs) { return epochs > 1 && m.features_learn_labels() ? 1 : epochs; }

void evaluate_trial(Trial& t, Task task, const EvalRows& rows, const SearchOptions& o,
                    const std::function<void()>& every_so_often) {
    std::unique_ptr<Model> m = model_from_json(t.spec);
    if (m->task() != task)
        fail(ErrorKind::InvalidParameter,
             std::string("the trial's model is a ") + task_name(m->task()) + " model, the search's a " + task_name(task) +
                 " model");
    if (!m->can_learn())
        fail(ErrorKind::InvalidParameter, std::string("the ") + m->kind() + " model cannot learn (it is predict-only)");
    const int epochs = epochs_for(*m, o.epochs);
    if (epochs != o.epochs) t.message = "learned each row once: the model computes features from the labels it learned";
    std::vector<FoldResult> folds;
    if (o.folds > 0)
        folds = cross_validate(*m, rows, o.folds, o.metrics, epochs, true, o.seed, every_so_often);
    else
        folds.push_back(evaluate_fold(*m, rows, 1, o.metrics, epochs, true, o.seed, every_so_often));
    for (size_t i = 0; i < o.metrics.size(); i++) {
        std::vector<std::optional<double>> v;
        for (const auto& f : folds) v.push_back(f.values[i]);
        t.values_of_metrics.push_back(mean_of(v));
        if (i == 0) {
            t.value = mean_of(v);
            t.sd = sd_of(v);
        }
    }
    t.succeeded = true;
}

}  // namespace

void check_search(const json& base, const SearchSpace& space, const SearchOptions& o) {
    if (!base.is_object() || base.contains("pg_learn_model"))
        fail(ErrorKind::InvalidParameter, "the search's base must be a model spec (a JSON object with \"model\")");
    if (o.metrics.empty() || o.metrics[0] != o.metric) fail(ErrorKind::Internal, "the search metric must come first");
    higher_is_better(o.metric);
    if (o.trials && (*o.trials < 1 || static_cast<uint64_t>(*o.trials) > kMaxSearchTrials))
        fail(ErrorKind::InvalidParameter, "trials must be between 1 and " + std::to_string(kMaxSearchTrials),
             "got " + std::to_string(*o.trials));
    if (o.seconds && !(std::isfinite(*o.seconds) && *o.seconds > 0))
        fail(ErrorKind::InvalidParameter, "seconds must be a positive number of seconds");
    if (o.epochs < 1 || o.epochs > kMaxEpochs)
        fail(ErrorKind::InvalidParameter, "epochs must be between 1 and " + std::to_string(kMaxEpochs),
             "got " + std::to_string(o.epochs));
    if (o.folds != 0) check_folds(o.folds);
    if (o.method == SearchMethod::Grid) {
        const uint64_t g = space.grid_size();
        if (!o.trials && g > kMaxSearchTrials)
            fail(ErrorKind::ProgramLimit,
                 "the grid has " + (g == std::numeric_limits<uint64_t>::max() ? std::string("too many") : std::to_string(g)) +
                     " points, more than " + std::to_string(kMaxSearchTrials) + " trials",
                 {}, "Pass trials => n to run its first n points, or use method => 'random'.");
    } else if (o.method == SearchMethod::Random && !o.trials && !o.seconds) {
        fail(ErrorKind::InvalidParameter, "random search needs a budget", {},
             "Pass trials => n (the number of draws) or seconds => s.");
    } else if (o.method == SearchMethod::Halving && !o.trials) {
        if (!space.is_grid())
            fail(ErrorKind::InvalidParameter, "successive halving over distributions needs trials => n candidates");
        if (space.grid_size() > kMaxSearchTrials)
            fail(ErrorKind::ProgramLimit, "the grid has more than " + std::to_string(kMaxSearchTrials) + " points", {},
                 "Pass trials => n to draw n of them.");
    }
}


// ---- successive halving ----------------------------------------------------------------------

namespace {

// run_epochs' order of learning, one step at a time: the rows in order, then shuffled passes.
struct EpochStream {
    std::vector<size_t> order;
    SplitMix64 rng;
    size_t pos = 0;    // steps taken
    bool shuffle = true;
    EpochStream(size_t n, uint64_t seed) : order(n), rng(seed) {
        for (size_t i = 0; i < n; i++) order[i] = i;
    }
    // The pass the next step belongs to (1, 2, ...: Model::set_epoch).
    uint32_t epoch() const { return static_cast<uint32_t>(pos / order.size() + 1); }
    // The row index (into order's values) of the next step.
    size_t next() {
        const size_t n = order.size();
        const size_t k = pos % n;
        if (k == 0 && pos > 0 && shuffle) shuffle_order(order, rng);
        pos++;
        return order[k];
    }
};

struct Candidate {
    size_t trial;                                // index into the result's trials
    std::vector<std::unique_ptr<Model>> models;  // one per split
};

bool better(bool higher, const std::optional<double>& a, const std::optional<double>& b) {
    const bool da = a && !std::isnan(*a), db = b && !std::isnan(*b);
    if (da != db) return da;
    if (!da) return false;
    return higher ? *a > *b : *a < *b;
}

void fail_trial(Trial& t, const Error& e, size_t n_metrics) {
    if (e.kind() == ErrorKind::Internal) throw e;
    t.succeeded = false;
    t.value.reset();
    t.sd.reset();
    t.values_of_metrics.assign(n_metrics, std::nullopt);
    t.message = e.what();
    if (!e.detail().empty()) t.message += " (" + e.detail() + ")";
}

}  // namespace

static SearchResult run_halving(const json& base, Task task, const SearchSpace& space, const EvalRows& rows,
                                const SearchOptions& o, const std::function<double()>& elapsed,
                                const std::function<void()>& every_so_often) {
    const bool higher = higher_is_better(o.metric);
    SearchResult res;
    SplitMix64 rng(o.seed);
    std::vector<std::vector<json>> points;
    if (space.is_grid() && space.grid_size() < (uint64_t(1) << 62)) {
        const uint64_t g = space.grid_size();
        std::vector<uint64_t> idx;
        if (o.trials) {
            idx = space.draw_grid_indices(static_cast<uint64_t>(*o.trials), rng);
            res.capped = static_cast<uint64_t>(*o.trials) > g;
        } else {
            for (uint64_t i = 0; i < g; i++) idx.push_back(i);
        }
        for (uint64_t i : idx) points.push_back(space.grid_point(i));
    } else {
        for (int64_t k = 0; k < *o.trials; k++) points.push_back(space.draw(rng));
    }
    res.planned = points.size();
    // The splits: k folds, or the holdout's fold 1; each split's training rows and stream.
    std::vector<uint32_t> tests;
    if (o.folds > 0)
        for (int64_t f = 1; f <= o.folds; f++) tests.push_back(static_cast<uint32_t>(f));
    else
        tests.push_back(1);
    std::vector<std::vector<size_t>> train(tests.size());
    std::vector<EpochStream> streams;
    for (size_t s = 0; s < tests.size(); s++) {
        for (size_t i = 0; i < rows.size(); i++)
            if (rows.folds[i] != tests[s]) train[s].push_back(i);
        streams.emplace_back(train[s].size(), o.seed);
    }
    // The candidates' models; a refused spec fails at once.
    std::vector<Candidate> live;
    bool single_pass = false;
    for (size_t k = 0; k < points.size(); k++) {
        Trial t;
        t.number = static_cast<int64_t>(k + 1);
        t.spec = space.apply(base, points[k]);
        t.values = space.named(points[k]);
        Candidate c{res.trials.size(), {}};
        try {
            for (size_t s = 0; s < tests.size(); s++) {
                std::unique_ptr<Model> m = model_from_json(t.spec);
                if (m->task() != task)
                    fail(ErrorKind::InvalidParameter, std::string("the trial's model is a ") + task_name(m->task()) +
                                                          " model, the search's a " + task_name(task) + " model");
                if (!m->can_learn())
                    fail(ErrorKind::InvalidParameter, std::string("the ") + m->kind() + " model cannot learn (it is predict-only)");
                if (o.epochs > 1 && m->features_learn_labels()) single_pass = true;
                c.models.push_back(std::move(m));
            }
            live.push_back(std::move(c));
        } catch (const Error& e) {
            fail_trial(t, e, o.metrics.size());
        }
        res.trials.push_back(std::move(t));
    }
    // One pass for all when a candidate computes features from labels (the streams are shared).
    const int epochs = single_pass ? 1 : o.epochs;
    int s_max = 0;
    for (uint64_t n = live.size(); n >= static_cast<uint64_t>(kHalvingEta); n /= kHalvingEta) s_max++;
    res.rungs = s_max + 1;
    std::vector<size_t> target(tests.size(), 0);
    for (int k = 0; k <= s_max && !live.empty(); k++) {
        if (o.seconds && k > 0 && elapsed() >= *o.seconds) {
            res.stopped_by_time = true;
            break;
        }
        const double t0 = elapsed();
        res.rungs_run = k + 1;
        // Every live model learns its split's stream up to this rung's share of it.
        uint64_t step = 0;
        for (size_t s = 0; s < tests.size(); s++) {
            const double total = static_cast<double>(train[s].size()) * epochs;
            target[s] = static_cast<size_t>(std::ceil(total * std::pow(static_cast<double>(kHalvingEta), k - s_max)));
            if (k == s_max) target[s] = train[s].size() * static_cast<size_t>(epochs);
            if (train[s].empty()) continue;
            while (streams[s].pos < target[s]) {
                const uint32_t epoch = streams[s].epoch();
                const size_t row = train[s][streams[s].next()];
                for (Candidate& c : live) {
                    if (!c.models[s]) continue;
                    try {
                        c.models[s]->set_epoch(epoch);
                        rows.learn(*c.models[s], row);
                    } catch (const Error& e) {
                        fail_trial(res.trials[c.trial], e, o.metrics.size());
                        for (auto& mm : c.models) mm.reset();
                    }
                }
                if ((++step & 1023) == 0) every_so_often();
            }
        }
        // Scored; the failed ones leave.
        std::vector<Candidate> scored;
        for (Candidate& c : live) {
            Trial& t = res.trials[c.trial];
            if (!c.models[0]) continue;
            try {
                std::vector<std::vector<std::optional<double>>> per(o.metrics.size());
                for (size_t s = 0; s < tests.size(); s++) {
                    EvalMetrics acc(task, o.metrics);
                    for (size_t i = 0; i < rows.size(); i++) {
                        if (rows.folds[i] != tests[s]) continue;
                        if (rows.dense) acc.add(*c.models[s], nullptr, rows.values.data() + i * rows.dim, rows.dim, rows.labels[i].view());
                        else acc.add(*c.models[s], &rows.named[i], nullptr, 0, rows.labels[i].view());
                        if ((acc.count() & 1023) == 1023) every_so_often();
                    }
                    for (size_t m = 0; m < o.metrics.size(); m++) per[m].push_back(acc.value(m));
                }
                t.values_of_metrics.clear();
                for (size_t m = 0; m < o.metrics.size(); m++) t.values_of_metrics.push_back(mean_of(per[m]));
                t.value = mean_of(per[0]);
                t.sd = sd_of(per[0]);
                t.succeeded = true;
                t.rung = k + 1;
                t.message = "rung " + std::to_string(k + 1) + " of " + std::to_string(s_max + 1) + ": learned " +
                            std::to_string(target[0]) + " of " + std::to_string(train[0].size() * epochs) + " steps";
                if (single_pass) t.message += " (one pass: a model computes features from the labels it learned)";
                scored.push_back(std::move(c));
            } catch (const Error& e) {
                fail_trial(t, e, o.metrics.size());
            }
            every_so_often();
        }
        const double share = (elapsed() - t0) / static_cast<double>(std::max<size_t>(1, live.size()));
        for (const Candidate& c : live) res.trials[c.trial].seconds += share;
        if (k == s_max) {
            live = std::move(scored);
            break;
        }
        // The best floor(n / eta) go on (at least one); equal values: the earlier trial.
        std::stable_sort(scored.begin(), scored.end(), [&](const Candidate& a, const Candidate& b) {
            return better(higher, res.trials[a.trial].value, res.trials[b.trial].value);
        });
        const size_t keep = std::max<size_t>(1, scored.size() / kHalvingEta);
        for (size_t i = keep; i < scored.size(); i++) res.trials[scored[i].trial].message += "; eliminated";
        scored.resize(std::min(keep, scored.size()));
        std::sort(scored.begin(), scored.end(), [](const Candidate& a, const Candidate& b) { return a.trial < b.trial; });
        live = std::move(scored);
    }
    // The best: of the trials scored at the highest rung reached.
    int top = 0;
    for (const Trial& t : res.trials)
        if (t.succeeded) top = std::max(top, t.rung);
    for (size_t i = 0; i < res.trials.size(); i++) {
        const Trial& t = res.trials[i];
        if (!t.succeeded || t.rung != top || !t.value || std::isnan(*t.value)) continue;
        if (!res.best || better(higher, t.value, res.trials[*res.best].value)) res.best = i;
    }
    if (res.best) res.trials[*res.best].is_best = true;
    return res;
}

SearchResult run_search(const json& base, Task task, const SearchSpace& space, const EvalRows& rows,
                        const SearchOptions& o, const std::function<void()>& every_so_often) {
    check_search(base, space, o);
    const bool higher = higher_is_better(o.metric);
    const auto started = std::chrono::steady_clock::now();
    const std::function<double()> elapsed =
        o.elapsed ? o.elapsed : [started]() {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        };

    if (o.method == SearchMethod::Halving) return run_halving(base, task, space, rows, o, elapsed, every_so_often);
    SearchResult res;
    SplitMix64 rng(o.seed);
    std::vector<uint64_t> indices;  // grid points to run, when the trials are grid points
    bool from_grid = false;
    if (o.method == SearchMethod::Grid) {
        const uint64_t g = space.grid_size();
        res.planned = o.trials ? std::min<uint64_t>(g, static_cast<uint64_t>(*o.trials)) : g;
        from_grid = true;
        for (uint64_t i = 0; i < res.planned; i++) indices.push_back(i);
    } else {
        res.planned = o.trials ? static_cast<uint64_t>(*o.trials) : kMaxSearchTrials;
        // Every dimension a list: points of the grid drawn without replacement (scikit-learn's
        // ParameterSampler does the same), at most all of them.
        if (space.is_grid() && space.grid_size() < (uint64_t(1) << 62)) {
            const uint64_t g = space.grid_size();
            if (res.planned > g) {
                res.capped = o.trials.has_value();
                res.planned = g;
            }
            indices = space.draw_grid_indices(res.planned, rng);
            from_grid = true;
        }
    }

    for (uint64_t k = 0; k < res.planned; k++) {
        if (o.seconds && k > 0 && elapsed() >= *o.seconds) {
            res.stopped_by_time = true;
            break;
        }
        const double t0 = elapsed();
        const std::vector<json> values = from_grid ? space.grid_point(indices[k]) : space.draw(rng);
        Trial t;
        t.number = static_cast<int64_t>(k + 1);
        t.spec = space.apply(base, values);
        t.values = space.named(values);
        try {
            evaluate_trial(t, task, rows, o, every_so_often);
        } catch (const Error& e) {
            if (e.kind() == ErrorKind::Internal) throw;
            t.succeeded = false;
            t.value.reset();
            t.sd.reset();
            t.values_of_metrics.assign(o.metrics.size(), std::nullopt);
            t.message = e.what();
            if (!e.detail().empty()) t.message += " (" + e.detail() + ")";
        }
        t.seconds = elapsed() - t0;
        res.trials.push_back(std::move(t));
    }

    for (size_t i = 0; i < res.trials.size(); i++) {
        const Trial& t = res.trials[i];
        if (!t.succeeded || !t.value || std::isnan(*t.value)) continue;
        if (!res.best) {
            res.best = i;
            continue;
        }
        const double b = *res.trials[*res.best].value;
        if (higher ? *t.value > b : *t.value < b) res.best = i;
    }
    if (res.best) res.trials[*res.best].is_best = true;
    return res;
}

std::unique_ptr<Model> fit_on_all_rows(const json& spec, const EvalRows& rows, int epochs, uint64_t seed,
                                       const std::function<void()>& every_so_often, bool* single_pass) {
    std::unique_ptr<Model> m = model_from_json(spec);
    const int e = epochs_for(*m, epochs);
    if (single_pass) *single_pass = e != epochs;
    run_epochs(rows.size(), e, true, seed, [&](size_t i) { rows.learn(*m, i); }, every_so_often,
               [&](uint32_t ep) { m->set_epoch(ep); });
    return m;
}

}  // namespace pg_learn::core
