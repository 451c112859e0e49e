// The trigger of an attached table (score, log) and of a labels table (label).
#include "pg/feedback/feedback.hpp"

#include "pg/common/feature_check.hpp"

extern "C" {
#include "catalog/pg_am.h"
}

using pg_learn::core::ErrorKind;
using pg_learn::core::fail;

namespace pg_learn::pg::feedback {

namespace {

// A number as a value of a float column's type (float8, float4, numeric, or a domain over one):
// the prediction column, or a multiclass model's probability column.
Datum number_datum(const Column& c, Oid base, int32 base_typmod, double v) {
    Datum result = 0;
    pg_guard([&]() {
        switch (base) {
            case FLOAT8OID: result = Float8GetDatum(v); break;
            case FLOAT4OID: result = DirectFunctionCall1(dtof, Float8GetDatum(v)); break;
            case NUMERICOID:
                result = DirectFunctionCall1(float8_numeric, Float8GetDatum(v));
                if (base_typmod >= 0) result = DirectFunctionCall2(numeric, result, Int32GetDatum(base_typmod));
                break;
            default: elog(ERROR, "pg_learn: %s column of type %u", c.name.c_str(), base);
        }
        if (base != c.type) domain_check(result, false, c.type, nullptr, CurrentMemoryContext);
    });
    return result;
}

// A model's prediction into the row: the prediction column (a number, or a multiclass model's
// class or a clustering model's cluster into a text column) and the probability column. The column must suit the task of the
// version serving now (ml_attach checked the champion of the time; a later deploy may differ).
HeapTuple write_prediction(const Attachment& a, const Served& served, const Prediction& p, HeapTuple row,
                           TupleDesc desc) {
    const bool text_column = a.prediction.kind == Kind::Text;
    if (p.multiclass != text_column) {
        const core::Model& m = *served.model.model;
        pg_fail(ERRCODE_DATATYPE_MISMATCH,
                "prediction column \"" + a.prediction.name + "\" of table " + a.table_text + " cannot hold the prediction of model \"" +
                    a.model + "\" version " + std::to_string(served.model.version),
                std::string("The version is ") + core::task_name(m.task()) + ": its prediction is " +
                    (!p.multiclass                    ? "a number (float8, float4 or numeric)."
                     : core::is_classifier(m.task()) ? "a class (text)."
                                                     : "a cluster (text)."),
                "Detach the table and attach it again with a prediction column of that type.");
    }
    Datum values[2];
    bool nulls[2] = {false, false};
    int atts[2] = {a.prediction.att, a.probability.att};
    int n = 1;
    if (!p.multiclass) {
        values[0] = number_datum(a.prediction, a.prediction_base, a.prediction_base_typmod, p.score);
    } else {
        nulls[0] = p.class_null;
        values[0] = p.predicted_class;
        if (!p.class_null && a.prediction_base == VARCHAROID && a.prediction_base_typmod >= 0)
            pg_guard([&]() {  // varchar(n): as an assignment would, a longer class is an error
                values[0] = DirectFunctionCall3(varchar, values[0], Int32GetDatum(a.prediction_base_typmod), BoolGetDatum(false));
            });
        if (!a.probability_name.empty()) {
            n = 2;
            nulls[1] = p.score_null;
            if (!p.score_null) values[1] = number_datum(a.probability, a.probability_base, a.probability_base_typmod, p.score);
        }
    }
    HeapTuple result = nullptr;
    pg_guard([&]() { result = heap_modify_tuple_by_cols(row, desc, n, atts, values, nulls); });
    return result;
}

// The command that inserted (cmin) or deleted (cmax) a heap tuple of this transaction; false when
// the tuple is not such a tuple (another table access method, another transaction).
bool own_command(Relation rel, HeapTuple tuple, bool deleted, CommandId& cid) {
    bool ok = false;
    pg_guard([&]() {
        if (rel->rd_rel->relam != HEAP_TABLE_AM_OID || !tuple || !tuple->t_data) return;
        HeapTupleHeader h = tuple->t_data;
        if (h->t_infomask & HEAP_MOVED) return;
        if (deleted) {
            if (h->t_infomask & HEAP_XMAX_INVALID) return;
            if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetUpdateXid(h))) return;
            cid = HeapTupleHeaderGetCmax(h);
        } else {
            if (!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(h))) return;
            cid = HeapTupleHeaderGetCmin(h);
        }
        ok = true;
    });
    return ok;
}

