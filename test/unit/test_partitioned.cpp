// Partitioned models: routing to the most specific trained partition checked against models
// trained independently on each partition's rows, NULL and unseen keys, the partition bound
// (refused rows change nothing), binary and JSON round trips, merging, classifiers, bad specs.
#include "core/models/partitioned/partitioned.hpp"

#include "core/common/envelope.hpp"
#include "core/models/model.hpp"
#include "core/models/training.hpp"
#include "test_util.hpp"

#include <cstring>
#include <map>
#include <random>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

std::unique_ptr<Model> make(const std::string& spec) { return core::model_from_text(spec.data(), spec.size()); }

const std::string kBase = R"({"model":"linear_regression","intercept_lr":0.1})";
const std::string kSpec = R"({"model":"partitioned","by":["country","city"],"min_examples":5,"base":)" + kBase + "}";

// A row: its country and city (empty: absent), two numbers.
Observation row(const std::string& country, const std::string& city, double a, double b) {
    Observation x;
    if (!country.empty()) x.add_category("country", country);
    if (!city.empty()) x.add_category("city", city);
    x.add_numeric("a", a);
    x.add_numeric("b", b);
    return x;
}

struct Example {
    std::string country, city;
    double a, b, y;
};

// A partitioned model and, trained on the same rows, the global model and one model per
// partition (made from the base spec, each given exactly the rows of its partition, without the
// partition keys, as the partitioned model gives its members).
struct Fixture {
    std::unique_ptr<Model> m = make(kSpec);
    std::unique_ptr<Model> global = make(kBase);
    std::map<std::string, std::unique_ptr<Model>> parts;

    void learn(const Example& e) {
        m->learn(row(e.country, e.city, e.a, e.b), Label::of_number(e.y));
        const Observation x = row("", "", e.a, e.b);
        global->learn(x, Label::of_number(e.y));
        if (e.country.empty()) return;
        auto& c = parts[e.country];
        if (!c) c = make(kBase);
        c->learn(x, Label::of_number(e.y));
        if (e.city.empty()) return;
        auto& cc = parts[e.country + "/" + e.city];
        if (!cc) cc = make(kBase);
        cc->learn(x, Label::of_number(e.y));
    }
};

void feed(Fixture& f) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1, 1);
    // A/x: 10 rows; A/y: 3 rows; B with no city: 4 rows; B/z: 2 rows.
    auto some = [&](const std::string& c, const std::string& city, int n, double slope) {
        for (int i = 0; i < n; i++) {
            const double a = u(rng), b = u(rng);
            f.learn({c, city, a, b, slope * a - b + 0.25});
        }
    };
    some("A", "x", 10, 3);
    some("A", "y", 3, -2);
    some("B", "", 4, 1);
    some("B", "z", 2, 5);
}

TEST(Partitioned, EachRowLearnsInTheGlobalModelAndEveryLevelOfItsPath) {
    Fixture f;
    feed(f);
    EXPECT_EQ(f.m->n_seen(), 19u);
    EXPECT_EQ(f.m->task(), core::Task::Regression);
    const json info = f.m->info();
    EXPECT_EQ(info["partitions"], 5);  // A, A/x, A/y, B, B/z
    EXPECT_EQ(info["global"]["n_seen"], 19);
    EXPECT_EQ(info["levels"][0]["partitions"], 2);
    EXPECT_EQ(info["levels"][0]["trained"], 2);  // A 13 rows, B 6 rows
    EXPECT_EQ(info["levels"][1]["partitions"], 3);
    EXPECT_EQ(info["levels"][1]["trained"], 1);  // only A/x reaches 5
    EXPECT_EQ(info["top_partitions"][0]["partition"], "country=A");
    EXPECT_EQ(info["top_partitions"][0]["n_seen"], 13);
    EXPECT_EQ(info["top_partitions"][1]["partition"], "country=A/city=x");
    EXPECT_EQ(info["top_partitions"][2]["partition"], "country=B");
    EXPECT_EQ(info["top_partitions"][2]["n_seen"], 6);
}

