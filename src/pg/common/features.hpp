// Turning a SQL value (jsonb object, float8[] or row) into the core's feature input.
#pragma once

#include "pg/common/glue.hpp"

extern "C" {
#include "utils/numeric.h"
}

#include "core/features/leak_check.hpp"
#include "core/features/observation.hpp"
#include "core/models/model.hpp"

#include <optional>
#include <string_view>
#include <vector>

namespace pg_learn::pg {

// Fills obs from a jsonb object; nested values and non-objects are errors. With borrow_names,
// the names of numeric features point into the jsonb value instead of being copied: only for
// an observation used (and cleared or refilled) before the argument goes away, as in one call.
// The strings "NaN", "Infinity" and "-Infinity" (a float8 written by to_jsonb) are refused as
// NaN or infinite numbers (22003); with specials_are_numbers false (the prediction log, whose
// strings are text columns), they are categories as any string.
void jsonb_features(Datum jsonb, core::Observation& obs, bool borrow_names = false, bool specials_are_numbers = true);
// Fills obs from a composite value; the column plan is cached in fn_extra-owned memory. A column
// of a type that cannot be a feature is an error unless the model ignores it.
void row_features(FunctionCallInfo fcinfo, Datum row, const core::Model& model, core::Observation& obs);
// The same for a row that holds its label: the column named label_column is the label, never a
// feature (BigQuery ML's input_label_cols). Returns the label, or nullopt when it is NULL (obs is
// then left empty). No such column is an error (42703), as is one of a type no label has (42804).
// An anonymous record (ROW(...), row_columns.hpp) is refused by both readers (42804) unless the
// model knows its names; names_given: the row's names are a query's own column names (ml_train's
// rows), never anonymous whatever they are.
std::optional<core::Label> row_features_and_label(FunctionCallInfo fcinfo, Datum row, std::string_view label_column,
                                                  const core::Model& model, core::Observation& obs,
                                                  bool names_given = false);

// Label leakage: a WARNING for each feature the check found equal to the label on every training
// row (unless the model ignores it), with a hint for the function that trained: "ml_fit",
// "ml_train" or "ml_learn_pending".
void warn_label_leaks(const core::LeakCheck& check, const core::Model& model, std::string_view trainer);

// A float8[] as contiguous doubles: one dimension, no NULLs. The pointer is valid while the
// detoasted array lives (in the current memory context).
struct DenseArray {
    const double* data;
    size_t n;
};
DenseArray dense_features(Datum array);

// A jsonb numeric as a double, without going through text when it can be done exactly.
double numeric_to_double(Numeric num);

// Labels: the one rule for which SQL types can be labels (numbers, boolean, text types) and
// what each becomes. A text label borrows the bytes of the (detoasted) value, which live in
// the current memory context.
bool is_label_type(Oid type);
core::Label label_of(Datum d, Oid type);
// The label in argument argno of the call, by its declared type (looked up once per call site
// and kept in type, which starts as InvalidOid).
core::Label label_arg(FunctionCallInfo fcinfo, int argno, Oid& type);

// The three forms features come in, and predictions from a value of one of them (row_fcinfo:
// the call whose fn_extra keeps the row reader's column plan).
enum class Form { Jsonb, Array, Row };
double predict_number(const core::Model& model, Form form, Datum x, FunctionCallInfo row_fcinfo,
                      core::Observation& obs);
void predict_probabilities(const core::Model& model, Form form, Datum x, FunctionCallInfo row_fcinfo,
                           core::Observation& obs, std::vector<double>& p);
// The most probable class as text (the first of equal ones), or NULL before any class is known.
Datum most_probable_class(const core::Model& model, const std::vector<double>& p, bool* isnull);
// A jsonb object from each class to its probability.
Datum class_probabilities(const core::Model& model, const std::vector<double>& p);

}  // namespace pg_learn::pg
