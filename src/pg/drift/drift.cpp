// Drift between a baseline and a current window: ml_drift, ml_drift_pvalue and ml_drift_detail
// over two ml_stats values; ml_drift_report and ml_anomalies over two ml_profile values.
#include "pg/common/args.hpp"
#include "pg/common/expanded_value.hpp"

extern "C" {
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
}

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "core/drift/anomalies.hpp"
#include "core/drift/drift_report.hpp"

using pg_learn::core::DriftMethod;
using pg_learn::core::DriftOptions;
using pg_learn::core::DriftResult;
using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::FeatureStats;
using pg_learn::core::Profile;
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

DriftMethod method_arg(FunctionCallInfo fcinfo, int argno) {
    return pg_learn::core::parse_drift_method(text_arg_string(fcinfo, argno));
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

// ---- reports over two profiles ------------------------------------------------------------------

namespace {

// The decoded baseline of the last call, kept in fn_extra: a view or a lateral join compares many
// windows with one stored baseline, and decoding (validating every sketch) costs far more than
// comparing the bytes. Plain data in fn_mcxt; the Profile is owned by an expanded object there.
struct BaselineCache {
    struct varlena* bytes;             // the flat baseline, detoasted
    ExpandedValue<Profile>* decoded;   // its decode
};

const Profile& baseline_arg(FunctionCallInfo fcinfo, int argno) {
    const Datum d = PG_GETARG_DATUM(argno);
    if (ExpandedValue<Profile>* ev = ExpandedValue<Profile>::of(d)) return *ev->value;
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    auto* cache = static_cast<BaselineCache*>(fcinfo->flinfo->fn_extra);
    if (cache && cache->bytes && VARSIZE_ANY(cache->bytes) == VARSIZE_ANY(flat) &&
        std::memcmp(VARDATA_ANY(cache->bytes), VARDATA_ANY(flat), VARSIZE_ANY_EXHDR(flat)) == 0)
        return *cache->decoded->value;
    Profile p = Profile::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(flat)), VARSIZE_ANY_EXHDR(flat));
    MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
    pg_guard([&]() {
        if (!cache) {
            cache = static_cast<BaselineCache*>(MemoryContextAllocZero(cxt, sizeof(BaselineCache)));
            fcinfo->flinfo->fn_extra = cache;
        }
        if (cache->decoded) MemoryContextDelete(cache->decoded->hdr.eoh_context);
        if (cache->bytes) pfree(cache->bytes);
        cache->decoded = nullptr;
        cache->bytes = nullptr;
    });
    ExpandedValue<Profile>* ev = ExpandedValue<Profile>::make(std::move(p), cxt, "ml_profile baseline");
    pg_guard([&]() {
        const Size size = VARSIZE_ANY(flat);
        cache->bytes = static_cast<struct varlena*>(MemoryContextAlloc(cxt, size));
        std::memcpy(cache->bytes, flat, size);
        cache->decoded = ev;
    });
    return *ev->value;
}

struct ProfileArg {
    std::optional<Profile> holder;
    const Profile& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<Profile>(PG_GETARG_DATUM(argno), holder);
    }
};

// Values of one output row; text and jsonb columns are built under pg_guard by the caller.
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

Datum text_datum(const std::string& s) {
    return PointerGetDatum(cstring_to_text_with_len(s.data(), int(s.size())));
}

}  // namespace

// ml_drift_report(baseline ml_profile, current ml_profile, options jsonb DEFAULT '{}')
//   RETURNS TABLE (feature, kind, method, value, lower, upper, pvalue, warn_threshold,
//                  alert_threshold, status, drifted, baseline_count, current_count)
PGL_FUNCTION(ml_drift_report) {
    using pg_learn::core::DriftReportRow;
    using pg_learn::core::DriftStatus;
    const pg_learn::core::DriftReportConfig config =
        pg_learn::core::parse_drift_report_config(jsonb_arg_text(fcinfo, 2));
    const Profile& baseline = baseline_arg(fcinfo, 0);
    ProfileArg c;
    const std::vector<DriftReportRow> rows = pg_learn::core::drift_report(baseline, c.get(fcinfo, 1), config);
    const Materialized m = materialize(fcinfo);
    for (const DriftReportRow& r : rows) {
        pg_guard([&]() {
            CHECK_FOR_INTERRUPTS();
            RowValues<13> row;
            row.set(0, text_datum(r.feature));
            if (r.kind) row.set(1, CStringGetTextDatum(pg_learn::core::stats_kind_name(*r.kind)));
            if (r.method) row.set(2, CStringGetTextDatum(pg_learn::core::drift_method_name(*r.method)));
            if (r.result) {
                row.set(3, Float8GetDatum(r.result->value));
                row.set(4, Float8GetDatum(r.result->lower));
                row.set(5, Float8GetDatum(r.result->upper));
            }
            if (r.pvalue) row.set(6, Float8GetDatum(*r.pvalue));
            if (r.thresholds) {
                row.set(7, Float8GetDatum(r.thresholds->warn));
                row.set(8, Float8GetDatum(r.thresholds->alert));
            }
            row.set(9, CStringGetTextDatum(pg_learn::core::drift_status_name(r.status)));
            if (r.status != DriftStatus::NoData)
                row.set(10, BoolGetDatum(r.status == DriftStatus::Warn || r.status == DriftStatus::Alert));
            row.set(11, Int64GetDatum(int64(r.baseline_count)));
            row.set(12, Int64GetDatum(int64(r.current_count)));
            tuplestore_putvalues(m.store, m.desc, row.v, row.n);
        });
    }
    return Datum(0);
}

// ml_anomalies(baseline ml_profile, current ml_profile, options jsonb DEFAULT '{}')
//   RETURNS TABLE (feature, anomaly, severity, description, count, detail)
PGL_FUNCTION(ml_anomalies) {
    using pg_learn::core::Anomaly;
    const pg_learn::core::AnomalyOptions options = pg_learn::core::parse_anomaly_options(jsonb_arg_text(fcinfo, 2));
    const Profile& baseline = baseline_arg(fcinfo, 0);
    ProfileArg c;
    const std::vector<Anomaly> found = pg_learn::core::find_anomalies(baseline, c.get(fcinfo, 1), options);
    const Materialized m = materialize(fcinfo);
    for (const Anomaly& a : found) {
        // Feature names and values are the database's bytes: invalid UTF-8 (possible only in a
        // database of another encoding) is replaced in the jsonb rather than refused.
        const std::string detail = a.detail.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        pg_guard([&]() {
            CHECK_FOR_INTERRUPTS();
            RowValues<6> row;
            if (a.feature) row.set(0, text_datum(*a.feature));
            row.set(1, CStringGetTextDatum(pg_learn::core::anomaly_type_name(a.type)));
            row.set(2, CStringGetTextDatum(pg_learn::core::anomaly_severity_name(a.severity)));
            row.set(3, text_datum(a.description));
            row.set(4, Int64GetDatum(int64(a.count)));
            row.set(5, DirectFunctionCall1(jsonb_in, CStringGetDatum(detail.c_str())));
            tuplestore_putvalues(m.store, m.desc, row.v, row.n);
        });
    }
    return Datum(0);
}