TEST(Partitioned, TheMostSpecificTrainedPartitionAnswersElseItsParentElseTheGlobalModel) {
    Fixture f;
    feed(f);
    const double a = 0.3, b = -0.7;
    const Observation bare = row("", "", a, b);
    // A/x is trained (10 rows): its own model answers.
    Observation x = row("A", "x", a, b);
    EXPECT_EQ(f.m->predict(x), f.parts["A/x"]->predict(bare));
    EXPECT_EQ(f.m->segment(x), "country=A/city=x");
    // A/y has 3 rows (< 5): its parent A answers.
    x = row("A", "y", a, b);
    EXPECT_EQ(f.m->predict(x), f.parts["A"]->predict(bare));
    EXPECT_NE(f.m->predict(x), f.parts["A/y"]->predict(bare));
    EXPECT_EQ(f.m->segment(x), "country=A");
    // B/z has 2 rows; B has 6 (its rows without a city count): B answers.
    x = row("B", "z", a, b);
    EXPECT_EQ(f.m->predict(x), f.parts["B"]->predict(bare));
    EXPECT_EQ(f.m->segment(x), "country=B");
    // A country never seen: the global model.
    x = row("C", "x", a, b);
    EXPECT_EQ(f.m->predict(x), f.global->predict(bare));
    EXPECT_EQ(f.m->segment(x), "(global)");
    // A city never seen in a known country: the country.
    x = row("A", "w", a, b);
    EXPECT_EQ(f.m->predict(x), f.parts["A"]->predict(bare));
    // A NULL city ends the path at the country; a NULL country at the global model, whatever
    // the city.
    Observation n;
    n.add_category("country", "A");
    n.add_missing("city");
    n.add_numeric("a", a);
    n.add_numeric("b", b);
    EXPECT_EQ(f.m->predict(n), f.parts["A"]->predict(bare));
    EXPECT_EQ(f.m->segment(n), "country=A");
    Observation g;
    g.add_missing("country");
    g.add_category("city", "x");
    g.add_numeric("a", a);
    g.add_numeric("b", b);
    EXPECT_EQ(f.m->predict(g), f.global->predict(bare));
    EXPECT_EQ(f.m->segment(g), "(global)");
}

TEST(Partitioned, NumericKeysNameTheirPartitionByTheirValue) {
    auto m = make(R"({"model":"partitioned","by":"station","min_examples":1,"base":{"model":"linear_regression"}})");
    for (int i = 0; i < 6; i++) {
        Observation x;
        x.add_numeric("station", i % 3);
        x.add_numeric("t", i);
        m->learn(x, Label::of_number(i));
    }
    EXPECT_EQ(m->info()["partitions"], 3);
    Observation x;
    x.add_numeric("station", 2);
    x.add_numeric("t", 1);
    EXPECT_EQ(m->segment(x), "station=2");
    x = Observation();
    x.add_numeric("station", 2.5);
    x.add_numeric("t", 1);
    EXPECT_EQ(m->segment(x), "(global)");
}

TEST(Partitioned, ARowPastThePartitionBoundIsRefusedAndChangesNothing) {
    auto m = make(R"({"model":"partitioned","by":["country","city"],"max_partitions":3,"base":{"model":"linear_regression"}})");
    m->learn(row("A", "x", 1, 2), Label::of_number(1));  // A, A/x
    m->learn(row("A", "y", 1, 2), Label::of_number(1));  // A/y
    m->learn(row("A", "x", 1, 2), Label::of_number(1));  // no new partition
    const auto before = bytes_of(*m);
    const std::string msg = expect_error(ErrorKind::ProgramLimit, [&] { m->learn(row("B", "", 1, 2), Label::of_number(1)); });
    EXPECT_NE(msg.find("too many partitions"), std::string::npos);
    EXPECT_EQ(bytes_of(*m), before);
    // A row without a key still learns (in the global model only).
    m->learn(row("", "", 1, 2), Label::of_number(1));
    EXPECT_EQ(m->n_seen(), 4u);
    EXPECT_EQ(m->info()["partitions"], 3);
}

