// gaussian_nb, multinomial_nb and bernoulli_nb against scikit-learn (test/reference/naive_bayes_ref.py
// writes expected_naive_bayes.json), through the model contract; exact merges in any order and
// from a trained start, missing features, binary and JSON round trips, bad input.
#include "test_util.hpp"

#include "core/common/partial_states.hpp"
#include "core/models/model.hpp"
#include "core/models/naive_bayes/naive_bayes.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <numeric>
#include <optional>
#include <sstream>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;
using Bytes = std::vector<uint8_t>;

const json& data() {
    static json d = read_reference("expected_naive_bayes.json", "test/reference/naive_bayes_ref.py");
    return d;
}

std::unique_ptr<Model> fresh(const json& spec) { return core::model_from_json(spec); }
std::unique_ptr<Model> fresh(const char* spec) { return core::model_from_json(json::parse(spec)); }

void learn_rows(Model& m, const json& rows, size_t from = 0, size_t to = SIZE_MAX) {
    Observation obs;
    for (size_t i = from; i < std::min(to, rows.size()); i++) {
        to_observation(rows[i][0], obs);
        m.learn(obs, Label::of_text(rows[i][1].get<std::string>()));
    }
}

// class name -> probability
std::map<std::string, double> proba_of(const Model& m, const json& x) {
    Observation obs;
    to_observation(x, obs);
    std::vector<double> p;
    m.predict_proba(obs, p);
    std::map<std::string, double> out;
    for (size_t c = 0; c < p.size(); c++) out[m.classes()[c]] = p[c];
    return out;
}

void expect_same_predictions(const Model& a, const Model& b, const json& test, double tol) {
    for (const auto& x : test) {
        const auto pa = proba_of(a, x), pb = proba_of(b, x);
        ASSERT_EQ(pa.size(), pb.size());
        for (const auto& [c, v] : pa) EXPECT_NEAR(v, pb.at(c), tol) << "class " << c << " of " << x.dump();
    }
}

const json& case_named(const std::string& prefix) {
    for (const auto& c : data()["cases"])
        if (c["name"].get<std::string>().rfind(prefix, 0) == 0) return c;
    throw std::runtime_error("no case " + prefix);
}

class NaiveBayesReference : public ::testing::TestWithParam<size_t> {};

TEST_P(NaiveBayesReference, MatchesScikitLearn) {
    const json& c = data()["cases"][GetParam()];
    SCOPED_TRACE(c["name"].get<std::string>());
    std::unique_ptr<Model> m = fresh(c["spec"]);
    EXPECT_EQ(m->task(), core::Task::Multiclass);
    learn_rows(*m, c["rows"]);
    EXPECT_EQ(m->n_seen(), c["rows"].size());
    std::vector<std::string> classes = m->classes();
    std::sort(classes.begin(), classes.end());
    EXPECT_EQ(classes, c["classes"].get<std::vector<std::string>>());
    const json info = core::model_info(*m);
    for (const auto& [cls, n] : c["class_count"].items()) EXPECT_EQ(info["class_counts"][cls], n.get<double>()) << cls;
    for (size_t i = 0; i < c["test"].size(); i++) {
        const auto p = proba_of(*m, c["test"][i]);
        double sum = 0;
        for (const auto& [cls, want] : c["proba"][i].items()) {
            EXPECT_NEAR(p.at(cls), want.get<double>(), 1e-9) << "test row " << i << ", class " << cls;
            sum += p.at(cls);
        }
        EXPECT_NEAR(sum, 1.0, 1e-12);
    }
}

INSTANTIATE_TEST_SUITE_P(Cases, NaiveBayesReference, ::testing::Range<size_t>(0, 9));

TEST(NaiveBayes, ReferenceFileHasEveryKind) {
    ASSERT_EQ(data()["cases"].size(), 9u);
    for (const char* k : {"gaussian", "multinomial", "bernoulli"}) EXPECT_NO_THROW(case_named(k));
}

