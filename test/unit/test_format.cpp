// The binary format and the JSON text form: exact round trips, and strict rejection of bad input.
#include "test_util.hpp"

#include "core/common/text.hpp"

#include <algorithm>
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
             R"({"model":"logistic_regression","optimizer":"adam","hash_bits":12,"scale":true})",
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
    out.push_back(model_of(R"({"model":"linear_regression","optimizer":"ftrl","hash_bits":10,"missing":"mean"})"));
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

// The checksum as docs/format.md defines it, written again here from the document: hash64 of
// the body goes in place of the checksum field of a copy of the header, and hash64 of those
// 48 bytes is the checksum.
uint64_t documented_checksum(const std::vector<uint8_t>& buf) {
    std::vector<uint8_t> header(buf.begin(), buf.begin() + 48);
    uint64_t body = core::hash64(buf.data() + 48, buf.size() - 48);
    std::memcpy(header.data() + 32, &body, 8);
    return core::hash64(header.data(), header.size());
}

uint64_t stored_checksum(const std::vector<uint8_t>& buf) {
    uint64_t sum;
    std::memcpy(&sum, buf.data() + 32, 8);
    return sum;
}

void fix_checksum(std::vector<uint8_t>& buf) {
    uint64_t sum = documented_checksum(buf);
    std::memcpy(buf.data() + 32, &sum, 8);
}

LinearModel decode(const std::vector<uint8_t>& buf) { return LinearModel::decode(buf.data(), buf.size()); }

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
            fix_checksum(t);
            expect_error(ErrorKind::InvalidBinary, [&] { LinearModel::decode(t.data(), t.size()); });
        }
    }
}

// The decoder remembers the last spec text it checked (a partitioned model's partitions share
// one): a model of the remembered spec is decoded alike, and its header is still checked against
// it (an identity or kind patched, with the checksum fixed, right after the same spec decoded).
TEST(Binary, RepeatedSpecsDecodeAlikeAndAreStillChecked) {
    const auto models = trained_models();
    for (int round = 0; round < 2; round++)
        for (const auto& m : models) {
            const auto buf = encode(m);
            LinearModel first = decode(buf), second = decode(buf);  // the second hits the memo
            expect_identical(m, second);
            EXPECT_EQ(encode(second), buf);
            auto f = buf;
            f[8] ^= 0x01;  // identity
            fix_checksum(f);
            std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
            EXPECT_NE(msg.find("identity"), std::string::npos) << msg;
            decode(buf);
            f = buf;
            f[6] = f[6] == 1 ? 2 : 1;  // another linear kind, same spec text
            fix_checksum(f);
            expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
        }
}

// Header layout (docs/format.md): magic 0-3, version 4-5, kind 6-7, identity 8-15,
// updates 16-23, n_seen 24-31, checksum 32-39, sections 40-43, length 44-47; the checksum
// covers every byte but its own field.
constexpr size_t kCountersBegin = 16, kCountersEnd = 32;

TEST(Binary, ChecksumIsAsDocumented) {
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        EXPECT_EQ(stored_checksum(buf), documented_checksum(buf));
    }
}

TEST(Binary, SingleByteFlipsAreRejected) {
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        for (size_t i = 0; i < buf.size(); i++) {
            for (uint8_t mask : {0x01, 0x80, 0xff}) {
                auto f = buf;
                f[i] ^= mask;
                expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
            }
        }
    }
}

// The update and example counters are checked by nothing but the checksum: a flipped bit there
// is caught by it, and the same flip with the checksum recomputed decodes into a model with
// other counters (so the checksum, not some other check, is what caught it).
TEST(Binary, HeaderCountersAreChecksummed) {
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        for (size_t i = kCountersBegin; i < kCountersEnd; i++) {
            auto f = buf;
            f[i] ^= 0x01;
            std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
            EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
            fix_checksum(f);
            LinearModel d = decode(f);
            if (i < 24) EXPECT_EQ(d.updates(), m.updates() ^ (uint64_t(1) << (8 * (i - 16))));
            else EXPECT_EQ(d.n_seen(), m.n_seen() ^ (uint64_t(1) << (8 * (i - 24))));
        }
    }
}