TEST(Partitioned, ThousandsOfPartitionsStayWithinTheirBound) {
    auto m = make(R"({"model":"partitioned","by":"city","max_partitions":5000,"min_examples":1,"base":{"model":"linear_regression"}})");
    const size_t one = make(R"({"model":"linear_regression"})")->encoded_size();
    for (int i = 0; i < 5000; i++) m->learn(row("", "", 0.5, 1), Label::of_number(1)), (void)i;
    Observation x;
    for (int i = 0; i < 5000; i++) {
        x.clear();
        x.add_category("city", "c" + std::to_string(i));
        x.add_numeric("a", i * 0.001);
        m->learn(x, Label::of_number(i % 7));
    }
    EXPECT_EQ(m->info()["partitions"], 5000);
    // Each partition is a trained base model plus its path; the bound is about 4 base models'
    // size each (a trained model holds its weights, the path and the blob's length).
    EXPECT_LT(m->encoded_size(), 5001 * 4 * one);
    x.clear();
    x.add_category("city", "new");
    expect_error(ErrorKind::ProgramLimit, [&] { m->learn(x, Label::of_number(1)); });
}

// The route (scoring without resolving the keys): a partition created by a row answers the next
// row at once; a model copied, decoded, merged or left after a refused row routes as before.
TEST(Partitioned, TheRouteFindsEveryPartitionAsItIsCreatedAndAfterCopies) {
    Fixture f;
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-1, 1);
    std::map<std::string, int> rows;  // per path: rows learned
    const char* cities[] = {"x", "y", "z", "w"};
    for (int i = 0; i < 60; i++) {
        const std::string country = i % 3 == 0 ? "B" : "A", city = cities[(i * 7) % 4];
        const double a = u(rng), b = u(rng);
        f.learn({country, city, a, b, (i % 5) * a - b});
        rows[country]++;
        rows[country + "/" + city]++;
        // The row just learned is answered by the deepest of its path trained (5 rows).
        const Observation bare = row("", "", b, a);
        const std::string answers = rows[country + "/" + city] >= 5 ? country + "/" + city : rows[country] >= 5 ? country : "";
        const Model& want = answers.empty() ? *f.global : *f.parts[answers];
        EXPECT_EQ(f.m->predict(row(country, city, b, a)), want.predict(bare));
    }
    auto copy = f.m->clone();
    const auto b = bytes_of(*f.m);
    auto decoded = core::decode_model(b.data(), b.size());
    for (const char* c : cities) {
        const Observation x = row("A", c, 0.25, -0.5);
        EXPECT_EQ(copy->predict(x), f.parts[std::string("A/") + c]->predict(row("", "", 0.25, -0.5)));
        EXPECT_EQ(decoded->predict(x), copy->predict(x));
        EXPECT_EQ(decoded->segment(x), std::string("country=A/city=") + c);
    }
    // A refused row's partitions leave the route with it.
    auto bounded = make(R"({"model":"partitioned","by":["country","city"],"max_partitions":2,"min_examples":1,"base":)" + kBase + "}");
    bounded->learn(row("A", "x", 1, 2), Label::of_number(1));
    const double before = bounded->predict(row("A", "x", 0.5, 0.5));
    expect_error(ErrorKind::ProgramLimit, [&] { bounded->learn(row("A", "y", 1, 2), Label::of_number(5)); });
    expect_error(ErrorKind::ProgramLimit, [&] { bounded->learn(row("B", "q", 1, 2), Label::of_number(5)); });
    EXPECT_EQ(bounded->predict(row("A", "x", 0.5, 0.5)), before);
    EXPECT_EQ(bounded->segment(row("A", "y", 0.5, 0.5)), "country=A");
    EXPECT_EQ(bounded->segment(row("B", "q", 0.5, 0.5)), "(global)");
    // Merged partial models route to the partitions either part brought.
    auto p1 = make(kSpec), p2 = make(kSpec);
    for (int i = 0; i < 5; i++) p1->learn(row("A", "x", i, 1), Label::of_number(i));
    for (int i = 0; i < 5; i++) p2->learn(row("C", "v", i, 1), Label::of_number(-i));
    EXPECT_EQ(p1->segment(row("C", "v", 0, 0)), "(global)");
    p1->merge(*p2);
    EXPECT_EQ(p1->segment(row("C", "v", 0, 0)), "country=C/city=v");
    EXPECT_EQ(p1->predict(row("C", "v", 2, 1)), p2->predict(row("C", "v", 2, 1)));
    // One observation refilled row after row (as the glue does) is routed afresh each time, and a
    // row learned between two calls on the same row is seen (the last row's route is forgotten).
    auto m = make(R"({"model":"partitioned","by":"city","min_examples":2,"base":)" + kBase + "}");
    Observation x;
    auto fill = [&](const char* city) {
        x.clear();
        x.add_category("city", city);
        x.add_numeric("a", 1);
    };
    fill("p");
    m->learn(x, Label::of_number(1));
    fill("q");
    m->learn(x, Label::of_number(5));
    m->learn(x, Label::of_number(5));
    fill("p");
    EXPECT_EQ(m->segment(x), "(global)");  // p: 1 row
    const double global = m->predict(x);
    m->learn(x, Label::of_number(1));
    EXPECT_EQ(m->segment(x), "city=p");  // p: 2 rows
    EXPECT_NE(m->predict(x), global);
    fill("q");
    EXPECT_EQ(m->segment(x), "city=q");
    fill("r");
    EXPECT_EQ(m->segment(x), "(global)");
}

