// Scoring triggers, the prediction log, label feedback (queued or learned at once), ml_learn_pending
// and rollout routing: the glue behind src/sql/50_feedback.sql (docs/feedback.md).
#include "pg/common/features.hpp"
#include "pg/registry/registry.hpp"

extern "C" {
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/dependency.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/resowner.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "common/shortest_dec.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/registry/rollout.hpp"

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg {

namespace {

// ---- column kinds ----------------------------------------------------------------------------

// How a column's value becomes a feature (as ml_predict reads a row), a label or a score.
enum class Kind : uint8_t { Int2, Int4, Int8, Float4, Float8, Numeric, Bool, Text, Bpchar, Name, Enum, Other };

bool is_number(Kind k) { return k <= Kind::Numeric; }
bool is_category(Kind k) { return k >= Kind::Text && k <= Kind::Enum; }

// Plain PostgreSQL code (syscache look-ups): call under pg_guard.
Kind kind_of(Oid type, Oid* output_fn) {
    Oid base = getBaseType(type);
    switch (base) {
        case INT2OID: return Kind::Int2;
        case INT4OID: return Kind::Int4;
        case INT8OID: return Kind::Int8;
        case FLOAT4OID: return Kind::Float4;
        case FLOAT8OID: return Kind::Float8;
        case NUMERICOID: return Kind::Numeric;
        case BOOLOID: return Kind::Bool;
        case TEXTOID:
        case VARCHAROID: return Kind::Text;
        case BPCHAROID: return Kind::Bpchar;
        case NAMEOID: return Kind::Name;
        default:
            if (type_is_enum(base)) {
                bool varlena;
                getTypeOutputInfo(base, output_fn, &varlena);
                return Kind::Enum;
            }
            return Kind::Other;
    }
}

struct Column {
    std::string name;
    AttrNumber att = 0;
    Kind kind = Kind::Other;
    Oid type = InvalidOid;       // as declared (a domain stays a domain)
    int32 typmod = -1;
    Oid output_fn = InvalidOid;  // enums and keys of other types: the type's output function
    int16 typlen = 0;
    bool typbyval = false;
};

// ---- the attachments, cached per backend ------------------------------------------------------

// One row of ml_attachments with its rollouts, and its columns resolved against the table's
// descriptor. Shared: a trigger call holds its own reference, so an invalidation arriving in the
// middle of the call (any lock or catalog access may process one) only drops the cache's.
struct Attachment {
    Oid rel = InvalidOid;
    std::string table_text;  // for messages
    std::string model, alias;
    bool sync = false;
    std::string key_name, prediction_name, label_name;
    std::vector<std::string> feature_names;
    Oid label_rel = InvalidOid;
    std::string label_key_name, label_value_name;
    std::vector<std::string> challengers;  // by alias, bytewise: consecutive slices of [0, 1)
    std::vector<double> shares;
    std::vector<std::string> shadows;

    // Against the attached table's descriptor (triggers on the table).
    bool resolved = false;
    Column key, prediction, label;
    std::vector<Column> features;  // in jsonb key order (length, then bytes): as logged
    Oid prediction_base = InvalidOid;
    int32 prediction_base_typmod = -1;

    // Against the labels table's descriptor (its trigger).
    bool label_resolved = false;
    Column label_key, label_value;
};
using AttachmentPtr = std::shared_ptr<Attachment>;

struct LabelTable {
    Oid rel = InvalidOid;
    std::vector<Oid> attached;  // the tables it labels
};

// The models of the current statement, by (name, alias): resolved once per statement snapshot
// and shared by the BEFORE and AFTER triggers and every row of the statement.
struct StatementModels {
    struct Entry {
        std::string name, alias;
        DeployedModel model;
    };
    SnapshotFingerprint fingerprint;
    std::vector<Entry> entries;
};

struct State {
    std::vector<AttachmentPtr> attachments;
    std::vector<LabelTable> label_tables;
    StatementModels statement;
    core::Observation observation;
};

State* g_state = nullptr;

// The schema the plans were made for, and the tables whose invalidation empties the cache.
Oid g_nsp = InvalidOid;
Oid g_attachments_rel = InvalidOid;
Oid g_log_rel = InvalidOid;  // ml_prediction_log
Oid g_log_seq = InvalidOid;  // its identity sequence
char g_nsp_name[NAMEDATALEN];

// Relcache invalidation: of ml_attachments (every change of an attachment or rollout sends one,
// see _ml_feedback_invalidate) or of everything: forget all; of an attached or labels table
// (ALTER TABLE, and also VACUUM/ANALYZE statistics): forget what was resolved against it. Only
// frees memory; cannot fail.
void on_relcache(Datum, Oid relid) {
    if (!g_state) return;
    if (relid == InvalidOid || relid == g_attachments_rel) {
        g_state->attachments.clear();
        g_state->label_tables.clear();
        return;
    }
    auto& a = g_state->attachments;
    a.erase(std::remove_if(a.begin(), a.end(),
                           [relid](const AttachmentPtr& p) { return p->rel == relid || p->label_rel == relid; }),
            a.end());
    auto& l = g_state->label_tables;
    l.erase(std::remove_if(l.begin(), l.end(), [relid](const LabelTable& t) { return t.rel == relid; }), l.end());
}

State& state() {
    if (g_state) return *g_state;
    pg_guard([]() { CacheRegisterRelcacheCallback(on_relcache, Datum(0)); });
    g_state = new State();  // lives as long as the backend
    return *g_state;
}

// ---- prepared plans --------------------------------------------------------------------------

struct Plans {
    SPIPlanPtr attachment = nullptr;
    SPIPlanPtr rollouts = nullptr;
    SPIPlanPtr label_tables = nullptr;
    SPIPlanPtr log = nullptr;
    SPIPlanPtr find = nullptr;
    SPIPlanPtr label_queue = nullptr;
    SPIPlanPtr sync_versions = nullptr;
    SPIPlanPtr sync_take = nullptr;
    SPIPlanPtr pending = nullptr;
    SPIPlanPtr take = nullptr;
    struct Write {
        Oid fn = InvalidOid;
        SPIPlanPtr plan = nullptr;
    };
    std::vector<Write> writes;
};
Plans g_plans;

// Plain PostgreSQL code from here to the end of the section.

void free_plans() {
    SPIPlanPtr* all[] = {&g_plans.attachment, &g_plans.rollouts,    &g_plans.label_tables,
                         &g_plans.log,        &g_plans.find,        &g_plans.label_queue,
                         &g_plans.sync_versions, &g_plans.sync_take,
                         &g_plans.pending,    &g_plans.take};
    for (SPIPlanPtr* p : all)
        if (*p) {
            SPI_freeplan(*p);
            *p = nullptr;
        }
    for (auto& w : g_plans.writes)
        if (w.plan) SPI_freeplan(w.plan);
    g_plans.writes.clear();
}

// Checks that the plans and the cache are for schema nsp and the ml_attachments there (DROP and
// CREATE EXTENSION in one session make new ones, and so does renaming the schema).
void check_schema(Oid nsp) {
    Oid rel = get_relname_relid("ml_attachments", nsp);
    if (!OidIsValid(rel))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_attachments does not exist")));
    const char* name = get_namespace_name(nsp);
    if (!name) elog(ERROR, "pg_learn: schema %u does not exist", nsp);
    if (nsp != g_nsp || rel != g_attachments_rel || strcmp(name, g_nsp_name) != 0) {
        strlcpy(g_nsp_name, name, sizeof g_nsp_name);
        free_plans();
        if (g_state) {
            g_state->attachments.clear();
            g_state->label_tables.clear();
        }
        g_nsp = nsp;
        g_attachments_rel = rel;
        g_log_rel = get_relname_relid("ml_prediction_log", nsp);
        if (!OidIsValid(g_log_rel))
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE), errmsg("the pg_learn table ml_prediction_log does not exist")));
        g_log_seq = getIdentitySequence(g_log_rel, 1, false);
    }
}

SPIPlanPtr plan(SPIPlanPtr& slot, const char* fmt, int nargs, Oid* types) {
    if (!slot) {
        // Every %s in fmt is the extension's schema.
        const char* s = extension_schema_quoted();
        slot = keep_plan(psprintf(fmt, s, s, s, s), nargs, types);
    }
    return slot;
}

// SPI as the owner, connected on first need (a trigger call that finds everything cached does no
// SPI at all).
class LazySpi {
public:
    explicit LazySpi(Oid nsp) : nsp_(nsp) {}
    void need() {
        if (!spi_) spi_ = std::make_unique<SpiAsOwner>(nsp_);
    }
    void finish() {
        if (spi_) spi_->finish();
    }

private:
    Oid nsp_;
    std::unique_ptr<SpiAsOwner> spi_;
};

