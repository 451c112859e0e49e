// The ensembles: online bagging (classifier and regressor) and the Adaptive Random Forest: their
// Poisson weights recomputed by hand, the class-name mapping of the members' probabilities,
// deterministic replay, the binary and JSON forms, merging or its refusal, and bad specs.
#include "core/models/ensemble/ensemble.hpp"

#include "core/models/model.hpp"
#include "test_util.hpp"

#include <cmath>
#include <map>
#include <random>
#include <set>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

std::unique_ptr<Model> make(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

std::unique_ptr<Model> round_trip_binary(const Model& m) {
    const auto b = bytes_of(m);
    return core::decode_model(b.data(), b.size());
}

std::unique_ptr<Model> round_trip_json(const Model& m) {
    const std::string t = m.to_json().dump();
    return core::model_from_text(t.data(), t.size());
}

// Three classes by the sign pattern of two numbers, with a noise feature and a categorical one.
void feed_classes(Model& m, int n, uint64_t seed, bool category = true) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < n; i++) {
        Observation o;
        const double a = u(rng), b = u(rng);
        o.add_numeric("a", a);
        o.add_numeric("b", b);
        o.add_numeric("noise", u(rng));
        if (category) o.add_category("color", i % 3 == 0 ? "red" : "blue");
        const char* y = a + b > 0.3 ? "up" : a - b > 0 ? "right" : "down";
        m.learn(o, Label::of_text(y));
    }
}

void feed_regression(Model& m, int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < n; i++) {
        const double a = u(rng), b = u(rng);
        m.learn(num({{"a", a}, {"b", b}}), Label::of_number(2 * a - b + 0.5));
    }
}

// ---- the generator, by hand ---------------------------------------------------------------------

