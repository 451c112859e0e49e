// Drift between a baseline and a current window: ml_drift, ml_drift_pvalue and ml_drift_detail
// over two ml_stats values.
#include "expanded_value.hpp"

extern "C" {
#include "utils/builtins.h"
#include "utils/jsonb.h"
}

#include <optional>
#include <string>

#include "drift_report.hpp"

using pg_learn::core::DriftMethod;
using pg_learn::core::DriftOptions;
using pg_learn::core::DriftResult;
using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::FeatureStats;
using namespace pg_learn::pg;

namespace {

// The ml_stats in argument argno, read in place when it is an expanded value.
struct StatsArg {
    std::optional<FeatureStats> holder;
    const FeatureStats& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<FeatureStats>(PG_GETARG_DATUM(argno), holder);
    }
};

Datum null_result(FunctionCallInfo fcinfo) {
    fcinfo->isnull = true;
    return Datum(0);
}

std::string text_arg(FunctionCallInfo fcinfo, int argno) {
    std::string out;
    pg_guard([&]() {
        text* t = PG_GETARG_TEXT_PP(argno);
        out.assign(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
    });
    return out;
}

DriftMethod method_arg(FunctionCallInfo fcinfo, int argno) {
    return pg_learn::core::parse_drift_method(text_arg(fcinfo, argno));
}

// A bins argument in the range DriftOptions accepts (checked here so a negative int32 is not
// wrapped into a large unsigned count).
uint32_t bins_arg(FunctionCallInfo fcinfo, int argno) {
    const int32 bins = PG_GETARG_INT32(argno);
    if (bins < 1 || uint32_t(bins) > pg_learn::core::kDriftMaxBins)
        fail(ErrorKind::InvalidParameter,
             "the number of drift bins must be between 1 and " + std::to_string(pg_learn::core::kDriftMaxBins),
             "bins = " + std::to_string(bins));
    return uint32_t(bins);
}

Datum jsonb_of(const nlohmann::ordered_json& j) {
    // Categorical values are the database's bytes: invalid UTF-8 (possible only in a database of
    // another encoding) is replaced rather than refused, as ml_stats::jsonb does.
    const std::string s = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

}  // namespace

// ml_drift(baseline ml_stats, current ml_stats, method text DEFAULT 'auto') RETURNS float8
PGL_FUNCTION(ml_drift) {
    StatsArg b, c;
    const DriftMethod method = method_arg(fcinfo, 2);
    const std::optional<DriftResult> r = pg_learn::core::stats_drift(b.get(fcinfo, 0), c.get(fcinfo, 1), method);
    if (!r) return null_result(fcinfo);
    return Float8GetDatum(r->value);
}

// ml_drift_pvalue(baseline ml_stats, current ml_stats) RETURNS float8
PGL_FUNCTION(ml_drift_pvalue) {
    StatsArg b, c;
    const std::optional<double> p = pg_learn::core::stats_ks_pvalue(b.get(fcinfo, 0), c.get(fcinfo, 1));
    if (!p) return null_result(fcinfo);
    return Float8GetDatum(*p);
}

// ml_drift_detail(baseline ml_stats, current ml_stats, method text DEFAULT 'auto',
//                 bins int DEFAULT 10) RETURNS jsonb
PGL_FUNCTION(ml_drift_detail) {
    StatsArg b, c;
    const DriftMethod method = method_arg(fcinfo, 2);
    DriftOptions options;
    options.bins = bins_arg(fcinfo, 3);
    const auto j = pg_learn::core::stats_drift_detail(b.get(fcinfo, 0), c.get(fcinfo, 1), method, options);
    if (!j) return null_result(fcinfo);
    return jsonb_of(*j);
}
