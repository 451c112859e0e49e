// The shared binary envelope: every type writes the bytes it wrote before (golden digests) and
// refuses a format version newer than it reads with the same message as ml_model.
#include "test_util.hpp"

#include "core/common/envelope.hpp"
#include "core/common/xxhash.hpp"
#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/models/model.hpp"
#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <cmath>
#include <functional>
#include <string>
#include <vector>

namespace pg_learn::test {
namespace {

using core::ClassMetricState;
using core::FeatureStats;
using core::HyperLogLog;
using core::KllSketch;
using core::MetricState;
using core::Profile;
using core::SpaceSaving;
using core::StatsKind;

core::Observation num_obs(int i) {
    core::Observation o;
    o.add_numeric("a", std::sin(i * 1.3));
    o.add_numeric("b", i % 5 - 2.0);
    return o;
}

std::string as_string(const uint8_t* p, size_t n) { return std::string(reinterpret_cast<const char*>(p), n); }

template <typename T>
std::string state_bytes(const T& s) {
    std::string b(s.encoded_size(), '\0');
    s.encode(reinterpret_cast<uint8_t*>(&b[0]), b.size());
    return b;
}

// One value of every type, built deterministically; encoded with the current code.
struct Sample {
    const char* name;
    std::string bytes;
};

std::vector<Sample> samples() {
    std::vector<Sample> out;
    KllSketch k;
    for (int i = 0; i < 1000; i++) k.update(std::sin(i * 0.37) * 100);
    std::string kb;
    k.encode(kb);
    out.push_back({"kll", kb});
    HyperLogLog h;
    for (int i = 0; i < 50; i++) h.add("item" + std::to_string(i));
    std::string hb;
    h.encode(hb);
    out.push_back({"hll", hb});
    SpaceSaving ss(8);
    for (int i = 0; i < 200; i++) ss.update("v" + std::to_string(i * i % 13));
    std::string sb;
    ss.encode(sb);
    out.push_back({"space_saving", sb});

    FeatureStats num(StatsKind::Numeric);
    for (int i = 0; i < 500; i++) num.add(std::cos(i * 0.11) * 10 + i % 3);
    num.add_null();
    out.push_back({"ml_stats numeric", num.encode()});
    FeatureStats cat(StatsKind::Categorical);
    for (int i = 0; i < 300; i++) cat.add("c" + std::to_string(i % 17));
    out.push_back({"ml_stats categorical", cat.encode()});

    Profile p;
    for (int i = 0; i < 60; i++) {
        p.start_row();
        p.add_number("x", i * 0.5);
        p.add_boolean("flag", i % 2 == 0);
        p.add_string("color", i % 3 ? "red" : "blue");
        if (i % 5 == 0) p.add_null("y");
    }
    out.push_back({"ml_profile", p.encode()});

    MetricState rk = MetricState::make_ranking();
    MetricState cf = MetricState::make_confusion(0.5);
    MetricState ll = MetricState::make_logloss();
    MetricState cb = MetricState::make_calibration(4);
    MetricState rg = MetricState::make_regression();
    MetricState eq = MetricState::make_equality();
    for (int i = 0; i < 40; i++) {
        const double s = (i * 7 % 10) / 10.0 + 0.05;
        const bool y = i % 3 != 0;
        rk.as<core::RankingCounts>().add(s, y);
        cf.as<core::ConfusionCounts>().add(s, y);
        ll.as<core::LogLossSum>().add(s, y);
        cb.as<core::CalibrationBins>().add(s, y);
        rg.as<core::RegressionSums>().add(s * 3, i * 0.1);
        eq.as<core::EqualityCounts>().add(y);
    }
    for (const auto& [n, m] : {std::pair{"ml_metric_state ranking", &rk}, {"ml_metric_state confusion", &cf},
                               {"ml_metric_state logloss", &ll}, {"ml_metric_state calibration", &cb},
                               {"ml_metric_state regression", &rg}, {"ml_metric_state equality", &eq}})
        out.push_back({n, state_bytes(*m)});

    ClassMetricState cm(false, core::Average::Macro);
    for (int i = 0; i < 50; i++) cm.add(i % 3 ? "cat" : "dog", i % 4 ? "cat" : "eel");
    out.push_back({"ml_class_metric_state", state_bytes(cm)});

    core::LinearModel lm = model_of(R"({"model":"logistic_regression","optimizer":"adagrad","scale":true})");
    for (int i = 0; i < 30; i++) lm.learn(num_obs(i), double(i % 2));
    const std::vector<uint8_t> mb = encode(lm);
    out.push_back({"ml_model", as_string(mb.data(), mb.size())});
    return out;
}

// Decodes a sample by its name: the type's own decoder.
void decode_sample(const std::string& name, const std::string& b) {
    const auto* p = reinterpret_cast<const uint8_t*>(b.data());
    if (name == "kll") KllSketch::decode(p, b.size());
    else if (name == "hll") HyperLogLog::decode(p, b.size());
    else if (name == "space_saving") SpaceSaving::decode(p, b.size());
    else if (name.rfind("ml_stats", 0) == 0) FeatureStats::decode(p, b.size());
    else if (name == "ml_profile") Profile::decode(p, b.size());
    else if (name.rfind("ml_metric_state", 0) == 0) MetricState::decode(p, b.size());
    else if (name == "ml_class_metric_state") ClassMetricState::decode(p, b.size());
    else if (name == "ml_model") core::decode_model(p, b.size());
    else ADD_FAILURE() << "no decoder for " << name;
}

// The name a type's messages use.
std::string what_of(const std::string& name) {
    if (name == "kll") return "KLL sketch";
    if (name == "hll") return "HyperLogLog sketch";
    if (name == "space_saving") return "top-k summary";
    return name.substr(0, name.find(' '));
}

std::string with_version(std::string b, uint16_t v) {
    std::memcpy(&b[4], &v, 2);
    return b;
}

// The error a decoder throws (its kind checked to be InvalidBinary, 22P03).
Error decode_failure(const std::string& name, const std::string& b) {
    try {
        decode_sample(name, b);
    } catch (const Error& e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(ErrorKind::InvalidBinary)) << e.what();
        return e;
    }
    ADD_FAILURE() << name << ": nothing was thrown";
    return Error(ErrorKind::Internal, "");
}

}  // namespace

