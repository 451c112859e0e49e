// Shared by the files of the feedback glue (docs/feedback.md): attachments and their columns, the
// backend's caches and plans, and the routines one file calls in another.
#pragma once

#include "pg/common/features.hpp"
#include "pg/common/row_columns.hpp"
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

namespace pg_learn::pg::feedback {

// ---- column kinds ----------------------------------------------------------------------------

// How a column's value becomes a feature (as ml_predict reads a row), a label or a score: the
// glue's one rule (row_columns.hpp).
using Kind = ColumnKind;

inline bool is_number(Kind k) { return k >= Kind::Int2 && k <= Kind::Numeric; }
inline bool is_category(Kind k) { return k >= Kind::Text && k <= Kind::Enum; }


// Plain PostgreSQL code (syscache look-ups): call under pg_guard.
Kind kind_of(Oid type, Oid* output_fn);

struct Column {
    std::string name;
    AttrNumber att = 0;
    Kind kind = Kind::Unsupported;
    Oid type = InvalidOid;       // as declared (a domain stays a domain)
    int32 typmod = -1;
    Oid output_fn = InvalidOid;  // enums and keys of other types: the type's output function
    int16 typlen = 0;
    bool typbyval = false;
    Oid collation = InvalidOid;  // the column's
    // The function of the "=" that a trigger's WHEN clause (key IS DISTINCT FROM ...) resolved for
    // this type, for distinct_value; InvalidOid: none found (the images are compared instead).
    // Set for the key and the features by resolve_table.
    Oid eq_fn = InvalidOid;
};

// ---- the attachments, cached per backend ------------------------------------------------------

// One row of ml_attachments with its rollouts, and its columns resolved against the table's
// descriptor. Shared: a trigger call holds its own reference, so an invalidation arriving in the
// middle of the call (any lock or catalog access may process one) only drops the cache's.
struct Attachment {
    Oid rel = InvalidOid;  // the attached table (a partitioned table's predictions are logged under it)
    // The relation whose descriptor the columns are resolved against: rel, or a partition of rel
    // (whose triggers are clones of rel's: each partition has its own copy, its attnums may differ).
    Oid trigger_rel = InvalidOid;
    Oid label_resolved_rel = InvalidOid;  // the labels table (or partition of it) label_key/value are resolved against
    std::string table_text;  // for messages
    std::string model, alias;
    bool sync = false;
    // learn => false: labels are logged for monitoring only, never queued (monitor-only).
    bool learn = true;
    // explain => true: each logged prediction carries its explanation (issue 16 item 6).
    bool explain = false;
    std::string key_name, prediction_name, label_name, probability_name;
    std::vector<std::string> feature_names;
    Oid label_rel = InvalidOid;
    std::string label_key_name, label_value_name;
    std::vector<std::string> challengers;  // by alias, bytewise: consecutive slices of [0, 1)
    std::vector<double> shares;
    std::vector<std::string> shadows;

    // Against the attached table's descriptor (triggers on the table).
    bool resolved = false;
    Column key, prediction, label, probability;
    std::vector<Column> features;  // in jsonb key order (length, then bytes): as logged
    // A feature is a timestamp, timestamptz or date column (seconds since 1970, for a version
    // that reads timestamps: check_reads_timestamps); "" when none.
    std::string timestamp_feature;
    Oid prediction_base = InvalidOid;  // (and typmod) of the prediction and probability columns' domains
    int32 prediction_base_typmod = -1;
    Oid probability_base = InvalidOid;
    int32 probability_base_typmod = -1;