// ---- small helpers ---------------------------------------------------------------------------

std::string text_of(Datum d) {
    auto* t = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    struct varlena* p = nullptr;
    pg_guard([&]() { p = pg_detoast_datum_packed(t); });
    return std::string(VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
}

// jsonb key order: shorter first, then bytewise (what jsonb itself sorts object keys by).
bool jsonb_key_less(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return a.size() < b.size();
    return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

// ---- loading an attachment -------------------------------------------------------------------

// Reads the attachment of table rel (nullptr when there is none) and its rollouts. SPI connected
// as the owner.
AttachmentPtr load_attachment(Oid rel) {
    auto a = std::make_shared<Attachment>();
    a->rel = rel;
    bool found = false;
    // Text out of SPI first, C++ objects after.
    Datum vals[10];
    bool nulls[10];
    spi_guard([&]() {
        Oid types[1] = {REGCLASSOID};
        Datum args[1] = {ObjectIdGetDatum(rel)};
        int rc = SPI_execute_plan(
            plan(g_plans.attachment,
                 "SELECT model_name, alias, key_column::text, prediction_column::text, label_column::text, features,"
                 " label_table::oid, label_key_column::text, label_value_column::text, mode"
                 " FROM %s.ml_attachments WHERE table_name OPERATOR(pg_catalog.=) $1",
                 1, types),
            args, nullptr, true, 1);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: reading ml_attachments failed: %s", SPI_result_code_string(rc));
        found = SPI_processed == 1;
        if (!found) return;
        for (int i = 0; i < 10; i++) vals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
    });
    if (!found) return nullptr;
    a->model = text_of(vals[0]);
    a->alias = text_of(vals[1]);
    a->key_name = text_of(vals[2]);
    if (!nulls[3]) a->prediction_name = text_of(vals[3]);
    if (!nulls[4]) a->label_name = text_of(vals[4]);
    {
        Datum* elems = nullptr;
        bool* enulls = nullptr;
        int n = 0;
        pg_guard([&]() {
            deconstruct_array(DatumGetArrayTypeP(vals[5]), TEXTOID, -1, false, TYPALIGN_INT, &elems, &enulls, &n);
        });
        for (int i = 0; i < n; i++)
            if (!enulls[i]) a->feature_names.push_back(text_of(elems[i]));
    }
    if (!nulls[6]) a->label_rel = DatumGetObjectId(vals[6]);
    if (!nulls[7]) a->label_key_name = text_of(vals[7]);
    if (!nulls[8]) a->label_value_name = text_of(vals[8]);
    a->sync = text_of(vals[9]) == "sync";

    // Rollouts of the model name.
    struct Row {
        std::string alias;
        bool shadow;
        double share;
    };
    std::vector<Row> rows;
    uint64 n = 0;
    spi_guard([&]() {
        Oid types[1] = {TEXTOID};
        Datum args[1] = {PointerGetDatum(cstring_to_text_with_len(a->model.data(), static_cast<int>(a->model.size())))};
        int rc = SPI_execute_plan(
            plan(g_plans.rollouts,
                 "SELECT alias, role OPERATOR(pg_catalog.=) 'shadow', share FROM %s.ml_rollouts"
                 " WHERE model_name OPERATOR(pg_catalog.=) $1",
                 1, types),
            args, nullptr, true, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: reading ml_rollouts failed: %s", SPI_result_code_string(rc));
        n = SPI_processed;
    });
    for (uint64 i = 0; i < n; i++) {
        Datum d[3];
        bool dn[3];
        pg_guard([&]() {
            for (int j = 0; j < 3; j++) d[j] = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, j + 1, &dn[j]);
        });
        rows.push_back({text_of(d[0]), DatumGetBool(d[1]), dn[2] ? 0.0 : DatumGetFloat8(d[2])});
    }
    std::sort(rows.begin(), rows.end(), [](const Row& x, const Row& y) { return x.alias < y.alias; });
    for (const Row& r : rows) {
        if (r.alias == a->alias) continue;  // never both champion and challenger (ml_rollout refuses it)
        if (r.shadow) {
            a->shadows.push_back(r.alias);
        } else {
            a->challengers.push_back(r.alias);
            a->shares.push_back(r.share);
        }
    }
    return a;
}

[[noreturn]] void fail_column(const Attachment& a, const std::string& what, const std::string& column,
                              const std::string& table) {
    pg_fail(ERRCODE_UNDEFINED_COLUMN,
            what + " column \"" + column + "\" of table " + table + " does not exist",
            "The table is attached to model \"" + a.model + "\" (ml_attachments names its columns).",
            "After renaming a column of an attached table, ml_detach and ml_attach it again.");
}

// Resolves a column by name against a descriptor (plain data out).
bool find_column(TupleDesc desc, const std::string& name, Column& c) {
    for (int i = 0; i < desc->natts; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        if (att->attisdropped) continue;
        if (std::strcmp(NameStr(att->attname), name.c_str()) == 0) {
            c.name = name;
            c.att = att->attnum;
            c.type = att->atttypid;
            c.typmod = att->atttypmod;
            c.typlen = att->attlen;
            c.typbyval = att->attbyval;
            return true;
        }
    }
    return false;
}

std::string relation_text(Relation rel) {
    std::string s;
    pg_guard([&]() {
        char* name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel));
        s = name;
    });
    return s;
}

void resolve_table(Attachment& a, Relation rel) {
    TupleDesc desc = RelationGetDescr(rel);
    a.table_text = relation_text(rel);
    if (!find_column(desc, a.key_name, a.key)) fail_column(a, "key", a.key_name, a.table_text);
    pg_guard([&]() { a.key.kind = kind_of(a.key.type, &a.key.output_fn); });
    if (a.key.output_fn == InvalidOid) {
        bool varlena;
        pg_guard([&]() { getTypeOutputInfo(a.key.type, &a.key.output_fn, &varlena); });
    }
    if (!a.prediction_name.empty()) {
        if (!find_column(desc, a.prediction_name, a.prediction))
            fail_column(a, "prediction", a.prediction_name, a.table_text);
        Oid fn = InvalidOid;
        pg_guard([&]() {
            a.prediction.kind = kind_of(a.prediction.type, &fn);
            a.prediction_base_typmod = a.prediction.typmod;
            a.prediction_base = getBaseTypeAndTypmod(a.prediction.type, &a.prediction_base_typmod);
        });
        if (a.prediction.kind != Kind::Float8 && a.prediction.kind != Kind::Float4 && a.prediction.kind != Kind::Numeric)
            pg_fail(ERRCODE_DATATYPE_MISMATCH, "prediction column \"" + a.prediction_name + "\" of table " +
                                                   a.table_text + " is not float8, float4 or numeric");
    }
    if (!a.label_name.empty()) {
        if (!find_column(desc, a.label_name, a.label)) fail_column(a, "label", a.label_name, a.table_text);
        Oid fn = InvalidOid;
        pg_guard([&]() { a.label.kind = kind_of(a.label.type, &fn); });
        if (!is_number(a.label.kind) && a.label.kind != Kind::Bool)
            pg_fail(ERRCODE_DATATYPE_MISMATCH,
                    "label column \"" + a.label_name + "\" of table " + a.table_text + " is not numeric or boolean");
    }
    a.features.clear();
    for (const std::string& f : a.feature_names) {
        Column c;
        if (!find_column(desc, f, c)) fail_column(a, "feature", f, a.table_text);
        pg_guard([&]() { c.kind = kind_of(c.type, &c.output_fn); });
        if (c.kind == Kind::Other) {
            Oid type = c.type;
            std::string tn;
            pg_guard([&]() { tn = format_type_be(type); });
            pg_fail(ERRCODE_DATATYPE_MISMATCH, "column \"" + f + "\" has type " + tn + ", which cannot be a feature",
                    "The table " + a.table_text + " is attached to model \"" + a.model + "\".");
        }
        a.features.push_back(std::move(c));
    }
    std::sort(a.features.begin(), a.features.end(),
              [](const Column& x, const Column& y) { return jsonb_key_less(x.name, y.name); });
    a.resolved = true;
}

