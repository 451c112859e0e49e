// The binary format and the JSON text form: exact round trips, and strict rejection of bad input.
#include "test_util.hpp"

#include <cmath>
#include <functional>
#include <limits>

namespace pg_learn::test {
namespace {

using core::LinearModel;
using core::Observation;
using nlohmann::json;

// A few trained models covering every section of the format.
std::vector<LinearModel> trained_models() {
    std::vector<LinearModel> out;
    for (const char* spec : {
             R"({"model":"linear_regression"})",
             R"({"model":"logistic_regression","optimizer":"adagrad","scale":true,"ignore":["id"]})",
             R"({"model":"linear_regression","optimizer":{"adam":{"lr":0.05}},"missing":"mean","l1":0.01,"l2":0.1})",
             R"({"model":"logistic_regression","optimizer":{"ftrl":{"l1":0.5}},"hash_bits":5})",
             R"({"model":"linear_regression","optimizer":"adagrad","hash_bits":3,"scale":true,"missing":"mean"})",
         }) {
        LinearModel m = model_of(spec);
        const bool cls = m.spec().kind == core::ModelKind::LogisticRegression;
        Observation o;
        for (int i = 0; i < 40; i++) {
            o.clear();
            o.add_numeric("a", std::sin(i * 1.3));
            o.add_numeric("b", i % 7 - 3.0);
            o.add_category("color", i % 3 == 0 ? "red" : i % 3 == 1 ? "green" : "blue \"q\"\\ é");
            if (i % 4 == 0) o.add_missing("c");
            else o.add_numeric("c", 0.25 * i);
            o.add_numeric("id", i);
            m.learn(o, cls ? double(i % 2) : 1.5 * std::sin(i * 1.3) - 0.1 * i);
        }
        out.push_back(std::move(m));
    }
    // an array-trained model (dense_dim) and a fresh one
    LinearModel d = model_of(R"({"model":"linear_regression","optimizer":"adam"})");
    for (int i = 0; i < 10; i++) {
        double x[] = {double(i), std::cos(i)};
        d.learn_dense(x, 2, i * 0.5);
    }
    out.push_back(std::move(d));
    out.push_back(model_of(R"({"model":"logistic_regression","intercept_init":-0.5})"));
    out.back().begin_aggregation();
    return out;
}

std::vector<Observation> probes() {
    std::vector<Observation> ps;
    for (int i = 0; i < 5; i++) {
        Observation o;
        o.add_numeric("a", 0.3 * i - 0.5);
        o.add_numeric("b", i);
        o.add_category("color", i % 2 ? "red" : "blue \"q\"\\ é");
        o.add_missing("c");
        o.add_numeric("x1", i);
        o.add_numeric("x2", -i);
        ps.push_back(std::move(o));
    }
    return ps;
}

void expect_identical(const LinearModel& a, const LinearModel& b) {
    EXPECT_EQ(a.spec().canonical_text(), b.spec().canonical_text());
    EXPECT_EQ(a.identity(), b.identity());
    EXPECT_EQ(a.updates(), b.updates());
    EXPECT_EQ(a.n_seen(), b.n_seen());
    EXPECT_EQ(a.aggregation_base(), b.aggregation_base());
    EXPECT_EQ(a.dense_dim(), b.dense_dim());
    EXPECT_EQ(bits(a.intercept()), bits(b.intercept()));
    EXPECT_EQ(a.feature_names(), b.feature_names());
    ASSERT_EQ(a.weights().size(), b.weights().size());
    for (size_t i = 0; i < a.weights().size(); i++) EXPECT_EQ(bits(a.weights()[i]), bits(b.weights()[i])) << i;
    EXPECT_EQ(a.to_json(), b.to_json());
    for (const auto& p : probes()) EXPECT_EQ(bits(a.predict(p)), bits(b.predict(p)));
}

TEST(Binary, RoundTripIsExact) {
    for (const auto& m : trained_models()) {
        auto buf = encode(m);
        EXPECT_EQ(buf.size() % 8, 0u);
        EXPECT_EQ(std::memcmp(buf.data(), "PGLM", 4), 0);
        LinearModel d = LinearModel::decode(buf.data(), buf.size());
        expect_identical(m, d);
        EXPECT_EQ(encode(d), buf);
        // the decoded model keeps learning exactly like the original
        LinearModel a = m, b = d;
        for (const auto& p : probes()) {
            double y = m.spec().kind == core::ModelKind::LogisticRegression ? 1.0 : 0.7;
            a.learn(p, y);
            b.learn(p, y);
        }
        expect_identical(a, b);
    }
}

TEST(Binary, EveryTruncationIsRejected) {
    for (const auto& m : trained_models()) {
        auto buf = encode(m);
        for (size_t n = 0; n < buf.size(); n++)
            expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(buf.data(), n); });
        // a trailing byte too
        auto longer = buf;
        longer.push_back(0);
        expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(longer.data(), longer.size()); });
    }
}

