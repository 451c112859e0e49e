// The ml_metric_state type and the evaluation-metric aggregates: transitions, inverse transitions
// for moving windows, combine, and the accessors that are also the aggregates' final functions.
#include "pg/common/expanded_value.hpp"

extern "C" {
#include "catalog/pg_type.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
}

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/metrics/metrics.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;
using pg_learn::core::MetricKind;
using pg_learn::core::MetricState;
using pg_learn::core::RankingWindow;
using namespace pg_learn::pg;

namespace {

using Expanded = ExpandedValue<MetricState>;
constexpr const char* kContextName = "ml_metric_state";

std::string number(double v) {
    // The shortest of 15 or 17 significant digits that reads back as v.
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

Datum null_result(FunctionCallInfo fcinfo) {
    fcinfo->isnull = true;
    return Datum(0);
}

Datum flat_datum(const MetricState& s) { return PointerGetDatum(flatten_value(s, CurrentMemoryContext)); }

Datum optional_float8(FunctionCallInfo fcinfo, std::optional<double> v) {
    if (!v) return null_result(fcinfo);
    return Float8GetDatum(*v);
}

Datum optional_jsonb(FunctionCallInfo fcinfo, const std::optional<nlohmann::json>& j) {
    if (!j) return null_result(fcinfo);
    const std::string s = j->dump();
    Datum result = 0;
    pg_guard([&]() { result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.c_str())); });
    return result;
}

// The ml_metric_state in argument argno, read in place when it is an expanded value.
struct StateArg {
    std::optional<MetricState> holder;
    const MetricState& get(FunctionCallInfo fcinfo, int argno) {
        return read_value<MetricState>(PG_GETARG_DATUM(argno), holder);
    }
};

// A label: boolean, or an integer that must be 0 or 1.
enum class Label { Bool, Int };

template <Label L>
bool label_arg(FunctionCallInfo fcinfo, int argno) {
    if constexpr (L == Label::Bool) {
        return PG_GETARG_BOOL(argno);
    } else {
        const int32 v = PG_GETARG_INT32(argno);
        if (v != 0 && v != 1)
            fail(ErrorKind::InvalidParameter, "a class label must be 0 or 1 (or a boolean)", "got " + std::to_string(v));
        return v == 1;
    }
}

// A parameter that must be given on every row (threshold, bins).
void require_param(FunctionCallInfo fcinfo, int argno, const char* what) {
    if (PG_ARGISNULL(argno)) fail(ErrorKind::NullValue, std::string(what) + " must not be NULL");
}

// The state of a transition or inverse function: the expanded state, or a new one made by make()
// when it is NULL. In moving-window mode the state must never be NULL, so a state is made even
// for a row that is skipped.
template <typename Make>
Expanded* state_of(FunctionCallInfo fcinfo, const char* fn, const char* aggregate, Make&& make) {
    MemoryContext aggcxt = aggregate_context(fcinfo, fn, aggregate);
    if (PG_ARGISNULL(0)) return Expanded::make(make(), aggcxt, kContextName);
    return aggregate_state<MetricState>(fcinfo, 0, aggcxt, kContextName);
}

void check_kind(const MetricState& s, MetricKind k) {
    if (s.kind() != k)
        fail(ErrorKind::InvalidParameter, std::string("a ") + metric_kind_name(s.kind()) +
                                              " metric state was given to an aggregate that keeps a " +
                                              metric_kind_name(k) + " state");
}

// ---- binary classification transitions ----------------------------------------------------------

template <Label L>
Datum ranking_transition(FunctionCallInfo fcinfo) {
    Expanded* ev = state_of(fcinfo, "ml_metric_ranking_transition", "ml_auc", [] { return MetricState::make_ranking(); });
    check_kind(*ev->value, MetricKind::Ranking);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2))
        ev->value->as<pg_learn::core::RankingCounts>().add(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
    return ev->rw_datum();
}

double threshold_arg(FunctionCallInfo fcinfo) {
    if (PG_NARGS() < 4) return pg_learn::core::kDefaultThreshold;
    require_param(fcinfo, 3, "threshold");
    return pg_learn::core::check_threshold(PG_GETARG_FLOAT8(3));
}