// Before the format was released its checksum covered only the body (bytes 48 and after); a
// model written that way is refused.
TEST(Binary, BodyOnlyChecksumIsRejected) {
    for (const auto& m : trained_models()) {
        auto f = encode(m);
        uint64_t old = core::hash64(f.data() + 48, f.size() - 48);
        std::memcpy(f.data() + 32, &old, 8);
        std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
        EXPECT_NE(msg.find("checksum mismatch"), std::string::npos) << msg;
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
                if (i < 32 || i >= 40) fix_checksum(f);
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
        fix_checksum(f);
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
    // a bare spec is a spec the user writes: this release's defaults
    EXPECT_EQ(m.spec().canonical_text(), current_spec_of(s).canonical_text());
    EXPECT_EQ(m.identity(), LinearModel(current_spec_of(s)).identity());
    EXPECT_NE(m.identity(), model_of(s).identity());
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


uint32_t u32_at(const std::vector<uint8_t>& buf, size_t at) {
    uint32_t v;
    std::memcpy(&v, buf.data() + at, 4);
    return v;
}

uint64_t u64_at(const std::vector<uint8_t>& buf, size_t at) {
    uint64_t v;
    std::memcpy(&v, buf.data() + at, 8);
    return v;
}

// The sections of an encoded model, as docs/format.md lays them out after the 48-byte header.
struct SectionAt {
    uint32_t tag;
    size_t header, payload, length, end;  // end: after the padding
};

std::vector<SectionAt> sections_of(const std::vector<uint8_t>& buf) {
    std::vector<SectionAt> out;
    size_t at = 48;
    while (at + 16 <= buf.size()) {
        SectionAt sec;
        std::memcpy(&sec.tag, buf.data() + at, 4);
        uint64_t len;
        std::memcpy(&len, buf.data() + at + 8, 8);
        sec.header = at;
        sec.payload = at + 16;
        sec.length = len;
        sec.end = sec.payload + ((len + 7) & ~uint64_t(7));
        out.push_back(sec);
        at = sec.end;
    }
    EXPECT_EQ(at, buf.size());
    return out;
}

TEST(Binary, SectionLayoutIsAsDocumented) {
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        const auto secs = sections_of(buf);
        std::vector<uint32_t> tags;
        for (const auto& sec : secs) tags.push_back(sec.tag);
        const bool slots = m.spec().optimizer.kind != core::OptimizerKind::Sgd;
        std::vector<uint32_t> want = {1, 2, 3, 4};
        if (slots) want.push_back(5);
        if (m.spec().keeps_feature_stats()) want.push_back(6);
        EXPECT_EQ(tags, want);
        uint32_t count;
        std::memcpy(&count, buf.data() + 40, 4);
        EXPECT_EQ(count, want.size());
        // spec: the canonical text; state: 32 bytes; weights: 8 per weight
        EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data() + secs[0].payload), secs[0].length),
                  m.spec().canonical_text());
        EXPECT_EQ(secs[1].length, 32u);
        // weights: dense, 8 bytes per weight; or sparse, the count, the positions, the values
        const size_t nw = m.n_weights();
        size_t nonzero = 0;
        for (double w : m.weights()) nonzero += bits(w) != 0;
        const size_t sparse = 8 + (4 * nonzero + 7) / 8 * 8 + 8 * nonzero;
        const uint32_t encoding = u32_at(buf, secs[3].header + 4);
        EXPECT_EQ(encoding, sparse < 8 * nw ? 1u : 0u);
        EXPECT_EQ(secs[3].length, encoding ? sparse : 8 * nw);
        if (encoding == 0 && nw) {
            EXPECT_EQ(u64_at(buf, secs[3].payload), bits(m.weights()[0]));
        } else if (encoding == 1) {
            EXPECT_EQ(u64_at(buf, secs[3].payload), nonzero);
            const size_t first = std::find_if(m.weights().begin(), m.weights().end(),
                                              [](double w) { return bits(w) != 0; }) - m.weights().begin();
            if (nonzero) {
                EXPECT_EQ(u32_at(buf, secs[3].payload + 8), first);
                EXPECT_EQ(u64_at(buf, secs[3].payload + 8 + (4 * nonzero + 7) / 8 * 8), bits(m.weights()[first]));
            }
        }
    }
}

// One model, one encoding: an encoding field other than the one the encoder writes, non-zero
// padding, or a spec that is not in its canonical form, are refused even under a valid checksum.
TEST(Binary, EncodingPaddingAndSpecFormAreStrict) {
    size_t paddings = 0, switched = 0;
    for (const auto& m : trained_models()) {
        const auto buf = encode(m);
        for (const auto& sec : sections_of(buf)) {
            auto f = buf;
            std::string msg;
            if (sec.tag <= 3) {  // spec, state, names: always 0
                f[sec.header + 4] = 1;
                fix_checksum(f);
                msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
                EXPECT_NE(msg.find("encoding field of section"), std::string::npos) << msg;
            } else {  // per-weight sections: 0 or 1, and only the one the rule picks
                f[sec.header + 4] = 2;
                fix_checksum(f);
                msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
                EXPECT_NE(msg.find("unknown encoding 2"), std::string::npos) << msg;
                f = buf;
                f[sec.header + 4] ^= 1;
                fix_checksum(f);
                expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
                switched++;
            }
            for (size_t i = 0; i < 4; i++) {
                f = buf;
                f[sec.header + 4 + i] |= 0x80;
                fix_checksum(f);
                expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
            }
            for (size_t i = sec.payload + sec.length; i < sec.end; i++) {
                f = buf;
                f[i] = 0x20;
                fix_checksum(f);
                msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
                EXPECT_NE(msg.find("padding"), std::string::npos) << msg;
                paddings++;
            }
        }
        // the same spec with two keys swapped (same length, same meaning)
        auto f = buf;
        std::string spec(reinterpret_cast<const char*>(f.data() + 64), sections_of(f)[0].length);
        const size_t l1 = spec.find("\"l1\":"), l2 = spec.find("\"l2\":");
        ASSERT_NE(l1, std::string::npos);
        ASSERT_EQ(l2, spec.find(',', l1) + 1);  // adjacent: canonical keys are sorted
        const size_t end2 = spec.find(',', l2);
        std::string a = spec.substr(l1, l2 - 1 - l1), b = spec.substr(l2, end2 - l2);
        std::string swapped = spec.substr(0, l1) + b + "," + a + spec.substr(end2);
        ASSERT_EQ(swapped.size(), spec.size());
        ASSERT_NE(swapped, spec);
        EXPECT_EQ(json::parse(swapped), json::parse(spec));
        std::memcpy(f.data() + 64, swapped.data(), swapped.size());
        fix_checksum(f);
        std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
        EXPECT_NE(msg.find("canonical"), std::string::npos) << msg;
    }
    EXPECT_GT(paddings, 0u);
    EXPECT_GT(switched, 0u);
}

