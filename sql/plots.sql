-- Charts as SVG documents from SQL (docs/plots.md): ROC, precision-recall and calibration curves
-- of metric states, histograms of ml_stats, drift of two profiles, series over time; every
-- document is well-formed XML (xml_is_well_formed_document) and says what it shows; empty,
-- one-class, NaN and single-point inputs draw a chart that says so; a state of the wrong kind
-- is refused.
CREATE SCHEMA plots;
SET search_path = plots, public;

-- user did: draw the ROC, precision-recall and calibration curves of four scored rows
-- (sklearn: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.75).
CREATE TABLE scored AS SELECT * FROM (VALUES (0.1, false), (0.4, false), (0.35, true), (0.8, true)) v(score, label);
CREATE TABLE charts AS
SELECT 'roc' AS chart, ml_plot_roc(ml_binary_state(score, label)) AS svg FROM scored
UNION ALL SELECT 'pr', ml_plot_pr(ml_binary_state(score, label)) FROM scored
UNION ALL SELECT 'calibration', ml_plot_calibration(ml_binary_state(score, label)) FROM scored
UNION ALL SELECT 'calibration 2 bins', ml_plot_calibration(ml_binary_state(score, label), 2) FROM scored;
SELECT chart, xml_is_well_formed_document(svg) AS well_formed, left(svg, 40) AS starts,
       substring(svg FROM '<title>([^<]*)</title>') AS title,
       substring(svg FROM 'font-size="16" font-weight="bold" fill="#222">[^<]*</text>\s*<text[^>]*>([^<]*)</text>') AS note,
       svg LIKE '%width="600" height="400"%' AS size_600_400,
       (length(svg) - length(replace(svg, '<path', ''))) / 5 AS paths
FROM charts ORDER BY chart;

-- user did: draw a chart of one class only, of no row, and of a regression state (the wrong kind).
SELECT substring(ml_plot_roc(ml_binary_state(score, true)) FROM '>(no curve[^<]*)<') AS one_class FROM scored;
SELECT substring(ml_plot_pr(ml_binary_state(score, label)) FROM '>(no data[^<]*)<') AS no_rows FROM scored WHERE false;
SELECT substring(ml_plot_drift(NULL, ml_profile(jsonb_build_object('s', score)), 's') FROM '>(no data[^<]*)<') AS no_baseline FROM scored;
\set VERBOSITY sqlstate
SELECT ml_plot_roc(ml_regression_state(score, score)) FROM scored;
SELECT ml_plot_calibration(ml_binary_state(score, label), 0) FROM scored;
\set VERBOSITY default
SELECT ml_plot_roc(ml_regression_state(score, score)) FROM scored;

-- user did: draw the histogram of a column with NaN, an infinity and NULLs; and of text values.
CREATE TABLE amounts AS
SELECT (i % 10)::float8 AS x FROM generate_series(0, 99) i
UNION ALL VALUES ('NaN'::float8), ('Infinity'), (NULL), (NULL);
SELECT xml_is_well_formed_document(h) AS well_formed,
       substring(h FROM '>([0-9,]+ values[^<]*)<') AS note,
       (length(h) - length(replace(h, 'fill-opacity="0.85"/>', ''))) / length('fill-opacity="0.85"/>') AS bars
FROM (SELECT ml_plot_histogram(ml_stats(x), 5) AS h FROM amounts) s;
SELECT substring(ml_plot_histogram(ml_stats(c)) FROM '<title>([^<]*)</title>') AS title,
       substring(ml_plot_histogram(ml_stats(c)) FROM '>([0-9,]+ values[^<]*)<') AS note
FROM (SELECT (ARRAY['north', 'south', 'south'])[1 + i % 3] AS c FROM generate_series(0, 29) i) s;
SELECT substring(ml_plot_histogram(ml_stats(x)) FROM '>(no data[^<]*)<') AS empty FROM amounts WHERE false;
\set VERBOSITY sqlstate
SELECT ml_plot_histogram(ml_stats(x), 0) FROM amounts;
\set VERBOSITY default

