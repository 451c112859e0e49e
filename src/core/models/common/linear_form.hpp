// The linear form of a model's prediction (Model::linear_form, issue 14): what a linear or
// logistic regression reads to predict a row, laid out as doubles over a caller's feature columns,
// so that a model holding many such models (a partitioned model's partitions) keeps them in one
// block of memory and scores a row by reading one small row of it (docs/models.md, "Partitioned
// models", Speed).
//
// Layout: a header of kLinearFormHeader doubles, then kLinearFormColumn doubles per column:
//   header   [0] output: 0 the score, 1 sigmoid(score), 2 score * [2] + [3]; [1] the intercept
//   column   [0] 0: the model does not read the column, 1: value as is, 2: scaled as
//            (value - [2]) / [3] when [3] > 0, else 0; [1] the weight
// score_linear_form computes, in the model's own order of operations, what the model's predict
// computes for a row of those columns without missing values: the same number, bit for bit.
#pragma once

#include "core/common/cpp_only.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace pg_learn::core {

inline constexpr size_t kLinearFormHeader = 4;
inline constexpr size_t kLinearFormColumn = 4;
inline constexpr size_t linear_form_size(size_t columns) { return kLinearFormHeader + kLinearFormColumn * columns; }

// 1 / (1 + e^-z) for z >= 0, e^z / (1 + e^z) below (never overflows). One exp either way and
// no branch around it: the sign of a score is a coin flip a branch predictor cannot learn.
// (The logistic regression's link: the linear family predicts with this very function.)
inline double linear_sigmoid(double z) {
    const double e = std::exp(-std::fabs(z));
    const double num = z >= 0 ? 1.0 : e;
    return num / (1.0 + e);
}

// The prediction of the form for a row of n values, value i in column columns[i].
inline double score_linear_form(const double* form, const uint32_t* columns, const double* values, size_t n) {
    double z = form[1];
    for (size_t i = 0; i < n; i++) {
        const double* c = form + kLinearFormHeader + kLinearFormColumn * columns[i];
        if (c[0] == 0) continue;
        double v = values[i];
        if (c[0] == 2) v = c[3] > 0 ? (v - c[2]) / c[3] : 0.0;
        z += c[1] * v;
    }
    if (form[0] == 0) return z;
    if (form[0] == 1) return linear_sigmoid(z);
    return z * form[2] + form[3];
}

}  // namespace pg_learn::core
