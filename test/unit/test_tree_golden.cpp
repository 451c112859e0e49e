// The two Hoeffding trees (classifier and regressor) as they were before their shared code became
// one (core/models/hoeffding_tree/tree_common.hpp): grown trees encode to the same bytes, and
// their predictions, explanations, importances, info, JSON form and every validation error met
// by a broken stored form (each byte changed and resealed, each JSON key removed, retyped or
// added) are the same as the code before the change gave. The constants were captured from
// that code (commit 22c647c); a digest is FNV-1a 64 of the text written here.
#include "core/common/envelope.hpp"
#include "core/models/model.hpp"
#include "test_util.hpp"

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

namespace pg_learn::test {
namespace {

using core::Label;
using core::Model;
using core::Observation;
using nlohmann::json;

uint64_t fnv1a(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

std::string hex(double d) {
    char s[32];
    std::snprintf(s, sizeof s, "%a", d);
    return s;
}

// A row of the stream: three numeric features (b sometimes missing), two more numeric ones of
// noise and a categorical one; a class (one appears only later) or a number.
Observation row(std::mt19937_64& rng, int i, double& a, double& b, int& c) {
    std::uniform_real_distribution<double> u(0, 1);
    static const char* colors[] = {"red", "green", "blue", "teal"};
    Observation o;
    a = u(rng);
    b = u(rng);
    c = static_cast<int>(u(rng) * (i < 300 ? 3 : 4));
    o.add_numeric("a", a);
    if (i % 7) o.add_numeric("b", b);
    o.add_numeric("n1", u(rng));
    o.add_numeric("n2", std::round(u(rng) * 5));
    o.add_category("color", colors[c]);
    return o;
}

std::unique_ptr<Model> grown(const std::string& spec, int rows) {
    auto m = core::model_from_text(spec.data(), spec.size());
    const bool cls = m->task() == core::Task::Multiclass;
    std::mt19937_64 rng(5);
    for (int i = 0; i < rows; i++) {
        double a, b;
        int c;
        const Observation o = row(rng, i, a, b, c);
        if (cls) {
            const char* y = i >= 400 && c == 3 ? "s" : a + b > 1 ? (c == 0 ? "p" : "q") : "r";
            m->learn(o, Label::of_text(y));
        } else {
            m->learn(o, Label::of_number(10 * a * b + (c == 0 ? 3 : 0) + (i % 5) * 0.1));
        }
    }
    return m;
}

const char* const kClassifiers[] = {
    R"({"model": "hoeffding_tree_classifier", "grace_period": 40, "delta": 0.01})",
    R"({"model": "hoeffding_tree_classifier", "grace_period": 40, "splitter": "gaussian", "leaf_prediction": "nb", "split_criterion": "gini"})",
    R"({"model": "hoeffding_tree_classifier", "grace_period": 30, "max_features": "sqrt", "seed": 7})",
    R"({"model": "hoeffding_tree_classifier", "grace_period": 30, "max_size": 0.004})",
    R"({"model": "hoeffding_tree_classifier", "grace_period": 30, "leaf_prediction": "mc", "max_depth": 3, "n_bins": 3})",
};
const char* const kRegressors[] = {
    R"({"model": "hoeffding_tree_regressor", "grace_period": 40, "leaf_prediction": "mean", "max_bins": 6})",
    R"({"model": "hoeffding_tree_regressor", "grace_period": 40, "leaf_prediction": "model", "max_bins": 6})",
    R"({"model": "hoeffding_tree_regressor", "grace_period": 40, "max_bins": 6})",
    R"({"model": "hoeffding_tree_regressor", "grace_period": 30, "max_size": 0.01})",
    R"({"model": "hoeffding_tree_regressor", "grace_period": 30, "max_depth": 2, "max_bins": 4})",
};

// What a stored form's decoder says: "ok" or the error's message.
template <typename F>
std::string outcome(F&& f) {
    try {
        f();
        return "ok";
    } catch (const core::Error& e) {
        return std::string("error ") + std::to_string(static_cast<int>(e.kind())) + " " + e.what();
    }
}

// Every object and array in the state, each key removed, set to a string, to a negative number
// and to an empty object, each array element removed and set to a string, and an unknown key
// added to each object: the message model_from_json gives for each.
void json_mutations(const json& model, json& at, std::string& log) {
    auto probe = [&](const char* what) {
        log += what;
        log += ": ";
        log += outcome([&] { (void)core::model_from_json(model); });
        log += "\n";
    };
    if (at.is_object()) {
        std::vector<std::string> keys;
        for (auto it = at.begin(); it != at.end(); ++it) keys.push_back(it.key());
        for (const std::string& k : keys) {
            json saved = at[k];
            at.erase(k);
            probe(("remove " + k).c_str());
            for (const json& v : {json("x"), json(-1.5), json::object()}) {
                at[k] = v;
                probe(("set " + k + " " + v.dump()).c_str());
            }
            at[k] = saved;
            json_mutations(model, at[k], log);
        }
        at["zz"] = 1;
        probe("add zz");
        at.erase("zz");
    } else if (at.is_array()) {
        for (size_t i = 0; i < at.size(); i++) {
            json saved = at[i];
            at[i] = "x";
            probe(("set [" + std::to_string(i) + "]").c_str());
            at[i] = saved;
            if (saved.is_structured()) json_mutations(model, at[i], log);
        }
        if (!at.empty()) {
            json saved = at.back();
            at.erase(at.size() - 1);
            probe("remove last");
            at.push_back(saved);
        }
    }
}

// Everything the model shows: bytes, text, info, predictions, explanations and importance on
// probes, and then every broken stored form's outcome.
std::string behaviour(const Model& m) {
    std::string log;
    const std::vector<uint8_t> b = bytes_of(m);
    log += "bytes " + std::to_string(b.size()) + " " + std::to_string(fnv1a(b.data(), b.size())) + "\n";
    log += m.to_text() + "\n";
    log += m.info().dump() + "\n";
    std::mt19937_64 rng(99);
    for (int i = 0; i < 40; i++) {
        double a, bb;
        int c;
        Observation o = row(rng, i * 13 + 1, a, bb, c);
        if (i % 9 == 0) o.add_category("shape", "round");  // unseen
        if (m.task() == core::Task::Multiclass) {
            std::vector<double> p;
            m.predict_proba(o, p);
            for (double v : p) log += hex(v) + " ";
        } else {
            log += hex(m.predict(o));
        }
        core::Explanation e;
        m.explain(o, e);
        log += "\n" + e.method + " " + e.scale;
        for (const auto& s : e.outputs) log += " " + s;
        for (const auto& s : e.features) log += " " + s;
        for (double v : e.values) log += " " + hex(v);
        for (double v : e.base) log += " " + hex(v);
        for (double v : e.contributions) log += " " + hex(v);
        log += "\n";
    }
    core::FeatureImportance imp;
    m.importance(imp);
    log += imp.kind;
    for (size_t f = 0; f < imp.features.size(); f++) log += " " + imp.features[f] + " " + hex(imp.importance[f]);
    log += "\n";
    // Each byte after the envelope's header changed two ways, the value resealed.
    for (size_t i = core::kEnvelopeHeaderSize; i < b.size(); i++)
        for (uint8_t x : {uint8_t(0x01), uint8_t(0xff)}) {
            std::vector<uint8_t> bad = b;
            bad[i] ^= x;
            core::seal_envelope(bad.data(), bad.size());
            log += std::to_string(i) + "^" + std::to_string(x) + ": " + outcome([&] {
                       auto d = core::decode_model(bad.data(), bad.size());
                       (void)bytes_of(*d);
                   }) + "\n";
        }
    json j = m.to_json();
    json_mutations(j, j["state"], log);
    return log;
}

void check(const char* const* specs, size_t n, int rows, const uint64_t* expected_bytes, uint64_t expected_all,
           const char* dump_name) {
    std::string all;
    for (size_t s = 0; s < n; s++) {
        auto m = grown(specs[s], rows);
        const std::vector<uint8_t> b = bytes_of(*m);
        const uint64_t h = fnv1a(b.data(), b.size());
        std::printf("%s %zu bytes %zu fnv %#" PRIx64 "\n", dump_name, s, b.size(), h);
        EXPECT_EQ(h, expected_bytes[s]) << specs[s];
        all += behaviour(*m);
    }
    const uint64_t h = fnv1a(all.data(), all.size());
    std::printf("%s behaviour %zu chars fnv %#" PRIx64 "\n", dump_name, all.size(), h);
    EXPECT_EQ(h, expected_all);
    // PGL_TREE_GOLDEN_DUMP=DIR writes what the digest is of, for a diff when it differs.
    if (const char* dir = std::getenv("PGL_TREE_GOLDEN_DUMP")) {
        std::ofstream(std::string(dir) + "/" + dump_name + ".txt") << all;
    }
}

TEST(HoeffdingTreeGolden, ClassifierAsBefore) {
    const uint64_t bytes[] = {0xf6aef12ce98b58a1, 0x34d6cb58c58f26e8, 0x901454105a81f9b6, 0xab7ce1cfbf0c005f,
                              0x74eb0b88abe70245};
    check(kClassifiers, 5, 1500, bytes, 0xd76f191d512ba1db, "classifier");
}

TEST(HoeffdingTreeGolden, RegressorAsBefore) {
    const uint64_t bytes[] = {0x6230aa4e1c4ce2a0, 0x65c77e0f4fc5883c, 0xf37ae19a9cd8ed1b, 0xf16b10c2c6e4ea11,
                              0xa5f9abc04cb4e970};
    check(kRegressors, 5, 700, bytes, 0x8fe2043085cffece, "regressor");
}

}  // namespace
}  // namespace pg_learn::test