// The bytes every type wrote before the envelope was shared (the formats of release 0.1.0): a
// digest of each sample's encoding, taken before the consolidation, which must not change it.
TEST(Envelope, EveryTypeWritesTheSameBytes) {
    struct Golden {
        const char* name;
        size_t size;
        uint64_t digest;
    };
    const Golden golden[] = {
        {"kll", 6152, 0x2ec928d2eb7f4b54ull},
        {"hll", 262, 0xc3bc369e3d570e13ull},
        {"space_saving", 188, 0x1a099d24ef096f83ull},
        {"ml_stats numeric", 2272, 0x982d1abc5911e09full},
        {"ml_stats categorical", 558, 0xb987d2cde09ca51aull},
        {"ml_profile", 1716, 0x2810ad63a0feee50ull},
        {"ml_metric_state ranking", 288, 0x5890fcf126b78bb2ull},
        {"ml_metric_state confusion", 64, 0x4a35cd5be58392cbull},
        {"ml_metric_state logloss", 68, 0xa32a8bf715758577ull},
        {"ml_metric_state calibration", 208, 0xb3f9699f651e5ee4ull},
        {"ml_metric_state regression", 224, 0x0c614403a8988f64ull},
        {"ml_metric_state equality", 40, 0x0ea38b35f8b8cf17ull},
        {"ml_class_metric_state", 131, 0x55ddf29ebcd7af72ull},
        {"ml_model", 504, 0xd2fac966077745d5ull},
    };
    const std::vector<Sample> got = samples();
    ASSERT_EQ(got.size(), std::size(golden));
    for (size_t i = 0; i < got.size(); i++) {
        SCOPED_TRACE(got[i].name);
        EXPECT_STREQ(got[i].name, golden[i].name);
        EXPECT_EQ(got[i].bytes.size(), golden[i].size);
        EXPECT_EQ(core::xxh64(got[i].bytes.data(), got[i].bytes.size(), 0), golden[i].digest);
    }
}

// Every type reads back what it wrote, and refuses a format version newer than it reads with
// ml_model's message, detail and hint (22P03), before looking at anything else (the version
// field is under every checksum but the payload-only ones, and is checked first).
TEST(Envelope, EveryTypeRefusesANewerFormatVersion) {
    for (const Sample& s : samples()) {
        SCOPED_TRACE(s.name);
        decode_sample(s.name, s.bytes);
        for (uint16_t v : {uint16_t(2), uint16_t(9), uint16_t(65535)}) {
            const Error e = decode_failure(s.name, with_version(s.bytes, v));
            EXPECT_EQ(std::string(e.what()),
                      what_of(s.name) + " format version " + std::to_string(v) + " is newer than this pg_learn reads");
            EXPECT_EQ(e.detail(), "this build reads format versions up to 1");
            EXPECT_EQ(e.hint(), "The value was written by a newer pg_learn: upgrade the extension to read it.");
        }
    }
}