template <Label L>
Datum confusion_step(FunctionCallInfo fcinfo, bool inverse) {
    const double t = threshold_arg(fcinfo);
    Expanded* ev = state_of(fcinfo, "ml_metric_confusion_transition", "ml_precision",
                            [t] { return MetricState::make_confusion(t); });
    check_kind(*ev->value, MetricKind::Confusion);
    auto& c = ev->value->as<pg_learn::core::ConfusionCounts>();
    if (c.threshold != t)
        fail(ErrorKind::InvalidParameter, "the threshold must be the same for every row",
             "got " + number(t) + " after " + number(c.threshold));
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        if (inverse) c.remove(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
        else c.add(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
    }
    return ev->rw_datum();
}

template <Label L>
Datum logloss_step(FunctionCallInfo fcinfo, bool inverse) {
    Expanded* ev = state_of(fcinfo, "ml_metric_logloss_transition", "ml_logloss", [] { return MetricState::make_logloss(); });
    check_kind(*ev->value, MetricKind::LogLoss);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        auto& l = ev->value->as<pg_learn::core::LogLossSum>();
        if (inverse) l.remove(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
        else l.add(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
    }
    return ev->rw_datum();
}

template <Label L>
Datum calibration_step(FunctionCallInfo fcinfo, bool inverse) {
    int64_t bins = pg_learn::core::kDefaultCalibrationBins;
    if (PG_NARGS() >= 4) {
        require_param(fcinfo, 3, "the number of bins");
        bins = PG_GETARG_INT32(3);
    }
    const uint32_t nb = pg_learn::core::check_bins(bins);
    Expanded* ev = state_of(fcinfo, "ml_metric_calibration_transition", "ml_calibration",
                            [nb] { return MetricState::make_calibration(nb); });
    check_kind(*ev->value, MetricKind::Calibration);
    auto& c = ev->value->as<pg_learn::core::CalibrationBins>();
    if (c.n_bins != nb)
        fail(ErrorKind::InvalidParameter, "the number of bins must be the same for every row",
             "got " + std::to_string(nb) + " after " + std::to_string(c.n_bins));
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        if (inverse) c.remove(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
        else c.add(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
    }
    return ev->rw_datum();
}

Datum regression_step(FunctionCallInfo fcinfo, bool inverse) {
    Expanded* ev = state_of(fcinfo, "ml_metric_regression_transition", "ml_mae", [] { return MetricState::make_regression(); });
    check_kind(*ev->value, MetricKind::Regression);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        auto& r = ev->value->as<pg_learn::core::RegressionSums>();
        if (inverse) r.remove(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
        else r.add(PG_GETARG_FLOAT8(1), PG_GETARG_FLOAT8(2));
    }
    return ev->rw_datum();
}

// ---- ml_accuracy over any type with an equality operator -----------------------------------------

struct EqualityCache {
    Oid type = InvalidOid;
    FmgrInfo eq;
};

bool values_equal(FunctionCallInfo fcinfo) {
    bool result = false;
    pg_guard([&]() {
        FmgrInfo* flinfo = fcinfo->flinfo;
        auto* cache = static_cast<EqualityCache*>(flinfo->fn_extra);
        const Oid type = get_fn_expr_argtype(flinfo, 1);
        if (!OidIsValid(type)) elog(ERROR, "could not determine the argument type of ml_accuracy");
        if (cache == nullptr || cache->type != type) {
            TypeCacheEntry* te = lookup_type_cache(type, TYPECACHE_EQ_OPR_FINFO);
            if (!OidIsValid(te->eq_opr_finfo.fn_oid))
                ereport(ERROR, (errcode(ERRCODE_UNDEFINED_FUNCTION),
                                errmsg("could not identify an equality operator for type %s", format_type_be(type)),
                                errhint("ml_accuracy compares predictions and labels with the type's default "
                                        "equality operator.")));
            if (cache == nullptr) {
                cache = static_cast<EqualityCache*>(MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(EqualityCache)));
                flinfo->fn_extra = cache;
            }
            fmgr_info_cxt(te->eq_opr_finfo.fn_oid, &cache->eq, flinfo->fn_mcxt);
            cache->type = type;
        }
        result = DatumGetBool(FunctionCall2Coll(&cache->eq, PG_GET_COLLATION(), PG_GETARG_DATUM(1), PG_GETARG_DATUM(2)));
    });
    return result;
}

Datum equality_step(FunctionCallInfo fcinfo, bool inverse) {
    Expanded* ev = state_of(fcinfo, "ml_metric_equality_transition", "ml_accuracy", [] { return MetricState::make_equality(); });
    check_kind(*ev->value, MetricKind::Equality);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        const bool eq = values_equal(fcinfo);
        auto& e = ev->value->as<pg_learn::core::EqualityCounts>();
        if (inverse) e.remove(eq);
        else e.add(eq);
    }
    return ev->rw_datum();
}

// ---- the moving-window state of the ranking aggregates (internal, never serialized) ----------------

struct WindowHolder {
    RankingWindow* window;
    MemoryContextCallback destroy;
};

void destroy_window(void* arg) {
    auto* h = static_cast<WindowHolder*>(arg);
    delete h->window;
    h->window = nullptr;
}

WindowHolder* window_state(FunctionCallInfo fcinfo) {
    MemoryContext aggcxt = aggregate_context(fcinfo, "ml_metric_ranking_mtransition", "ml_auc");
    if (!PG_ARGISNULL(0)) return reinterpret_cast<WindowHolder*>(PG_GETARG_POINTER(0));
    auto* w = new RankingWindow();
    WindowHolder* h = nullptr;
    try {
        pg_guard([&]() {
            h = static_cast<WindowHolder*>(MemoryContextAllocZero(aggcxt, sizeof(WindowHolder)));
            h->window = w;
            h->destroy.func = destroy_window;
            h->destroy.arg = h;
            // Runs when the window's aggregate context is reset (a restart) or deleted.
            MemoryContextRegisterResetCallback(aggcxt, &h->destroy);
        });
    } catch (...) {
        if (!h || h->window != w) delete w;
        throw;
    }
    return h;
}

template <Label L>
Datum ranking_mstep(FunctionCallInfo fcinfo, bool inverse) {
    WindowHolder* h = window_state(fcinfo);
    if (!PG_ARGISNULL(1) && !PG_ARGISNULL(2)) {
        if (inverse) h->window->remove(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
        else h->window->add(PG_GETARG_FLOAT8(1), label_arg<L>(fcinfo, 2));
    }
    return PointerGetDatum(h);
}

const RankingWindow* window_arg(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(0)) return nullptr;
    return reinterpret_cast<WindowHolder*>(PG_GETARG_POINTER(0))->window;
}

}  // namespace