// float8[] rows: the same model as the rows' named features when named x1, x2, ...
TEST(NaiveBayes, DenseArraysMatchScikitLearn) {
    const json& c = case_named("gaussian");
    std::unique_ptr<Model> m = fresh(c["spec"]);
    for (const auto& row : c["rows"]) {
        std::vector<double> x;
        for (const auto& kv : row[0]) x.push_back(kv[1].get<double>());
        m->learn_dense(x.data(), x.size(), Label::of_text(row[1].get<std::string>()));
    }
    for (size_t i = 0; i < c["test"].size(); i++) {
        std::vector<double> x, p;
        for (const auto& kv : c["test"][i]) x.push_back(kv[1].get<double>());
        m->predict_proba_dense(x.data(), x.size(), p);
        for (size_t k = 0; k < p.size(); k++) EXPECT_NEAR(p[k], c["proba"][i][m->classes()[k]].get<double>(), 1e-9);
    }
}

// ---- merging -----------------------------------------------------------------------------------

// Partial models of three slices (one starts with a class and a feature the others lack),
// merged as the combine phase does, in every arrival order: one result, bytes equal, and the
// predictions of one model that learned every row.
void check_merges(const json& c, bool from_trained_start) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const json& rows = c["rows"];
    const size_t n = rows.size(), start = from_trained_start ? 20 : 0;
    std::unique_ptr<Model> whole = fresh(c["spec"]);
    learn_rows(*whole, rows);
    std::unique_ptr<Model> base = fresh(c["spec"]);
    learn_rows(*base, rows, 0, start);
    const size_t cut1 = start + (n - start) / 3, cut2 = start + 2 * (n - start) / 3;
    std::vector<Bytes> parts;
    for (auto [from, to] : {std::pair<size_t, size_t>{start, cut1}, {cut1, cut2}, {cut2, n}}) {
        std::unique_ptr<Model> p = base->clone();
        p->begin_aggregation();
        learn_rows(*p, rows, from, to);
        parts.push_back(bytes_of(*p));
    }
    std::vector<size_t> order = {0, 1, 2};
    Bytes first;
    do {
        core::PartialStates states;
        for (size_t i : order) states.add(parts[i]);
        std::unique_ptr<Model> merged = core::merge_partial_models(states);
        merged->end_aggregation();
        const Bytes b = bytes_of(*merged);
        if (first.empty()) first = b;
        EXPECT_EQ(b, first) << "arrival order " << order[0] << order[1] << order[2];
        EXPECT_EQ(merged->n_seen(), n);
        expect_same_predictions(*merged, *whole, c["test"], 1e-12);
    } while (std::next_permutation(order.begin(), order.end()));
    // merge() directly, in two orders: the same model up to the order of its classes
    std::unique_ptr<Model> ab = core::decode_model(parts[0].data(), parts[0].size());
    std::unique_ptr<Model> ba = core::decode_model(parts[2].data(), parts[2].size());
    for (int i : {1, 2}) ab->merge(*core::decode_model(parts[i].data(), parts[i].size()));
    for (int i : {1, 0}) ba->merge(*core::decode_model(parts[i].data(), parts[i].size()));
    expect_same_predictions(*ab, *ba, c["test"], 1e-12);
    const json ia = core::model_info(*ab)["class_counts"], ib = core::model_info(*ba)["class_counts"];
    EXPECT_EQ(ia, ib);
    EXPECT_EQ(ia, core::model_info(*whole)["class_counts"]);
}

TEST(NaiveBayesMerge, ExactInAnyOrder) {
    for (const char* k : {"gaussian var_smoothing=1e-09", "gaussian var_smoothing=0.5", "multinomial", "bernoulli"})
        check_merges(case_named(k), false);
}

TEST(NaiveBayesMerge, FromATrainedStartCountsItsBaseOnce) {
    for (const char* k : {"gaussian var_smoothing=1e-09", "multinomial", "bernoulli alpha=2"})
        check_merges(case_named(k), true);
}

