// Feature pipelines as one model value (docs/pipelines.md): steps that derive features from a row
// (target aggregates, a scaler, date parts, log, clip, interactions, binning), then any model.
// The steps' state lives in the model, so scoring sees the features training saw.
#pragma once

#include "core/common/cpp_only.hpp"
#include "core/models/model.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pg_learn::core {

// pipeline (code 70). Its task is its final model's.
const std::vector<const ModelFamily*>& pipeline_families();

namespace pipeline {

// The features the pipeline's final model would be given for x now (name, value), in order; a
// categorical feature as "key=value" with 1. For the unit tests and docs examples.
std::vector<std::pair<std::string, double>> transformed(const Model& m, const Observation& x);

// Calendar parts of a number of seconds since 1970-01-01 00:00:00 (proleptic Gregorian): hour
// 0-23, weekday 0 (Monday) to 6 (Sunday), month 1-12, day of the year 1-366.
struct DateParts {
    int hour, weekday, month, yearday;
};
DateParts date_parts(double seconds);
// An ISO-8601 timestamp ("2024-03-01", "2024-03-01T08:30", "2024-03-01 08:30:15.5+02:00",
// "...Z") as seconds since 1970-01-01 00:00:00: with an offset, of UTC; without, of the wall
// clock written. False when the text is not one.
bool parse_iso8601(std::string_view text, double& seconds);

}  // namespace pipeline

}  // namespace pg_learn::core