void resolve_label_table(Attachment& a, Relation rel) {
    TupleDesc desc = RelationGetDescr(rel);
    std::string t = relation_text(rel);
    if (!find_column(desc, a.label_key_name, a.label_key)) fail_column(a, "label key", a.label_key_name, t);
    if (!find_column(desc, a.label_value_name, a.label_value)) fail_column(a, "label value", a.label_value_name, t);
    pg_guard([&]() {
        a.label_key.kind = kind_of(a.label_key.type, &a.label_key.output_fn);
        if (a.label_key.output_fn == InvalidOid) {
            bool varlena;
            getTypeOutputInfo(a.label_key.type, &a.label_key.output_fn, &varlena);
        }
        Oid fn = InvalidOid;
        a.label_value.kind = kind_of(a.label_value.type, &fn);
    });
    if (!is_number(a.label_value.kind) && a.label_value.kind != Kind::Bool)
        pg_fail(ERRCODE_DATATYPE_MISMATCH,
                "label value column \"" + a.label_value_name + "\" of table " + t + " is not numeric or boolean");
    a.label_resolved = true;
}

// The attachment of table rel from the cache, or loaded (SPI connected as the owner).
AttachmentPtr attachment(LazySpi& spi, Oid rel) {
    State& s = state();
    for (const AttachmentPtr& a : s.attachments)
        if (a->rel == rel) return a;
    spi.need();
    AttachmentPtr a = load_attachment(rel);
    if (a) s.attachments.push_back(a);
    return a;
}

// The tables a labels table labels (SPI connected as the owner).
std::vector<Oid> labelled_by(LazySpi& spi, Oid label_rel) {
    State& s = state();
    for (const LabelTable& t : s.label_tables)
        if (t.rel == label_rel) return t.attached;
    spi.need();
    LabelTable t;
    t.rel = label_rel;
    uint64 n = 0;
    spi_guard([&]() {
        Oid types[1] = {REGCLASSOID};
        Datum args[1] = {ObjectIdGetDatum(label_rel)};
        int rc = SPI_execute_plan(plan(g_plans.label_tables,
                                       "SELECT table_name::oid FROM %s.ml_attachments"
                                       " WHERE label_table OPERATOR(pg_catalog.=) $1",
                                       1, types),
                                  args, nullptr, true, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: reading ml_attachments failed: %s", SPI_result_code_string(rc));
        n = SPI_processed;
    });
    for (uint64 i = 0; i < n; i++) {
        bool isnull = false;
        Datum d = 0;
        pg_guard([&]() { d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull); });
        t.attached.push_back(DatumGetObjectId(d));
    }
    std::sort(t.attached.begin(), t.attached.end());
    s.label_tables.push_back(t);
    return t.attached;
}

// ---- models of the statement -----------------------------------------------------------------

// A copy (the model is shared): the entries may be cleared or moved by the next call.
DeployedModel statement_model(Oid nsp, const std::string& name, const std::string& alias) {
    StatementModels& sm = state().statement;
    const SnapshotData* snap = ActiveSnapshotSet() ? GetActiveSnapshot() : nullptr;
    if (!snap || !sm.fingerprint.matches(snap)) {
        sm.entries.clear();
        sm.fingerprint.valid = false;
    }
    for (const auto& e : sm.entries)
        if (e.name == name && e.alias == alias) return e.model;
    DeployedModel d = registry_resolve(nsp, name, alias);
    if (snap && !sm.fingerprint.valid) sm.fingerprint.take(snap);
    sm.entries.push_back({name, alias, d});
    return d;
}

// ---- reading a row ---------------------------------------------------------------------------

// One feature's value as plain data (pointers into the tuple or palloc'd memory).
struct Value {
    bool isnull;
    double num;       // numbers and booleans
    const char* str;  // categories
    int len;
    Datum jnum;       // numbers: the jsonb numeric (0 when not wanted or not finite)
};

// Reads the features of a row (in jsonb key order) into values; with json, also the numerics the
// log's jsonb will hold: integers and numerics exactly, floats as their shortest exact decimal
// (so the logged value reads back as the very double that was scored).
void read_features(const Attachment& a, HeapTuple tuple, TupleDesc desc, std::vector<Value>& values, bool json) {
    values.resize(a.features.size());
    Value* out = values.data();
    const Column* cols = a.features.data();
    const size_t n = a.features.size();
    pg_guard([&]() {
        for (size_t i = 0; i < n; i++) {
            const Column& c = cols[i];
            Value& v = out[i];
            v.jnum = 0;
            v.str = nullptr;
            v.len = 0;
            v.num = 0;
            Datum d = heap_getattr(tuple, c.att, desc, &v.isnull);
            if (v.isnull) continue;
            switch (c.kind) {
                case Kind::Int2: v.num = DatumGetInt16(d); if (json) v.jnum = NumericGetDatum(int64_to_numeric(DatumGetInt16(d))); break;
                case Kind::Int4: v.num = DatumGetInt32(d); if (json) v.jnum = NumericGetDatum(int64_to_numeric(DatumGetInt32(d))); break;
                case Kind::Int8:
                    v.num = static_cast<double>(DatumGetInt64(d));
                    if (json) v.jnum = NumericGetDatum(int64_to_numeric(DatumGetInt64(d)));
                    break;
                case Kind::Float4:
                case Kind::Float8:
                    v.num = c.kind == Kind::Float4 ? static_cast<double>(DatumGetFloat4(d)) : DatumGetFloat8(d);
                    if (json && std::isfinite(v.num)) {
                        char buf[DOUBLE_SHORTEST_DECIMAL_LEN];
                        double_to_shortest_decimal_buf(v.num, buf);
                        v.jnum = DirectFunctionCall3(numeric_in, CStringGetDatum(buf), ObjectIdGetDatum(InvalidOid),
                                                     Int32GetDatum(-1));
                    }
                    break;
                case Kind::Numeric: {
                    Numeric num = DatumGetNumeric(d);
                    v.num = numeric_to_double(num);
                    if (json && std::isfinite(v.num)) v.jnum = NumericGetDatum(num);
                    break;
                }
                case Kind::Bool: v.num = DatumGetBool(d) ? 1.0 : 0.0; break;
                case Kind::Text:
                case Kind::Bpchar: {
                    struct varlena* t = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)));
                    v.str = VARDATA_ANY(t);
                    v.len = static_cast<int>(VARSIZE_ANY_EXHDR(t));
                    if (c.kind == Kind::Bpchar)
                        while (v.len > 0 && v.str[v.len - 1] == ' ') v.len--;  // char(n) padding is not the value
                    break;
                }
                case Kind::Name:
                    v.str = NameStr(*DatumGetName(d));
                    v.len = static_cast<int>(strnlen(v.str, NAMEDATALEN));
                    break;
                case Kind::Enum:
                    v.str = OidOutputFunctionCall(c.output_fn, d);
                    v.len = static_cast<int>(std::strlen(v.str));
                    break;
                case Kind::Other: break;
            }
        }
    });
}

// The observation the model scores: the features in jsonb key order, exactly as the log's jsonb
// reads back (so scoring the logged features gives the logged score, bit for bit).
void fill_observation(const Attachment& a, const std::vector<Value>& values, core::Observation& obs) {
    obs.clear();
    for (size_t i = 0; i < a.features.size(); i++) {
        const Column& c = a.features[i];
        const Value& v = values[i];
        if (v.isnull) obs.add_missing(c.name);
        else if (is_category(c.kind)) obs.add_category(c.name, std::string_view(v.str, static_cast<size_t>(v.len)));
        else obs.add_numeric(c.name, v.num);  // NaN or infinity: 22003 naming the feature
    }
}

Jsonb* features_jsonb(const Attachment& a, const std::vector<Value>& values) {
    Jsonb* result = nullptr;
    const Column* cols = a.features.data();
    const Value* vals = values.data();
    const size_t n = a.features.size();
    // The features are in jsonb key order and their names distinct: the object is written as is,
    // without pushJsonbValue's sort.
    pg_guard([&]() {
        JsonbPair* pairs = static_cast<JsonbPair*>(palloc(sizeof(JsonbPair) * n));
        for (size_t i = 0; i < n; i++) {
            JsonbValue& k = pairs[i].key;
            JsonbValue& v = pairs[i].value;
            pairs[i].order = static_cast<uint32>(i);
            k.type = jbvString;
            k.val.string.val = const_cast<char*>(cols[i].name.data());
            k.val.string.len = static_cast<int>(cols[i].name.size());
            if (vals[i].isnull) {
                v.type = jbvNull;
            } else if (cols[i].kind == Kind::Bool) {
                v.type = jbvBool;
                v.val.boolean = vals[i].num != 0;
            } else if (is_category(cols[i].kind)) {
                v.type = jbvString;
                v.val.string.val = const_cast<char*>(vals[i].str);
                v.val.string.len = vals[i].len;
            } else {
                v.type = jbvNumeric;
                v.val.numeric = DatumGetNumeric(vals[i].jnum);
            }
        }
        JsonbValue obj;
        obj.type = jbvObject;
        obj.val.object.nPairs = static_cast<int>(n);
        obj.val.object.pairs = pairs;
        result = JsonbValueToJsonb(&obj);
    });
    return result;
}