// The route reads a row as the dictionary's path does: NULL values, a key given with the type its
// level never learned (no partition's name), a level learned with both types (the general path),
// and the feature check's counts.
TEST(Partitioned, TheRouteDecidesAsTheDictionaryDoes) {
    Fixture f;
    feed(f);
    const double a = 0.3, b = -0.7;
    // A NULL value of a feature: left out of the partition's row.
    Observation x;
    x.add_category("country", "A");
    x.add_category("city", "x");
    x.add_numeric("a", a);
    x.add_missing("b");
    Observation only_a;
    only_a.add_numeric("a", a);
    EXPECT_EQ(f.m->predict(x), f.parts["A/x"]->predict(only_a));
    core::FeatureCheck c;
    f.m->check_features(x, c);
    EXPECT_TRUE(c.checked);
    EXPECT_FALSE(c.any());  // a NULL is a value given
    // A feature left out, a feature never learned: counted as the dictionary counts them.
    x.clear();
    x.add_category("country", "A");
    x.add_category("city", "x");
    x.add_numeric("a", a);
    x.add_numeric("zz", 1);
    f.m->check_features(x, c);
    EXPECT_EQ(c.missing_features, 1u);
    EXPECT_EQ(c.unknown_features, 1u);
    EXPECT_EQ(c.unknown_feature, "zz");
    EXPECT_EQ(c.unknown_categories, 0u);
    f.m->check_features(x, c, /*name_missing=*/true);
    EXPECT_EQ(c.missing_feature, "b");
    // A city never learned: an unknown category, answered by the country.
    x = row("A", "w", a, b);
    f.m->check_features(x, c);
    EXPECT_EQ(c.unknown_categories, 1u);
    EXPECT_EQ(c.category_value, "w");
    EXPECT_EQ(c.missing_features, 0u);
    f.m->check_features(row("A", "x", a, b), c);
    EXPECT_FALSE(c.any());
    // A city given as a number (learned as text): not a name the model knows, so the path ends
    // at the country; the check reports the mismatch.
    x.clear();
    x.add_category("country", "A");
    x.add_numeric("city", 7);
    x.add_numeric("a", a);
    x.add_numeric("b", b);
    const Observation bare = row("", "", a, b);
    EXPECT_EQ(f.m->predict(x), f.parts["A"]->predict(bare));
    EXPECT_EQ(f.m->segment(x), "country=A");
    f.m->check_features(x, c);
    EXPECT_EQ(c.type_mismatches, 1u);
    EXPECT_EQ(c.mismatch, "city");
    // A level learned both as text and as a number still routes each row to its partition.
    auto m = make(R"({"model":"partitioned","by":"k","min_examples":1,"base":)" + kBase + "}");
    Observation t, n;
    t.add_category("k", "7");
    t.add_numeric("a", 1);
    n.add_numeric("k", 8);
    n.add_numeric("a", 1);
    m->learn(t, Label::of_number(1));
    m->learn(n, Label::of_number(2));
    EXPECT_EQ(m->segment(t), "k=7");
    EXPECT_EQ(m->segment(n), "k=8");
    Observation n7;
    n7.add_numeric("k", 7);
    n7.add_numeric("a", 1);
    // (partitions are named by their value: once the level learned numbers too, the number 7
    // names the partition the text "7" made)
    EXPECT_EQ(m->segment(n7), "k=7");
}