// Format version 0, which nothing wrote, keeps each type's 0.1.0 message.
TEST(Envelope, VersionZeroKeepsEachTypesMessage) {
    for (const Sample& s : samples()) {
        SCOPED_TRACE(s.name);
        const std::string what = what_of(s.name);
        const Error e = decode_failure(s.name, with_version(s.bytes, 0));
        std::string want = "invalid binary " + what + ": unsupported format version 0";
        if (what == "ml_model") want = "invalid binary ml_model: format version 0";
        if (what == "ml_stats" || what == "ml_profile") want = "unsupported " + what + " format version 0";
        EXPECT_EQ(std::string(e.what()), want);
    }
}

// A newer format inside a value keeps its detail and hint under the outer type's prefix.
TEST(Envelope, NestedNewerVersionKeepsDetailAndHint) {
    FeatureStats st(StatsKind::Numeric);
    for (int i = 0; i < 10; i++) st.add(i);
    std::string b = st.encode();
    const size_t kll_at = 24 + 88 + 8;  // header, counts and moments, sketch lengths
    ASSERT_EQ(b.compare(kll_at, 4, "PLKQ"), 0);
    const uint16_t v = 3;
    std::memcpy(&b[kll_at + 4], &v, 2);
    // ml_stats's layout (docs/format.md), to reseal the value around the changed sketch.
    const core::HeaderSpec stats{"ml_stats", {'P', 'L', 'F', 'S'}, 1, 24, core::LengthField::Total32, 8,
                                 core::ChecksumKind::AllButField, 16, 0x706C2D7374617473ull,
                                 core::HeaderWording::Stats};
    core::seal_header(stats, reinterpret_cast<uint8_t*>(&b[0]), b.size());
    const Error e = decode_failure("ml_stats", b);
    EXPECT_EQ(std::string(e.what()),
              "invalid binary ml_stats: quantile sketch: KLL sketch format version 3 is newer than this pg_learn reads");
    EXPECT_EQ(e.detail(), "this build reads format versions up to 1");
    EXPECT_EQ(e.hint(), "The value was written by a newer pg_learn: upgrade the extension to read it.");
}

// The shared checks, on a layout of their own: length, checksum, and seal_header writing both.
TEST(Envelope, HeaderSpecSealsAndVerifies) {
    using namespace core;
    const HeaderSpec spec{"test value", {'T', 'E', 'S', 'T'}, 1, 24, LengthField::Total32, 8,
                          ChecksumKind::AllButField, 16, 42, HeaderWording::Stats};
    std::string b;
    detail::ByteWriter w(b);
    begin_header(spec, w);
    w.put<uint16_t>(7);
    w.put<uint32_t>(0);
    w.put<uint32_t>(5);
    w.put<uint64_t>(0);
    w.put<uint64_t>(123456789);
    auto* d = reinterpret_cast<uint8_t*>(&b[0]);
    seal_header(spec, d, b.size());
    uint32_t total;
    std::memcpy(&total, d + 8, 4);
    EXPECT_EQ(total, b.size());
    detail::ByteReader r(d, b.size(), spec.what);
    EXPECT_EQ(open_header(spec, r, b.size()), 1);
    verify_header(spec, d, b.size());
    for (size_t i = 0; i < b.size(); i++) {
        if (i >= 16 && i < 24) continue;  // the checksum's own bytes
        std::string c = b;
        c[i] ^= 1;
        auto* cd = reinterpret_cast<uint8_t*>(&c[0]);
        const std::string msg = expect_error(ErrorKind::InvalidBinary, [&] {
            detail::ByteReader cr(cd, c.size(), spec.what);
            open_header(spec, cr, c.size());
            verify_header(spec, cd, c.size());
        });
        EXPECT_NE(msg.find("test value"), std::string::npos) << i;
    }
    EXPECT_EQ(expect_error(ErrorKind::InvalidBinary, [&] {
                  detail::ByteReader cr(d, 10, spec.what);
                  open_header(spec, cr, 10);
              }),
              "invalid binary test value: too short (10 bytes)");
}

}  // namespace pg_learn::test