    // Against the labels table's descriptor (its trigger).
    bool label_resolved = false;
    Column label_key, label_value;
};
using AttachmentPtr = std::shared_ptr<Attachment>;

struct LabelTable {
    Oid rel = InvalidOid;       // the table the label trigger fired on (a partition: its clone's)
    std::vector<Oid> attached;  // the tables it labels
    std::vector<Oid> sources;   // rel and its ancestors: the attachments' label_table is one of them
};

// The last labelled row deleted from a partition of an attached table with a label column (its
// pg_learn_log_delete trigger): an UPDATE that moves a row to another partition fires the AFTER
// DELETE of the old row and then the AFTER INSERT of the new one, adjacent, in the same command;
// the INSERT then knows the label it carries has arrived already.
struct MovedRow {
    LocalTransactionId lxid = InvalidLocalTransactionId;
    CommandId cid = InvalidCommandId;  // the command that deleted it (its cmax)
    Oid rel = InvalidOid;  // the attached table
    std::string key;
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
    std::vector<double> probabilities;
    core::FeatureCheck check, shadow_check;  // feature mismatches of a logged prediction
    MovedRow moved;
};


// The backend's attachment caches (registers their invalidation on first use).
State& state();

// The schema the plans were made for, and the tables whose invalidation empties the cache.
extern Oid g_nsp;
extern Oid g_log_rel;  // ml_prediction_log
extern Oid g_log_seq;  // its identity sequence
extern bool g_log_partitioned;  // ml_partition_log made it a partitioned table

// ---- prepared plans --------------------------------------------------------------------------

struct Plans {
    SPIPlanPtr attachment = nullptr;
    SPIPlanPtr rollouts = nullptr;
    SPIPlanPtr label_tables = nullptr;
    SPIPlanPtr log = nullptr;
    SPIPlanPtr find = nullptr;
    SPIPlanPtr find_recent = nullptr;  // a partitioned log: the latest served prediction, recent partitions first
    SPIPlanPtr find_all = nullptr;     // a partitioned log: the same in every partition
    SPIPlanPtr find_at = nullptr;      // a partitioned log: that scoring's predictions, in its partition
    SPIPlanPtr log_window = nullptr;
    SPIPlanPtr label_queue = nullptr;
    SPIPlanPtr sync_versions = nullptr;
    SPIPlanPtr sync_take = nullptr;
    SPIPlanPtr sync_take_part = nullptr;  // (a partitioned log)
    SPIPlanPtr take_part = nullptr;
    SPIPlanPtr pending = nullptr;
    SPIPlanPtr take = nullptr;
    SPIPlanPtr reject = nullptr;
    SPIPlanPtr label_only = nullptr;    // a monitor-only label: the log's UPDATE without a queue row
    SPIPlanPtr version_model = nullptr;  // version_learns' cache miss
};
extern Plans g_plans;

// Checks that the plans and the cache are for schema nsp and the ml_attachments there (DROP and
// CREATE EXTENSION in one session make new ones, and so does renaming the schema). Plain
// PostgreSQL code.
void check_schema(Oid nsp);

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

// ---- attachments (attachments.cpp) -----------------------------------------------------------

std::string text_of(Datum d);
std::string relation_text(Relation rel);
// Against the attached table's descriptor, and against the labels table's.
void resolve_table(Attachment& a, Relation rel);
void resolve_label_table(Attachment& a, Relation rel);
// The attachment of table rel from the cache, or loaded (SPI connected as the owner); nullptr when none.
AttachmentPtr attachment(LazySpi& spi, Oid rel);
// ml_attach of a table Citus distributes (listed in pg_dist_partition) is refused (0A000): its rows
// live in shards on the workers, whose triggers would find no attachment and score nothing. The
// catalog is found by the caller's search path (pg_catalog, where Citus keeps it, comes first; a
// table elsewhere counts if the caller may read it) and read without SQL, so that no code runs;
// without it (no Citus), one failed name lookup and nothing else.
void refuse_citus_table(Oid rel);
// The tables a labels table (or a partition of one) labels (SPI connected as the owner).
LabelTable labelled_by(LazySpi& spi, Oid label_rel);

// ---- variants (routing.cpp) -------------------------------------------------------------------

// The model deployed under (name, alias) for the current statement. A copy (the model is shared).
DeployedModel statement_model(Oid nsp, const std::string& name, const std::string& alias);

struct Served {
    const std::string* alias;
    DeployedModel model;
};
// The variant that serves a key: a challenger whose slice holds the key's place, or the champion.
Served served_variant(Oid nsp, const Attachment& a, std::string_view key);

// One model's prediction of a row, by its task: a number (regression value, probability of a
// binary classifier's class 1, anomaly score), or a multiclass model's most probable class with
// its probability as the score (both NULL before the model knows a class) and every class's
// probability, or a clustering model's cluster (score NULL, no probabilities).
struct Prediction {
    bool multiclass = false;  // a name (class or cluster): core::predicts_name(task)
    bool score_null = false;
    double score = 0;
    bool class_null = true;
    Datum predicted_class = 0;  // text
    Datum probabilities = 0;    // jsonb {class: probability}, with with_probabilities
};
Prediction predict_row(const core::Model& model, const core::Observation& obs, bool with_probabilities);

// ---- reading a row (rows.cpp) -----------------------------------------------------------------

// One feature's value as plain data (pointers into the tuple or palloc'd memory).
struct Value {
    bool isnull;
    double num;       // numbers and booleans
    const char* str;  // categories
    int len;
    Datum jnum;       // numbers: the jsonb numeric (0 when not wanted or not finite)
};

// Reads the features of a row (in jsonb key order) into values; with json, also the numerics the

// Reads the features of a row (in jsonb key order) into values; with json, also the numerics the
// log's jsonb will hold.
void read_features(const Attachment& a, HeapTuple tuple, TupleDesc desc, std::vector<Value>& values, bool json);
// The observation the model scores: the features in jsonb key order, as the log's jsonb reads back.
void fill_observation(const Attachment& a, const std::vector<Value>& values, core::Observation& obs);
// A version that does not read timestamps (Model::reads_timestamps) cannot score a table with a
// timestamp feature: 42804 naming the column (ml_attach and ml_deploy refuse it before; this is
// the backstop of a version deployed otherwise, or a column altered since).
void check_reads_timestamps(const Attachment& a, const core::Model& m, const std::string& alias, int32_t version);
Jsonb* features_jsonb(const Attachment& a, const std::vector<Value>& values);
// The key of a row as text; a NULL key is 23502.
text* key_text(const Column& key, HeapTuple tuple, TupleDesc desc, const std::string& table);
inline std::string_view text_view(const text* t) { return {VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)}; }
// A label column's value (a number, a boolean or a class name borrowing the tuple's memory);
// false when NULL.
bool label_value(const Column& c, HeapTuple tuple, TupleDesc desc, core::Label& y);
bool column_is_null(const Column& c, HeapTuple tuple, TupleDesc desc);
bool same_value(const Column& c, HeapTuple a, HeapTuple b, TupleDesc desc);
// a.c IS DISTINCT FROM b.c, as a WHEN clause tests it: NULLs are not distinct from each other,
// values are compared with the type's "=" (c.eq_fn) under the column's collation.
bool distinct_value(const Column& c, HeapTuple a, HeapTuple b, TupleDesc desc);
// The "=" a WHEN clause comparing two values of c's type would call (c.eq_fn).
void resolve_equality(Column& c);