// SplitMix64 and Knuth's Poisson method written out again, independently of the model's code.
uint64_t hand_splitmix(uint64_t& s) {
    s += 0x9e3779b97f4a7c15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t hand_poisson(uint64_t& s, double lambda) {
    const double limit = std::exp(-lambda);
    double p = double(hand_splitmix(s) >> 11) / 9007199254740992.0;
    uint32_t k = 0;
    while (p > limit) {
        k++;
        p *= double(hand_splitmix(s) >> 11) / 9007199254740992.0;
    }
    return k;
}

TEST(Ensembles, PoissonDrawsHaveTheirMeanAndVariance) {
    for (double lambda : {1.0, 6.0}) {
        uint64_t s = 123;
        double sum = 0, sq = 0;
        const int n = 200000;
        for (int i = 0; i < n; i++) {
            const double k = core::ensemble::next_poisson(s, lambda);
            sum += k;
            sq += k * k;
        }
        const double mean = sum / n, var = sq / n - mean * mean;
        EXPECT_NEAR(mean, lambda, 0.03 * lambda);
        EXPECT_NEAR(var, lambda, 0.05 * lambda);
    }
}

TEST(Ensembles, EachMemberLearnsEachExamplePoissonTimes) {
    // Members learn k ~ Poisson(1) copies of each example, drawn member by member from the
    // generator seeded by "seed": their example counts are the sums of the draws made by hand.
    auto m = make(R"({"model":"bagging_regressor","n_models":4,"seed":7})");
    feed_regression(*m, 60, 1);
    uint64_t s = 7;
    std::vector<uint64_t> expect(4, 0);
    for (int i = 0; i < 60; i++)
        for (int j = 0; j < 4; j++) expect[j] += hand_poisson(s, 1.0);
    const json info = m->info();
    ASSERT_EQ(info["members"].size(), 4u);
    uint64_t total = 0;
    for (int j = 0; j < 4; j++) {
        EXPECT_EQ(info["members"][j]["n_seen"].get<uint64_t>(), expect[j]) << "member " << j;
        total += expect[j];
    }
    EXPECT_NE(expect[0], expect[1]);  // the draws differ between members
    EXPECT_NEAR(double(total) / 240.0, 1.0, 0.25);
    EXPECT_EQ(m->n_seen(), 60u);
    // The generator's state is the model's: the JSON form holds it.
    EXPECT_EQ(m->to_json()["state"]["rng"].get<uint64_t>(), s);
    // lambda 3: the same by hand.
    auto l3 = make(R"({"model":"bagging_regressor","n_models":2,"seed":9,"lambda":3})");
    feed_regression(*l3, 20, 2);
    uint64_t s3 = 9;
    uint64_t e0 = 0, e1 = 0;
    for (int i = 0; i < 20; i++) {
        e0 += hand_poisson(s3, 3.0);
        e1 += hand_poisson(s3, 3.0);
    }
    EXPECT_EQ(l3->info()["members"][0]["n_seen"].get<uint64_t>(), e0);
    EXPECT_EQ(l3->info()["members"][1]["n_seen"].get<uint64_t>(), e1);
}

// ---- specs ----------------------------------------------------------------------------------------

TEST(Ensembles, SpecDefaultsAreWrittenOut) {
    auto c = make(R"({"model":"bagging_classifier"})");
    const json spec = c->info()["spec"];
    EXPECT_EQ(spec["base"]["model"], "hoeffding_tree_classifier");
    EXPECT_EQ(spec["base"]["grace_period"], 200);  // the base's own defaults, written out
    EXPECT_EQ(spec["n_models"], 10);
    EXPECT_EQ(spec["lambda"], 1.0);
    EXPECT_EQ(spec["seed"], 0);
    EXPECT_EQ(c->task(), core::Task::Multiclass);
    auto r = make(R"({"model":"bagging_regressor"})");
    EXPECT_EQ(r->info()["spec"]["base"]["model"], "linear_regression");
    EXPECT_EQ(r->task(), core::Task::Regression);
    auto f = make(R"({"model":"adaptive_random_forest_classifier"})");
    const json fs = f->info()["spec"];
    EXPECT_EQ(fs["max_features"], "sqrt");
    EXPECT_EQ(fs["lambda"], 6.0);
    EXPECT_EQ(fs["delta_warning"], 0.01);
    EXPECT_EQ(fs["delta_drift"], 0.001);
    EXPECT_EQ(fs["tree"]["grace_period"], 50);
    EXPECT_EQ(fs["tree"]["delta"], 0.01);
    // The spec written out is a spec that makes the same model (its identity).
    const std::string again = fs.dump();
    EXPECT_EQ(make(again)->identity(), f->identity());
    EXPECT_EQ(make(c->info()["spec"].dump())->identity(), c->identity());
    EXPECT_NE(make(R"({"model":"bagging_classifier","seed":1})")->identity(), c->identity());
}

TEST(Ensembles, BadSpecsAreRefused) {
    auto bad = [](const std::string& spec) { return expect_error(ErrorKind::InvalidParameter, [&] { make(spec); }); };
    EXPECT_NE(bad(R"({"model":"bagging_classifier","n_trees":3})").find("unknown option \"n_trees\""), std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_classifier","base":{"model":"linear_regression"}})").find("must be a classifier"),
              std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_classifier","base":{"model":"kmeans"}})").find("must be a classifier"), std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_regressor","base":{"model":"gaussian_nb"}})").find("must be a regressor"),
              std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_classifier","n_models":0})").find("n_models"), std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_classifier","n_models":101})").find("n_models"), std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_regressor","lambda":0})").find("lambda"), std::string::npos);
    EXPECT_NE(bad(R"({"model":"bagging_classifier","base":{"model":"bagging_classifier"}})").find("cannot be an ensemble"),
              std::string::npos);
    bad(R"({"model":"bagging_classifier","base":{"model":"adaptive_random_forest_classifier"}})");
    bad(R"({"model":"bagging_classifier","base":"hoeffding_tree_classifier"})");
    bad(R"({"model":"bagging_classifier","base":{"max_depth":3}})");
    // The base's own options are checked by the base.
    EXPECT_NE(bad(R"({"model":"bagging_classifier","base":{"model":"hoeffding_tree_classifier","depth":3}})").find("\"depth\""),
              std::string::npos);
    bad(R"({"model":"adaptive_random_forest_classifier","tree":{"seed":1}})");
    bad(R"({"model":"adaptive_random_forest_classifier","tree":{"grace_period":0}})");
    bad(R"({"model":"adaptive_random_forest_classifier","max_features":"cube"})");
    bad(R"({"model":"adaptive_random_forest_classifier","max_features":0})");
    bad(R"({"model":"adaptive_random_forest_classifier","max_features":1.5})");
    bad(R"({"model":"adaptive_random_forest_classifier","delta_drift":1})");
    bad(R"({"model":"adaptive_random_forest_classifier","base":{"model":"hoeffding_tree_classifier"}})");
    bad(R"({"model":"hoeffding_tree_classifier","seed":3})");  // a seed without max_features
}