// A model with one feature whose 4-byte name can be patched in place: the offset of the name.
size_t four_byte_name(std::vector<uint8_t>& buf) {
    LinearModel m = model_of(R"({"model":"linear_regression"})");
    m.learn(num({{"abcd", 2}}), 1);
    buf = encode(m);
    const uint8_t entry[] = {4, 0, 0, 0, 0, 'a', 'b', 'c', 'd'};  // length, type numeric, bytes
    auto it = std::search(buf.begin(), buf.end(), std::begin(entry), std::end(entry));
    EXPECT_NE(it, buf.end());
    return static_cast<size_t>(it - buf.begin()) + 5;
}

// What nlohmann/json (the text form's printer) accepts as a string.
bool json_prints(const std::string& s) {
    try {
        (void)json(s).dump().size();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

// A binary model whose feature name is not UTF-8 used to decode, and then fail in ml_model_out
// with an internal error (nlohmann type_error 316): decoding now refuses it.
TEST(Binary, FeatureNamesMustBeUtf8) {
    std::vector<uint8_t> buf;
    const size_t at = four_byte_name(buf);
    struct Case {
        const char* bytes;
        bool valid;
    };
    for (const Case& c : {Case{"\xff" "bcd", false}, Case{"\x80" "bcd", false}, Case{"abc\xc3", false},
                          Case{"\xc3(cd", false}, Case{"\xc0\xaf" "cd", false}, Case{"\xc1\xbf" "cd", false},
                          Case{"\xe0\x80\x80" "d", false}, Case{"\xe0\x9f\xbf" "d", false},
                          Case{"\xed\xa0\x80" "d", false}, Case{"\xed\xbf\xbf" "d", false},
                          Case{"\xf0\x80\x80\x80", false}, Case{"\xf0\x8f\xbf\xbf", false},
                          Case{"\xf4\x90\x80\x80", false}, Case{"\xf5\x80\x80\x80", false},
                          Case{"\xe2\x82" "cd", false}, Case{"\xf0\x9f\x98" "d", false},
                          Case{"\xc3\xa9" "cd", true}, Case{"\xe2\x82\xac" "d", true},
                          Case{"\xed\x9f\xbf" "d", true}, Case{"\xee\x80\x80" "d", true},
                          Case{"\xf0\x9f\x98\x80", true}, Case{"\xf4\x8f\xbf\xbf", true},
                          Case{"\xe0\xa0\x80" "d", true}, Case{"\xf0\x90\x80\x80", true}}) {
        SCOPED_TRACE(testing::PrintToString(std::string(c.bytes)));
        ASSERT_EQ(std::strlen(c.bytes), 4u);
        auto f = buf;
        std::memcpy(f.data() + at, c.bytes, 4);
        fix_checksum(f);
        if (!c.valid) {
            std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
            EXPECT_NE(msg.find("feature name 1 is not valid UTF-8"), std::string::npos) << msg;
            continue;
        }
        LinearModel d = decode(f);
        EXPECT_EQ(d.feature_names()[0], c.bytes);
        const std::string text = d.to_text();  // printable, and reads back as the same model
        EXPECT_EQ(encode(LinearModel::from_text(text.data(), text.size())), f);
    }
}

// The UTF-8 rule of decoding is the JSON printer's: every pair of leading bytes, before three
// kinds of tail, checked against nlohmann/json; then a sweep of first bytes through decode.
TEST(Binary, Utf8CheckAgreesWithTheJsonPrinter) {
    size_t valid = 0, invalid = 0;
    for (const char* tail : {"cd", "\x80\x80", "\xbf" "d"}) {
        for (int b0 = 0; b0 < 256; b0++) {
            for (int b1 = 0; b1 < 256; b1++) {
                const std::string name = {char(b0), char(b1), tail[0], tail[1]};
                const bool ok = core::is_valid_utf8(name);
                EXPECT_EQ(ok, json_prints(name)) << testing::PrintToString(name);
                (ok ? valid : invalid)++;
            }
        }
    }
    EXPECT_GT(valid, 10000u);
    EXPECT_GT(invalid, 10000u);
    std::vector<uint8_t> buf;
    const size_t at = four_byte_name(buf);
    for (int b0 = 1; b0 < 256; b0++) {
        for (const char* rest : {"bcd", "\x80\x80" "d", "\xa0\x80\x80", "\x90\x80\x80"}) {
            const std::string name = char(b0) + std::string(rest);
            auto f = buf;
            std::memcpy(f.data() + at, name.data(), 4);
            fix_checksum(f);
            if (json_prints(name)) {
                EXPECT_EQ(decode(f).feature_names()[0], name);
            } else {
                expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
            }
        }
    }
}

TEST(Binary, FeatureNamesWithANulByteAreRejected) {
    std::vector<uint8_t> buf;
    const size_t at = four_byte_name(buf);
    buf[at + 2] = 0;
    fix_checksum(buf);
    std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(buf); });
    EXPECT_NE(msg.find("NUL"), std::string::npos) << msg;
}

// JSON text is UTF-8 by the parser's rules; a bad byte is a text error (22P02) saying so.
TEST(Text, FeatureNamesMustBeUtf8) {
    LinearModel m = model_of(R"({"model":"linear_regression"})");
    m.learn(num({{"abcd", 2}}), 1);
    std::string text = m.to_text();
    const size_t at = text.find("\"abcd\"");
    ASSERT_NE(at, std::string::npos);
    for (const char* bad : {"\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf"}) {
        std::string t = text;
        t.replace(at + 1, 1, bad);
        std::string msg = expect_error(ErrorKind::InvalidText, [&] { LinearModel::from_text(t.data(), t.size()); });
        EXPECT_NE(msg.find("not valid UTF-8"), std::string::npos) << msg;
    }
    // a json built in memory is not checked by a parser: from_json checks the names itself
    json j = m.to_json();
    j["features"][0] = std::string("ab\xff" "d");
    std::string msg = expect_error(ErrorKind::InvalidText, [&] { LinearModel::from_json(j); });
    EXPECT_NE(msg.find("feature name 1 is not valid UTF-8"), std::string::npos) << msg;
    j["features"][0] = std::string("ab\0d", 4);
    msg = expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_json(j); });
    EXPECT_NE(msg.find("NUL"), std::string::npos) << msg;
    j["features"][0] = "abcé";
    EXPECT_EQ(LinearModel::from_json(j).feature_names()[0], "abcé");
}