// A truncation whose header was patched to match (length and checksum): the section parser
// itself must notice.
TEST(Binary, ConsistentlyPatchedTruncationsAreRejected) {
    for (const auto& m : trained_models()) {
        auto buf = encode(m);
        for (size_t n = 48; n < buf.size(); n++) {
            std::vector<uint8_t> t(buf.begin(), buf.begin() + n);
            uint32_t len = static_cast<uint32_t>(n);
            std::memcpy(t.data() + 44, &len, 4);
            uint64_t sum = core::hash64(t.data() + 48, n - 48);
            std::memcpy(t.data() + 32, &sum, 8);
            expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(t.data(), t.size()); });
        }
    }
}

// Header layout (docs/format.md): magic 0-3, version 4-5, kind 6-7, identity 8-15,
// updates 16-23, n_seen 24-31, checksum 32-39, sections 40-43, length 44-47; the checksum
// covers bytes 48 and after.
constexpr size_t kCountersBegin = 16, kCountersEnd = 32;

TEST(Binary, SingleByteFlipsAreRejected) {
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        for (size_t i = 0; i < buf.size(); i++) {
            if (i >= kCountersBegin && i < kCountersEnd) continue;  // see HeaderCountersAreNotChecksummed
            for (uint8_t mask : {0x01, 0x80, 0xff}) {
                auto f = buf;
                f[i] ^= mask;
                expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(f.data(), f.size()); });
            }
        }
    }
}

// Known gap, reported: the checksum does not cover the header, and nothing else checks the
// updates and n_seen counters, so a flipped byte there decodes into a different model. Fixing
// it changes the checksum of every stored model (sql/model_type.sql embeds some), so it is
// left to the format's owner. Enable this test once the header is covered.
TEST(Binary, DISABLED_HeaderCountersAreChecksummed) {
    const auto buf = encode(trained_models()[0]);
    for (size_t i = kCountersBegin; i < kCountersEnd; i++) {
        auto f = buf;
        f[i] ^= 0x01;
        expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(f.data(), f.size()); });
    }
}

// Flips with the checksum recomputed: the structure validation alone must hold (no crash, no
// other exception; ASan/UBSan builds check the memory side).
TEST(Binary, StructuralFuzzNeverCrashes) {
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        for (size_t i = 0; i < buf.size(); i++) {
            for (uint8_t mask : {0x01, 0x10, 0x80, 0xff}) {
                auto f = buf;
                f[i] ^= mask;
                if (i < 32 || i >= 40) {
                    uint64_t sum = core::hash64(f.data() + 48, f.size() - 48);
                    std::memcpy(f.data() + 32, &sum, 8);
                }
                try {
                    LinearModel d = LinearModel::decode(f.data(), f.size());
                    // accepted: it must then be a model that encodes and predicts
                    auto again = encode(d);
                    EXPECT_EQ(again.size(), d.encoded_size());
                    for (const auto& p : probes()) (void)d.predict(p);
                } catch (const Error& e) {
                    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidBinary))
                        << "offset " << i << ": " << e.what();
                }
            }
        }
    }
}