// ---- I/O ----------------------------------------------------------------------------------------

PGL_FUNCTION(ml_metric_state_in) {
    const char* text = PG_GETARG_CSTRING(0);
    return flat_datum(MetricState::from_text(text, std::strlen(text)));
}

PGL_FUNCTION(ml_metric_state_out) {
    StateArg a;
    const std::string s = a.get(fcinfo, 0).to_text();
    char* out = static_cast<char*>(palloc_or_throw(CurrentMemoryContext, s.size() + 1));
    std::memcpy(out, s.c_str(), s.size() + 1);
    return CStringGetDatum(out);
}

PGL_FUNCTION(ml_metric_state_recv) {
    StringInfo buf = reinterpret_cast<StringInfo>(PG_GETARG_POINTER(0));
    const auto* p = reinterpret_cast<const uint8_t*>(buf->data + buf->cursor);
    const size_t n = static_cast<size_t>(buf->len - buf->cursor);
    MetricState s = MetricState::decode(p, n);  // validates every byte before we accept it
    buf->cursor = buf->len;
    return flat_datum(s);
}

// Also ml_metric_state_bytes: the binary form as bytea (a flat state has bytea's layout).
PGL_FUNCTION(ml_metric_state_send) {
    Datum d = PG_GETARG_DATUM(0);
    if (Expanded* ev = Expanded::of(d)) return flat_datum(*ev->value);
    struct varlena* flat = nullptr;
    pg_guard([&]() { flat = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(d))); });
    return PointerGetDatum(flat);
}