TEST(NaiveBayesMerge, GaussianMomentsAreTheWholeStreamsToRounding) {
    // Chan's formula: the merged moments equal one pass's to rounding, feature by feature
    const json& c = case_named("gaussian");
    std::unique_ptr<Model> whole = fresh(c["spec"]), a = fresh(c["spec"]), b = fresh(c["spec"]);
    learn_rows(*whole, c["rows"]);
    learn_rows(*a, c["rows"], 0, 37);
    learn_rows(*b, c["rows"], 37);
    a->merge(*b);
    const json sw = whole->to_json()["state"], sa = a->to_json()["state"];
    const auto& cw = whole->classes();
    for (size_t k = 0; k < cw.size(); k++) {
        const size_t ka = std::find(a->classes().begin(), a->classes().end(), cw[k]) - a->classes().begin();
        for (const char* t : {"count", "mean", "m2"})
            for (size_t f = 0; f < 4; f++)
                EXPECT_NEAR(sa[t][ka][f].get<double>(), sw[t][k][f].get<double>(), 1e-12 * std::max(1.0, std::fabs(sw[t][k][f].get<double>())))
                    << t << " class " << cw[k] << " feature " << f;
    }
}

TEST(NaiveBayesMerge, DifferentSpecsAreRefused) {
    std::unique_ptr<Model> a = fresh(R"({"model":"multinomial_nb"})"), b = fresh(R"({"model":"multinomial_nb","alpha":2})");
    std::unique_ptr<Model> g = fresh(R"({"model":"gaussian_nb"})");
    expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*b); });
    expect_error(ErrorKind::InvalidParameter, [&] { a->merge(*g); });
}

// ---- missing features, unseen features, labels ---------------------------------------------

TEST(NaiveBayesGaussian, AMissingFeatureIsLeftOutOfTheExample) {
    // b's variance is not the largest, so that epsilon is the same with and without it
    std::unique_ptr<Model> full = fresh(R"({"model":"gaussian_nb"})"), without_b = fresh(R"({"model":"gaussian_nb"})");
    std::unique_ptr<Model> with_null = fresh(R"({"model":"gaussian_nb"})");
    const double rows[][3] = {{1, 0.5, 10}, {2, 0.7, 30}, {1.5, 0.2, 20}, {6, 1.1, 80}, {7, 1.5, 60}, {6.5, 1.0, 70}};
    for (int i = 0; i < 6; i++) {
        const Label y = Label::of_text(i < 3 ? "lo" : "hi");
        Observation o;
        o.add_numeric("a", rows[i][0]);
        o.add_numeric("b", rows[i][1]);
        o.add_numeric("c", rows[i][2]);
        full->learn(o, y);
        Observation p;
        p.add_numeric("a", rows[i][0]);
        p.add_numeric("c", rows[i][2]);
        without_b->learn(p, y);
        Observation q;
        q.add_numeric("a", rows[i][0]);
        if (i == 0) q.add_missing("b");
        else q.add_numeric("b", rows[i][1]);
        q.add_numeric("c", rows[i][2]);
        with_null->learn(q, y);
    }
    // predicting without b: the model that never had b
    Observation x;
    x.add_numeric("a", 4.0);
    x.add_numeric("c", 50.0);
    std::vector<double> p1, p2;
    full->predict_proba(x, p1);
    without_b->predict_proba(x, p2);
    ASSERT_EQ(p1.size(), 2u);
    EXPECT_NEAR(p1[0], p2[0], 1e-14);
    EXPECT_NEAR(p1[1], p2[1], 1e-14);
    // learning a row whose b is NULL: the class's count of b is one short, its mean the others'
    // (b is the dictionary's third name: the first row left it out)
    const json j = with_null->to_json();
    const json& s = j["state"];
    ASSERT_EQ(j["features"]["names"][2], "b");
    EXPECT_EQ(s["class_count"][0], 3.0);
    EXPECT_EQ(s["count"][0][2], 2.0);
    EXPECT_EQ(s["count"][0][0], 3.0);
    EXPECT_NEAR(s["mean"][0][2].get<double>(), 0.45, 1e-15);
}

