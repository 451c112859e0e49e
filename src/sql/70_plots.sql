-- Charts as SVG documents (docs/plots.md): each function returns a self-contained SVG (text) with
-- axes, ticks, labels, a legend and a title, 600 x 400; an empty or one-class input, and a NULL
-- state (an aggregate over no row), draw a chart that says so.

CREATE FUNCTION ml_plot_roc(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_roc' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_roc(ml_metric_state) IS
    'The ROC curve of a ranking state (scores and boolean labels) as an SVG document, with its AUC';
CREATE FUNCTION ml_plot_pr(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_pr' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_pr(ml_metric_state) IS
    'The precision-recall curve of a ranking state as an SVG document, with the positive rate';
CREATE FUNCTION ml_plot_calibration(state ml_metric_state) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_calibration' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION ml_plot_calibration(state ml_metric_state, bins int) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_calibration' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_calibration(ml_metric_state) IS
    'The reliability curve of a ranking state of probabilities (10 bins) or of a calibration state, as an SVG document';
COMMENT ON FUNCTION ml_plot_calibration(ml_metric_state, int) IS
    'The reliability curve of a ranking state of probabilities in the given number of bins, as an SVG document';
CREATE FUNCTION ml_plot_histogram(stats ml_stats, bins int DEFAULT 20) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_histogram' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_histogram(ml_stats, int) IS
    'Equal-width bins of the finite values (categorical statistics: the most frequent values) as an SVG bar chart; NaN, infinite and NULL counts in its note';
CREATE FUNCTION ml_plot_drift(baseline ml_profile, current ml_profile, feature text) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_drift' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_drift(ml_profile, ml_profile, text) IS
    'A feature of two profiles overlaid, in the bins its drift is measured on (numeric: the baseline''s quantile bins; categorical: the values listed and "other"), as an SVG bar chart';
CREATE FUNCTION ml_plot_drift(baseline ml_stats, current ml_stats) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_drift_stats' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION ml_plot_drift(ml_stats, ml_stats) IS
    'The statistics of one column on two sides overlaid, in the bins its drift is measured on, as an SVG bar chart';

CREATE FUNCTION _ml_plot_series_transition(internal, timestamptz, float8, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_plot_series_transition' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION _ml_plot_series_transition(internal, timestamptz, float8, text, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'ml_plot_series_transition' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION _ml_plot_series_final(internal) RETURNS text
    AS 'MODULE_PATHNAME', 'ml_plot_series_final' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE ml_plot_series(t timestamptz, value float8, series text) (
    SFUNC = _ml_plot_series_transition, STYPE = internal, FINALFUNC = _ml_plot_series_final
);
CREATE AGGREGATE ml_plot_series(t timestamptz, value float8, series text, title text) (
    SFUNC = _ml_plot_series_transition, STYPE = internal, FINALFUNC = _ml_plot_series_final
);
COMMENT ON AGGREGATE ml_plot_series(timestamptz, float8, text) IS
    'A metric over time, one line per series (at most 10), as an SVG document';
COMMENT ON AGGREGATE ml_plot_series(timestamptz, float8, text, text) IS
    'A metric over time, one line per series (at most 10), with a title, as an SVG document';
