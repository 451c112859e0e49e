// The attachments: loaded from ml_attachments and ml_rollouts, resolved against the tables, cached per backend.
#include "pg/feedback/feedback.hpp"

extern "C" {
#include "access/genam.h"
#include "access/stratnum.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_namespace.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "catalog/partition.h"
}

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

// ---- column kinds ----------------------------------------------------------------------------


// Plain PostgreSQL code (syscache look-ups): call under pg_guard.
Kind kind_of(Oid type, Oid* output_fn) {
    Oid fn = InvalidOid;
    const Kind k = column_kind(type, fn);
    if (output_fn && k == Kind::Enum) *output_fn = fn;
    // Timestamps are features only of the models that read them, which an attachment does not
    // know when it resolves its table: not a feature, label or key kind here (as before).
    if (is_timestamp_kind(k)) return Kind::Unsupported;
    return k;
}


State* g_state = nullptr;
Oid g_nsp = InvalidOid;
Oid g_log_rel = InvalidOid;
Oid g_log_seq = InvalidOid;
bool g_log_partitioned = false;
Plans g_plans;

namespace {

Oid g_attachments_rel = InvalidOid;
char g_nsp_name[NAMEDATALEN];

}  // namespace


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
                           [relid](const AttachmentPtr& p) {
                               return p->rel == relid || p->trigger_rel == relid || p->label_rel == relid ||
                                      p->label_resolved_rel == relid;
                           }),
            a.end());
    auto& l = g_state->label_tables;
    l.erase(std::remove_if(l.begin(), l.end(),
                           [relid](const LabelTable& t) {
                               return std::find(t.sources.begin(), t.sources.end(), relid) != t.sources.end();
                           }),
            l.end());
}

State& state() {
    if (g_state) return *g_state;
    pg_guard([]() { CacheRegisterRelcacheCallback(on_relcache, Datum(0)); });
    g_state = new State();  // lives as long as the backend
    return *g_state;
}

// Plain PostgreSQL code from here to the end of the section.

void free_plans() {
    SPIPlanPtr* all[] = {&g_plans.attachment, &g_plans.rollouts,    &g_plans.label_tables,
                         &g_plans.log,        &g_plans.find,        &g_plans.label_queue,
                         &g_plans.find_recent, &g_plans.find_all,   &g_plans.find_at,
                         &g_plans.log_window, &g_plans.sync_take_part, &g_plans.take_part,
                         &g_plans.sync_versions, &g_plans.sync_take,
                         &g_plans.pending,    &g_plans.take,       &g_plans.reject};
    for (SPIPlanPtr* p : all)
        if (*p) {
            SPI_freeplan(*p);
            *p = nullptr;
        }
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
        g_log_partitioned = get_rel_relkind(g_log_rel) == RELKIND_PARTITIONED_TABLE;
    } else {
        // ml_partition_log replaces the log by a partitioned table of the same name.
        Oid log = get_relname_relid("ml_prediction_log", nsp);
        if (OidIsValid(log) && log != g_log_rel) {
            g_log_rel = log;
            g_log_seq = getIdentitySequence(g_log_rel, 1, false);
            g_log_partitioned = get_rel_relkind(g_log_rel) == RELKIND_PARTITIONED_TABLE;
        }
    }
}

// ---- small helpers ---------------------------------------------------------------------------

std::string text_of(Datum d) {
    auto* t = reinterpret_cast<struct varlena*>(DatumGetPointer(d));
    struct varlena* p = nullptr;
    pg_guard([&]() { p = pg_detoast_datum_packed(t); });
    return std::string(VARDATA_ANY(p), VARSIZE_ANY_EXHDR(p));
}