TEST(NaiveBayesGaussian, AFeatureAClassNeverSawUsesItsDistributionOverEveryClass) {
    std::unique_ptr<Model> m = fresh(R"({"model":"gaussian_nb"})");
    auto learn = [&](double a, std::optional<double> b, const char* y) {
        Observation o;
        o.add_numeric("a", a);
        if (b) o.add_numeric("b", *b);
        m->learn(o, Label::of_text(y));
    };
    learn(1, 10, "x");
    learn(2, 12, "x");
    learn(5, std::nullopt, "y");
    learn(6, std::nullopt, "y");
    Observation o;
    o.add_numeric("a", 3.5);
    o.add_numeric("b", 11);
    std::vector<double> p;
    m->predict_proba(o, p);
    ASSERT_EQ(p.size(), 2u);
    // by hand: eps = 1e-9 * max(var a = 4.25, var b = 1); class y's b ~ N(11, 1 + eps) (b's
    // values over every class), class x's b ~ N(11, 1 + eps); a: x ~ N(1.5, .25), y ~ N(5.5, .25)
    const double eps = 1e-9 * 4.25, two_pi = 2 * M_PI;
    auto lg = [&](double v, double mean, double var) { return -0.5 * std::log(two_pi * (var + eps)) - 0.5 * (v - mean) * (v - mean) / (var + eps); };
    const double jx = std::log(0.5) + lg(3.5, 1.5, 0.25) + lg(11, 11, 1), jy = std::log(0.5) + lg(3.5, 5.5, 0.25) + lg(11, 11, 1);
    EXPECT_NEAR(p[0], 1 / (1 + std::exp(jy - jx)), 1e-12);
    EXPECT_NEAR(p[0] + p[1], 1.0, 1e-15);
}

TEST(NaiveBayesDiscrete, AnAbsentOrMissingFeatureIsZero) {
    for (const char* spec : {R"({"model":"multinomial_nb"})", R"({"model":"bernoulli_nb"})"}) {
        SCOPED_TRACE(spec);
        std::unique_ptr<Model> a = fresh(spec), b = fresh(spec);
        const double rows[][3] = {{3, 0, 1}, {0, 2, 0}, {4, 1, 0}, {0, 0, 5}};
        const char* ys[] = {"p", "q", "p", "q"};
        for (int i = 0; i < 4; i++) {
            Observation full, sparse;
            for (int f = 0; f < 3; f++) {
                const std::string name = std::string(1, char('a' + f));
                full.add_numeric(name, rows[i][f]);
                if (rows[i][f] != 0) sparse.add_numeric(name, rows[i][f]);
                else if (f == 1) sparse.add_missing(name);
            }
            a->learn(full, Label::of_text(ys[i]));
            b->learn(sparse, Label::of_text(ys[i]));
        }
        for (const auto& x : {json::parse(R"([["a",1],["b",0],["c",2]])"), json::parse(R"([["a",1],["c",2]])"),
                              json::parse(R"([["a",1],["b",null],["c",2]])")}) {
            const auto pa = proba_of(*a, x), pb = proba_of(*b, x);
            for (const auto& [c, v] : pa) EXPECT_NEAR(v, pb.at(c), 1e-15);
        }
        EXPECT_EQ(proba_of(*a, json::parse(R"([["a",1],["c",2]])")), proba_of(*a, json::parse(R"([["a",1],["b",0],["c",2]])")));
    }
}

TEST(NaiveBayes, NumbersAndBooleansAreClasses) {
    std::unique_ptr<Model> m = fresh(R"({"model":"bernoulli_nb"})");
    m->learn(num({{"a", 1}}), Label::of_number(1));
    m->learn(num({{"a", 0}}), Label::of_number(0));
    m->learn(num({{"a", 1}}), Label::of_boolean(true));
    EXPECT_EQ(m->classes(), (std::vector<std::string>{"1", "0", "true"}));
    std::vector<double> p;
    m->predict_proba(num({{"a", 1}}), p);
    EXPECT_EQ(p.size(), 3u);
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(num({{"a", 1}})); });
}

TEST(NaiveBayes, AModelThatLearnedNothingPredictsNoClass) {
    for (const char* spec : {R"({"model":"gaussian_nb"})", R"({"model":"multinomial_nb"})", R"({"model":"bernoulli_nb"})"}) {
        std::unique_ptr<Model> m = fresh(spec);
        std::vector<double> p = {1};
        m->predict_proba(num({{"a", 1}}), p);
        EXPECT_TRUE(p.empty()) << spec;
    }
}