// nlohmann/json refuses a number beyond the range of a double; the message says which number
// instead of "not valid JSON" (as PostgreSQL's float8 input does, 22003).
TEST(Text, NumberOutOfRangeIsNamed) {
    const std::string spec = R"({"model":"linear_regression","l2":1e400})";
    std::string msg = expect_error(ErrorKind::NumericRange, [&] { LinearModel::from_text(spec.data(), spec.size()); });
    EXPECT_EQ(msg, "number \"1e400\" is out of range for type double precision");
    std::string text = trained_models()[0].to_text();
    text.replace(text.find("\"weights\":[") + 11, 0, "-2.5E+999,");
    msg = expect_error(ErrorKind::NumericRange, [&] { LinearModel::from_text(text.data(), text.size()); });
    EXPECT_NE(msg.find("\"-2.5E+999\""), std::string::npos) << msg;
    // tiny numbers read as zero or a subnormal, as strtod does
    const std::string tiny = R"({"model":"linear_regression","l2":1e-400})";
    EXPECT_EQ(LinearModel::from_text(tiny.data(), tiny.size()).spec().l2, 0.0);
    // still a syntax error when it is one
    const std::string syntax = R"({"model":"linear_regression","l2":1e})";
    msg = expect_error(ErrorKind::InvalidText, [&] { LinearModel::from_text(syntax.data(), syntax.size()); });
    EXPECT_NE(msg.find("not valid JSON"), std::string::npos) << msg;
}

// A duplicate name is quoted cut at 64 bytes, never inside a character.
TEST(Text, DuplicateNameMessageIsCutAtACharacter) {
    json j = trained_models()[0].to_json();
    const std::string name = std::string(63, 'a') + "\xc3\xa9" + "z";  // é spans bytes 64 and 65
    j["features"][0] = name;
    j["features"][1] = name;
    std::string msg = expect_error(ErrorKind::InvalidParameter, [&] { LinearModel::from_json(j); });
    EXPECT_NE(msg.find("\"" + std::string(63, 'a') + "\" appears twice"), std::string::npos) << msg;
    EXPECT_TRUE(core::is_valid_utf8(msg));
}

// ---- The sparse encoding of the per-weight sections (weights 4, optimizer state 5, statistics 6).
// What docs/format.md says, written again here from the document: a section holds k arrays of W
// doubles; dense (encoding 0) is the k arrays one after the other; sparse (encoding 1) is a u64
// count c, c u32 positions in increasing order padded with zeros to a multiple of 8 bytes, then
// for each array its c values at those positions. A position is stored when one of the k values
// there is not +0.0 (all bits zero); sparse is used exactly when it is strictly shorter.

using Arrays = std::vector<std::vector<double>>;

size_t weight_count(const std::vector<uint8_t>& buf) { return u64_at(buf, sections_of(buf)[1].payload + 16); }

const SectionAt& section_tagged(const std::vector<SectionAt>& secs, uint32_t tag) {
    for (const auto& sec : secs)
        if (sec.tag == tag) return sec;
    ADD_FAILURE() << "no section " << tag;
    return secs.front();
}

Arrays read_arrays(const std::vector<uint8_t>& buf, const SectionAt& sec, size_t k) {
    const size_t w = weight_count(buf);
    Arrays a(k, std::vector<double>(w, 0.0));
    if (u32_at(buf, sec.header + 4) == 0) {
        EXPECT_EQ(sec.length, 8 * k * w);
        for (size_t j = 0; j < k; j++) std::memcpy(a[j].data(), buf.data() + sec.payload + 8 * w * j, 8 * w);
        return a;
    }
    const size_t c = u64_at(buf, sec.payload);
    const size_t values = sec.payload + 8 + (4 * c + 7) / 8 * 8;
    EXPECT_EQ(sec.length, values - sec.payload + 8 * k * c);
    for (size_t r = 0; r < c; r++) {
        const uint32_t at = u32_at(buf, sec.payload + 8 + 4 * r);
        for (size_t j = 0; j < k; j++) std::memcpy(&a[j][at], buf.data() + values + 8 * (j * c + r), 8);
    }
    return a;
}

std::vector<size_t> stored_positions(const Arrays& a) {
    std::vector<size_t> out;
    for (size_t i = 0; i < a[0].size(); i++) {
        bool any = false;
        for (const auto& v : a) any = any || bits(v[i]) != 0;
        if (any) out.push_back(i);
    }
    return out;
}

std::vector<uint8_t> dense_payload(const Arrays& a) {
    std::vector<uint8_t> p;
    for (const auto& v : a) {
        const auto* b = reinterpret_cast<const uint8_t*>(v.data());
        p.insert(p.end(), b, b + 8 * v.size());
    }
    return p;
}

