-- ml_report('name'): one self-contained HTML page about a model (docs/report.md): its versions,
-- deployments and rollouts, metrics over time, the ROC and calibration curves of the latest
-- labelled window, the feature drift table with a chart per feature, data-quality anomalies, and
-- label delay and queue health. Inline CSS and SVG (ml_plot_*); no script, no network fetch.

-- Text made safe in HTML (element content and quoted attributes).
CREATE FUNCTION @extschema@._ml_html(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT replace(replace(replace(replace(replace(coalesce(t, ''), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                           '"', '&quot;'), '''', '&#39;')
$$;

-- An HTML table of a query's rows: the query's columns in order, each value as text (NULL empty).
CREATE FUNCTION @extschema@._ml_html_table(q text, empty_text text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    head text;
    body text;
    first_row json;
BEGIN
    -- One run of the query: the rows, and the first row (its column names make the header).
    EXECUTE format('SELECT string_agg(''<tr>'' || (SELECT string_agg(''<td>'' || @extschema@._ml_html(e.value) || ''</td>'', '''' ORDER BY e.n)
                                                 FROM json_each_text(r.j) WITH ORDINALITY e(key, value, n)) || ''</tr>'', E''\n''),
                           (array_agg(r.j))[1]
                    FROM (SELECT row_to_json(q) AS j FROM (%s) q) r', q)
        INTO body, first_row;
    IF body IS NULL THEN
        RETURN '<p class="empty">' || @extschema@._ml_html(empty_text) || '</p>';
    END IF;
    SELECT string_agg('<th>' || @extschema@._ml_html(e.key) || '</th>', '' ORDER BY e.n)
    FROM json_each_text(first_row) WITH ORDINALITY e(key, value, n)
    INTO head;
    RETURN '<table><thead><tr>' || head || '</tr></thead><tbody>' || E'\n' || body || E'\n</tbody></table>';
END
$$;

CREATE FUNCTION @extschema@.ml_report(name text) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m text := name;
    h text;
    svg text;
    w record;
    f record;
    task text;
    n int;
    qual text[] := ARRAY['auc', 'accuracy', 'logloss', 'macro_f1', 'mae', 'rmse', 'r2'];
BEGIN
    IF m IS NULL THEN
        RAISE EXCEPTION 'model name must not be NULL' USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_model_names x WHERE x.name = m) THEN
        RAISE EXCEPTION 'model "%" does not exist', m USING ERRCODE = 'undefined_object',
              HINT = 'ml_models lists the registered models.';
    END IF;
    SELECT x.task INTO task FROM @extschema@.ml_models x WHERE x.name = m ORDER BY x.version DESC LIMIT 1;

    h := '<!DOCTYPE html>' || E'\n' || '<html lang="en"><head><meta charset="utf-8"/>'
         || '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
         || '<title>pg_learn report: ' || @extschema@._ml_html(m) || '</title>' || E'\n'
         || '<style>'
         || 'body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:24px auto;max-width:1260px;color:#222;background:#fafafa}'
         || 'h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}'
         || 'h3{font-size:15px;margin:16px 0 6px}p.meta{color:#666;margin:0 0 16px}p.empty{color:#777;font-style:italic}'
         || 'table{border-collapse:collapse;margin:6px 0 12px;font-size:13px;background:#fff}'
         || 'th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f0f0f0}'
         || '.charts{display:flex;flex-wrap:wrap;gap:12px}.charts svg{border:1px solid #ddd;background:#fff}'
         || '.status-alert{color:#c00;font-weight:bold}.status-warn{color:#c60}.status-ok{color:#070}'
         || '</style></head><body>' || E'\n'
         || '<h1>Model ' || @extschema@._ml_html(m) || '</h1>'
         || '<p class="meta">' || @extschema@._ml_html(coalesce(task, '') || ' model; report of '
                                                      || to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
                                                      || ', pg_learn '
                                                      || (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'pg_learn'))
         || '</p>' || E'\n';

    -- 1. Versions, deployments and rollouts.
    h := h || '<h2 id="versions">Versions</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT version, array_to_string(aliases, '', '') AS aliases, kind, n_seen, parent_version,
                        to_char(created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS created_utc, notes
                 FROM @extschema@.ml_versions(%L) ORDER BY version DESC', m), 'No version.')
         || '<h2 id="deployments">Deployments and rollouts</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT r.alias, r.role, r.share, a.version,
                        to_char(r.created_at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS since_utc
                 FROM @extschema@.ml_rollouts r JOIN @extschema@.ml_aliases a ON a.name = r.model_name AND a.alias = r.alias
                 WHERE r.model_name = %L ORDER BY r.alias', m), 'No rollout in progress (no challenger or shadow).')
         || '<h3>History</h3>'
         || @extschema@._ml_html_table(format(
                'SELECT event, to_char(at AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS at_utc, action, alias,
                        from_version, to_version, actor
                 FROM @extschema@.ml_history(%L) ORDER BY event DESC LIMIT 50', m), 'No event.');

    -- 2. Metrics over time.
    h := h || '<h2 id="metrics">Metrics over time</h2>';
    IF NOT EXISTS (SELECT 1 FROM @extschema@.ml_monitor_windows x WHERE x.model_name = m) THEN
        h := h || '<p class="empty">No monitoring data yet: attach the model to a table (ml_attach), '
               || 'let it score rows and run ml_monitor_refresh().</p>';
    ELSE
        h := h || '<div class="charts">';
        SELECT @extschema@.ml_plot_series(x.time, x.value, x.version || '/' || x.variant || ' ' || x.metric, 'Quality by version and variant')
          INTO svg FROM @extschema@.ml_model_metrics x
         WHERE x.model = m AND x.metric = ANY (qual)
           AND (x.version, x.variant) IN (SELECT y.version, y.variant FROM @extschema@.ml_model_metrics y
                                          WHERE y.model = m AND y.metric = 'predictions'
                                          GROUP BY 1, 2 ORDER BY max(y.time) DESC LIMIT 3);
        h := h || svg;
        SELECT @extschema@.ml_plot_series(x.time, x.value, x.version || '/' || x.variant || ' ' || x.metric, 'Predictions and labels')
          INTO svg FROM @extschema@.ml_model_metrics x
         WHERE x.model = m AND x.metric IN ('predictions', 'labels')
           AND (x.version, x.variant) IN (SELECT y.version, y.variant FROM @extschema@.ml_model_metrics y
                                          WHERE y.model = m AND y.metric = 'predictions'
                                          GROUP BY 1, 2 ORDER BY max(y.time) DESC LIMIT 4);
        h := h || svg || '</div>';
    END IF;

    -- 3. The latest window with labels: ROC and calibration (binary classifiers).
    h := h || '<h2 id="latest">Latest labelled window</h2>';
    SELECT x.bucket, x.version, x.variant, x.metric_state, x.unit_scores, x.labels INTO w
    FROM @extschema@.ml_monitor_windows x
    WHERE x.model_name = m AND x.labels > 0 AND x.metric_state IS NOT NULL
    ORDER BY x.bucket DESC, x.labels DESC LIMIT 1;
    IF NOT FOUND THEN
        h := h || '<p class="empty">No labelled window yet.</p>';
    ELSE
        h := h || '<p>' || @extschema@._ml_html(format('Window of %s UTC, version %s, variant %s: %s labels.',
                                                      to_char(w.bucket AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
                                                      w.version, w.variant, w.labels)) || '</p>';
        IF @extschema@.ml_metric_kind(w.metric_state) = 'ranking' THEN
            h := h || '<div class="charts">' || @extschema@.ml_plot_roc(w.metric_state)
                   || CASE WHEN w.unit_scores THEN @extschema@.ml_plot_calibration(w.metric_state) ELSE '' END
                   || '</div>';
        ELSE
            h := h || @extschema@._ml_html_table(format(
                          'SELECT metric, round(value::numeric, 4) AS value FROM @extschema@.ml_model_metrics
                           WHERE model = %L AND time = %L AND version = %L AND variant = %L AND metric = ANY (%L)',
                          m, w.bucket, w.version::text, w.variant, qual), 'No metric.');
        END IF;
    END IF;

    -- 4. Feature drift of the latest window, with a chart per feature.
    h := h || '<h2 id="drift">Feature drift</h2>';
    SELECT x.time, x.version, x.variant INTO w FROM @extschema@.ml_feature_drift x
    WHERE x.model = m AND x.feature IS NOT NULL ORDER BY x.time DESC, x.version DESC LIMIT 1;
    IF NOT FOUND THEN
        h := h || '<p class="empty">No drift to show: the model needs a baseline (ml_register(..., baseline => ...)) '
               || 'and monitored predictions.</p>';
    ELSE
        h := h || '<p>' || @extschema@._ml_html(format('Window of %s UTC, version %s, variant %s, against the version''s baseline.',
                                                      to_char(w.time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), w.version, w.variant))
               || '</p><table><thead><tr><th>feature</th><th>kind</th><th>method</th><th>value</th><th>warn</th>'
               || '<th>alert</th><th>status</th></tr></thead><tbody>';
        FOR f IN SELECT x.feature, x.kind, x.method, x.value, x.warn_threshold, x.alert_threshold, x.status
                 FROM @extschema@.ml_feature_drift x
                 WHERE x.model = m AND x.time = w.time AND x.version = w.version AND x.variant = w.variant
                   AND x.feature IS NOT NULL ORDER BY x.status_level DESC NULLS LAST, x.feature LOOP
            h := h || '<tr><td>' || @extschema@._ml_html(f.feature) || '</td><td>' || @extschema@._ml_html(f.kind)
                   || '</td><td>' || @extschema@._ml_html(f.method) || '</td><td>'
                   || coalesce(round(f.value::numeric, 4)::text, '') || '</td><td>'
                   || coalesce(f.warn_threshold::text, '') || '</td><td>' || coalesce(f.alert_threshold::text, '')
                   || '</td><td class="status-' || @extschema@._ml_html(f.status) || '">' || @extschema@._ml_html(f.status)
                   || '</td></tr>';
        END LOOP;
        h := h || '</tbody></table><div class="charts">';
        n := 0;
        FOR f IN SELECT x.feature, mm.baseline, ww.features
                 FROM @extschema@.ml_feature_drift x
                 JOIN @extschema@.ml_models mm ON mm.name = m AND mm.version = x.version::int
                 JOIN @extschema@.ml_monitor_windows ww ON ww.model_name = m AND ww.version = x.version::int
                                                       AND ww.variant = x.variant AND ww.bucket = x.time
                 WHERE x.model = m AND x.time = w.time AND x.version = w.version AND x.variant = w.variant
                   AND x.feature IS NOT NULL
                 ORDER BY x.status_level DESC NULLS LAST, x.feature LIMIT 20 LOOP
            h := h || @extschema@.ml_plot_drift(f.baseline, f.features, f.feature);
            n := n + 1;
        END LOOP;
        h := h || '</div>';
    END IF;

    -- 5. Data-quality anomalies (the latest 50).
    h := h || '<h2 id="quality">Data-quality anomalies</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT to_char(time AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS window_utc, version, variant,
                        feature, anomaly, severity, count, description
                 FROM @extschema@.ml_data_quality WHERE model = %L ORDER BY time DESC, feature, anomaly LIMIT 50', m),
                'No anomaly in the monitored windows.');

    -- 6. Label delay and queue health.
    h := h || '<h2 id="health">Label delay and queue health</h2>'
         || @extschema@._ml_html_table(format(
                'SELECT alias, version,
                        max(value) FILTER (WHERE metric = ''examples_seen'') AS examples_seen,
                        max(value) FILTER (WHERE metric = ''pending_labels'') AS pending_labels,
                        max(value) FILTER (WHERE metric = ''rejected_labels'') AS rejected_labels,
                        round(max(value) FILTER (WHERE metric = ''seconds_since_learned'')::numeric) AS seconds_since_learned,
                        round(max(value) FILTER (WHERE metric = ''seconds_since_prediction'')::numeric) AS seconds_since_prediction,
                        round(max(value) FILTER (WHERE metric = ''seconds_since_refresh'')::numeric) AS seconds_since_refresh
                 FROM @extschema@.ml_model_health WHERE model = %L GROUP BY alias, version ORDER BY alias', m),
                'The model is not deployed (no alias).')
         || '<h3>Label delay by window (seconds)</h3>'
         || @extschema@._ml_html_table(format(
                'SELECT to_char(time AT TIME ZONE ''UTC'', ''YYYY-MM-DD HH24:MI'') AS window_utc, version, variant,
                        round(max(value) FILTER (WHERE metric = ''label_coverage'')::numeric, 3) AS label_coverage,
                        round(max(value) FILTER (WHERE metric = ''label_delay_p50'')::numeric) AS delay_p50,
                        round(max(value) FILTER (WHERE metric = ''label_delay_p95'')::numeric) AS delay_p95
                 FROM @extschema@.ml_model_metrics WHERE model = %L
                 GROUP BY time, version, variant ORDER BY time DESC, version, variant LIMIT 14', m),
                'No labels yet.');
    h := h || E'\n</body></html>\n';
    RETURN h;
END
$$;
COMMENT ON FUNCTION @extschema@.ml_report(text) IS
    'One self-contained HTML page about a model: versions, deployments, metrics over time, ROC and calibration, drift with charts, anomalies, label delay and queue health';