// ---- the prediction log (prediction_log.cpp) ---------------------------------------------------

struct Logged {
    int64 id;
    DeployedModel model;
    TimestampTz at;  // predicted_at (the partition key of a partitioned log)
};
// Installs the hook that drops the log writer's relation references before a utility statement
// (from _PG_init; prediction_log.cpp, "DDL on the log").
void log_writer_init();
// Logs the served prediction and every shadow's (SPI connected as the owner).
// check: the served prediction's feature mismatches (each shadow's are checked here).
void log_predictions(Oid nsp, LazySpi& spi, const Attachment& a, text* key, Served served, const Prediction& served_pred,
                     const core::FeatureCheck& check, Jsonb* features, const core::Observation& obs,
                     std::vector<Logged>& logged);

// ---- labels (labels.cpp) ----------------------------------------------------------------------

// A label y for predictions of one version of a model of task `task` (kind: for messages):
// checked with the core's rule (a label the version cannot learn fails the labelling statement)
// and added to `ids` (predictions whose label is a number) or `class_ids` (a class: multiclass).
struct LabelBatch {
    std::vector<int64> ids, class_ids;
    // Monitor-only labels (an attachment with learn => false, or a version that cannot learn:
    // core::Model::can_learn): the log row gets its label, no queue row is made.
    std::vector<int64> monitor_ids, monitor_class_ids;
    // The predictions' predicted_at: those of one scoring (served and shadows) share it. A
    // partitioned log's UPDATE then reads one partition instead of probing each (issue 12).
    TimestampTz predicted_at = 0;
    // learns: the label is queued for the version to learn; false: logged for monitoring only.
    void add(int64 id, std::string_view kind, core::Task task, const core::Label& y, bool learns);
};
// Whether labels of version `version` of model `name` are learned: the version can learn
// (core::Model::can_learn, cached per backend by the version's created_at). SPI connected as the
// owner on a cache miss (one decode per version and backend).
bool version_learns(const std::string& name, int32 version, TimestampTz created_at);
// Gives label y to the predictions of the batch (unlabelled ones only: a label is set once) and
// queues it. SPI connected as the owner.
void apply_label(Oid nsp, const Attachment& a, const LabelBatch& batch, const core::Label& y);
// A label that arrived for a key: joined to the latest served prediction of that key and its shadows'.
void label_key(Oid nsp, const Attachment& a, text* key, const core::Label& y);
// Whether every trigger of rel firing for `event` (TRIGGER_TYPE_INSERT or _UPDATE) may fire from a
// direct write (a foreign-key check, the log's monitoring trigger): else writes go through SPI.
bool own_triggers_only(Relation rel, int16 event, Oid nsp);
bool is_monitor_trigger(const Trigger& t, Oid nsp);

// ---- learning (learning.cpp) ------------------------------------------------------------------

// Sync mode: the transaction queued sync labels; they are learned just before it commits.
void sync_queued(Oid nsp);
// ml_learn_pending(model, max_rows).
int64 learn_pending(FunctionCallInfo fcinfo);

// ---- the trigger (trigger.cpp) ----------------------------------------------------------------

Datum trigger(FunctionCallInfo fcinfo);

}  // namespace pg_learn::pg::feedback
