-- pg_learn 0.2.0, part 22: evaluation (issue 16): deterministic splits, progressive validation
-- and k-fold cross-validation of any model kind (docs/evaluation.md).

-- ---------------------------------------------------------------------------------------------
-- Splits. A key's fold or side is a function of the key and the seed only: the type's extended
-- hash (its hash operator class's support function 2: hashtextextended, hashint8extended, ...)
-- read as u = hash / 2^64 in [0, 1). Stable across runs, inserts and servers of one PostgreSQL
-- major version.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_fold(key anyelement, folds int, seed bigint DEFAULT 0) RETURNS int
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_fold(anyelement, int, bigint) IS
    'The fold (1..folds) of a key: 1 + floor(folds * u), u the key''s extended hash with the seed / 2^64';
CREATE FUNCTION ml_split(key anyelement, test_fraction float8 DEFAULT 0.2, seed bigint DEFAULT 0) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_split(anyelement, float8, bigint) IS
    '''test'' when u < test_fraction, else ''train'' (u the key''s extended hash with the seed / 2^64)';

-- A split in time: 'train' before test_from - gap, 'test' from test_from on, 'gap' in between.
-- (timestamptz minus an interval of days depends on the time zone: STABLE.)
CREATE FUNCTION ml_time_split(at timestamptz, test_from timestamptz, gap interval DEFAULT '0') RETURNS text
    AS 'MODULE_PATHNAME', 'ml_time_split_timestamptz' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_time_split(at timestamp, test_from timestamp, gap interval DEFAULT '0') RETURNS text
    AS 'MODULE_PATHNAME', 'ml_time_split_timestamp' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION ml_time_split(at float8, test_from float8, gap float8 DEFAULT 0) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_time_split_float8' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_time_split(timestamptz, timestamptz, interval) IS
    '''train'' before test_from - gap, ''test'' from test_from on, ''gap'' in between';

-- ---------------------------------------------------------------------------------------------
-- Progressive validation (river's progressive_val_score): the query's rows (features, label[,
-- time]) in its order, each predicted by the model as it is, then learned once its label is
-- revealed. A row of metrics every `every` rows (or per time bucket), then the overall rows.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_progressive_validate(model ml_model, query text, metrics text[] DEFAULT NULL,
                                        every bigint DEFAULT 1000, delay bigint DEFAULT 0,
                                        delay_time interval DEFAULT NULL, bucket interval DEFAULT NULL)
    RETURNS TABLE (step bigint, "time" timestamptz, n bigint, metric text, value float8, cumulative float8)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 20;
COMMENT ON FUNCTION ml_progressive_validate(ml_model, text, text[], bigint, bigint, interval, interval) IS
    'Progressive validation (predict, then learn, row by row, with an optional label delay): metrics per step and overall';

-- ---------------------------------------------------------------------------------------------
-- k-fold cross-validation: the query's rows (features, label[, key]) in folds by the key's hash
-- (ml_fold(key, folds, seed); without a key, the row's position 1, 2, ... in the query), a model
-- trained on the other folds scores each fold. Rows per fold, then per metric the mean and sample
-- standard deviation over the folds (fold NULL).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_cross_validate(model ml_model, query text, folds int DEFAULT 5, metrics text[] DEFAULT NULL,
                                  epochs int DEFAULT 1, shuffle boolean DEFAULT true, seed bigint DEFAULT 0)
    RETURNS TABLE (fold int, metric text, value float8, sd float8, n_train bigint, n_test bigint)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 24;
COMMENT ON FUNCTION ml_cross_validate(ml_model, text, int, text[], int, boolean, bigint) IS
    'k-fold cross-validation: each fold scored by a model trained on the others; per fold, then mean and sd (fold NULL)';

-- ---------------------------------------------------------------------------------------------
-- Comparison (issue 16 item 7): several models of one task scored on one query (features, label);
-- each metric per model with a bootstrap percentile interval, and for every model but the first
-- the paired difference to the first, its interval and a two-sided bootstrap p-value (the
-- resamples are shared: paired).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_compare(models ml_model[], query text, metrics text[] DEFAULT NULL, resamples int DEFAULT 1000,
                           confidence float8 DEFAULT 0.95, seed bigint DEFAULT 0)
    RETURNS TABLE (model int, metric text, value float8, lower float8, upper float8,
                   difference float8, diff_lower float8, diff_upper float8, p_value float8)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 12;
COMMENT ON FUNCTION ml_compare(ml_model[], text, text[], int, float8, bigint) IS
    'Models side by side on one query: each metric with a bootstrap interval, the paired difference to the first model and its p-value';

-- ---------------------------------------------------------------------------------------------
-- Hyperparameter search (issue 16 item 4): trials of the base spec with values from the space
-- (grid: every combination of the listed values; random: draws), each evaluated on a holdout split
-- by the key's hash (ml_split) or by k-fold cross-validation (ml_fold), as BigQuery ML's
-- ML.TRIAL_INFO lists them. A failed trial is a row, not an error. register: the best trial's
-- spec learns every row and is registered under that name (docs/evaluation.md, "Search").
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_search(base jsonb, space jsonb, query text, method text DEFAULT 'grid', metric text DEFAULT NULL,
                          folds int DEFAULT NULL, test_fraction float8 DEFAULT 0.2, trials int DEFAULT NULL,
                          seconds float8 DEFAULT NULL, epochs int DEFAULT 1, seed bigint DEFAULT 0,
                          register text DEFAULT NULL)
    RETURNS TABLE (trial int, spec jsonb, params jsonb, status text, value float8, sd float8, metrics jsonb,
                   duration float8, is_best boolean, message text)
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 20;
COMMENT ON FUNCTION ml_search(jsonb, jsonb, text, text, text, int, float8, int, float8, int, bigint, text) IS
    'Hyperparameter search (grid or random) evaluated on a holdout split or by cross-validation: one row per trial';
