// Helpers of the unsupervised families' tests (k-means, Half-Space Trees): the reference file of
// test/reference/unsupervised_ref.py, models from specs, and codec round trips.
#pragma once

#include "test_util.hpp"

#include "core/models/model.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace pg_learn::test {

inline const nlohmann::json& unsupervised_reference() {
    static nlohmann::json d = read_reference("expected_unsupervised.json");
    return d;
}

inline std::unique_ptr<core::Model> model_from(const std::string& spec) {
    return core::model_from_text(spec.data(), spec.size());
}

// The model read back from its binary form and from its JSON text must be the same model: the
// same bytes again.
inline void expect_round_trips(const core::Model& m) {
    const std::vector<uint8_t> b = bytes_of(m);
    std::unique_ptr<core::Model> from_binary = core::decode_model(b.data(), b.size());
    EXPECT_EQ(bytes_of(*from_binary), b);
    const std::string text = m.to_text();
    std::unique_ptr<core::Model> from_text = core::model_from_text(text.data(), text.size());
    EXPECT_EQ(bytes_of(*from_text), b);
    EXPECT_EQ(from_text->to_text(), text);
}

inline ::testing::AssertionResult near_rel(double got, double want, double tol, const std::string& what) {
    if (std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << what << ": got " << std::setprecision(17) << got << ", reference " << want;
}

}  // namespace pg_learn::test