// ---- learning and predicting ----------------------------------------------------------------------

TEST(Ensembles, ProbabilitiesAreTheMembersAveragedByClassName) {
    auto m = make(R"({"model":"bagging_classifier","base":{"model":"gaussian_nb"},"n_models":8,"seed":3})");
    feed_classes(*m, 300, 5, false);
    const json state = m->to_json()["state"];
    std::vector<std::unique_ptr<Model>> members;
    bool other_order = false;
    for (const auto& mj : state["members"]) {
        members.push_back(core::model_from_json(mj));
        if (members.back()->classes() != m->classes()) other_order = true;
    }
    // Some member learned the classes in another order than the ensemble (its first example
    // was another one): the mapping by name matters.
    EXPECT_TRUE(other_order);
    const Observation o = num({{"a", 0.4}, {"b", -0.2}, {"noise", 0.1}});
    std::vector<double> p, q;
    m->predict_proba(o, p);
    ASSERT_EQ(p.size(), m->classes().size());
    std::map<std::string, double> by_name;
    double total = 0;
    for (const auto& mm : members) {
        mm->predict_proba(o, q);
        for (size_t j = 0; j < q.size(); j++) {
            by_name[mm->classes()[j]] += q[j];
            total += q[j];
        }
    }
    for (size_t c = 0; c < p.size(); c++) EXPECT_NEAR(p[c], by_name[m->classes()[c]] / total, 1e-12) << m->classes()[c];
}

TEST(Ensembles, BinaryBaseMakesABinaryBagging) {
    // Bagging of a binary classifier is a binary classifier: its probability of class 1 is the
    // mean of its members', and each member is the base model trained on the Poisson copies drawn
    // by hand, whatever spelling of the label (true, 1, 'true') the ensemble was given.
    auto m = make(R"({"model":"bagging_classifier","base":{"model":"logistic_regression"},"n_models":4,"seed":5})");
    EXPECT_EQ(m->task(), core::Task::Binary);
    EXPECT_EQ(std::string(m->kind()), "bagging_classifier");
    EXPECT_EQ(m->classes(), (std::vector<std::string>{"0", "1"}));
    std::vector<std::unique_ptr<Model>> hand;
    for (int j = 0; j < 4; j++) hand.push_back(make(R"({"model":"logistic_regression"})"));
    std::mt19937_64 rng(17);
    std::uniform_real_distribution<double> u(-1, 1);
    uint64_t s = 5;
    for (int i = 0; i < 300; i++) {
        const double a = u(rng), b = u(rng);
        const Observation o = num({{"a", a}, {"b", b}});
        const bool y = a - 0.5 * b > 0.1;
        const Label given = i % 3 == 0 ? Label::of_boolean(y) : i % 3 == 1 ? Label::of_number(y ? 1 : 0)
                                                                           : Label::of_text(y ? "true" : "false");
        m->learn(o, given);
        for (int j = 0; j < 4; j++) {
            const uint32_t k = hand_poisson(s, 1.0);
            for (uint32_t c = 0; c < k; c++) hand[j]->learn(o, Label::of_number(y ? 1 : 0));
        }
    }
    EXPECT_EQ(m->n_seen(), 300u);
    for (const auto& probe : {num({{"a", 0.7}, {"b", -0.2}}), num({{"a", -0.6}, {"b", 0.4}}), num({{"a", 0.1}, {"b", 0.0}})}) {
        double mean = 0;
        for (const auto& h : hand) mean += h->predict(probe);
        mean /= 4;
        EXPECT_NEAR(m->predict(probe), mean, 1e-12);
        std::vector<double> p;
        m->predict_proba(probe, p);
        ASSERT_EQ(p.size(), 2u);
        EXPECT_NEAR(p[1], mean, 1e-12);
        EXPECT_NEAR(p[0] + p[1], 1.0, 1e-15);
    }
    EXPECT_GT(m->predict(num({{"a", 0.9}, {"b", -0.9}})), 0.5);
    EXPECT_LT(m->predict(num({{"a", -0.9}, {"b", 0.9}})), 0.5);
    // A regression label or a third class is refused, as the base refuses it.
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 0.1}, {"b", 0.1}}), Label::of_number(0.5)); });
    expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 0.1}, {"b", 0.1}}), Label::of_text("maybe")); });
    EXPECT_EQ(m->n_seen(), 300u);
    // Exact round trips, and the binary form names its own kind code with the same spec kind.
    const auto bytes = bytes_of(*m);
    auto b = round_trip_binary(*m);
    EXPECT_EQ(b->task(), core::Task::Binary);
    EXPECT_EQ(bytes_of(*b), bytes);
    auto j = round_trip_json(*m);
    EXPECT_EQ(j->task(), core::Task::Binary);
    EXPECT_EQ(bytes_of(*j), bytes);
    // Member-by-member merge: the base merges.
    EXPECT_TRUE(m->can_merge());
    auto x = make(R"({"model":"bagging_classifier","base":{"model":"logistic_regression"},"n_models":4,"seed":5})");
    auto y = x->clone();
    x->merge(*m);
    EXPECT_EQ(x->n_seen(), 300u);
    // A multiclass bagging and a binary one are different specs: they do not merge.
    auto mc = make(R"({"model":"bagging_classifier","base":{"model":"softmax_regression"},"n_models":4,"seed":5})");
    EXPECT_EQ(mc->task(), core::Task::Multiclass);
    expect_error(ErrorKind::InvalidParameter, [&] { y->merge(*mc); });
    // The PA classifier is a binary base too.
    auto pa = make(R"({"model":"bagging_classifier","base":{"model":"passive_aggressive_classifier"},"n_models":3})");
    EXPECT_EQ(pa->task(), core::Task::Binary);
    pa->learn(num({{"a", 1.0}}), Label::of_boolean(true));
    EXPECT_EQ(bytes_of(*round_trip_binary(*pa)), bytes_of(*pa));
    // The list of known kinds names bagging_classifier once.
    const std::string kinds = core::known_kinds();
    EXPECT_EQ(kinds.find("bagging_classifier"), kinds.rfind("bagging_classifier"));
}

