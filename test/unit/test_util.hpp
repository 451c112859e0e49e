// Helpers shared by the core's unit tests: error-kind assertions, small model builders, a model's
// bytes, the reference files of test/reference and the tests' own random generator.
#pragma once

#include "core/common/error.hpp"
#include "core/models/linear/linear_model.hpp"
#include "core/features/observation.hpp"
#include "core/models/linear/spec.hpp"
#include "core/models/training.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pg_learn::test {

using core::Error;
using core::ErrorKind;

// Runs f, expecting core::Error of the given kind; returns its message ("" if none was thrown).
template <typename F>
std::string expect_error(ErrorKind kind, F&& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << "message: " << e.what();
        return e.what();
    } catch (const std::exception& e) {
        ADD_FAILURE() << "expected core::Error, got std::exception: " << e.what();
        return {};
    } catch (...) {
        ADD_FAILURE() << "expected core::Error, got an unknown exception";
        return {};
    }
    ADD_FAILURE() << "expected core::Error, nothing was thrown";
    return {};
}

// A spec with the stored defaults (release 0.1.0's: plain SGD, nothing scaled, no training
// state): the hand-computed rules these tests check were written for them, and each test
// names the options it exercises. current_spec_of gives this release's defaults.
inline core::ModelSpec spec_of(const std::string& text) {
    return core::ModelSpec::from_json(nlohmann::json::parse(text), core::SpecDefaults::Stored);
}

inline core::ModelSpec current_spec_of(const std::string& text) {
    return core::ModelSpec::from_json(nlohmann::json::parse(text), core::SpecDefaults::Current);
}

inline core::LinearModel model_of(const std::string& text) { return core::LinearModel(spec_of(text)); }

// An observation of numeric features only, in the given order.
inline core::Observation num(std::initializer_list<std::pair<const char*, double>> kv) {
    core::Observation o;
    for (const auto& [k, v] : kv) o.add_numeric(k, v);
    return o;
}

// An example of the reference files ([[key, value], ...]) with jsonb's conventions: a number is
// numeric, a string s under key k the one-hot feature "k=s", true/false 1/0, null missing.
inline void to_observation(const nlohmann::json& x, core::Observation& obs) {
    obs.clear();
    for (const auto& kv : x) {
        const std::string key = kv[0].get<std::string>();
        const nlohmann::json& v = kv[1];
        if (v.is_null()) obs.add_missing(key);
        else if (v.is_string()) obs.add_category(key, v.get<std::string>());
        else if (v.is_boolean()) obs.add_numeric(key, v.get<bool>() ? 1.0 : 0.0);
        else obs.add_numeric(key, v.get<double>());
    }
}

inline uint64_t bits(double d) {
    uint64_t u;
    std::memcpy(&u, &d, 8);
    return u;
}

inline std::vector<uint8_t> encode(const core::LinearModel& m) {
    std::vector<uint8_t> buf(m.encoded_size());
    m.encode(buf.data(), buf.size());
    return buf;
}

// A model's binary form (Model::encode), as bytes.
inline std::vector<uint8_t> bytes_of(const core::Model& m) {
    std::vector<uint8_t> b(m.encoded_size());
    m.encode(b.data(), b.size());
    return b;
}

// A JSON file of test/reference (written by the scripts there); how_made, if given, names the
// script to run when the file is missing.
inline nlohmann::json read_reference(const std::string& file, const std::string& how_made = "") {
    std::ifstream in(std::string(PG_LEARN_TEST_DATA) + "/" + file);
    if (!in)
        throw std::runtime_error("cannot open " + std::string(PG_LEARN_TEST_DATA) + "/" + file +
                                 (how_made.empty() ? "" : " (run " + how_made + ")"));
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
}

// A generator whose output does not depend on the standard library's distributions: the core's
// SplitMix64, then only correctly rounded operations (uniform), so that the Python references
// (test/reference/drift_ref.py) produce the same doubles bit for bit.
struct SplitMix64Rng {
    core::SplitMix64 g;
    explicit SplitMix64Rng(uint64_t seed) : g(seed) {}
    uint64_t next() { return g.next(); }
    double uniform() { return double((next() >> 11) + 1) * 0x1.0p-53; }  // (0, 1]
    double normal() {                                                    // Box-Muller
        const double u = uniform(), v = uniform();
        return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * M_PI * v);
    }
    double lognormal(double sigma) { return std::exp(sigma * normal()); }
};

}  // namespace pg_learn::test