TEST(Partitioned, BinaryAndJsonFormsRoundTrip) {
    Fixture f;
    feed(f);
    const auto b = bytes_of(*f.m);
    auto d = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*d), b);
    const std::string t = f.m->to_json().dump();
    auto j = core::model_from_text(t.data(), t.size());
    EXPECT_EQ(bytes_of(*j), b);
    const Observation x = row("A", "x", 0.1, 0.2);
    EXPECT_EQ(d->predict(x), f.m->predict(x));
    // A corrupted partition is refused: its path no longer has a parent.
    json bad = f.m->to_json();
    json& parts = bad["state"]["partitions"];
    for (auto it = parts.begin(); it != parts.end(); ++it)
        if ((*it)["path"] == json::array({"A"})) {
            parts.erase(it);
            break;
        }
    const std::string bt = bad.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(bt.data(), bt.size()); });
}

TEST(Partitioned, PartialModelsMergePartitionByPartition) {
    auto a = make(kSpec), b = make(kSpec);
    a->learn(row("A", "x", 1, 0), Label::of_number(1));
    a->learn(row("A", "y", 1, 0), Label::of_number(2));
    b->learn(row("A", "x", 0, 1), Label::of_number(3));
    b->learn(row("B", "z", 0, 1), Label::of_number(4));
    a->merge(*b);
    EXPECT_EQ(a->n_seen(), 4u);
    const json info = a->info();
    EXPECT_EQ(info["partitions"], 5);
    EXPECT_EQ(info["global"]["n_seen"], 4);
    EXPECT_EQ(info["top_partitions"][0]["partition"], "country=A");
    EXPECT_EQ(info["top_partitions"][0]["n_seen"], 3);
}

// (gaussian_nb takes numbers only: the members see the rows without their text key)
TEST(Partitioned, ClassifiersAnswerWithTheirPartitionsClasses) {
    auto m = make(R"({"model":"partitioned","by":"shop","min_examples":3,"base":{"model":"gaussian_nb"}})");
    EXPECT_EQ(m->task(), core::Task::Multiclass);
    Observation x;
    auto learn = [&](const char* shop, double v, const char* cls) {
        x.clear();
        x.add_category("shop", shop);
        x.add_numeric("v", v);
        m->learn(x, Label::of_text(cls));
    };
    for (int i = 0; i < 5; i++) learn("s1", i, "red");
    for (int i = 0; i < 5; i++) learn("s2", i, "blue");
    EXPECT_EQ(m->classes(), (std::vector<std::string>{"red", "blue"}));
    std::vector<double> p;
    x.clear();
    x.add_category("shop", "s2");
    x.add_numeric("v", 2);
    m->predict_proba(x, p);
    // s2's model knows only "blue": every probability on it.
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0], 0.0);
    EXPECT_EQ(p[1], 1.0);
    expect_error(ErrorKind::InvalidParameter, [&] { m->predict(x); });
    auto bin = make(R"({"model":"partitioned","by":"shop","base":{"model":"logistic_regression"}})");
    EXPECT_EQ(bin->task(), core::Task::Binary);
    EXPECT_EQ(bin->info()["task"], "binary");
}