namespace {


// jsonb key order: shorter first, then bytewise (what jsonb itself sorts object keys by).
bool jsonb_key_less(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return a.size() < b.size();
    return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

}  // namespace

// ---- Citus ------------------------------------------------------------------------------------

void refuse_citus_table(Oid rel) {
    bool listed = false;
    pg_guard([&]() {
        // Found as to_regclass('pg_dist_partition') finds it: no SQL of the extension names it,
        // which must install and run without Citus.
        RangeVar* rv = makeRangeVar(nullptr, pstrdup("pg_dist_partition"), -1);
        const Oid dist = RangeVarGetRelid(rv, AccessShareLock, true);
        if (!OidIsValid(dist) || get_rel_relkind(dist) != RELKIND_RELATION) return;
        const AttrNumber att = get_attnum(dist, "logicalrelid");
        if (att == InvalidAttrNumber || get_atttype(dist, att) != REGCLASSOID) return;  // not Citus's
        // Citus's is in pg_catalog, readable by all; another is read only if the caller may.
        if (get_rel_namespace(dist) != PG_CATALOG_NAMESPACE &&
            pg_class_aclcheck(dist, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
            return;
        // Read without SQL (no planner, executor, rules or policies), as Citus reads its own
        // metadata: whatever the caller's search path found, no code of anyone's runs here.
        Relation r = table_open(dist, NoLock);
        if (r->rd_rel->relam == HEAP_TABLE_AM_OID) {
            ScanKeyData key;
            ScanKeyInit(&key, att, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(rel));
            // The statement's snapshot: a row the transaction added before this call counts.
            Snapshot snapshot = ActiveSnapshotSet() ? GetActiveSnapshot() : nullptr;
            SysScanDesc scan = systable_beginscan(r, InvalidOid, false, snapshot, 1, &key);
            listed = HeapTupleIsValid(systable_getnext(scan));
            systable_endscan(scan);
        }
        table_close(r, NoLock);
    });
    if (!listed) return;
    std::string table;
    pg_guard([&]() { table = DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(rel))); });
    pg_fail(ERRCODE_FEATURE_NOT_SUPPORTED, "cannot attach table " + table + ": it is distributed by Citus",
            "It is listed in pg_dist_partition: its rows live in shards on the worker nodes, whose triggers would "
            "find no attachment in the workers' pg_learn tables and would score, log and learn nothing.",
            "Score its rows in queries with the model as a value, which Citus sends to the workers with the "
            "query: ml_predict_one((SELECT ml_get('name')), to_jsonb(t)) (docs/citus.md).");
}

// ---- loading an attachment -------------------------------------------------------------------

// Reads the attachment of table rel (nullptr when there is none) and its rollouts. SPI connected
// as the owner.
AttachmentPtr load_attachment(Oid rel) {
    auto a = std::make_shared<Attachment>();
    a->rel = rel;
    a->trigger_rel = rel;
    bool found = false;
    // Text out of SPI first, C++ objects after.
    Datum vals[13];
    bool nulls[13];
    spi_guard([&]() {
        Oid types[1] = {REGCLASSOID};
        Datum args[1] = {ObjectIdGetDatum(rel)};
        found = spi_run(
            schema_plan(g_plans.attachment,
                 "SELECT model_name, alias, key_column::text, prediction_column::text, label_column::text, features,"
                 " label_table::oid, label_key_column::text, label_value_column::text, mode, probability_column::text,"
                 " learn, explain"
                 " FROM %s.ml_attachments WHERE table_name OPERATOR(pg_catalog.=) $1",
                 1, types),
            args, nullptr, true, 1, SPI_OK_SELECT, "reading ml_attachments") == 1;
        if (!found) return;
        for (int i = 0; i < 13; i++) vals[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
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
    if (!nulls[10]) a->probability_name = text_of(vals[10]);
    a->learn = nulls[11] || DatumGetBool(vals[11]);
    a->explain = !nulls[12] && DatumGetBool(vals[12]);

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
        n = spi_run(
            schema_plan(g_plans.rollouts,
                 "SELECT alias, role OPERATOR(pg_catalog.=) 'shadow', share FROM %s.ml_rollouts"
                 " WHERE model_name OPERATOR(pg_catalog.=) $1",
                 1, types),
            args, nullptr, true, 0, SPI_OK_SELECT, "reading ml_rollouts");
    });
    for (uint64 i = 0; i < n; i++) {
        Datum d[3];
        bool dn[3];
        spi_row(SPI_tuptable, i, 3, d, dn);
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
            c.collation = att->attcollation;
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
    resolve_equality(a.key);
    if (!a.prediction_name.empty()) {
        if (!find_column(desc, a.prediction_name, a.prediction))
            fail_column(a, "prediction", a.prediction_name, a.table_text);
        Oid fn = InvalidOid;
        pg_guard([&]() {
            a.prediction.kind = kind_of(a.prediction.type, &fn);
            a.prediction_base_typmod = a.prediction.typmod;
            a.prediction_base = getBaseTypeAndTypmod(a.prediction.type, &a.prediction_base_typmod);
        });
        // (text: a multiclass model's class, a clustering model's cluster)
        if (a.prediction.kind != Kind::Float8 && a.prediction.kind != Kind::Float4 && a.prediction.kind != Kind::Numeric &&
            a.prediction.kind != Kind::Text)
            pg_fail(ERRCODE_DATATYPE_MISMATCH, "prediction column \"" + a.prediction_name + "\" of table " +
                                                   a.table_text + " is not float8, float4 or numeric");
    }
    if (!a.probability_name.empty()) {
        if (!find_column(desc, a.probability_name, a.probability))
            fail_column(a, "probability", a.probability_name, a.table_text);
        Oid fn = InvalidOid;
        pg_guard([&]() {
            a.probability.kind = kind_of(a.probability.type, &fn);
            a.probability_base_typmod = a.probability.typmod;
            a.probability_base = getBaseTypeAndTypmod(a.probability.type, &a.probability_base_typmod);
        });
        if (a.probability.kind != Kind::Float8 && a.probability.kind != Kind::Float4 && a.probability.kind != Kind::Numeric)
            pg_fail(ERRCODE_DATATYPE_MISMATCH, "probability column \"" + a.probability_name + "\" of table " +
                                                   a.table_text + " is not float8, float4 or numeric");
    }
    if (!a.label_name.empty()) {
        if (!find_column(desc, a.label_name, a.label)) fail_column(a, "label", a.label_name, a.table_text);
        pg_guard([&]() { a.label.kind = kind_of(a.label.type, &a.label.output_fn); });
        if (!is_number(a.label.kind) && a.label.kind != Kind::Bool && !is_category(a.label.kind))
            pg_fail(ERRCODE_DATATYPE_MISMATCH,
                    "label column \"" + a.label_name + "\" of table " + a.table_text + " is not numeric, boolean or text");
    }
    a.features.clear();
    a.timestamp_feature.clear();
    for (const std::string& f : a.feature_names) {
        Column c;
        if (!find_column(desc, f, c)) fail_column(a, "feature", f, a.table_text);
        // (a timestamp feature is read as seconds by a version that reads timestamps, and
        // refused by the others: check_reads_timestamps)
        pg_guard([&]() {
            Oid fn = InvalidOid;
            c.kind = column_kind(c.type, fn);
            if (c.kind == Kind::Enum) c.output_fn = fn;
        });
        if (is_timestamp_kind(c.kind) && a.timestamp_feature.empty()) a.timestamp_feature = f;
        if (c.kind == Kind::Unsupported) {
            Oid type = c.type;
            std::string tn;
            pg_guard([&]() { tn = format_type_be(type); });
            pg_fail(ERRCODE_DATATYPE_MISMATCH, "column \"" + f + "\" has type " + tn + ", which cannot be a feature",
                    "The table " + a.table_text + " is attached to model \"" + a.model + "\".");
        }
        resolve_equality(c);
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
        a.label_value.kind = kind_of(a.label_value.type, &a.label_value.output_fn);
    });
    if (!is_number(a.label_value.kind) && a.label_value.kind != Kind::Bool && !is_category(a.label_value.kind))
        pg_fail(ERRCODE_DATATYPE_MISMATCH,
                "label value column \"" + a.label_value_name + "\" of table " + t + " is not numeric, boolean or text");
    a.label_resolved = true;
    a.label_resolved_rel = RelationGetRelid(rel);
}

namespace {

// rel and, when it is a partition, its ancestors (parent first). Plain PostgreSQL code.
std::vector<Oid> self_and_ancestors(Oid rel) {
    std::vector<Oid> out{rel};
    pg_guard([&]() {
        if (!get_rel_relispartition(rel)) return;
        List* anc = get_partition_ancestors(rel);
        ListCell* lc;
        foreach (lc, anc) out.push_back(lfirst_oid(lc));
        list_free(anc);
    });
    return out;
}

}  // namespace

// The attachment of table rel from the cache, or loaded (SPI connected as the owner). A
// partition of an attached table (whose triggers are clones of the attached table's) gets a copy
// of its ancestor's attachment, resolved against the partition's own descriptor.
AttachmentPtr attachment(LazySpi& spi, Oid rel) {
    State& s = state();
    for (const AttachmentPtr& a : s.attachments)
        if (a->trigger_rel == rel) return a;
    spi.need();
    AttachmentPtr a = load_attachment(rel);
    if (!a) {
        const std::vector<Oid> chain = self_and_ancestors(rel);
        for (size_t i = 1; i < chain.size() && !a; i++) a = load_attachment(chain[i]);
        if (!a) return nullptr;
        a->trigger_rel = rel;
    }
    s.attachments.push_back(a);
    return a;
}

// The tables a labels table labels (SPI connected as the owner). The trigger of a partitioned
// labels table fires on its partitions: a partition labels what it and its ancestors label.
LabelTable labelled_by(LazySpi& spi, Oid label_rel) {
    State& s = state();
    for (const LabelTable& t : s.label_tables)
        if (t.rel == label_rel) return t;
    spi.need();
    LabelTable t;
    t.rel = label_rel;
    t.sources = self_and_ancestors(label_rel);
    for (Oid source : t.sources) {
        uint64 n = 0;
        spi_guard([&]() {
            Oid types[1] = {REGCLASSOID};
            Datum args[1] = {ObjectIdGetDatum(source)};
            n = spi_run(schema_plan(g_plans.label_tables,
                                    "SELECT table_name::oid FROM %s.ml_attachments"
                                    " WHERE label_table OPERATOR(pg_catalog.=) $1",
                                    1, types),
                        args, nullptr, true, 0, SPI_OK_SELECT, "reading ml_attachments");
        });
        for (uint64 i = 0; i < n; i++) {
            bool isnull = false;
            Datum d = 0;
            pg_guard([&]() { d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull); });
            t.attached.push_back(DatumGetObjectId(d));
        }
    }
    std::sort(t.attached.begin(), t.attached.end());
    t.attached.erase(std::unique(t.attached.begin(), t.attached.end()), t.attached.end());
    s.label_tables.push_back(t);
    return t;
}

}  // namespace pg_learn::pg::feedback
