// The evaluation glue's shared pieces (ml_cross_validate, ml_compare, ml_search): reading a
// query's rows (features, label[, key or time]) through SPI, and the arguments and result rows of
// the evaluation functions.
#pragma once

#include "pg/common/glue.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/evaluation/evaluation.hpp"

namespace pg_learn::pg::eval {

// What the optional third column of a query is: nothing, a key (hashed with the seed by its type's
// extended hash function), or the row's time.
enum class Third { None, Key, Time };

// What each row of the query gives: features (named or dense), the label, and the third column
// (a key's hash, or a time in microseconds since 2000-01-01), absent when NULL.
using RowFn = std::function<void(const core::Observation* x, const double* dense, size_t n, const core::Label& y,
                                 std::optional<int64_t> third, uint64_t ordinal)>;

// Runs the read-only query `query` (columns: features, label[, third]) and calls on_row for each
// row with features and label (rows with a NULL feature or label are skipped, as ml_train skips
// them). third: what the optional third column is (its type checked).
void read_rows(FunctionCallInfo fcinfo, const char* fn, const std::string& query, const core::Model& model, Third third,
               int64_t seed, bool& has_third, const RowFn& on_row);

// The query's rows held in memory (all dense or all named: arrays of one length), with their
// labels; third Key: each row's fold is fold_of(its key's hash), else 0.
void read_eval_rows(FunctionCallInfo fcinfo, const char* fn, const std::string& query, const core::Model& model,
                    Third third, int64_t seed, core::EvalRows& rows,
                    const std::function<uint32_t(uint64_t)>& fold_of = nullptr);

// The metric names of a text[] argument (NULL: none, the task's defaults).
std::vector<std::string> metric_names(FunctionCallInfo fcinfo, int argno);
std::string query_arg(FunctionCallInfo fcinfo, int argno);
Datum text_datum(const std::string& s);
void check_not_null(FunctionCallInfo fcinfo, int argno, const char* name);

// The columns of one result row, NULL until set.
template <int N>
struct RowValues {
    Datum v[N];
    bool n[N];
    RowValues() {
        for (int i = 0; i < N; i++) {
            v[i] = 0;
            n[i] = true;
        }
    }
    void set(int i, Datum d) {
        v[i] = d;
        n[i] = false;
    }
};

}  // namespace pg_learn::pg::eval