TEST(Partitioned, BadSpecsAreRefused) {
    auto bad = [](const std::string& spec) { return expect_error(ErrorKind::InvalidParameter, [&] { make(spec); }); };
    EXPECT_NE(bad(R"({"model":"partitioned","base":{"model":"linear_regression"}})").find("needs \"by\""), std::string::npos);
    EXPECT_NE(bad(R"({"model":"partitioned","by":"city"})").find("\"base\""), std::string::npos);
    bad(R"({"model":"partitioned","by":[],"base":{"model":"linear_regression"}})");
    bad(R"({"model":"partitioned","by":[1],"base":{"model":"linear_regression"}})");
    EXPECT_NE(bad(R"({"model":"partitioned","by":["a","a"],"base":{"model":"linear_regression"}})").find("twice"), std::string::npos);
    EXPECT_NE(bad(R"({"model":"partitioned","by":"a","ignore":["a"],"base":{"model":"linear_regression"}})").find("ignore"),
              std::string::npos);
    EXPECT_NE(bad(R"({"model":"partitioned","by":"a","base":{"model":"partitioned","by":"b","base":{"model":"linear_regression"}}})")
                  .find("cannot be a partitioned model"),
              std::string::npos);
    EXPECT_NE(bad(R"({"model":"partitioned","by":"a","base":{"model":"kmeans"}})").find("clustering"), std::string::npos);
    EXPECT_NE(bad(R"({"model":"partitioned","by":"a","base":{"model":"linear_regression"},"levels":2})").find("unknown option"),
              std::string::npos);
    bad(R"({"model":"partitioned","by":"a","base":{"model":"linear_regression"},"min_examples":0})");
    bad(R"({"model":"partitioned","by":"a","base":{"model":"linear_regression"},"max_partitions":0})");
    bad(R"({"model":"partitioned","by":"a","base":{"model":"linear_regression"},"max_partitions":1000001})");
    bad(R"({"model":"partitioned","by":"a","base":{"model":"nope"}})");
    // The defaults are written out.
    const json spec = make(R"({"model":"partitioned","by":"a","base":{"model":"linear_regression"}})")->info()["spec"];
    EXPECT_EQ(spec["by"], json::array({"a"}));
    EXPECT_EQ(spec["min_examples"], 30);
    EXPECT_EQ(spec["max_partitions"], 10000);
    EXPECT_EQ(spec["base"]["model"], "linear_regression");
}

}  // namespace
}  // namespace pg_learn::test

