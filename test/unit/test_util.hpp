// Helpers shared by the core's unit tests: error-kind assertions and small model builders.
#pragma once

#include "core/common/error.hpp"
#include "core/models/linear/linear_model.hpp"
#include "core/features/observation.hpp"
#include "core/models/linear/spec.hpp"

#include <gtest/gtest.h>

#include <cstring>
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

}  // namespace pg_learn::test