// The key of a row as text (the column's output function; integers and text directly).
text* key_text(const Column& key, HeapTuple tuple, TupleDesc desc, const std::string& table) {
    text* result = nullptr;
    bool isnull = false;
    pg_guard([&]() {
        Datum d = heap_getattr(tuple, key.att, desc, &isnull);
        if (isnull) return;
        char buf[32];
        switch (key.kind) {
            case Kind::Int2: pg_ltoa(DatumGetInt16(d), buf); result = cstring_to_text(buf); break;
            case Kind::Int4: pg_ltoa(DatumGetInt32(d), buf); result = cstring_to_text(buf); break;
            case Kind::Int8: pg_lltoa(DatumGetInt64(d), buf); result = cstring_to_text(buf); break;
            case Kind::Text: result = reinterpret_cast<text*>(pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(d)))); break;
            default: result = cstring_to_text(OidOutputFunctionCall(key.output_fn, d)); break;
        }
    });
    if (isnull)
        pg_fail(ERRCODE_NOT_NULL_VIOLATION, "key column \"" + key.name + "\" of table " + table + " is NULL",
                "A scored row needs a key: labels find their prediction by it.");
    return result;
}

std::string_view text_view(const text* t) { return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)}; }

// A label column's value as a double; false when NULL.
bool label_value(const Column& c, HeapTuple tuple, TupleDesc desc, double& y) {
    bool isnull = false;
    Datum d = 0;
    pg_guard([&]() { d = heap_getattr(tuple, c.att, desc, &isnull); });
    if (isnull) return false;
    switch (c.kind) {
        case Kind::Int2: y = DatumGetInt16(d); break;
        case Kind::Int4: y = DatumGetInt32(d); break;
        case Kind::Int8: y = static_cast<double>(DatumGetInt64(d)); break;
        case Kind::Float4: y = DatumGetFloat4(d); break;
        case Kind::Float8: y = DatumGetFloat8(d); break;
        case Kind::Numeric: {
            Numeric n = nullptr;
            pg_guard([&]() { n = DatumGetNumeric(d); });
            y = numeric_to_double(n);
            break;
        }
        case Kind::Bool: y = DatumGetBool(d) ? 1.0 : 0.0; break;
        default: fail(ErrorKind::Internal, "label column of an unexpected type");
    }
    return true;
}

bool column_is_null(const Column& c, HeapTuple tuple, TupleDesc desc) {
    bool isnull = false;
    pg_guard([&]() { (void)heap_getattr(tuple, c.att, desc, &isnull); });
    return isnull;
}

bool same_value(const Column& c, HeapTuple a, HeapTuple b, TupleDesc desc) {
    bool same = false;
    pg_guard([&]() {
        bool na = false, nb = false;
        Datum da = heap_getattr(a, c.att, desc, &na);
        Datum db = heap_getattr(b, c.att, desc, &nb);
        same = na == nb && (na || datum_image_eq(da, db, c.typbyval, c.typlen));
    });
    return same;
}

// ---- scoring ---------------------------------------------------------------------------------

struct Served {
    const std::string* alias;
    DeployedModel model;
};

// The variant that serves a key: a challenger whose slice holds the key's place, or the champion.
Served served_variant(Oid nsp, const Attachment& a, std::string_view key) {
    const std::string* alias = &a.alias;
    if (!a.challengers.empty()) {
        size_t i = core::route(core::route_fraction(a.model, key), a.shares);
        if (i < a.challengers.size()) alias = &a.challengers[i];
    }
    return {alias, statement_model(nsp, a.model, *alias)};
}

// The score as a value of the prediction column's type (float8, float4, numeric, or a domain).
Datum score_datum(const Attachment& a, double score) {
    Datum result = 0;
    pg_guard([&]() {
        switch (a.prediction_base) {
            case FLOAT8OID: result = Float8GetDatum(score); break;
            case FLOAT4OID: result = DirectFunctionCall1(dtof, Float8GetDatum(score)); break;
            case NUMERICOID:
                result = DirectFunctionCall1(float8_numeric, Float8GetDatum(score));
                if (a.prediction_base_typmod >= 0)
                    result = DirectFunctionCall2(numeric, result, Int32GetDatum(a.prediction_base_typmod));
                break;
            default: elog(ERROR, "pg_learn: prediction column of type %u", a.prediction_base);
        }
        if (a.prediction_base != a.prediction.type)
            domain_check(result, false, a.prediction.type, nullptr, CurrentMemoryContext);
    });
    return result;
}


// ---- writing the log -------------------------------------------------------------------------

// The log's rows are inserted directly (heap and indexes, with its constraints checked), not
// through SPI: starting an executor per row would cost more than the row itself. What the insert
// needs is opened once per transaction, owned by the top transaction (a subtransaction that
// rolls back leaves it intact), and closed before commit. While the log table has triggers of
// its own (pg_learn creates none), or columns this code does not know, rows go through SPI.
struct LogWriter {
    LocalTransactionId lxid = InvalidLocalTransactionId;
    bool open = false;
    bool direct = false;
    bool stale = false;
    Oid relid = InvalidOid;
    Relation rel = nullptr;
    EState* estate = nullptr;
    ResultRelInfo* rri = nullptr;
    TupleTableSlot* slot = nullptr;
    Oid seq = InvalidOid;
};
LogWriter g_log;
bool g_log_callbacks = false;

constexpr int kLogColumns = 13;
const char* const kLogColumnNames[kLogColumns] = {
    "prediction_id", "model_name", "version", "variant", "served", "table_name", "key",
    "predicted_at", "score", "features", "label", "labeled_at", "learned_at"};

// Plain PostgreSQL code.
void log_close(bool commit) {
    if (g_log.open && commit && g_log.direct) {
        ResourceOwner save = CurrentResourceOwner;
        CurrentResourceOwner = TopTransactionResourceOwner;
        ExecDropSingleTupleTableSlot(g_log.slot);
        ExecCloseIndices(g_log.rri);
        table_close(g_log.rel, NoLock);
        FreeExecutorState(g_log.estate);
        CurrentResourceOwner = save;
    }
    // On abort the resource owner releases the relation, and the memory goes with the
    // transaction's.
    g_log = LogWriter{};
}

void log_on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PARALLEL_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE: log_close(true); break;
        case XACT_EVENT_ABORT:
        case XACT_EVENT_PARALLEL_ABORT:
        case XACT_EVENT_COMMIT:
        case XACT_EVENT_PARALLEL_COMMIT:
        case XACT_EVENT_PREPARE: g_log = LogWriter{}; break;
    }
}

void log_on_relcache(Datum, Oid relid) {
    if (g_log.open && (relid == InvalidOid || relid == g_log.relid)) g_log.stale = true;
}

void log_open(Oid relid) {
    if (!g_log_callbacks) {
        RegisterXactCallback(log_on_xact, nullptr);
        CacheRegisterRelcacheCallback(log_on_relcache, Datum(0));
        g_log_callbacks = true;
    }
    if (g_log.open && g_log.lxid != MyProc->lxid) g_log = LogWriter{};  // a transaction we missed the end of
    if (g_log.open && (g_log.stale || g_log.relid != relid)) log_close(true);
    if (g_log.open) return;
    MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);
    ResourceOwner save = CurrentResourceOwner;
    CurrentResourceOwner = TopTransactionResourceOwner;
    Relation rel = table_open(relid, RowExclusiveLock);
    TupleDesc desc = RelationGetDescr(rel);
    // (Foreign keys referencing the log give it triggers for UPDATE and DELETE, which an insert
    // does not fire.)
    TriggerDesc* trig = rel->trigdesc;
    bool direct = desc->natts == kLogColumns && rel->rd_rel->relkind == RELKIND_RELATION &&
                  (!trig || !(trig->trig_insert_before_row || trig->trig_insert_after_row || trig->trig_insert_instead_row ||
                              trig->trig_insert_before_statement || trig->trig_insert_after_statement ||
                              trig->trig_insert_new_table));
    for (int i = 0; direct && i < kLogColumns; i++) {
        Form_pg_attribute att = TupleDescAttr(desc, i);
        direct = !att->attisdropped && strcmp(NameStr(att->attname), kLogColumnNames[i]) == 0;
    }
    LogWriter w;
    w.lxid = MyProc->lxid;
    w.open = true;
    w.relid = relid;
    w.direct = direct;
    if (direct) {
        w.rel = rel;
        w.estate = CreateExecutorState();
        RangeTblEntry* rte = makeNode(RangeTblEntry);
        rte->rtekind = RTE_RELATION;
        rte->relid = relid;
        rte->relkind = RELKIND_RELATION;
        rte->rellockmode = RowExclusiveLock;
        ExecInitRangeTable(w.estate, list_make1(rte));
        w.rri = makeNode(ResultRelInfo);
        InitResultRelInfo(w.rri, rel, 1, nullptr, 0);
        ExecOpenIndices(w.rri, false);
        w.slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
        w.seq = g_log_seq;
    } else {
        table_close(rel, NoLock);
    }
    CurrentResourceOwner = save;
    MemoryContextSwitchTo(old);
    g_log = w;
}