namespace pg_learn::test {
namespace {

// ---- min_examples counts rows, not epochs (issue 14) -------------------------------------------

const std::string kShops = R"({"model":"partitioned","by":"shop","min_examples":30,"base":{"model":"linear_regression"}})";

Observation shop_row(const char* shop, double a) {
    Observation x;
    x.add_category("shop", shop);
    x.add_numeric("a", a);
    return x;
}

// n rows of shop A learned for `epochs` passes as ml_train runs them (run_epochs telling the
// model each pass through set_epoch).
std::unique_ptr<Model> trained_for(int n, int epochs) {
    auto m = make(kShops);
    std::vector<Observation> rows;
    for (int i = 0; i < n; i++) rows.push_back(shop_row("A", i * 0.1));
    core::run_epochs(
        rows.size(), epochs, true, 11, [&](size_t i) { m->learn(rows[i], Label::of_number(2.0 * (i * 0.1) + 1)); },
        [] {}, [&](uint32_t e) { m->set_epoch(e); });
    return m;
}

json shop_a(const Model& m) {
    const json info = m.info();
    return info["top_partitions"][0];
}

// By hand: 20 rows < 30 whatever the passes (3 passes: 60 rows learned, 20 examples); 30 >= 30.
TEST(Partitioned, MinExamplesCountsRowsNotEpochs) {
    auto m20 = trained_for(20, 3);
    EXPECT_EQ(m20->n_seen(), 60u);
    EXPECT_EQ(shop_a(*m20)["n_seen"], 60);
    EXPECT_EQ(shop_a(*m20)["examples"], 20);
    EXPECT_EQ(shop_a(*m20)["trained"], false);
    EXPECT_EQ(m20->info()["levels"][0]["trained"], 0);
    EXPECT_EQ(m20->segment(shop_row("A", 0.5)), "(global)");
    auto m30 = trained_for(30, 3);
    EXPECT_EQ(shop_a(*m30)["examples"], 30);
    EXPECT_EQ(shop_a(*m30)["trained"], true);
    EXPECT_EQ(m30->segment(shop_row("A", 0.5)), "shop=A");
    // One pass: every row counts.
    EXPECT_EQ(shop_a(*trained_for(29, 1))["trained"], false);
    EXPECT_EQ(shop_a(*trained_for(30, 1))["trained"], true);
    // Rows learned outside multi-pass training count every time (the model cannot know a row it
    // is given again): the same 20 rows learned three times by hand are 60 examples.
    auto again = make(kShops);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 20; i++) again->learn(shop_row("A", i * 0.1), Label::of_number(1));
    EXPECT_EQ(shop_a(*again)["examples"], 60);
    EXPECT_EQ(again->segment(shop_row("A", 0.5)), "shop=A");
    // After the epochs (set_epoch(0)) a new row counts again.
    m20->learn(shop_row("A", 3), Label::of_number(7));
    EXPECT_EQ(shop_a(*m20)["examples"], 21);
    // A partition made in a later pass counts its row.
    auto late = make(kShops);
    late->set_epoch(2);
    late->learn(shop_row("B", 1), Label::of_number(1));
    late->learn(shop_row("B", 1), Label::of_number(1));
    late->set_epoch(0);
    EXPECT_EQ(shop_a(*late)["examples"], 1);
}

// The count travels with the value (binary and JSON), a value written before it was kept (no
// count: the partition's n_seen) still reads, and partial models add their counts.
TEST(Partitioned, TheExamplesCountIsStoredAndMerged) {
    auto m = trained_for(20, 3);
    const auto b = bytes_of(*m);
    auto d = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*d), b);
    EXPECT_EQ(shop_a(*d)["examples"], 20);
    EXPECT_EQ(d->segment(shop_row("A", 0.5)), "(global)");
    json j = m->to_json();
    EXPECT_EQ(j["state"]["partitions"][0]["examples"], 20);
    const std::string t = j.dump();
    EXPECT_EQ(bytes_of(*core::model_from_text(t.data(), t.size())), b);
    // The JSON form without "examples": n_seen (60) counts.
    j["state"]["partitions"][0].erase("examples");
    const std::string old = j.dump();
    auto from_old = core::model_from_text(old.data(), old.size());
    EXPECT_EQ(shop_a(*from_old)["examples"], 60);
    EXPECT_EQ(from_old->segment(shop_row("A", 0.5)), "shop=A");
    // The binary form without the counts: the family state (the last section) loses its last 8
    // bytes per partition (a multiple of 8: the padding stays), the envelope is sealed again.
    std::vector<uint8_t> v = b;
    size_t at = core::kEnvelopeHeaderSize;
    for (;;) {
        uint32_t tag;
        uint64_t len;
        std::memcpy(&tag, v.data() + at, 4);
        std::memcpy(&len, v.data() + at + 8, 8);
        if (tag == 5) {
            ASSERT_EQ(at + 16 + ((len + 7) & ~uint64_t(7)), v.size());
            const uint64_t shorter = len - 8;  // one partition
            std::memcpy(v.data() + at + 8, &shorter, 8);
            v.erase(v.begin() + static_cast<std::ptrdiff_t>(at + 16 + shorter), v.begin() + static_cast<std::ptrdiff_t>(at + 16 + len));
            break;
        }
        at += 16 + ((len + 7) & ~uint64_t(7));
    }
    const uint32_t total = static_cast<uint32_t>(v.size());
    std::memcpy(v.data() + 44, &total, 4);
    core::seal_envelope(v.data(), v.size());
    auto from_old_bytes = core::decode_model(v.data(), v.size());
    EXPECT_EQ(shop_a(*from_old_bytes)["examples"], 60);
    // A count above the partition's n_seen is refused.
    json bad = m->to_json();
    bad["state"]["partitions"][0]["examples"] = 61;
    const std::string bt = bad.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { core::model_from_text(bt.data(), bt.size()); });
    // Merging: A learned 2 + 1 rows (3), B 1.
    auto p = make(kShops), q = make(kShops);
    p->learn(shop_row("A", 1), Label::of_number(1));
    p->learn(shop_row("A", 2), Label::of_number(1));
    q->learn(shop_row("A", 3), Label::of_number(1));
    q->learn(shop_row("B", 3), Label::of_number(1));
    p->merge(*q);
    EXPECT_EQ(shop_a(*p)["partition"], "shop=A");
    EXPECT_EQ(shop_a(*p)["examples"], 3);
    // Partial models that started from a trained one count its examples once: A 20 (from the
    // base) + 1 + 2.
    auto base = trained_for(20, 3);
    base->begin_aggregation();
    auto r = base->clone();
    base->learn(shop_row("A", 1), Label::of_number(1));
    r->learn(shop_row("A", 1), Label::of_number(1));
    r->learn(shop_row("A", 2), Label::of_number(1));
    base->merge(*r);
    EXPECT_EQ(shop_a(*base)["examples"], 23);
    EXPECT_EQ(shop_a(*base)["n_seen"], 63);
}

// ---- compact forms (Model::linear_form) --------------------------------------------------------