PGL_FUNCTION(ml_metric_state_from_bytes) {
    struct varlena* b = nullptr;
    pg_guard([&]() { b = PG_GETARG_VARLENA_PP(0); });
    return flat_datum(MetricState::decode(reinterpret_cast<const uint8_t*>(VARDATA_ANY(b)), VARSIZE_ANY_EXHDR(b)));
}

// ---- transitions, inverse transitions ------------------------------------------------------------

PGL_FUNCTION(ml_metric_ranking_transition_bool) { return ranking_transition<Label::Bool>(fcinfo); }
PGL_FUNCTION(ml_metric_ranking_transition_int) { return ranking_transition<Label::Int>(fcinfo); }
PGL_FUNCTION(ml_metric_confusion_transition_bool) { return confusion_step<Label::Bool>(fcinfo, false); }
PGL_FUNCTION(ml_metric_confusion_transition_int) { return confusion_step<Label::Int>(fcinfo, false); }
PGL_FUNCTION(ml_metric_confusion_inverse_bool) { return confusion_step<Label::Bool>(fcinfo, true); }
PGL_FUNCTION(ml_metric_confusion_inverse_int) { return confusion_step<Label::Int>(fcinfo, true); }
PGL_FUNCTION(ml_metric_logloss_transition_bool) { return logloss_step<Label::Bool>(fcinfo, false); }
PGL_FUNCTION(ml_metric_logloss_transition_int) { return logloss_step<Label::Int>(fcinfo, false); }
PGL_FUNCTION(ml_metric_logloss_inverse_bool) { return logloss_step<Label::Bool>(fcinfo, true); }
PGL_FUNCTION(ml_metric_logloss_inverse_int) { return logloss_step<Label::Int>(fcinfo, true); }
PGL_FUNCTION(ml_metric_calibration_transition_bool) { return calibration_step<Label::Bool>(fcinfo, false); }
PGL_FUNCTION(ml_metric_calibration_transition_int) { return calibration_step<Label::Int>(fcinfo, false); }
PGL_FUNCTION(ml_metric_calibration_inverse_bool) { return calibration_step<Label::Bool>(fcinfo, true); }
PGL_FUNCTION(ml_metric_calibration_inverse_int) { return calibration_step<Label::Int>(fcinfo, true); }
PGL_FUNCTION(ml_metric_regression_transition) { return regression_step(fcinfo, false); }
PGL_FUNCTION(ml_metric_regression_inverse) { return regression_step(fcinfo, true); }
PGL_FUNCTION(ml_metric_equality_transition) { return equality_step(fcinfo, false); }
PGL_FUNCTION(ml_metric_equality_inverse) { return equality_step(fcinfo, true); }

PGL_FUNCTION(ml_metric_ranking_mtransition_bool) { return ranking_mstep<Label::Bool>(fcinfo, false); }
PGL_FUNCTION(ml_metric_ranking_mtransition_int) { return ranking_mstep<Label::Int>(fcinfo, false); }
PGL_FUNCTION(ml_metric_ranking_minverse_bool) { return ranking_mstep<Label::Bool>(fcinfo, true); }
PGL_FUNCTION(ml_metric_ranking_minverse_int) { return ranking_mstep<Label::Int>(fcinfo, true); }

// Moving-window finals: the AUC in O(1); curves from the window's distinct scores.
PGL_FUNCTION(ml_metric_ranking_mauc) {
    const RankingWindow* w = window_arg(fcinfo);
    if (!w) return null_result(fcinfo);
    return optional_float8(fcinfo, w->auc());
}

PGL_FUNCTION(ml_metric_ranking_mroc) {
    const RankingWindow* w = window_arg(fcinfo);
    if (!w) return null_result(fcinfo);
    MetricState s(pg_learn::core::RankingCounts::from_distinct(w->distinct()));
    return optional_jsonb(fcinfo, s.roc_curve(true));
}

PGL_FUNCTION(ml_metric_ranking_mpr) {
    const RankingWindow* w = window_arg(fcinfo);
    if (!w) return null_result(fcinfo);
    MetricState s(pg_learn::core::RankingCounts::from_distinct(w->distinct()));
    return optional_jsonb(fcinfo, s.pr_curve());
}