TEST(Binary, WrongMagicVersionKind) {
    const auto buf = encode(trained_models()[1]);  // logistic
    auto fix_sum = [](std::vector<uint8_t>& f) {
        uint64_t sum = core::hash64(f.data() + 48, f.size() - 48);
        std::memcpy(f.data() + 32, &sum, 8);
    };
    auto f = buf;
    std::memcpy(f.data(), "PGLX", 4);
    EXPECT_NE(expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(f.data(), f.size()); })
                  .find("magic"), std::string::npos);
    f = buf;
    uint16_t v = 2;
    std::memcpy(f.data() + 4, &v, 2);
    EXPECT_NE(expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(f.data(), f.size()); })
                  .find("version 2"), std::string::npos);
    v = 0;
    std::memcpy(f.data() + 4, &v, 2);
    expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(f.data(), f.size()); });
    for (uint16_t kind : {0, 1, 3, 0xffff}) {  // 1: linear header over a logistic spec
        f = buf;
        std::memcpy(f.data() + 6, &kind, 2);
        fix_sum(f);
        expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(f.data(), f.size()); });
    }
    // empty and tiny inputs
    expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(nullptr, 0); });
    uint8_t zeros[64] = {};
    expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(zeros, sizeof zeros); });
}

TEST(Binary, EncodedSizeIsReportedInInfo) {
    for (const auto& m : trained_models()) {
        EXPECT_EQ(m.info()["size_bytes"].get<size_t>(), m.encoded_size());
        EXPECT_EQ(encode(m).size(), m.encoded_size());
    }
}

TEST(Text, RoundTripIsExact) {
    for (const auto& m : trained_models()) {
        const std::string text = m.to_text();
        LinearModel t = LinearModel::from_text(text.data(), text.size());
        expect_identical(m, t);
        EXPECT_EQ(t.to_text(), text);
        // and across both forms
        auto buf = encode(t);
        EXPECT_EQ(buf, encode(m));
    }
}

TEST(Text, ContentsOfTheJsonForm) {
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":{"sgd":{"lr":0.25}},"intercept_lr":0.5})");
    Observation o = num({{"a", 2}});
    o.add_category("c", "x");
    m.learn(o, 3);  // g = -6: b = 3, w_a = 3, w_{c=x} = 1.5
    json j = json::parse(m.to_text());
    EXPECT_EQ(j["pg_learn_model"], 1);
    EXPECT_EQ(j["kind"], "linear_regression");
    EXPECT_EQ(j["updates"], 1);
    EXPECT_EQ(j["n_seen"], 1);
    EXPECT_EQ(j["intercept"], 3.0);
    EXPECT_EQ(j["features"], json::parse(R"(["a","c=x"])"));
    EXPECT_EQ(j["feature_types"], json::parse(R"(["numeric","categorical"])"));
    EXPECT_EQ(j["weights"], json::parse("[3.0,1.5]"));
    EXPECT_FALSE(j.contains("optimizer_state"));
    EXPECT_FALSE(j.contains("feature_stats"));
    EXPECT_EQ(j["identity"].get<std::string>().size(), 16u);
}

TEST(Text, BareSpecIsAFreshModel) {
    const std::string s = R"({"model":"logistic_regression","optimizer":"adam","intercept_init":0.75})";
    LinearModel m = LinearModel::from_text(s.data(), s.size());
    EXPECT_EQ(m.n_seen(), 0u);
    EXPECT_EQ(m.updates(), 0u);
    EXPECT_EQ(m.n_weights(), 0u);
    EXPECT_EQ(m.intercept(), 0.75);
    EXPECT_EQ(m.spec().canonical_text(), spec_of(s).canonical_text());
    EXPECT_EQ(m.identity(), model_of(s).identity());
    EXPECT_NE(m.identity(), model_of(R"({"model":"logistic_regression"})").identity());
    const std::string h = R"({"model":"linear_regression","hash_bits":6})";
    EXPECT_EQ(LinearModel::from_text(h.data(), h.size()).n_weights(), 64u);
    // a bad spec is a parameter error naming the option
    const std::string bad = R"({"model":"linear_regression","lr":1})";
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(bad.data(), bad.size()); });
}

TEST(Text, MalformedJsonIsInvalidText) {
    for (const char* t : {"", "{", "{\"model\":", "nonsense", "{\"model\":\"linear_regression\",}",
                          "{\"model\":\"linear_regression\"} trailing", "[1,2", "\"unterminated",
                          "{'model':'linear_regression'}", "NaN"}) {
        std::string s(t);
        expect_error(ErrorKind::InvalidText, [&] { LinearModel::from_text(s.data(), s.size()); });
    }
    for (const char* t : {"[]", "1", "\"linear_regression\"", "null"}) {
        std::string s(t);
        expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(s.data(), s.size()); });
    }
}