TEST(NaiveBayes, SpecsSpellOutEveryOption) {
    EXPECT_EQ(core::model_info(*fresh(R"({"model":"gaussian_nb"})"))["spec"].dump(), R"({"model":"gaussian_nb","var_smoothing":1e-09})");
    EXPECT_EQ(core::model_info(*fresh(R"({"model":"multinomial_nb"})"))["spec"].dump(), R"({"alpha":1.0,"fit_prior":true,"model":"multinomial_nb"})");
    EXPECT_EQ(core::model_info(*fresh(R"({"model":"bernoulli_nb","alpha":0.5})"))["spec"].dump(),
              R"({"alpha":0.5,"binarize":0.0,"fit_prior":true,"model":"bernoulli_nb"})");
    EXPECT_EQ(fresh(R"({"model":"multinomial_nb"})")->identity(), fresh(R"({"model":"multinomial_nb","alpha":1})")->identity());
}

// ---- formats -----------------------------------------------------------------------------------

void check_round_trips(const Model& m) {
    const Bytes b = bytes_of(m);
    std::unique_ptr<Model> d = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*d), b);
    const std::string text = m.to_text();
    std::unique_ptr<Model> j = core::model_from_text(text.data(), text.size());
    EXPECT_EQ(j->to_text(), text);
    EXPECT_EQ(bytes_of(*j), b);
    EXPECT_EQ(d->to_text(), text);
}

TEST(NaiveBayesFormat, BinaryAndJsonRoundTrips) {
    for (const auto& c : data()["cases"]) {
        SCOPED_TRACE(c["name"].get<std::string>());
        std::unique_ptr<Model> m = fresh(c["spec"]);
        check_round_trips(*m);
        learn_rows(*m, c["rows"], 0, 10);
        check_round_trips(*m);
        // a partial model of an aggregate keeps its aggregation base
        m->begin_aggregation();
        learn_rows(*m, c["rows"], 10);
        check_round_trips(*m);
        EXPECT_TRUE(m->to_json().contains("aggregation_base"));
        std::unique_ptr<Model> d = core::decode_model(bytes_of(*m).data(), bytes_of(*m).size());
        expect_same_predictions(*d, *m, c["test"], 0);
    }
}

TEST(NaiveBayesFormat, ShortRowsAreWrittenInFull) {
    // classes that never saw the later features: rows written out to the dictionary's length
    std::unique_ptr<Model> m = fresh(R"({"model":"gaussian_nb"})");
    m->learn(num({{"a", 1}}), Label::of_text("x"));
    m->learn(num({{"a", 2}, {"b", 3}}), Label::of_text("y"));
    const json s = m->to_json()["state"];
    EXPECT_EQ(s["count"].dump(), "[[1.0,0.0],[1.0,1.0]]");
    check_round_trips(*m);
}

TEST(NaiveBayesFormat, CorruptBinaryIsRefused) {
    const json& c = case_named("multinomial");
    std::unique_ptr<Model> m = fresh(c["spec"]);
    learn_rows(*m, c["rows"], 0, 20);
    const Bytes b = bytes_of(*m);
    for (size_t cut : {b.size() - 1, b.size() - 8, b.size() / 2, size_t(60)})
        expect_error(ErrorKind::InvalidBinary, [&] { core::decode_model(b.data(), cut); });
    // a negative count in the state, with the checksum made right again: refused by the check
    const std::string t = m->to_text();
    json j = json::parse(t);
    j["state"]["feature_count"][0][0] = -1.0;
    std::unique_ptr<Model> fine = fresh(c["spec"]);
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(j); });
    j = json::parse(t);
    j["state"]["class_count"][0] = 0.5;
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(j); });
    j = json::parse(t);
    j["state"]["feature_count"][1].erase(0);
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(j); });
    j = json::parse(t);
    j["state"]["extra"] = 1;
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(j); });
    // every single-byte change of the state is either refused or read back as a valid model
    for (size_t i = b.size() - 200; i < b.size(); i++) {
        Bytes bad = b;
        bad[i] ^= 0x40;
        try {
            std::unique_ptr<Model> d = core::decode_model(bad.data(), bad.size());
            EXPECT_EQ(bytes_of(*d), bad);
        } catch (const core::Error& e) {
            EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidBinary)) << e.what();
        }
    }
}