// positions: the positions to store (by default, the canonical ones)
std::vector<uint8_t> sparse_payload(const Arrays& a, std::vector<size_t> positions = {}, bool canonical = true) {
    if (canonical) positions = stored_positions(a);
    const size_t c = positions.size();
    std::vector<uint8_t> p(8 + (4 * c + 7) / 8 * 8 + 8 * a.size() * c, 0);
    const uint64_t c64 = c;
    std::memcpy(p.data(), &c64, 8);
    for (size_t r = 0; r < c; r++) {
        const uint32_t at = static_cast<uint32_t>(positions[r]);
        std::memcpy(p.data() + 8 + 4 * r, &at, 4);
        for (size_t j = 0; j < a.size(); j++) {
            // a position beyond the arrays (to be refused) gets the value 1
            const double v = positions[r] < a[j].size() ? a[j][positions[r]] : 1.0;
            std::memcpy(p.data() + 8 + (4 * c + 7) / 8 * 8 + 8 * (j * c + r), &v, 8);
        }
    }
    return p;
}

// buf with one section replaced (its encoding field and payload), the total length and the
// checksum made to match.
std::vector<uint8_t> with_section(const std::vector<uint8_t>& buf, const SectionAt& sec, uint32_t encoding,
                                  const std::vector<uint8_t>& payload) {
    std::vector<uint8_t> out(buf.begin(), buf.begin() + sec.header);
    const uint64_t len = payload.size();
    out.resize(out.size() + 16);
    std::memcpy(out.data() + sec.header, &sec.tag, 4);
    std::memcpy(out.data() + sec.header + 4, &encoding, 4);
    std::memcpy(out.data() + sec.header + 8, &len, 8);
    out.insert(out.end(), payload.begin(), payload.end());
    out.resize((out.size() + 7) / 8 * 8, 0);
    out.insert(out.end(), buf.begin() + sec.end, buf.end());
    const uint32_t total = static_cast<uint32_t>(out.size());
    std::memcpy(out.data() + 44, &total, 4);
    fix_checksum(out);
    return out;
}

size_t arrays_in(const core::ModelSpec& s, uint32_t tag) {
    if (tag == 4) return 1;
    if (tag == 6) return 3;
    return s.optimizer.kind == core::OptimizerKind::AdaGrad ? 1 : 2;
}

// A hashed model with all three per-weight sections, after three examples.
LinearModel three_examples(const char* spec) {
    LinearModel m = model_of(spec);
    Observation o = num({{"a", 1.5}, {"b", -2}});
    o.add_category("color", "red");
    m.learn(o, 1);
    m.learn(num({{"a", 0.5}, {"c", 3}}), 0);
    Observation p = num({{"b", 4}});
    p.add_category("color", "blue");
    m.learn(p, 1);
    return m;
}

constexpr const char* kHashed18 = R"({"model":"logistic_regression","optimizer":"adam","hash_bits":18,"scale":true})";

TEST(Sparse, FreshHashedModelsAreSmall) {
    for (const char* spec : {R"({"model":"logistic_regression","hash_bits":18})", kHashed18,
                             R"({"model":"linear_regression","optimizer":"ftrl","hash_bits":18,"missing":"mean"})",
                             R"({"model":"linear_regression","optimizer":"adagrad","hash_bits":24})"}) {
        SCOPED_TRACE(spec);
        const LinearModel m = model_of(spec);
        const auto buf = encode(m);
        EXPECT_LT(buf.size(), 1024u);
        // header, spec, state, no names, and each per-weight section a bare count of 0
        const auto secs = sections_of(buf);
        const size_t spec_len = m.spec().canonical_text().size();
        EXPECT_EQ(buf.size(), 48 + 16 + (spec_len + 7) / 8 * 8 + 16 + 32 + 16 + (secs.size() - 3) * (16 + 8));
        for (size_t s = 3; s < secs.size(); s++) {
            EXPECT_EQ(u32_at(buf, secs[s].header + 4), 1u);
            EXPECT_EQ(secs[s].length, 8u);
            EXPECT_EQ(u64_at(buf, secs[s].payload), 0u);
        }
        const LinearModel d = decode(buf);
        EXPECT_EQ(d.n_weights(), m.n_weights());
        EXPECT_EQ(std::count(d.weights().begin(), d.weights().end(), 0.0), std::ptrdiff_t(m.n_weights()));
        EXPECT_EQ(encode(d), buf);
    }
}

TEST(Sparse, AFewExamplesStaySmall) {
    const LinearModel m = three_examples(kHashed18);
    const auto buf = encode(m);
    EXPECT_LT(buf.size(), 1024u);
    const LinearModel d = decode(buf);
    expect_identical(m, d);
    EXPECT_EQ(encode(d), buf);
    // every section stores only positions of the 5 names the examples had; the weights
    // section exactly the non-zero weights (the statistics only the numeric features')
    std::vector<size_t> touched;
    for (size_t i = 0; i < m.n_weights(); i++)
        if (m.weights()[i] != 0) touched.push_back(i);
    EXPECT_GE(touched.size(), 3u);
    for (const auto& sec : sections_of(buf)) {
        if (sec.tag < 4) continue;
        EXPECT_EQ(u32_at(buf, sec.header + 4), 1u) << sec.tag;
        const Arrays a = read_arrays(buf, sec, arrays_in(m.spec(), sec.tag));
        const auto stored = stored_positions(a);
        EXPECT_GE(stored.size(), 3u) << sec.tag;
        EXPECT_LE(stored.size(), 5u) << sec.tag;
        if (sec.tag == 4) {
            EXPECT_EQ(stored, touched);
            EXPECT_EQ(a[0], m.weights());
        }
    }
    // learning again from the decoded model goes on exactly as from the original
    LinearModel a = m, b = d;
    for (const auto& p : probes()) {
        a.learn(p, 1);
        b.learn(p, 1);
    }
    expect_identical(a, b);
    EXPECT_EQ(encode(a), encode(b));
}