TEST(Text, NestingDepthLimit) {
    auto nested = [](int depth) { return std::string(depth, '[') + std::string(depth, ']'); };
    std::string deep = nested(33);
    expect_error(ErrorKind::InvalidText, [&] { LinearModel::from_text(deep.data(), deep.size()); });
    std::string very = nested(100000);  // no stack overflow
    expect_error(ErrorKind::InvalidText, [&] { LinearModel::from_text(very.data(), very.size()); });
    std::string ok = nested(32);  // within the limit: parsed, then refused as not an object
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(ok.data(), ok.size()); });
    std::string objs = R"({"model":"linear_regression","x":)" + nested(31) + "}";
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(objs.data(), objs.size()); });
    // brackets inside strings (with escaped quotes) do not count
    std::string quoted = R"({"model":"linear_regression","ignore":["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"[[[[[[[["]})";
    LinearModel m = LinearModel::from_text(quoted.data(), quoted.size());
    ASSERT_EQ(m.spec().ignore.size(), 1u);
    EXPECT_EQ(m.spec().ignore[0].size(), 49u);
}

// Full models whose fields disagree with each other are refused, whatever the field.
TEST(Text, InconsistentModelsAreRejected) {
    const LinearModel src = trained_models()[2];  // adam, missing=mean: optimizer state and stats
    const json good = src.to_json();
    auto reject = [&](const std::function<void(json&)>& edit, const char* what) {
        json j = good;
        edit(j);
        const std::string s = j.dump();
        SCOPED_TRACE(what);
        expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(s.data(), s.size()); });
    };
    reject([](json& j) { j["extra"] = 1; }, "unknown key");
    reject([](json& j) { j["pg_learn_model"] = 2; }, "version");
    reject([](json& j) { j["pg_learn_model"] = "1"; }, "version type");
    reject([](json& j) { j.erase("weights"); }, "missing weights");
    reject([](json& j) { j.erase("updates"); }, "missing updates");
    reject([](json& j) { j["updates"] = -1; }, "negative updates");
    reject([](json& j) { j["n_seen"] = 1.5; }, "fractional n_seen");
    reject([](json& j) { j["kind"] = "logistic_regression"; }, "kind");
    reject([](json& j) { j["identity"] = "0000000000000000"; }, "identity");
    reject([](json& j) { j["spec"]["l2"] = 0.5; }, "spec changed under identity");
    reject([](json& j) { j["spec"]["bogus"] = 0.5; }, "bad spec");
    reject([](json& j) { j["weights"].push_back(0.0); }, "weights length");
    reject([](json& j) { j["weights"][0] = "1"; }, "weight type");
    reject([](json& j) { j["features"][1] = j["features"][0]; }, "duplicate feature");
    reject([](json& j) { j["feature_types"][0] = "text"; }, "feature type");
    reject([](json& j) { j["feature_types"].erase(0); }, "types length");
    reject([](json& j) { j["optimizer_state"].erase("v"); }, "optimizer state shape");
    reject([](json& j) { j["optimizer_state"]["v"][0] = -1.0; }, "negative second moment");
    reject([](json& j) { j["optimizer_state"]["m"].erase(0); }, "optimizer state length");
    reject([](json& j) { j.erase("optimizer_state"); }, "missing optimizer state");
    reject([](json& j) { j["feature_stats"]["count"][0] = 1.5; }, "fractional count");
    reject([](json& j) { j["feature_stats"]["m2"][0] = -1.0; }, "negative m2");
    reject([](json& j) { j.erase("feature_stats"); }, "missing stats");
    reject([](json& j) { j["aggregation_base"] = j["n_seen"].get<uint64_t>() + 1; }, "aggregation base");
    reject([](json& j) { j["intercept"] = std::numeric_limits<double>::infinity(); }, "intercept not finite");
    reject([](json& j) { j["dense_dim"] = uint64_t(1) << 40; }, "dense_dim");
    // sgd has no optimizer state; a model without stats cannot carry them
    json s = trained_models()[0].to_json();
    s["optimizer_state"] = {{"g2", json::array()}};
    std::string st = s.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(st.data(), st.size()); });
    s = trained_models()[0].to_json();
    s["feature_stats"] = {{"count", json::array()}, {"mean", json::array()}, {"m2", json::array()}};
    st = s.dump();
    expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_text(st.data(), st.size()); });
}

}  // namespace
}  // namespace pg_learn::test