// Each partition's prediction, read from its compact form, is its own model's prediction bit for
// bit: the model is read back from the JSON form (an independent path) and given the row without
// its keys. Bases with scaling, without, a scaled target, hashing, a classifier; rows with a
// feature only some partitions learned, a category, a missing value (the model's path).
TEST(Partitioned, CompactFormsScoreAsThePartitionsOwnModels) {
    const char* bases[] = {
        R"({"model":"linear_regression","intercept_lr":0.1})",
        R"({"model":"linear_regression","scale":false,"optimizer":{"sgd":{"lr":0.002}}})",
        R"({"model":"linear_regression","scale_target":true})",
        R"({"model":"linear_regression","hash_bits":4})",
        R"({"model":"logistic_regression"})",
    };
    for (const char* base : bases) {
        SCOPED_TRACE(base);
        auto m = make(std::string(R"({"model":"partitioned","by":["r","s"],"min_examples":3,"base":)") + base + "}");
        const bool binary = m->task() == core::Task::Binary;
        std::mt19937 rng(5);
        std::uniform_real_distribution<double> u(-2, 2);
        auto some_row = [&](int s, bool learn_c) {
            Observation x;
            x.add_category("r", s % 2 ? "odd" : "even");
            x.add_category("s", "s" + std::to_string(s));
            x.add_numeric("a", u(rng));
            x.add_numeric("b", 10 * u(rng) + 3);
            if (learn_c) x.add_numeric("c", u(rng));
            x.add_category("color", s % 3 ? "red" : "blue");
            return x;
        };
        for (int i = 0; i < 120; i++) {
            const int s = i % 6;
            Observation x = some_row(s, s == 1);  // only s1 (and odd, and the global model) learn c
            const double y = binary ? (x[2].value > 0 ? 1 : 0) : 3 * x[2].value - x[3].value + s;
            m->learn(x, Label::of_number(y));
        }
        const json state = m->to_json()["state"];
        std::map<std::string, std::unique_ptr<Model>> own;
        for (const auto& p : state["partitions"]) {
            std::string path;
            for (const auto& v : p["path"]) path += (path.empty() ? "" : "/") + v.get<std::string>();
            own[path] = core::model_from_json(p["model"]);
        }
        for (int k = 0; k < 40; k++) {
            const int s = k % 7;  // s6: never seen, its region answers
            Observation x = some_row(s, k % 2 == 0);
            Observation bare;
            for (size_t i = 2; i < x.size(); i++) {
                if (x[i].type == core::FeatureType::Categorical) bare.add_category("color", s % 3 ? "red" : "blue");
                else bare.add_numeric(x.name(x[i]), x[i].value);
            }
            const std::string region = s % 2 ? "odd" : "even";
            const std::string path = s < 6 ? region + "/s" + std::to_string(s) : region;
            ASSERT_TRUE(own.count(path));
            EXPECT_EQ(m->predict(x), own[path]->predict(bare));
            if (binary) {
                std::vector<double> p;
                m->predict_proba(x, p);
                EXPECT_EQ(p[1], own[path]->predict(bare));
            }
        }
        // A missing value: the partition's model answers, given the row without it (docs/models.md).
        Observation x = some_row(2, false);
        Observation bare;
        bare.add_numeric("a", x[2].value);
        bare.add_category("color", "red");
        Observation xm;
        xm.add_category("r", "even");
        xm.add_category("s", "s2");
        xm.add_numeric("a", x[2].value);
        xm.add_missing("b");
        xm.add_category("color", "red");
        EXPECT_EQ(m->predict(xm), own["even/s2"]->predict(bare));
        // The partition learns: its form is made again.
        Observation y0 = some_row(2, false);
        const double before = m->predict(y0);
        m->learn(y0, Label::of_number(binary ? 1 : 50));
        Observation y0bare;
        for (size_t i = 2; i < y0.size(); i++) {
            if (y0[i].type == core::FeatureType::Categorical) y0bare.add_category("color", "red");
            else y0bare.add_numeric(y0.name(y0[i]), y0[i].value);
        }
        const json after = m->to_json()["state"];
        for (const auto& p : after["partitions"]) {
            if (p["path"] == json::array({"even", "s2"})) {
                EXPECT_EQ(m->predict(y0), core::model_from_json(p["model"])->predict(y0bare));
            }
        }
        EXPECT_NE(m->predict(y0), before);
    }
}

}  // namespace
}  // namespace pg_learn::test