-- user did: overlay a feature of a baseline profile and a current one (the bins drift is measured
-- on): a numeric feature shifted by half its range, a categorical one with a new value.
CREATE TABLE profiles AS
SELECT (SELECT ml_profile(jsonb_build_object('amount', i % 100, 'channel', CASE WHEN i % 4 = 0 THEN 'store' ELSE 'web' END))
        FROM generate_series(0, 399) i) AS baseline,
       (SELECT ml_profile(jsonb_build_object('amount', 50 + i % 100, 'channel', CASE WHEN i % 2 = 0 THEN 'app' ELSE 'web' END))
        FROM generate_series(0, 399) i) AS current;
SELECT f, xml_is_well_formed_document(svg) AS well_formed, substring(svg FROM '<title>([^<]*)</title>') AS title,
       (length(svg) - length(replace(svg, 'fill-opacity="0.85"/>', ''))) / length('fill-opacity="0.85"/>') AS bars,
       svg LIKE '%>baseline</text>%' AND svg LIKE '%>current</text>%' AS legend
FROM profiles, LATERAL (VALUES ('amount'), ('channel')) v(f), LATERAL (SELECT ml_plot_drift(baseline, current, f) AS svg) p
ORDER BY f;
SELECT substring(ml_plot_drift(baseline, current, 'nope') FROM '>(no data[^<]*)<') AS missing FROM profiles;
-- user did: overlay the statistics of one column on two sides (ml_stats), and two of different kinds.
SELECT xml_is_well_formed_document(s) AS well_formed, substring(s FROM '<title>([^<]*)</title>') AS title,
       (length(s) - length(replace(s, 'fill-opacity="0.85"/>', ''))) / length('fill-opacity="0.85"/>') AS bars
FROM (SELECT ml_plot_drift((SELECT ml_stats(i % 100) FROM generate_series(0, 399) i),
                           (SELECT ml_stats(50 + i % 100) FROM generate_series(0, 399) i)) AS s) x;
\set VERBOSITY sqlstate
SELECT ml_plot_drift((SELECT ml_stats(1.0::float8)), (SELECT ml_stats('a'::text)));
\set VERBOSITY default

-- user did: plot metrics over time, one line per metric, with and without a title; one point;
-- a NULL value; no rows; too many series.
CREATE TABLE daily AS
SELECT timestamptz '2026-03-01 00:00:00+00' + d * interval '1 day' AS time, m AS metric,
       CASE m WHEN 'auc' THEN 0.8 + d / 100.0 ELSE 0.7 END AS value
FROM generate_series(0, 8) d, (VALUES ('auc'), ('accuracy')) v(m);
SELECT xml_is_well_formed_document(s) AS well_formed, substring(s FROM '<title>([^<]*)</title>') AS title,
       s LIKE '%>auc</text>%' AND s LIKE '%>accuracy</text>%' AS legend, s ~ '>2026-03-0[1-9]</text>' AS date_ticks
FROM (SELECT ml_plot_series(time, value, metric, 'Quality of fraud') AS s FROM daily) x;
SELECT substring(ml_plot_series(time, value, metric) FROM '<title>([^<]*)</title>') AS default_title FROM daily;
SELECT ml_plot_series(time, value, metric) LIKE '%<circle%' AS one_point_drawn FROM daily WHERE time = '2026-03-01 00:00:00+00' AND metric = 'auc';
SELECT substring(ml_plot_series(time, CASE WHEN time = '2026-03-02 00:00:00+00' THEN NULL ELSE value END, metric)
                 FROM '>([^<]*not finite[^<]*)<') AS null_value FROM daily WHERE metric = 'auc';
SELECT substring(ml_plot_series(time, value, metric) FROM '>(no data[^<]*)<') AS no_rows FROM daily WHERE false;
\set VERBOSITY sqlstate
SELECT ml_plot_series(time, value, metric || d) FROM daily, generate_series(1, 6) d;
\set VERBOSITY default

DROP SCHEMA plots CASCADE;
RESET search_path;
