-- pg_learn 0.1.0, part 50 (TEMPORARY STUB for developing part 60): the prediction log and label
-- queue exactly as /work/notes/issue4_contract.md declares them. Helper B1 owns the real part 50
-- (50_feedback.sql); this file is deleted when wt-B1 is merged (both creating the tables is an
-- error, so the merge cannot keep both by accident).
CREATE TABLE @extschema@.ml_prediction_log (
    prediction_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_name    text        NOT NULL,
    version       int         NOT NULL,
    variant       text        NOT NULL,
    served        boolean     NOT NULL,
    table_name    regclass,
    key           text        NOT NULL,
    predicted_at  timestamptz NOT NULL,
    score         float8,
    features      jsonb       NOT NULL,
    label         float8,
    labeled_at    timestamptz,
    learned_at    timestamptz,
    CHECK ((label IS NULL) = (labeled_at IS NULL)),
    CHECK (learned_at IS NULL OR label IS NOT NULL)
);
CREATE INDEX ON @extschema@.ml_prediction_log (model_name, predicted_at);
CREATE INDEX ON @extschema@.ml_prediction_log (table_name, key);

CREATE TABLE @extschema@.ml_label_queue (
    prediction_id bigint      PRIMARY KEY REFERENCES @extschema@.ml_prediction_log,
    model_name    text        NOT NULL,
    version       int         NOT NULL,
    label         float8      NOT NULL,
    queued_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    FOREIGN KEY (model_name, version) REFERENCES @extschema@.ml_models (name, version)
);
CREATE INDEX ml_label_queue_version ON @extschema@.ml_label_queue (model_name, version, prediction_id);
REVOKE ALL ON TABLE @extschema@.ml_prediction_log, @extschema@.ml_label_queue FROM PUBLIC;