TEST(NaiveBayesFormat, GaussianStateChecks) {
    std::unique_ptr<Model> m = fresh(R"({"model":"gaussian_nb"})");
    m->learn(num({{"a", 1}, {"b", 2}}), Label::of_text("x"));
    m->learn(num({{"a", 3}, {"b", 2}}), Label::of_text("x"));
    const std::string t = m->to_text();
    for (auto [table, value] : {std::pair<const char*, double>{"count", 3.0}, {"count", 1.5}, {"m2", -1.0}}) {
        json j = json::parse(t);
        j["state"][table][0][0] = value;
        expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_json(j); });
    }
}

// ---- bad input ---------------------------------------------------------------------------------

TEST(NaiveBayesErrors, Options) {
    for (const char* spec : {R"({"model":"gaussian_nb","alpha":1})", R"({"model":"multinomial_nb","var_smoothing":1})",
                             R"({"model":"bernoulli_nb","binarise":0.5})", R"({"model":"gaussian_nb","var_smoothing":0})",
                             R"({"model":"gaussian_nb","var_smoothing":-1})", R"({"model":"multinomial_nb","alpha":0})",
                             R"({"model":"multinomial_nb","alpha":-1})", R"({"model":"bernoulli_nb","binarize":-0.5})",
                             R"({"model":"bernoulli_nb","fit_prior":"yes"})", R"({"model":"multinomial_nb","alpha":"1"})"}) {
        const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { fresh(spec); });
        EXPECT_FALSE(msg.empty()) << spec;
    }
    EXPECT_NE(expect_error(ErrorKind::InvalidParameter, [&] { fresh(R"({"model":"bernoulli_nb","binarise":0.5})"); })
                  .find("unknown option \"binarise\""),
              std::string::npos);
}

TEST(NaiveBayesErrors, NaNFeatures) {
    std::unique_ptr<Model> m = fresh(R"({"model":"gaussian_nb"})");
    Observation o;
    expect_error(ErrorKind::NumericRange, [&] { o.add_numeric("a", std::nan("")); });
    const double x[] = {1.0, std::nan("")};
    expect_error(ErrorKind::NumericRange, [&] { m->learn_dense(x, 2, Label::of_text("a")); });
    EXPECT_EQ(m->n_seen(), 0u);
    std::vector<double> p;
    expect_error(ErrorKind::NumericRange, [&] { m->predict_proba_dense(x, 2, p); });
}

TEST(NaiveBayesErrors, NegativeCountsForMultinomial) {
    std::unique_ptr<Model> m = fresh(R"({"model":"multinomial_nb"})");
    m->learn(num({{"a", 1}, {"b", 2}}), Label::of_text("x"));
    const Bytes before = bytes_of(*m);
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { m->learn(num({{"a", 1}, {"b", -2}}), Label::of_text("y")); });
    EXPECT_NE(msg.find("\"b\" is negative"), std::string::npos) << msg;
    EXPECT_EQ(m->n_seen(), 1u);
    // the refused example taught nothing: not its class, not its features
    EXPECT_EQ(bytes_of(*m), before);
    EXPECT_EQ(m->classes(), std::vector<std::string>{"x"});
    check_round_trips(*m);
}

TEST(NaiveBayesErrors, CategoricalFeaturesForGaussian) {
    std::unique_ptr<Model> m = fresh(R"({"model":"gaussian_nb"})");
    Observation o;
    o.add_numeric("a", 1);
    o.add_category("color", "red");
    const std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { m->learn(o, Label::of_text("x")); });
    EXPECT_NE(msg.find("\"color=red\" is categorical"), std::string::npos) << msg;
    EXPECT_EQ(m->n_seen(), 0u);
    EXPECT_EQ(m->classes().size(), 0u);
    EXPECT_EQ(static_cast<const core::FamilyModel&>(*m).features().size(), 0u);
    m->learn(num({{"a", 1}}), Label::of_text("x"));
    check_round_trips(*m);
    // the categorical and multinomial kinds take it
    std::unique_ptr<Model> b = fresh(R"({"model":"bernoulli_nb"})");
    b->learn(o, Label::of_text("x"));
    EXPECT_EQ(b->n_seen(), 1u);
}

}  // namespace
}  // namespace pg_learn::test