TEST(Ensembles, RegressorPredictsTheMembersMean) {
    auto m = make(R"({"model":"bagging_regressor","n_models":5,"seed":11})");
    feed_regression(*m, 200, 3);
    const Observation o = num({{"a", 0.3}, {"b", -0.4}});
    double s = 0;
    const json mj_all = m->to_json();
    for (const auto& mj : mj_all["state"]["members"]) s += core::model_from_json(mj)->predict(o);
    EXPECT_NEAR(m->predict(o), s / 5, 1e-12);
    // Members without the ignored key: the ensemble's "ignore" applies before them.
    auto ig = make(R"({"model":"bagging_regressor","n_models":2,"ignore":["b"]})");
    feed_regression(*ig, 10, 3);
    const json ig_all = ig->to_json();
    for (const auto& mj : ig_all["state"]["members"])
        for (const auto& name : mj["features"]) EXPECT_NE(name, "b");  // linear members: a list of names
    EXPECT_EQ(ig_all["state"]["members"][0]["features"], json::array({"a"}));
}

TEST(Ensembles, ReplayAndRoundTripsAreExact) {
    for (const char* spec : {R"({"model":"bagging_classifier","base":{"model":"hoeffding_tree_classifier","grace_period":50},"n_models":4,"seed":42})",
                             R"({"model":"bagging_regressor","n_models":3,"seed":1})",
                             R"({"model":"adaptive_random_forest_classifier","n_models":3,"seed":5})"}) {
        SCOPED_TRACE(spec);
        const bool regression = std::string(spec).find("regressor") != std::string::npos;
        auto a = make(spec), b = make(spec);
        auto feed = [&](Model& m, int n, uint64_t seed) {
            if (regression) feed_regression(m, n, seed);
            else feed_classes(m, n, seed);
        };
        feed(*a, 400, 9);
        feed(*b, 400, 9);
        EXPECT_EQ(bytes_of(*a), bytes_of(*b));  // a replay gives the same model, byte for byte
        auto c = round_trip_binary(*a);
        auto d = round_trip_json(*a);
        EXPECT_EQ(bytes_of(*c), bytes_of(*a));
        EXPECT_EQ(bytes_of(*d), bytes_of(*a));
        EXPECT_EQ(d->to_json(), a->to_json());
        // The generator's state came along: learning on gives the same model.
        feed(*a, 100, 10);
        feed(*c, 100, 10);
        feed(*d, 100, 10);
        EXPECT_EQ(bytes_of(*c), bytes_of(*a));
        EXPECT_EQ(bytes_of(*d), bytes_of(*a));
        EXPECT_NE(bytes_of(*a), bytes_of(*b));
    }
}

