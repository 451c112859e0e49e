// How each stored value of the core encodes, decodes, prints, parses and is used: the Codecs of
// state_harness.hpp, one per SQL type or sketch.
#pragma once

#include "state_harness.hpp"

#include "core/metrics/class_metrics.hpp"
#include "core/metrics/metrics.hpp"
#include "core/sketches/hll.hpp"
#include "core/sketches/kll.hpp"
#include "core/sketches/space_saving.hpp"
#include "core/stats/feature_stats.hpp"
#include "core/stats/profile.hpp"

#include <string>
#include <vector>

namespace pg_learn::fuzz {

// ml_stats
struct StatsCodec {
    using T = core::FeatureStats;
    static std::string encode(const T& v) { return v.encode(); }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = true;
    static std::string to_text(const T& v) { return v.to_text(); }
    static T from_text(const std::string& s) { return T::from_text(s); }
    static void use(const T& v) {
        must("a decoded ml_stats is summarised", [&] {
            (void)v.summary().dump();
            if (v.numeric()) {
                (void)v.quantiles({0.0, 0.25, 0.5, 1.0});
                (void)v.histogram(10);
                (void)v.histogram_equal_count(10);
                (void)v.rank_error_bound();
            } else {
                (void)v.top_k();
                (void)v.distinct();
            }
        });
        merge_with_itself<StatsCodec>(v);
    }
};

// ml_profile
struct ProfileCodec {
    using T = core::Profile;
    static std::string encode(const T& v) { return v.encode(); }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = true;
    static std::string to_text(const T& v) { return v.to_text(); }
    static T from_text(const std::string& s) { return T::from_text(s); }
    static void use(const T& v) {
        must("a decoded ml_profile is summarised", [&] {
            (void)v.summary().dump();
            for (const auto& [name, f] : v.features()) {
                (void)v.presence(f);
                (void)v.missing_count(f);
                (void)f.stats();
                (void)f.domain();
            }
        });
        merge_with_itself<ProfileCodec>(v);
    }
};

// ml_metric_state
struct MetricCodec {
    using T = core::MetricState;
    static std::string encode(const T& v) {
        std::string out(v.encoded_size(), '\0');
        v.encode(reinterpret_cast<uint8_t*>(out.data()), out.size());
        return out;
    }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = true;
    static std::string to_text(const T& v) { return v.to_text(); }
    static T from_text(const std::string& s) { return T::from_text(s.data(), s.size()); }
    static void use(const T& v) {
        // A metric the state's kind cannot give is InvalidParameter: a refusal, not a failure.
        (void)accepts([&] { (void)v.auc(); });
        (void)accepts([&] { (void)v.logloss(); });
        (void)accepts([&] { (void)v.accuracy(); });
        (void)accepts([&] { (void)v.f1(); });
        (void)accepts([&] { (void)v.confusion_matrix(); });
        (void)accepts([&] { (void)v.roc_curve(); });
        (void)accepts([&] { (void)v.pr_curve(); });
        (void)accepts([&] { (void)v.calibration(); });
        (void)accepts([&] { (void)v.mae(); });
        (void)accepts([&] { (void)v.rmse(); });
        (void)accepts([&] { (void)v.r2(); });
        (void)accepts([&] { (void)v.mape(); });
        (void)accepts([&] { (void)v.mean_error(); });
        merge_with_itself<MetricCodec>(v);
    }
};

// ml_class_metric_state
struct ClassMetricCodec {
    using T = core::ClassMetricState;
    static std::string encode(const T& v) {
        std::string out(v.encoded_size(), '\0');
        v.encode(reinterpret_cast<uint8_t*>(out.data()), out.size());
        return out;
    }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = true;
    static std::string to_text(const T& v) { return v.to_text(); }
    static T from_text(const std::string& s) { return T::from_text(s.data(), s.size()); }
    static void use(const T& v) {
        must("a decoded ml_class_metric_state gives its metrics", [&] {
            (void)v.accuracy();
            (void)v.logloss();
            for (core::Average a : {core::Average::Macro, core::Average::Micro, core::Average::Weighted}) {
                (void)v.precision(a);
                (void)v.recall(a);
                (void)v.f1(a);
            }
            (void)v.confusion_matrix();
            (void)v.report();
        });
        merge_with_itself<ClassMetricCodec>(v);
    }
};

// The sketches inside ml_stats (their binary forms are also the base64 in ml_stats' text).
struct KllCodec {
    using T = core::KllSketch;
    static std::string encode(const T& v) {
        std::string out;
        v.encode(out);
        return out;
    }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = false;
    static std::string to_text(const T&) { return {}; }
    static T from_text(const std::string&) { return T(); }
    static void use(const T& v) {
        must("a decoded KLL sketch answers", [&] {
            if (!v.empty()) {
                (void)v.quantiles({0.0, 0.5, 1.0});
                (void)v.rank(0.0);
                (void)v.cdf({-1.0, 0.0, 1.0});
            }
            (void)v.rank_error_bound();
            (void)v.weighted_items();
        });
        merge_with_itself<KllCodec>(v);
    }
};

struct HllCodec {
    using T = core::HyperLogLog;
    static std::string encode(const T& v) {
        std::string out;
        v.encode(out);
        return out;
    }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = false;
    static std::string to_text(const T&) { return {}; }
    static T from_text(const std::string&) { return T(); }
    static void use(const T& v) {
        must("a decoded HyperLogLog estimates", [&] { (void)v.estimate(); });
        merge_with_itself<HllCodec>(v);
    }
};

struct TopKCodec {
    using T = core::SpaceSaving;
    static std::string encode(const T& v) {
        std::string out;
        v.encode(out);
        return out;
    }
    static T decode(const uint8_t* p, size_t n) { return T::decode(p, n); }
    static constexpr bool has_text = false;
    static std::string to_text(const T&) { return {}; }
    static T from_text(const std::string&) { return T(); }
    static void use(const T& v) {
        must("a decoded Space-Saving summary lists", [&] {
            for (const auto& c : v.top()) {
                (void)v.upper_bound(c.item);
                (void)v.lower_bound(c.item);
            }
        });
        merge_with_itself<TopKCodec>(v);
    }
};

}  // namespace pg_learn::fuzz