// ---- combine, roll-up, final ---------------------------------------------------------------------

namespace {
Datum merge_states(FunctionCallInfo fcinfo, const char* fn, const char* aggregate) {
    MemoryContext aggcxt = aggregate_context(fcinfo, fn, aggregate);
    if (PG_ARGISNULL(1)) {
        if (PG_ARGISNULL(0)) return null_result(fcinfo);
        return PG_GETARG_DATUM(0);
    }
    if (PG_ARGISNULL(0)) return aggregate_state<MetricState>(fcinfo, 1, aggcxt, kContextName)->rw_datum();
    Expanded* ev = aggregate_state<MetricState>(fcinfo, 0, aggcxt, kContextName);
    StateArg other;
    ev->value->merge(other.get(fcinfo, 1));
    return ev->rw_datum();
}
}  // namespace

PGL_FUNCTION(ml_metric_combine) { return merge_states(fcinfo, "ml_metric_combine", "metric"); }
PGL_FUNCTION(ml_metric_merge_transition) { return merge_states(fcinfo, "ml_metric_merge_transition", "ml_metric_merge"); }

PGL_FUNCTION(ml_metric_state_final) {
    if (PG_ARGISNULL(0)) return null_result(fcinfo);
    StateArg a;  // read-only: a state may be finalized more than once
    return flat_datum(a.get(fcinfo, 0));
}

// ---- accessors (and final functions) -------------------------------------------------------------

namespace {
std::optional<double> threshold_opt(FunctionCallInfo fcinfo) {
    if (PG_NARGS() < 2) return std::nullopt;
    return PG_GETARG_FLOAT8(1);
}
}  // namespace

PGL_FUNCTION(ml_metric_auc) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).auc());
}
PGL_FUNCTION(ml_metric_logloss) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).logloss());
}
PGL_FUNCTION(ml_metric_accuracy) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).accuracy(threshold_opt(fcinfo)));
}
PGL_FUNCTION(ml_metric_precision) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).precision(threshold_opt(fcinfo)));
}
PGL_FUNCTION(ml_metric_recall) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).recall(threshold_opt(fcinfo)));
}
PGL_FUNCTION(ml_metric_f1) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).f1(threshold_opt(fcinfo)));
}
PGL_FUNCTION(ml_metric_confusion_matrix) {
    StateArg a;
    return optional_jsonb(fcinfo, a.get(fcinfo, 0).confusion_matrix(threshold_opt(fcinfo)));
}
PGL_FUNCTION(ml_metric_roc_curve) {
    StateArg a;
    const bool drop = PG_NARGS() < 2 ? true : PG_GETARG_BOOL(1);
    return optional_jsonb(fcinfo, a.get(fcinfo, 0).roc_curve(drop));
}
PGL_FUNCTION(ml_metric_pr_curve) {
    StateArg a;
    return optional_jsonb(fcinfo, a.get(fcinfo, 0).pr_curve());
}
PGL_FUNCTION(ml_metric_calibration) {
    StateArg a;
    std::optional<int64_t> bins;
    if (PG_NARGS() >= 2) bins = PG_GETARG_INT32(1);
    return optional_jsonb(fcinfo, a.get(fcinfo, 0).calibration(bins));
}
PGL_FUNCTION(ml_metric_mae) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).mae());
}
PGL_FUNCTION(ml_metric_rmse) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).rmse());
}
PGL_FUNCTION(ml_metric_r2) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).r2());
}
PGL_FUNCTION(ml_metric_mape) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).mape());
}
PGL_FUNCTION(ml_metric_mean_error) {
    StateArg a;
    return optional_float8(fcinfo, a.get(fcinfo, 0).mean_error());
}
PGL_FUNCTION(ml_metric_count) {
    StateArg a;
    return Int64GetDatum(int64(a.get(fcinfo, 0).count()));
}
PGL_FUNCTION(ml_metric_kind) {
    StateArg a;
    Datum result = 0;
    const char* k = metric_kind_name(a.get(fcinfo, 0).kind());
    pg_guard([&]() { result = PointerGetDatum(cstring_to_text(k)); });
    return result;
}
