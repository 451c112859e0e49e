// Helpers of the tests that read test/reference/drift_report_ref.py's file (drift reports and
// anomalies): the file, and a profile of its rows.
#pragma once

#include "test_util.hpp"

#include "core/stats/profile.hpp"

#include <limits>
#include <string>

namespace pg_learn::test {

inline const nlohmann::json& drift_report_reference() {
    static const nlohmann::json j = read_reference("expected_drift_report.json", "test/reference/drift_report_ref.py");
    return j;
}

// Rows of the reference: JSON objects, NaN and infinities written {"float": "nan" | "inf" | "-inf"}.
inline core::Profile drift_report_profile_of(const nlohmann::json& rows) {
    const double inf = std::numeric_limits<double>::infinity();
    core::Profile p;
    for (const nlohmann::json& row : rows) {
        p.start_row();
        for (auto it = row.begin(); it != row.end(); ++it) {
            const nlohmann::json& v = *it;
            if (v.is_null()) p.add_null(it.key());
            else if (v.is_boolean()) p.add_boolean(it.key(), v.get<bool>());
            else if (v.is_number()) p.add_number(it.key(), v.get<double>());
            else if (v.is_string()) p.add_string(it.key(), v.get_ref<const std::string&>());
            else if (v.is_object() && v.contains("float")) {
                const std::string f = v["float"];
                p.add_number(it.key(), f == "nan" ? std::numeric_limits<double>::quiet_NaN() : f == "inf" ? inf : -inf);
            } else p.add_nested(it.key());
        }
    }
    return p;
}

}  // namespace pg_learn::test