TEST(Ensembles, CorruptFormsAreRefused) {
    auto m = make(R"({"model":"bagging_regressor","n_models":2,"seed":1})");
    feed_regression(*m, 20, 1);
    json j = m->to_json();
    json fewer = j;
    fewer["state"]["members"].erase(1);
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(fewer); });
    // A member of another spec.
    json other = j;
    auto stranger = make(R"({"model":"linear_regression","l2":0.5})");
    other["state"]["members"][0] = stranger->to_json();
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(other); });
    json no_rng = j;
    no_rng["state"].erase("rng");
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(no_rng); });
    // The forest: a warning detector with the drift detector's delta, a member of another tree spec.
    auto f = make(R"({"model":"adaptive_random_forest_classifier","n_models":2,"seed":1})");
    feed_classes(*f, 200, 1);
    json fj = f->to_json();
    json swapped = fj;
    swapped["state"]["warning_detectors"][0] = fj["state"]["drift_detectors"][0];
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(swapped); });
    json deep = fj;
    deep["state"]["members"][1] = make(R"({"model":"hoeffding_tree_classifier","max_depth":3})")->to_json();
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(deep); });
    EXPECT_EQ(core::model_from_json(fj)->to_json(), fj);
    // Binary: every truncation is refused cleanly.
    const auto b = bytes_of(*m);
    for (size_t n : {b.size() - 1, b.size() / 2, size_t(100)})
        EXPECT_THROW(core::decode_model(b.data(), n), Error);
}

TEST(Ensembles, ARowEveryMemberRefusesLeavesTheEnsembleUnchanged) {
    // The members share one spec: a refusal that depends on the row (here a label too large for a
    // linear model's running label statistics) comes from the first member that learns it,
    // before any member changed. The ensemble, its generator included, stays as it was.
    auto m = make(R"({"model":"bagging_regressor","n_models":3,"seed":2,"base":{"model":"linear_regression","optimizer":"sgd"}})");
    for (int i = 0; i < 5; i++) m->learn(num({{"a", 1}}), Label::of_number(1));
    const auto before = bytes_of(*m);
    expect_error(ErrorKind::NumericRange, [&] { m->learn(num({{"a", 1e200}}), Label::of_number(1e200)); });
    EXPECT_EQ(bytes_of(*m), before);
    EXPECT_EQ(m->n_seen(), 5u);
    // And it learns on as if the row had not come.
    auto twin = core::decode_model(before.data(), before.size());
    m->learn(num({{"a", 2}}), Label::of_number(2));
    twin->learn(num({{"a", 2}}), Label::of_number(2));
    EXPECT_EQ(bytes_of(*m), bytes_of(*twin));
}

// ---- merging ---------------------------------------------------------------------------------------

TEST(Ensembles, BaggingMergesMemberByMember) {
    const char* spec = R"({"model":"bagging_regressor","n_models":3,"seed":4})";
    auto a = make(spec), b = make(spec);
    a->begin_aggregation();
    b->begin_aggregation();
    feed_regression(*a, 80, 1);
    feed_regression(*b, 50, 2);
    ASSERT_TRUE(a->can_merge());
    auto merged = a->clone();
    merged->merge(*b);
    EXPECT_EQ(merged->n_seen(), 130u);
    const json ma = a->to_json()["state"]["members"], mb = b->to_json()["state"]["members"];
    const json mm = merged->to_json()["state"]["members"];
    for (size_t i = 0; i < 3; i++) {
        auto x = core::model_from_json(ma[i]);
        x->merge(*core::model_from_json(mb[i]));
        EXPECT_EQ(mm[i], x->to_json()) << "member " << i;
    }
    // Trees do not merge: neither does their bagging, nor the forest.
    auto t = make(R"({"model":"bagging_classifier","n_models":2})"), u = make(R"({"model":"bagging_classifier","n_models":2})");
    feed_classes(*t, 10, 1);
    feed_classes(*u, 10, 2);
    EXPECT_FALSE(t->can_merge());
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { t->merge(*u); });
    EXPECT_NE(msg.find("cannot merge"), std::string::npos);
    EXPECT_FALSE(make(R"({"model":"adaptive_random_forest_classifier"})")->can_merge());
    // Naive Bayes merges exactly: so does its bagging.
    EXPECT_TRUE(make(R"({"model":"bagging_classifier","base":{"model":"gaussian_nb"}})")->can_merge());
}