TEST(Sparse, ModelsWithFewZerosStayDense) {
    // without hashing, every learned weight is non-zero here: all three sections dense
    LinearModel m = model_of(R"({"model":"linear_regression","optimizer":"adam","scale":true})");
    for (int i = 0; i < 20; i++) m.learn(num({{"a", 1.0 + i}, {"b", 2.0 - i}, {"c", 0.5 * i + 0.25}}), i * 0.3);
    for (double w : m.weights()) ASSERT_NE(w, 0.0);
    auto buf = encode(m);
    for (const auto& sec : sections_of(buf)) {
        if (sec.tag < 4) continue;
        EXPECT_EQ(u32_at(buf, sec.header + 4), 0u) << sec.tag;
        EXPECT_EQ(sec.length, 8 * arrays_in(m.spec(), sec.tag) * 3) << sec.tag;
    }
    EXPECT_EQ(encode(decode(buf)), buf);
    // a hashed model whose every position is in use is dense too
    LinearModel h = model_of(R"({"model":"linear_regression","hash_bits":2})");
    Observation o;
    for (int i = 0; i < 40; i++) o.add_numeric("f" + std::to_string(i), 1.0 + i);
    h.learn(o, 5);
    for (double w : h.weights()) ASSERT_NE(w, 0.0);
    buf = encode(h);
    EXPECT_EQ(u32_at(buf, sections_of(buf)[3].header + 4), 0u);
    EXPECT_EQ(sections_of(buf)[3].length, 32u);
    EXPECT_EQ(encode(decode(buf)), buf);
}

json hashed_model_json(const char* spec_text, const std::vector<double>& w) {
    json spec = json::parse(spec_text);
    return {{"pg_learn_model", 1}, {"kind", spec["model"]}, {"spec", spec}, {"updates", 0}, {"n_seen", 0},
            {"dense_dim", 0}, {"intercept", 0.0}, {"features", json::array()}, {"feature_types", json::array()},
            {"weights", w}};
}

// The rule at its boundary, with W = 16: sparse takes 8 + 8 ceil(c/2) + 8 k c bytes, dense 128 k.
// k = 1: c = 9 gives 8 + 40 + 72 = 120 < 128 (sparse), c = 10 gives 8 + 40 + 80 = 128 (dense:
// not strictly shorter). k = 2: c = 12 gives 8 + 48 + 192 = 248 < 256, c = 13 gives 272.
// k = 3: c = 13 gives 8 + 56 + 312 = 376 < 384, c = 14 gives 8 + 56 + 336 = 400, and c = 3
// gives 8 + 16 + 72 = 96.
TEST(Sparse, TheStrictlyShorterFormIsChosen) {
    struct Case {
        uint32_t tag;
        size_t c;
        uint32_t encoding;
        uint64_t length;
    };
    const char* spec = R"({"model":"linear_regression","optimizer":"adam","hash_bits":4,"scale":true})";
    size_t checked = 0;
    for (const Case& k : {Case{4, 0, 1, 8}, Case{4, 1, 1, 24}, Case{4, 2, 1, 32}, Case{4, 9, 1, 120},
                          Case{4, 10, 0, 128}, Case{4, 16, 0, 128}, Case{5, 12, 1, 248}, Case{5, 13, 0, 256},
                          Case{6, 13, 1, 376}, Case{6, 14, 0, 384}, Case{6, 3, 1, 96}}) {
        SCOPED_TRACE(testing::Message() << "section " << k.tag << ", " << k.c << " positions");
        // c positions spread over the 16, the others zero; only the section under test has any
        std::vector<double> v(16, 0.0);
        std::vector<double> zeros(16, 0.0);
        for (size_t r = 0; r < k.c; r++) v[(r * 5) % 16] = 0.25 * (r + 1) * (r % 2 ? -1 : 1);
        json j = hashed_model_json(spec, k.tag == 4 ? v : zeros);
        j["optimizer_state"] = {{"m", k.tag == 5 ? v : zeros}, {"v", zeros}};
        std::vector<double> count(16, 0.0);
        for (size_t i = 0; i < 16; i++) count[i] = k.tag == 6 && v[i] != 0 ? 2.0 : 0.0;
        j["feature_stats"] = {{"count", count}, {"mean", zeros}, {"m2", zeros}};
        const LinearModel m = LinearModel::from_json(j);
        const auto buf = encode(m);
        const auto secs = sections_of(buf);
        const auto& sec = section_tagged(secs, k.tag);
        EXPECT_EQ(u32_at(buf, sec.header + 4), k.encoding);
        EXPECT_EQ(sec.length, k.length);
        const LinearModel d = decode(buf);
        json want = j;  // the model's own JSON form, with the keys the input left out
        want["identity"] = m.to_json()["identity"];
        want["aggregation_base"] = 0;
        want["spec"] = m.spec().to_json();
        EXPECT_EQ(d.to_json(), want);
        EXPECT_EQ(encode(d), buf);
        // the other form of the same section is refused
        const Arrays a = read_arrays(buf, sec, arrays_in(m.spec(), k.tag));
        auto other = k.encoding ? with_section(buf, sec, 0, dense_payload(a)) : with_section(buf, sec, 1, sparse_payload(a));
        std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(other); });
        EXPECT_NE(msg.find(k.encoding ? "is dense, but its sparse form is shorter" : "is sparse, but its dense form is not longer"),
                  std::string::npos)
            << msg;
        checked++;
    }
    EXPECT_EQ(checked, 11u);
}