// Inserts one row (values in the log's column order, prediction_id filled here); returns its id.
int64 log_insert_direct(Datum* values, bool* nulls) {
    int64 id = nextval_internal(g_log.seq, false);
    values[0] = Int64GetDatum(id);
    nulls[0] = false;
    TupleTableSlot* slot = g_log.slot;
    ExecClearTuple(slot);
    memcpy(slot->tts_values, values, sizeof(Datum) * kLogColumns);
    memcpy(slot->tts_isnull, nulls, sizeof(bool) * kLogColumns);
    ExecStoreVirtualTuple(slot);
    g_log.estate->es_output_cid = GetCurrentCommandId(true);
    ExecSimpleRelationInsert(g_log.rri, g_log.estate, slot);
    ResetPerTupleExprContext(g_log.estate);
    return id;
}

// ---- logging and labelling -------------------------------------------------------------------

struct Logged {
    int64 id;
    DeployedModel model;
};

// Logs the served prediction and every shadow's (SPI connected as the owner).
void log_predictions(Oid nsp, LazySpi& spi, const Attachment& a, text* key, Served served, double score,
                     Jsonb* features, const core::Observation& obs, std::vector<Logged>& logged) {
    logged.clear();
    TimestampTz now = GetCurrentTimestamp();
    pg_guard([&]() { log_open(g_log_rel); });
    auto insert = [&](const std::string& alias, const DeployedModel& m, bool is_served, double s) {
        int64 id = 0;
        if (g_log.direct) {
            pg_guard([&]() {
                Datum values[kLogColumns];
                bool nulls[kLogColumns];
                for (int i = 0; i < kLogColumns; i++) nulls[i] = true;
                values[1] = PointerGetDatum(cstring_to_text_with_len(a.model.data(), static_cast<int>(a.model.size())));
                values[2] = Int32GetDatum(m.version);
                values[3] = PointerGetDatum(cstring_to_text_with_len(alias.data(), static_cast<int>(alias.size())));
                values[4] = BoolGetDatum(is_served);
                values[5] = ObjectIdGetDatum(a.rel);
                values[6] = PointerGetDatum(key);
                values[7] = TimestampTzGetDatum(now);
                values[8] = Float8GetDatum(s);
                values[9] = JsonbPGetDatum(features);
                for (int i = 1; i <= 9; i++) nulls[i] = false;
                id = log_insert_direct(values, nulls);
            });
            logged.push_back({id, m});
            return;
        }
        spi.need();
        spi_guard([&]() {
            Oid types[9] = {TEXTOID, INT4OID, TEXTOID, BOOLOID, REGCLASSOID, TEXTOID, TIMESTAMPTZOID, FLOAT8OID, JSONBOID};
            Datum args[9] = {PointerGetDatum(cstring_to_text_with_len(a.model.data(), static_cast<int>(a.model.size()))),
                             Int32GetDatum(m.version),
                             PointerGetDatum(cstring_to_text_with_len(alias.data(), static_cast<int>(alias.size()))),
                             BoolGetDatum(is_served),
                             ObjectIdGetDatum(a.rel),
                             PointerGetDatum(key),
                             TimestampTzGetDatum(now),
                             Float8GetDatum(s),
                             JsonbPGetDatum(features)};
            int rc = SPI_execute_plan(
                plan(g_plans.log,
                     "INSERT INTO %s.ml_prediction_log (model_name, version, variant, served, table_name, key,"
                     " predicted_at, score, features) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                     " RETURNING prediction_id",
                     9, types),
                args, nullptr, false, 1);
            if (rc != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
                elog(ERROR, "pg_learn: logging a prediction failed: %s", SPI_result_code_string(rc));
            bool isnull = false;
            id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
        });
        logged.push_back({id, m});
    };
    insert(*served.alias, served.model, true, score);
    for (const std::string& shadow : a.shadows) {
        DeployedModel m = statement_model(nsp, a.model, shadow);
        insert(shadow, m, false, m.model->predict(obs));
    }
}

void sync_queued(Oid nsp);

// Gives a label to predictions ids (unlabelled ones only: a label is set once) and queues it, or
// learns it at once. SPI connected as the owner.
void apply_label(Oid nsp, const Attachment& a, const std::vector<int64>& ids, double y) {
    if (ids.empty()) return;
    TimestampTz now = GetCurrentTimestamp();
    ArrayType* arr = nullptr;
    pg_guard([&]() {
        Datum* elems = static_cast<Datum*>(palloc(sizeof(Datum) * ids.size()));
        for (size_t i = 0; i < ids.size(); i++) elems[i] = Int64GetDatum(ids[i]);
        arr = construct_array(elems, static_cast<int>(ids.size()), INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
    });
    // Sync labels are queued too, marked: learn_sync learns them just before the transaction
    // commits. Unmarked ones wait for ml_learn_pending.
    uint64 n = 0;
    Oid types[4] = {INT8ARRAYOID, FLOAT8OID, TIMESTAMPTZOID, BOOLOID};
    Datum args[4] = {PointerGetDatum(arr), Float8GetDatum(y), TimestampTzGetDatum(now), BoolGetDatum(a.sync)};
    spi_guard([&]() {
        int rc = SPI_execute_plan(
            plan(g_plans.label_queue,
                 "WITH u AS (UPDATE %s.ml_prediction_log l SET label = $2, labeled_at = $3"
                 " WHERE l.prediction_id OPERATOR(pg_catalog.=) ANY ($1) AND l.label IS NULL"
                 " RETURNING l.prediction_id, l.model_name, l.version)"
                 " INSERT INTO %s.ml_label_queue (prediction_id, model_name, version, label, sync)"
                 " SELECT u.prediction_id, u.model_name, u.version, $2, $4 FROM u",
                 4, types),
            args, nullptr, false, 0);
        if (rc != SPI_OK_INSERT) elog(ERROR, "pg_learn: queueing a label failed: %s", SPI_result_code_string(rc));
        n = SPI_processed;
    });
    if (a.sync && n > 0) sync_queued(nsp);
}

// Sync mode, at commit (the PRE_COMMIT / PRE_PREPARE transaction callback, once per transaction
// that queued sync labels): learns every sync label in ml_label_queue, that is those this
// transaction queued (others' are uncommitted, so unseen; a committed one, which only a
// transaction that ended without this callback leaves, is learned here or by ml_learn_pending).
// Labelling locks no version; here all the versions involved are locked (waiting) in
// (name, version) order before any is written, as the last thing the transaction does, so sync
// labellers acquire version locks in one global order and cannot deadlock with each other;
// ml_learn_pending never waits for a version (SKIP LOCKED) and never sees these uncommitted
// rows. Each version's labels are applied in prediction_id order, from the logged features.
void learn_sync(Oid nsp) {
    // (the extension dropped, or its schema renamed, since the labels were queued: they went with it)
    bool present = false;
    pg_guard([&]() {
        present = OidIsValid(get_relname_relid("ml_attachments", nsp)) && OidIsValid(get_relname_relid("ml_label_queue", nsp));
    });
    if (!present) return;
    SpiAsOwner spi(nsp);
    pg_guard([&]() { check_schema(nsp); });
    uint64 n = 0;
    struct Version {
        std::string model;
        int32 version;
    };
    std::vector<Version> versions;
    spi_guard([&]() {
        int rc = SPI_execute_plan(plan(g_plans.sync_versions,
                                       "SELECT q.model_name, q.version FROM %s.ml_label_queue q WHERE q.sync"
                                       " GROUP BY q.model_name, q.version",
                                       0, nullptr),
                                  nullptr, nullptr, false, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: reading ml_label_queue failed: %s", SPI_result_code_string(rc));
        n = SPI_processed;
    });
    SPITupleTable* vt = SPI_tuptable;
    for (uint64 i = 0; i < n; i++) {
        Datum d[2];
        bool dn[2];
        pg_guard([&]() {
            for (int j = 0; j < 2; j++) d[j] = SPI_getbinval(vt->vals[i], vt->tupdesc, j + 1, &dn[j]);
        });
        versions.push_back({text_of(d[0]), DatumGetInt32(d[1])});
    }
    std::sort(versions.begin(), versions.end(), [](const Version& x, const Version& y) {
        return x.model != y.model ? x.model < y.model : x.version < y.version;
    });
    std::vector<LockedModel> locked;
    for (const Version& v : versions) {
        LockedModel lm = registry_lock_version(nsp, v.model, v.version, false);
        // (not reached: the queue's foreign key keeps a version with queued labels registered)
        if (!lm.found)
            pg_fail(ERRCODE_UNDEFINED_OBJECT, "model \"" + v.model + "\" has no version " + std::to_string(v.version));
        locked.push_back(std::move(lm));
    }
    core::Observation& obs = state().observation;
    for (size_t k = 0; k < versions.size(); k++) {
        const Version& v = versions[k];
        uint64 rows = 0;
        spi_guard([&]() {
            Oid types[2] = {TEXTOID, INT4OID};
            Datum args[2] = {PointerGetDatum(cstring_to_text_with_len(v.model.data(), static_cast<int>(v.model.size()))),
                             Int32GetDatum(v.version)};
            int rc = SPI_execute_plan(
                plan(g_plans.sync_take,
                     "WITH d AS (DELETE FROM %s.ml_label_queue q WHERE q.sync"
                     " AND q.model_name OPERATOR(pg_catalog.=) $1 AND q.version OPERATOR(pg_catalog.=) $2"
                     " RETURNING q.prediction_id, q.label),"
                     " u AS (UPDATE %s.ml_prediction_log l SET learned_at = pg_catalog.clock_timestamp() FROM d"
                     " WHERE l.prediction_id OPERATOR(pg_catalog.=) d.prediction_id"
                     " RETURNING l.prediction_id, l.features, d.label)"
                     " SELECT u.prediction_id, u.features, u.label FROM u ORDER BY u.prediction_id",
                     2, types),
                args, nullptr, false, 0);
            if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: taking sync labels failed: %s", SPI_result_code_string(rc));
            rows = SPI_processed;
        });
        if (rows == 0) continue;  // (an orphan taken by a learner that committed before our lock)
        SPITupleTable* tt = SPI_tuptable;
        for (uint64 i = 0; i < rows; i++) {
            Datum d[3];
            bool dn[3];
            pg_guard([&]() {
                for (int j = 0; j < 3; j++) d[j] = SPI_getbinval(tt->vals[i], tt->tupdesc, j + 1, &dn[j]);
            });
            jsonb_features(d[1], obs);
            locked[k].model->learn(obs, core::Label::of_number(DatumGetFloat8(d[2])));
            if ((i & 255) == 255) pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
        }
        registry_store(nsp, v.model, v.version, std::move(locked[k].model), rows);
    }
    spi.finish();
}

// The sync labels of the transaction are learned before it commits (or prepares). The flag is set
// when one is queued and stays set through a rolled-back subtransaction (learn_sync then finds
// fewer rows, or none).
bool g_sync_pending = false;
Oid g_sync_nsp = InvalidOid;
bool g_sync_callback = false;

void sync_on_xact(XactEvent event, void*) {
    switch (event) {
        case XACT_EVENT_PRE_COMMIT:
        case XACT_EVENT_PRE_PREPARE:
            if (g_sync_pending) {
                g_sync_pending = false;
                // An error here (a version that cannot learn: 22003) aborts the transaction.
                // (SPI needs an outer snapshot; its statements take fresh ones of their own)
                PushActiveSnapshot(GetTransactionSnapshot());
                boundary([]() { learn_sync(g_sync_nsp); });
                PopActiveSnapshot();
            }
            break;
        default:
            g_sync_pending = false;
            break;
    }
}

void sync_queued(Oid nsp) {
    if (!g_sync_callback) {
        pg_guard([]() { RegisterXactCallback(sync_on_xact, nullptr); });
        g_sync_callback = true;
    }
    g_sync_pending = true;
    g_sync_nsp = nsp;
}

// A label that arrived for a key: joined to the latest served prediction of that key in the
// table and the shadow predictions made with it. Ignored when that prediction has its label
// already (a label is set once) or when the key was never scored.
void label_key(Oid nsp, const Attachment& a, text* key, double y) {
    uint64 n = 0;
    spi_guard([&]() {
        Oid types[2] = {REGCLASSOID, TEXTOID};
        Datum args[2] = {ObjectIdGetDatum(a.rel), PointerGetDatum(key)};
        int rc = SPI_execute_plan(
            plan(g_plans.find,
                 "SELECT l.prediction_id, l.served, l.label IS NOT NULL, m.kind"
                 " FROM %s.ml_prediction_log l LEFT JOIN %s.ml_models m"
                 " ON m.name OPERATOR(pg_catalog.=) l.model_name AND m.version OPERATOR(pg_catalog.=) l.version"
                 " WHERE l.table_name OPERATOR(pg_catalog.=) $1 AND l.key OPERATOR(pg_catalog.=) $2"
                 " AND l.prediction_id OPERATOR(pg_catalog.>=) (SELECT pg_catalog.max(p.prediction_id)"
                 " FROM %s.ml_prediction_log p WHERE p.table_name OPERATOR(pg_catalog.=) $1"
                 " AND p.key OPERATOR(pg_catalog.=) $2 AND p.served)"
                 " ORDER BY l.prediction_id",
                 2, types),
            // Not read-only: a fresh snapshot in READ COMMITTED, so that a prediction committed
            // while this statement waited for the row it labels is the one found.
            args, nullptr, false, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: finding a prediction failed: %s", SPI_result_code_string(rc));
        n = SPI_processed;
    });
    if (n == 0) return;  // never scored: nothing to learn from
    std::vector<int64> ids;
    SPITupleTable* tt = SPI_tuptable;
    for (uint64 i = 0; i < n; i++) {
        Datum d[4];
        bool dn[4];
        pg_guard([&]() {
            for (int j = 0; j < 4; j++) d[j] = SPI_getbinval(tt->vals[i], tt->tupdesc, j + 1, &dn[j]);
        });
        bool served = DatumGetBool(d[1]), labelled = DatumGetBool(d[2]);
        if (i == 0 && labelled) return;  // the served prediction has its label: set once
        if (i > 0 && served) continue;   // (not reached: the first row is the latest served one)
        if (labelled) continue;
        if (dn[3]) fail(ErrorKind::Internal, "the version that made prediction " + std::to_string(DatumGetInt64(d[0])) + " no longer exists");
        const std::string kind = text_of(d[3]);
        const core::ModelFamily* family = core::family_by_kind(kind);
        if (!family) fail(ErrorKind::Internal, "unknown model kind");
        core::check_label(kind, family->task, core::Label::of_number(y));
        ids.push_back(DatumGetInt64(d[0]));
    }
    apply_label(nsp, a, ids, y);
}

// ---- the trigger -----------------------------------------------------------------------------

enum class Role { Score, Log, Label };

Datum trigger(FunctionCallInfo fcinfo) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_trigger is a trigger function",
                {}, "ml_attach installs it; it cannot be called directly.");
    auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
    TriggerEvent ev = td->tg_event;
    if (!TRIGGER_FIRED_FOR_ROW(ev) || td->tg_trigger->tgnargs != 1)
        pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_trigger must be a row trigger installed by ml_attach");
    const std::string role_name = td->tg_trigger->tgargs[0];
    Role role;
    if (role_name == "score" && TRIGGER_FIRED_BEFORE(ev) && !TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Score;
    else if (role_name == "log" && TRIGGER_FIRED_AFTER(ev) && !TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Log;
    else if (role_name == "label" && TRIGGER_FIRED_AFTER(ev) && !TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Label;
    else pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_trigger fired in a way ml_attach does not install it");

    const bool is_update = TRIGGER_FIRED_BY_UPDATE(ev);
    HeapTuple old_tuple = is_update ? td->tg_trigtuple : nullptr;
    HeapTuple row = is_update ? td->tg_newtuple : td->tg_trigtuple;
    Relation rel = td->tg_relation;
    TupleDesc desc = RelationGetDescr(rel);
    const Oid relid = RelationGetRelid(rel);
    // The schema is looked up and checked once per statement (fn_extra lives as long as the
    // statement's trigger call info).
    FmgrInfo* flinfo = fcinfo->flinfo;
    Oid nsp = InvalidOid;
    pg_guard([&]() {
        if (!flinfo->fn_extra) {
            Oid n = get_func_namespace(flinfo->fn_oid);
            check_schema(n);
            Oid* mem = static_cast<Oid*>(MemoryContextAlloc(flinfo->fn_mcxt, sizeof(Oid)));
            *mem = n;
            flinfo->fn_extra = mem;
        }
        nsp = *static_cast<Oid*>(flinfo->fn_extra);
        if (nsp != g_nsp) check_schema(nsp);
    });

    State& st = state();
    LazySpi spi(nsp);

    if (role == Role::Label) {
        std::vector<Oid> tables = labelled_by(spi, relid);
        for (Oid t : tables) {
            AttachmentPtr a = attachment(spi, t);
            if (!a || a->label_rel != relid) continue;
            if (!a->label_resolved) resolve_label_table(*a, rel);
            double y = 0;
            if (!label_value(a->label_value, row, desc, y)) continue;
            if (is_update && !column_is_null(a->label_value, old_tuple, desc)) continue;  // set once
            text* key = key_text(a->label_key, row, desc, relation_text(rel));
            spi.need();
            label_key(nsp, *a, key, y);
        }
        spi.finish();
        return PointerGetDatum(row);
    }

    AttachmentPtr a = attachment(spi, relid);
    if (!a) {
        // Detached in this transaction, or a trigger copied by hand: nothing to do.
        spi.finish();
        return PointerGetDatum(row);
    }
    if (!a->resolved) resolve_table(*a, rel);
    std::vector<Value> values;

    if (role == Role::Score) {
        if (a->prediction_name.empty()) {
            spi.finish();
            return PointerGetDatum(row);
        }
        read_features(*a, row, desc, values, false);
        fill_observation(*a, values, st.observation);
        text* key = key_text(a->key, row, desc, a->table_text);
        Served served = served_variant(nsp, *a, text_view(key));
        double score = served.model.model->predict(st.observation);
        Datum value = score_datum(*a, score);
        spi.finish();
        HeapTuple result = nullptr;
        pg_guard([&]() {
            int att = a->prediction.att;
            bool isnull = false;
            result = heap_modify_tuple_by_cols(row, desc, 1, &att, &value, &isnull);
        });
        return PointerGetDatum(result);
    }

    // Role::Log: an inserted row, or an update that changed the key or a feature, or brought a label.
    bool label_arrived = false;
    double y = 0;
    if (!a->label_name.empty()) {
        bool has_label = label_value(a->label, row, desc, y);
        label_arrived = has_label && (!is_update || column_is_null(a->label, old_tuple, desc));
    }
    bool rescore = !is_update;
    if (is_update) {
        rescore = !same_value(a->key, old_tuple, row, desc);
        for (size_t i = 0; i < a->features.size() && !rescore; i++)
            rescore = !same_value(a->features[i], old_tuple, row, desc);
        if (!label_arrived) rescore = true;  // the WHEN clause saw a change
    }
    text* key = key_text(a->key, row, desc, a->table_text);
    if (rescore) {
        read_features(*a, row, desc, values, true);
        fill_observation(*a, values, st.observation);
        Served served = served_variant(nsp, *a, text_view(key));
        double score = served.model.model->predict(st.observation);
        Jsonb* features = features_jsonb(*a, values);
        std::vector<Logged> logged;
        log_predictions(nsp, spi, *a, key, served, score, features, st.observation, logged);
        if (label_arrived) {
            spi.need();
            std::vector<int64> ids;
            for (const Logged& l : logged) {
                core::check_label(l.model.model->kind(), l.model.model->task(), core::Label::of_number(y));
                ids.push_back(l.id);
            }
            apply_label(nsp, *a, ids, y);
        }
    } else if (label_arrived) {
        spi.need();
        label_key(nsp, *a, key, y);
    }
    spi.finish();
    return PointerGetDatum(row);
}

// ---- ml_learn_pending ------------------------------------------------------------------------

int64 learn_pending(FunctionCallInfo fcinfo) {
    if (PG_ARGISNULL(1)) fail(ErrorKind::NullValue, "max_rows must not be NULL");
    const int32 max_rows = PG_GETARG_INT32(1);
    if (max_rows < 1) fail(ErrorKind::InvalidParameter, "max_rows must be at least 1", "got " + std::to_string(max_rows));
    std::string model;
    const bool one_model = !PG_ARGISNULL(0);
    if (one_model) model = text_of(PG_GETARG_DATUM(0));
    Oid nsp = InvalidOid;
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    pg_guard([&]() { nsp = get_func_namespace(fn_oid); });

    SpiAsOwner spi(nsp);
    pg_guard([&]() { check_schema(nsp); });
    if (one_model) {
        bool exists = false;
        spi_guard([&]() {
            Oid types[1] = {TEXTOID};
            Datum args[1] = {PointerGetDatum(cstring_to_text_with_len(model.data(), static_cast<int>(model.size())))};
            StringInfoData sql;
            initStringInfo(&sql);
            appendStringInfo(&sql, "SELECT 1 FROM %s.ml_model_names WHERE name OPERATOR(pg_catalog.=) $1",
                             extension_schema_quoted());
            int rc = SPI_execute_with_args(sql.data, 1, types, args, nullptr, true, 1);
            if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: registry look-up failed");
            exists = SPI_processed == 1;
        });
        if (!exists) pg_fail(ERRCODE_UNDEFINED_OBJECT, "model \"" + model.substr(0, 80) + "\" does not exist");
    }

    // The versions with queued labels.
    struct Version {
        std::string model;
        int32 version;
    };
    std::vector<Version> versions;
    uint64 n = 0;
    spi_guard([&]() {
        Oid types[1] = {TEXTOID};
        Datum args[1] = {one_model ? PointerGetDatum(cstring_to_text_with_len(model.data(), static_cast<int>(model.size())))
                                   : Datum(0)};
        char nulls[2] = {one_model ? ' ' : 'n', '\0'};
        int rc = SPI_execute_plan(plan(g_plans.pending,
                                       "SELECT q.model_name, q.version FROM %s.ml_label_queue q"
                                       " WHERE $1 IS NULL OR q.model_name OPERATOR(pg_catalog.=) $1"
                                       " GROUP BY q.model_name, q.version",
                                       1, types),
                                  args, nulls, true, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: reading ml_label_queue failed: %s", SPI_result_code_string(rc));
        n = SPI_processed;
    });
    SPITupleTable* vt = SPI_tuptable;
    for (uint64 i = 0; i < n; i++) {
        Datum d[2];
        bool dn[2];
        pg_guard([&]() {
            for (int j = 0; j < 2; j++) d[j] = SPI_getbinval(vt->vals[i], vt->tupdesc, j + 1, &dn[j]);
        });
        versions.push_back({text_of(d[0]), DatumGetInt32(d[1])});
    }
    std::sort(versions.begin(), versions.end(), [](const Version& x, const Version& y) {
        return x.model != y.model ? x.model < y.model : x.version < y.version;
    });

    int64 applied = 0;
    core::Observation& obs = state().observation;
    // Learns one version's queued labels (up to what max_rows leaves); returns how many.
    auto learn_version = [&](const Version& v) -> uint64 {
        // The version's row lock is the learners' lock: a version another transaction is learning
        // (ml_learn_pending, ml_learn, a sync label) is left for the next call, so learners never
        // wait for each other and cannot deadlock.
        LockedModel lm = registry_lock_version(nsp, v.model, v.version, true);
        if (!lm.locked) return 0;
        uint64 rows = 0;
        spi_guard([&]() {
            Oid types[3] = {TEXTOID, INT4OID, INT4OID};
            Datum args[3] = {PointerGetDatum(cstring_to_text_with_len(v.model.data(), static_cast<int>(v.model.size()))),
                             Int32GetDatum(v.version), Int32GetDatum(static_cast<int32>(max_rows - applied))};
            int rc = SPI_execute_plan(
                plan(g_plans.take,
                     "WITH d AS (DELETE FROM %s.ml_label_queue q WHERE q.prediction_id OPERATOR(pg_catalog.=) ANY (ARRAY("
                     "SELECT q2.prediction_id FROM %s.ml_label_queue q2"
                     " WHERE q2.model_name OPERATOR(pg_catalog.=) $1 AND q2.version OPERATOR(pg_catalog.=) $2"
                     " ORDER BY q2.prediction_id LIMIT $3))"
                     " RETURNING q.prediction_id, q.label),"
                     " u AS (UPDATE %s.ml_prediction_log l SET learned_at = pg_catalog.clock_timestamp() FROM d"
                     " WHERE l.prediction_id OPERATOR(pg_catalog.=) d.prediction_id"
                     " RETURNING l.prediction_id, l.features, d.label)"
                     " SELECT u.prediction_id, u.features, u.label FROM u ORDER BY u.prediction_id",
                     3, types),
                args, nullptr, false, 0);
            if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: taking queued labels failed: %s", SPI_result_code_string(rc));
            rows = SPI_processed;
        });
        if (rows == 0) return 0;  // taken by a learner that committed before our lock
        SPITupleTable* tt = SPI_tuptable;
        for (uint64 i = 0; i < rows; i++) {
            Datum d[3];
            bool dn[3];
            pg_guard([&]() {
                for (int j = 0; j < 3; j++) d[j] = SPI_getbinval(tt->vals[i], tt->tupdesc, j + 1, &dn[j]);
            });
            jsonb_features(d[1], obs);
            lm.model->learn(obs, core::Label::of_number(DatumGetFloat8(d[2])));
            if ((i & 255) == 255) pg_guard([]() { CHECK_FOR_INTERRUPTS(); });
        }
        registry_store(nsp, v.model, v.version, std::move(lm.model), rows);
        return rows;
    };
    for (const Version& v : versions) {
        if (applied >= max_rows) break;
        if (one_model) {  // one model: its error is the caller's
            applied += static_cast<int64>(learn_version(v));
            continue;
        }
        // Every model: each version in a subtransaction of its own, so that one that cannot
        // learn (its weights diverge) is reported and skipped, its labels left queued, and the
        // others still learn. Cancellation and transaction-level failures stop the call.
        MemoryContext cxt = CurrentMemoryContext;
        ResourceOwner owner = CurrentResourceOwner;
        pg_guard([&]() {
            BeginInternalSubTransaction(nullptr);
            MemoryContextSwitchTo(cxt);
        });
        std::string failure, failure_detail;
        try {
            uint64 n = learn_version(v);
            pg_guard([&]() {
                ReleaseCurrentSubTransaction();
                MemoryContextSwitchTo(cxt);
                CurrentResourceOwner = owner;
            });
            applied += static_cast<int64>(n);
            continue;
        } catch (const PgError& e) {
            int code = e.edata() ? e.edata()->sqlerrcode : ERRCODE_INTERNAL_ERROR;
            if (code == ERRCODE_QUERY_CANCELED || code == ERRCODE_T_R_SERIALIZATION_FAILURE ||
                code == ERRCODE_T_R_DEADLOCK_DETECTED || code == ERRCODE_ADMIN_SHUTDOWN)
                throw;
            failure = e.what();  // copied before the rollback frees the error's memory
            if (e.edata() && e.edata()->detail) failure_detail = e.edata()->detail;
        } catch (const core::Error& e) {
            failure = e.what();
            failure_detail = e.detail();
        }
        const std::string what = "model \"" + v.model + "\" version " + std::to_string(v.version);
        pg_guard([&]() {
            RollbackAndReleaseCurrentSubTransaction();
            MemoryContextSwitchTo(cxt);
            CurrentResourceOwner = owner;
            ereport(WARNING, (errmsg("ml_learn_pending: %s did not learn: %s", what.c_str(), failure.c_str()),
                              failure_detail.empty() ? 0 : errdetail("%s", failure_detail.c_str()),
                              errhint("Its labels stay queued; the other models learned theirs.")));
        });
    }
    spi.finish();
    return applied;
}

}  // namespace

}  // namespace pg_learn::pg

using namespace pg_learn::pg;

PGL_FUNCTION(ml_feedback_trigger) { return trigger(fcinfo); }

PGL_FUNCTION(ml_learn_pending) { return Int64GetDatum(learn_pending(fcinfo)); }

PGL_FUNCTION(ml_route_fraction) {
    std::string model = text_of(PG_GETARG_DATUM(0));
    std::string key = text_of(PG_GETARG_DATUM(1));
    return Float8GetDatum(pg_learn::core::route_fraction(model, key));
}

// Every change of ml_attachments or ml_rollouts: a relcache invalidation of ml_attachments, which
// every backend receives when the transaction commits (and this one at once, or at its abort),
// and which empties the attachment caches.
PGL_FUNCTION(ml_feedback_invalidate) {
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    pg_guard([&]() {
        Oid nsp = get_func_namespace(fn_oid);
        Oid rel = get_relname_relid("ml_attachments", nsp);
        if (OidIsValid(rel)) CacheInvalidateRelcacheByRelid(rel);
    });
    fcinfo->isnull = true;
    return Datum(0);
}

// sql_drop: forgets the attachments of dropped tables (as the extension's owner). Does nothing
// while the extension itself is being dropped.
PGL_FUNCTION(ml_feedback_on_drop) {
    if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
        pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_on_drop is an event trigger function");
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    Oid nsp = InvalidOid;
    bool present = false;
    pg_guard([&]() {
        nsp = get_func_namespace(fn_oid);
        present = OidIsValid(nsp) && OidIsValid(get_relname_relid("ml_attachments", nsp)) &&
                  OidIsValid(get_relname_relid("ml_models", nsp));
    });
    if (!present) return Datum(0);
    SpiAsOwner spi(nsp);
    spi_guard([&]() {
        int rc = SPI_execute(psprintf("SELECT %s._ml_forget_dropped()", extension_schema_quoted()), false, 0);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: forgetting dropped tables failed: %s", SPI_result_code_string(rc));
    });
    spi.finish();
    return Datum(0);
}

// ml_attach, ml_detach, ml_rollout, ml_rollout_remove: each runs its private _ml_<name> function
// with the same arguments plus the caller's role name, as the owner of the extension's tables.
PGL_FUNCTION(ml_feedback_write) {
    if (!fcinfo->flinfo) fail(ErrorKind::Internal, "pg_learn functions must be called through the function manager");
    const Oid fn_oid = fcinfo->flinfo->fn_oid;
    Oid nsp = InvalidOid;
    Oid* argtypes = nullptr;
    int nargs = 0;
    NameData actor;
    char proname[NAMEDATALEN];
    pg_guard([&]() {
        char* p = get_func_name(fn_oid);
        if (!p || (strcmp(p, "ml_attach") != 0 && strcmp(p, "ml_detach") != 0 && strcmp(p, "ml_rollout") != 0 &&
                   strcmp(p, "ml_rollout_remove") != 0))
            elog(ERROR, "pg_learn: ml_feedback_write called as %s", p ? p : "?");
        strlcpy(proname, p, sizeof proname);
        nsp = get_func_namespace(fn_oid);
        get_func_signature(fn_oid, &argtypes, &nargs);
        if (nargs != fcinfo->nargs) elog(ERROR, "pg_learn: %s called with %d arguments", p, fcinfo->nargs);
        namestrcpy(&actor, GetUserNameFromId(GetUserId(), false));
    });
    SpiAsOwner spi(nsp);
    spi_guard([&]() {
        check_schema(nsp);
        SPIPlanPtr p = nullptr;
        for (auto& w : g_plans.writes)
            if (w.fn == fn_oid) p = w.plan;
        if (!p) {
            StringInfoData sql;
            initStringInfo(&sql);
            appendStringInfo(&sql, "SELECT %s._%s(", extension_schema_quoted(), proname);
            Oid* types = static_cast<Oid*>(palloc(sizeof(Oid) * (nargs + 1)));
            for (int i = 0; i <= nargs; i++) {
                appendStringInfo(&sql, "%s$%d", i ? ", " : "", i + 1);
                types[i] = i < nargs ? argtypes[i] : NAMEOID;
            }
            appendStringInfoChar(&sql, ')');
            p = keep_plan(sql.data, nargs + 1, types);
            g_plans.writes.push_back({fn_oid, p});
        }
        Datum* values = static_cast<Datum*>(palloc(sizeof(Datum) * (nargs + 1)));
        char* nulls = static_cast<char*>(palloc(nargs + 2));
        for (int i = 0; i < nargs; i++) {
            values[i] = fcinfo->args[i].value;
            nulls[i] = fcinfo->args[i].isnull ? 'n' : ' ';
        }
        values[nargs] = NameGetDatum(&actor);
        nulls[nargs] = ' ';
        nulls[nargs + 1] = '\0';
        int rc = SPI_execute_plan(p, values, nulls, false, 1);
        if (rc != SPI_OK_SELECT) elog(ERROR, "pg_learn: %s failed: %s", proname, SPI_result_code_string(rc));
    });
    spi.finish();
    fcinfo->isnull = true;
    return Datum(0);
}
