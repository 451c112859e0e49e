-- pg_learn 0.2.0, part 35: drift between a baseline and a current window (ml_drift,
-- ml_drift_pvalue, ml_drift_detail over ml_stats).

-- ---------------------------------------------------------------------------------------------
-- Drift of one feature, computed on the two ml_stats' sketches. docs/statistics.md, "Drift between
-- a baseline and a current window". Methods (case-insensitive): auto (js for numeric, linf for
-- categorical statistics), psi, js (jensen_shannon), ks (kolmogorov_smirnov), wasserstein (emd),
-- linf (l_infinity). Statistics of different kinds, a method of the other kind or an unknown
-- method are errors (22023); a side without values (no row, only NULLs, only NaN) gives NULL.
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_drift(baseline ml_stats, current ml_stats, method text DEFAULT 'auto') RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_drift(ml_stats, ml_stats, text) IS
    'Drift of current against baseline: psi, js, ks, wasserstein (numeric), linf, psi, js (categorical); auto = js / linf';

CREATE FUNCTION ml_drift_pvalue(baseline ml_stats, current ml_stats) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_drift_pvalue(ml_stats, ml_stats) IS
    'Asymptotic two-sided p-value of the Kolmogorov-Smirnov statistic (numeric statistics)';

CREATE FUNCTION ml_drift_detail(baseline ml_stats, current ml_stats, method text DEFAULT 'auto',
                                bins int DEFAULT 10) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION ml_drift_detail(ml_stats, ml_stats, text, int) IS
    'The drift measure with its method, interval [lower, upper], counts, and bins (psi, js, linf), p-value (ks) or W1 (wasserstein)';

-- ---------------------------------------------------------------------------------------------
-- Drift report and anomalies between two profiles (a baseline, e.g. the training data's, and a
-- current window). docs/statistics.md, "Drift report" and "Anomalies". Options are a jsonb
-- object, checked strictly (unknown keys, wrong types, out-of-range values: 22023).
-- ---------------------------------------------------------------------------------------------
CREATE FUNCTION ml_drift_report(baseline ml_profile, current ml_profile, options jsonb DEFAULT '{}')
    RETURNS TABLE (feature text, kind text, method text, value float8, lower float8, upper float8,
                   pvalue float8, warn_threshold float8, alert_threshold float8, status text,
                   drifted boolean, baseline_count bigint, current_count bigint)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION ml_drift_report(ml_profile, ml_profile, jsonb) IS
    'Per feature: drift method, value with its interval, thresholds, status (ok, warn, alert, no_data) and counts';

CREATE FUNCTION ml_anomalies(baseline ml_profile, current ml_profile, options jsonb DEFAULT '{}')
    RETURNS TABLE (feature text, anomaly text, severity text, description text, count bigint, detail jsonb)
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION ml_anomalies(ml_profile, ml_profile, jsonb) IS
    'Anomalies of current against the baseline''s schema, named as TFDV names them, with counts';