// The bytes of two small sparse weights sections, written out by hand from docs/format.md. A
// negative zero is not +0.0: it is stored, and keeps its sign through both forms.
TEST(Sparse, BytesAreAsDocumented) {
    const char* spec = R"({"model":"linear_regression","hash_bits":4})";
    std::vector<double> w(16, 0.0);
    w[3] = 0.5;
    w[7] = -0.0;
    LinearModel m = LinearModel::from_json(hashed_model_json(spec, w));
    auto buf = encode(m);
    const SectionAt sec = sections_of(buf)[3];
    const std::vector<uint8_t> two = {
        0x04, 0, 0, 0, 0x01, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0,  // tag 4, sparse, 32 bytes
        0x02, 0, 0, 0, 0, 0, 0, 0,                                 // 2 positions
        0x03, 0, 0, 0, 0x07, 0, 0, 0,                              // 3, 7
        0, 0, 0, 0, 0, 0, 0xe0, 0x3f,                              // 0.5
        0, 0, 0, 0, 0, 0, 0, 0x80};                                // -0.0
    ASSERT_EQ(sec.end, buf.size());
    EXPECT_EQ(std::vector<uint8_t>(buf.begin() + sec.header, buf.end()), two);
    LinearModel d = decode(buf);
    EXPECT_EQ(bits(d.weights()[7]), uint64_t(1) << 63);
    const std::string text = d.to_text();
    EXPECT_NE(text.find("-0.0"), std::string::npos);
    EXPECT_EQ(encode(LinearModel::from_text(text.data(), text.size())), buf);

    w[7] = 0.0;  // one position: 4 bytes of padding after it
    buf = encode(LinearModel::from_json(hashed_model_json(spec, w)));
    const std::vector<uint8_t> one = {
        0x04, 0, 0, 0, 0x01, 0, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0,  // tag 4, sparse, 24 bytes
        0x01, 0, 0, 0, 0, 0, 0, 0,                                 // 1 position
        0x03, 0, 0, 0, 0, 0, 0, 0,                                 // 3, padding
        0, 0, 0, 0, 0, 0, 0xe0, 0x3f};                             // 0.5
    EXPECT_EQ(std::vector<uint8_t>(buf.begin() + sections_of(buf)[3].header, buf.end()), one);
    EXPECT_EQ(bits(decode(buf).weights()[3]), bits(0.5));
}

// A position is stored when any of the section's arrays is non-zero there; the other arrays'
// values at that position are stored too, zeros included.
TEST(Sparse, PositionsAreSharedByTheArraysOfASection) {
    const char* spec = R"({"model":"linear_regression","optimizer":"adam","hash_bits":4})";
    std::vector<double> zeros(16, 0.0), mom(16, 0.0), var(16, 0.0);
    mom[1] = -1.5;
    var[2] = 4.0;
    json j = hashed_model_json(spec, zeros);
    j["optimizer_state"] = {{"m", mom}, {"v", var}};
    const auto buf = encode(LinearModel::from_json(j));
    const SectionAt sec = sections_of(buf)[4];
    ASSERT_EQ(sec.tag, 5u);
    EXPECT_EQ(u32_at(buf, sec.header + 4), 1u);
    EXPECT_EQ(sec.length, 8u + 8 + 32);
    EXPECT_EQ(u64_at(buf, sec.payload), 2u);
    EXPECT_EQ(u32_at(buf, sec.payload + 8), 1u);
    EXPECT_EQ(u32_at(buf, sec.payload + 12), 2u);
    EXPECT_EQ(u64_at(buf, sec.payload + 16), bits(-1.5));  // m at 1, 2
    EXPECT_EQ(u64_at(buf, sec.payload + 24), 0u);
    EXPECT_EQ(u64_at(buf, sec.payload + 32), 0u);  // v at 1, 2
    EXPECT_EQ(u64_at(buf, sec.payload + 40), bits(4.0));
    EXPECT_EQ(encode(decode(buf)), buf);
}