// Whether an UPDATE of the attached table's row is the log trigger's business: the key or a
// feature changed (IS DISTINCT FROM), or a label arrived (NULL -> a value). Until 0.2.0 this was
// pg_learn_log_update's WHEN clause; a WHEN clause is prepared again by every statement that
// fires it (~67k instructions, as much as the rest of a label's work), so ml_attach now creates
// the trigger without it and the test is made here, with the same result for every row.
bool log_update_fires(const Attachment& a, HeapTuple old_tuple, HeapTuple row, TupleDesc desc) {
    if (!a.label_name.empty() && column_is_null(a.label, old_tuple, desc) && !column_is_null(a.label, row, desc))
        return true;
    if (distinct_value(a.key, old_tuple, row, desc)) return true;
    for (const Column& f : a.features)
        if (distinct_value(f, old_tuple, row, desc)) return true;
    return false;
}

}  // namespace

// ---- the trigger -----------------------------------------------------------------------------

enum class Role { Score, Log, Label, Move };

Datum trigger(FunctionCallInfo fcinfo) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_trigger is a trigger function",
                {}, "ml_attach installs it; it cannot be called directly.");
    auto* td = reinterpret_cast<TriggerData*>(fcinfo->context);
    TriggerEvent ev = td->tg_event;
    MemoryContext caller_cxt = CurrentMemoryContext;  // before any SPI_connect
    if (!TRIGGER_FIRED_FOR_ROW(ev) || td->tg_trigger->tgnargs != 1)
        pg_fail(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED, "_ml_feedback_trigger must be a row trigger installed by ml_attach");
    const std::string role_name = td->tg_trigger->tgargs[0];
    Role role;
    if (role_name == "score" && TRIGGER_FIRED_BEFORE(ev) && !TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Score;
    else if (role_name == "log" && TRIGGER_FIRED_AFTER(ev) && !TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Log;
    else if (role_name == "label" && TRIGGER_FIRED_AFTER(ev) && !TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Label;
    else if (role_name == "move" && TRIGGER_FIRED_AFTER(ev) && TRIGGER_FIRED_BY_DELETE(ev)) role = Role::Move;
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
        // (a partition of a partitioned labels table: its own descriptor, its ancestors' attachments)
        const LabelTable lt = labelled_by(spi, relid);
        for (Oid t : lt.attached) {
            AttachmentPtr a = attachment(spi, t);
            if (!a || std::find(lt.sources.begin(), lt.sources.end(), a->label_rel) == lt.sources.end()) continue;
            if (!a->label_resolved || a->label_resolved_rel != relid) resolve_label_table(*a, rel);
            core::Label y;
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
    if (role == Role::Log && is_update && !log_update_fires(*a, old_tuple, row, desc)) {
        spi.finish();
        return PointerGetDatum(row);
    }
    std::vector<Value> values;

    if (role == Role::Move) {
        // A labelled row deleted from a partition (WHEN OLD.label IS NOT NULL): remembered until
        // the next row is logged, in case it is the same row moving to another partition.
        MovedRow& m = st.moved;
        m.lxid = InvalidLocalTransactionId;
        CommandId cid = InvalidCommandId;
        if (!a->label_name.empty() && !column_is_null(a->label, row, desc) && own_command(rel, row, true, cid)) {
            text* key = key_text(a->key, row, desc, a->table_text);
            m.key.assign(text_view(key));
            m.rel = a->rel;
            m.cid = cid;
            m.lxid = MyProc->lxid;
        }
        spi.finish();
        return PointerGetDatum(row);
    }

    if (role == Role::Score) {
        if (a->prediction_name.empty()) {
            spi.finish();
            return PointerGetDatum(row);
        }
        read_features(*a, row, desc, values, false);
        fill_observation(*a, values, st.observation);
        text* key = key_text(a->key, row, desc, a->table_text);
        Served served = served_variant(nsp, *a, text_view(key));
        check_reads_timestamps(*a, *served.model.model, *served.alias, served.model.version);
        Prediction p = predict_row(*served.model.model, st.observation, false);
        // The returned row in the executor's context: made while SPI is connected (a cache miss of
        // served_variant), it would be in SPI's procedure context, which spi.finish() frees before
        // the executor copies the row (a use after free that scripts/test --sanitize found).
        MemoryContext spi_cxt = MemoryContextSwitchTo(caller_cxt);
        HeapTuple result = write_prediction(*a, served, p, row, desc);
        MemoryContextSwitchTo(spi_cxt);
        spi.finish();
        return PointerGetDatum(result);
    }

    // Role::Log: an inserted row, or an update that changed the key or a feature, or brought a label.
    bool label_arrived = false;
    core::Label y;
    if (!a->label_name.empty()) {
        bool has_label = label_value(a->label, row, desc, y);
        label_arrived = has_label && (!is_update || column_is_null(a->label, old_tuple, desc));
    }
    bool rescore = !is_update;
    if (is_update) {
        rescore = !same_value(a->key, old_tuple, row, desc);
        for (size_t i = 0; i < a->features.size() && !rescore; i++)
            rescore = !same_value(a->features[i], old_tuple, row, desc);
        if (!label_arrived) rescore = true;  // log_update_fires saw a change
    }
    text* key = key_text(a->key, row, desc, a->table_text);
    if (!is_update && st.moved.lxid != InvalidLocalTransactionId) {
        // The INSERT half of an UPDATE that moved a labelled row to another partition (the
        // DELETE half fired just before, in the same command, for the same key): the row is
        // logged again, as inserted there, but its label arrived already and is not learned twice.
        MovedRow& m = st.moved;
        CommandId cid = InvalidCommandId;
        if (label_arrived && m.lxid == MyProc->lxid && m.rel == a->rel && own_command(rel, row, false, cid) &&
            cid == m.cid && m.key == text_view(key))
            label_arrived = false;
        m.lxid = InvalidLocalTransactionId;
    }
    if (rescore) {
        read_features(*a, row, desc, values, true);
        fill_observation(*a, values, st.observation);
        Served served = served_variant(nsp, *a, text_view(key));
        check_reads_timestamps(*a, *served.model.model, *served.alias, served.model.version);
        Prediction p = predict_row(*served.model.model, st.observation, true);
        // Feature mismatches: counted in the log, and warned about or refused as the settings say
        // (here, once per row: the BEFORE trigger that wrote the prediction column does not).
        served.model.model->check_features(st.observation, st.check);
        report_feature_check(*served.model.model, st.check, st.observation);
        Jsonb* features = features_jsonb(*a, values);
        std::vector<Logged> logged;
        log_predictions(nsp, spi, *a, key, served, p, st.check, features, st.observation, logged);
        if (label_arrived) {
            spi.need();
            LabelBatch batch;
            // (a version that cannot learn, or learn => false: the label is logged for monitoring only)
            for (const Logged& l : logged)
                batch.add(l.id, l.model.model->kind(), l.model.model->task(), y, a->learn && l.model.model->can_learn());
            if (!logged.empty()) batch.predicted_at = logged.front().at;
            apply_label(nsp, *a, batch, y);
        }
    } else if (label_arrived) {
        spi.need();
        label_key(nsp, *a, key, y);
    }
    spi.finish();
    return PointerGetDatum(row);
}

}  // namespace pg_learn::pg::feedback