// ---- the forest -------------------------------------------------------------------------------------

TEST(Ensembles, TreeFeatureSubsets) {
    // max_features 1 of 4 features: the root leaf observes one feature (which one: the seed's).
    auto t = make(R"({"model":"hoeffding_tree_classifier","max_features":1,"seed":3,"grace_period":100000})");
    feed_classes(*t, 50, 1);
    EXPECT_EQ(t->to_json()["state"]["tree"]["observers"].size(), 1u);
    auto all = make(R"({"model":"hoeffding_tree_classifier","grace_period":100000})");
    feed_classes(*all, 50, 1);
    EXPECT_EQ(all->to_json()["state"]["tree"]["observers"].size(), 5u);  // a, b, noise, color=red, color=blue
    // A spec without max_features is as before (no new keys, the same identity).
    EXPECT_FALSE(all->info()["spec"].contains("max_features"));
    EXPECT_FALSE(all->info()["spec"].contains("seed"));
    // Different seeds choose different subsets somewhere among a few.
    std::set<std::string> chosen;
    for (int seed = 0; seed < 8; seed++) {
        auto s = make(R"({"model":"hoeffding_tree_classifier","max_features":1,"grace_period":100000,"seed":)" +
                      std::to_string(seed) + "}");
        feed_classes(*s, 20, 1);
        chosen.insert(s->to_json()["state"]["tree"]["observers"].begin().key());
    }
    EXPECT_GT(chosen.size(), 1u);
    // The subset survives the round trips (it is a function of the seed and the leaf's path).
    auto back = round_trip_json(*t);
    feed_classes(*t, 30, 2);
    feed_classes(*back, 30, 2);
    EXPECT_EQ(bytes_of(*back), bytes_of(*t));
}

// A stream whose concept flips at `change`: the class of a + b > 0 is reversed.
void feed_flip(Model& m, int from, int to, int change, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = from; i < to; i++) {
        const double a = u(rng), b = u(rng), c = u(rng);
        const bool pos = (a + b > 0) != (i >= change);
        m.learn(num({{"a", a}, {"b", b}, {"c", c}}), Label::of_text(pos ? "p" : "n"));
    }
}

TEST(Ensembles, ForestDetectsDriftAndReplacesTrees) {
    auto f = make(R"({"model":"adaptive_random_forest_classifier","n_models":3,"seed":1,"max_features":2})");
    feed_flip(*f, 0, 2000, 2000, 1);
    const json before = f->info();
    feed_flip(*f, 2000, 4000, 2000, 2);
    const json after = f->info();
    EXPECT_GT(after["drifts"].get<uint64_t>(), before["drifts"].get<uint64_t>());
    EXPECT_GE(after["warnings"].get<uint64_t>(), after["drifts"].get<uint64_t>() > 0 ? 1u : 0u);
    EXPECT_EQ(after["members"].size(), 3u);
    // A tree replaced after the change has seen only rows since about then (with lambda 6, about
    // 6 per row: some 12,000 at most), against about 24,000 for a tree that learned all 4,000
    // rows: some replaced member has seen fewer than 3,000 rows' worth. (A member may also have
    // been replaced by a false alarm before the change, so not every replaced one qualifies.)
    bool replaced_after_change = false;
    for (const auto& m : after["members"])
        if (m["drifts"].get<uint64_t>() > 0 && m["n_seen"].get<uint64_t>() < 6u * 3000u) replaced_after_change = true;
    EXPECT_TRUE(replaced_after_change);
    // After the change the forest predicts the new concept.
    int right = 0;
    std::mt19937_64 rng(77);
    std::uniform_real_distribution<double> u(-1, 1);
    for (int i = 0; i < 500; i++) {
        const double a = u(rng), b = u(rng), c = u(rng);
        std::vector<double> p;
        f->predict_proba(num({{"a", a}, {"b", b}, {"c", c}}), p);
        const auto& cls = f->classes();
        const std::string pred = cls[p[0] >= p[1] ? 0 : 1];
        right += pred == (a + b > 0 ? "n" : "p");
    }
    EXPECT_GT(right, 400);
    // Its state round-trips with the detectors and background trees.
    auto back = round_trip_binary(*f);
    EXPECT_EQ(bytes_of(*back), bytes_of(*f));
    EXPECT_EQ(round_trip_json(*f)->to_json(), f->to_json());
}

}  // namespace
}  // namespace pg_learn::test