// Every way a sparse section can be wrong, under a valid checksum: refused, InvalidBinary.
TEST(Sparse, CorruptionsAreRejected) {
    size_t cases = 0;
    for (const char* spec : {kHashed18, R"({"model":"linear_regression","optimizer":"adagrad","hash_bits":6,"missing":"mean"})",
                             R"({"model":"logistic_regression","optimizer":"ftrl","hash_bits":5})"}) {
        SCOPED_TRACE(spec);
        const LinearModel m = three_examples(spec);
        const auto buf = encode(m);
        const auto secs = sections_of(buf);
        const size_t nw = m.n_weights();
        for (const auto& sec : secs) {
            if (sec.tag < 4) continue;
            SCOPED_TRACE(testing::Message() << "section " << sec.tag);
            ASSERT_EQ(u32_at(buf, sec.header + 4), 1u);
            const size_t k = arrays_in(m.spec(), sec.tag);
            const Arrays a = read_arrays(buf, sec, k);
            const auto pos = stored_positions(a);
            const size_t c = pos.size();
            ASSERT_GE(c, 3u);
            const size_t index = sec.payload + 8, values = index + (4 * c + 7) / 8 * 8;
            auto refuse = [&](const std::vector<uint8_t>& f, const char* what) {
                std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(f); });
                EXPECT_NE(msg.find(what), std::string::npos) << msg;
                cases++;
            };
            auto patched = [&](size_t at, const void* v, size_t n) {
                auto f = buf;
                std::memcpy(f.data() + at, v, n);
                fix_checksum(f);
                return f;
            };
            // the rebuilt section is the encoder's, byte for byte
            EXPECT_EQ(with_section(buf, sec, 1, sparse_payload(a)), buf);
            // count beyond W; count off by one (the length no longer matches)
            for (uint64_t bad : {uint64_t(nw) + 1, uint64_t(1) << 40, ~uint64_t(0)})
                refuse(patched(sec.payload, &bad, 8), "positions of");
            for (uint64_t bad : {uint64_t(c) - 1, uint64_t(c) + 1, uint64_t(0)})
                refuse(patched(sec.payload, &bad, 8), "wrong length");
            // positions: unsorted, repeated, out of range
            refuse(with_section(buf, sec, 1, sparse_payload(a, {pos[1], pos[0], pos[2]}, false)), "strictly increasing");
            auto swapped = pos;
            std::swap(swapped[c - 2], swapped[c - 1]);
            refuse(with_section(buf, sec, 1, sparse_payload(a, swapped, false)), "strictly increasing");
            const uint32_t first = static_cast<uint32_t>(pos[0]);
            refuse(patched(index + 4, &first, 4), "strictly increasing");
            for (uint32_t bad : {uint32_t(nw), uint32_t(nw) + 1, ~uint32_t(0)})
                refuse(patched(index + 4 * (c - 1), &bad, 4), "out of range");
            // a stored position whose values are all zero (here: one more position, a zero one)
            size_t unused = 0;
            while (std::find(pos.begin(), pos.end(), unused) != pos.end()) unused++;
            auto extra = pos;
            extra.insert(std::upper_bound(extra.begin(), extra.end(), unused), unused);
            refuse(with_section(buf, sec, 1, sparse_payload(a, extra, false)), "stores zeros at position");
            auto zeroed = buf;
            for (size_t j = 0; j < k; j++) std::memset(zeroed.data() + values + 8 * (j * c + 1), 0, 8);
            fix_checksum(zeroed);
            refuse(zeroed, "stores zeros at position");
            // -0.0 is not zero: the same position with a negative zero is another valid model
            auto negzero = zeroed;
            negzero[values + 8 + 7] = 0x80;  // the sign bit of the first array's value there
            fix_checksum(negzero);
            EXPECT_EQ(encode(decode(negzero)), negzero);
            // padding after an odd number of positions
            if (c % 2) {
                const uint8_t one = 1;
                refuse(patched(index + 4 * c, &one, 1), "padding of the positions");
            }
            // payload lengths: a value short, a value long, not even a count
            auto p = sparse_payload(a);
            auto shorter = p, longer = p;
            shorter.resize(p.size() - 8);
            longer.resize(p.size() + 8, 0);
            refuse(with_section(buf, sec, 1, shorter), "wrong length");
            refuse(with_section(buf, sec, 1, longer), "wrong length");
            refuse(with_section(buf, sec, 1, {}), "wrong length");
            refuse(with_section(buf, sec, 1, std::vector<uint8_t>(4, 0)), "wrong length");
            // the same arrays dense: the other encoding, refused
            refuse(with_section(buf, sec, 0, dense_payload(a)), "is dense, but its sparse form is shorter");
            refuse(with_section(buf, sec, 2, p), "unknown encoding 2");
            // stored values obey the rules of dense ones
            const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
            refuse(patched(values, &nan, 8), sec.tag == 6 ? "count is not a whole number" : "not finite");
            refuse(patched(values + 8 * (k - 1) * c, &inf, 8), "not finite");
            const double minus = -1;
            if (sec.tag == 5 && m.spec().optimizer.kind != core::OptimizerKind::Adam)
                refuse(patched(values + 8 * (k - 1) * c, &minus, 8), "negative");
            if (sec.tag == 5 && m.spec().optimizer.kind == core::OptimizerKind::Adam)
                refuse(patched(values + 8 * c, &minus, 8), "negative");
            if (sec.tag == 6) {
                const double half = 0.5;
                refuse(patched(values, &half, 8), "whole number");
                refuse(patched(values + 8 * 2 * c, &minus, 8), "not finite");  // m2 < 0
            }
        }
    }
    EXPECT_GT(cases, 100u);
}

// A dense section that the rule keeps dense is refused when written sparse, even where both
// forms have the same length.
TEST(Sparse, SparseWhereDenseIsNotLongerIsRejected) {
    std::vector<double> w(16, 0.0);
    for (size_t i = 0; i < 10; i++) w[i] = 1.0 + i;  // 10 of 16: 128 bytes either way
    const auto buf = encode(LinearModel::from_json(hashed_model_json(R"({"model":"linear_regression","hash_bits":4})", w)));
    const SectionAt sec = sections_of(buf)[3];
    ASSERT_EQ(u32_at(buf, sec.header + 4), 0u);
    const auto p = sparse_payload(read_arrays(buf, sec, 1));
    ASSERT_EQ(p.size(), 128u);
    std::string msg = expect_error(ErrorKind::InvalidBinary, [&] { decode(with_section(buf, sec, 1, p)); });
    EXPECT_NE(msg.find("is sparse, but its dense form is not longer"), std::string::npos) << msg;
}

// The largest hash_bits: positions up to 2^24 - 1 are stored and read back.
TEST(Sparse, LastPositionOfTheLargestModel) {
    const LinearModel m = model_of(R"({"model":"linear_regression","hash_bits":24})");
    const auto buf = encode(m);
    const SectionAt sec = sections_of(buf)[3];
    const size_t last = (size_t(1) << 24) - 1;
    Arrays a(1, std::vector<double>(last + 1, 0.0));
    a[0][5] = 2.0;
    a[0][last] = -3.0;
    const auto f = with_section(buf, sec, 1, sparse_payload(a));
    const LinearModel d = decode(f);
    EXPECT_EQ(d.weights()[5], 2.0);
    EXPECT_EQ(d.weights()[last], -3.0);
    EXPECT_EQ(encode(d), f);
    EXPECT_LT(f.size(), 1024u);
    std::string msg = expect_error(ErrorKind::InvalidBinary,
                                   [&] { decode(with_section(buf, sec, 1, sparse_payload(a, {5, last + 1}, false))); });
    EXPECT_NE(msg.find("position 16777216 is out of range"), std::string::npos) << msg;
}

}  // namespace
}  // namespace pg_learn::test
