"""Writes examples/grafana/pg_learn.json, the Grafana dashboard over pg_learn's monitoring views
(docs/grafana.md). It reads the monitoring views only, so the role of docs/monitoring.md
("Privileges": SELECT on the views) is all its data source needs. The JSON is committed; this script is its source: edit the panels here and run

    /usr/bin/python3 examples/grafana/make_dashboard.py

test/integration/test_grafana.py checks that the committed JSON is what this script writes, that
it has the fields of Grafana's dashboard schema, and runs every panel's SQL against the demo
database as Grafana's PostgreSQL data source would (variables substituted, macros expanded).
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
DATASOURCE = {"type": "grafana-postgresql-datasource", "uid": "pg_learn"}

# The metrics a trend panel shows, by task (ml_model_metrics's names).
QUALITY_METRICS = ("auc", "accuracy", "logloss", "macro_f1", "mae", "rmse", "r2")


def target(sql, fmt="time_series", ref="A"):
    return {"refId": ref, "datasource": DATASOURCE, "editorMode": "code", "format": fmt,
            "rawQuery": True, "rawSql": " ".join(sql.split())}


def thresholds(*steps):
    """steps: (value or None, colour), the first with None (the base)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for v, c in steps]}


class Layout:
    """Panels placed left to right on Grafana's 24-column grid, a new row when one is full."""

    def __init__(self):
        self.panels, self.x, self.y, self.row_h = [], 0, 0, 0

    def add(self, panel, w, h):
        if self.x + w > 24:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel.setdefault("datasource", DATASOURCE)
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)

    def row(self, title):
        if self.x:
            self.x, self.y, self.row_h = 0, self.y + self.row_h, 0
        self.panels.append({"id": len(self.panels) + 1, "type": "row", "title": title, "collapsed": False,
                            "gridPos": {"h": 1, "w": 24, "x": 0, "y": self.y}, "panels": []})
        self.y += 1


def health_stat(title, metric, unit, steps, description):
    return {
        "type": "stat", "title": title, "description": description,
        "targets": [target(f"""
            SELECT now() AS time, alias AS metric, value
            FROM ml_model_health
            WHERE model = '$model' AND alias IN ($alias) AND metric = '{metric}'
            ORDER BY alias""", "time_series")],
        "fieldConfig": {"defaults": {"unit": unit, "thresholds": thresholds(*steps), "color": {"mode": "thresholds"}},
                        "overrides": []},
        "options": {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                    "colorMode": "background", "graphMode": "none", "textMode": "value_and_name",
                    "justifyMode": "auto", "orientation": "auto"},
    }


def dashboard():
    lay = Layout()

    lay.row("Health of the deployed versions (ml_model_health)")
    lay.add(health_stat("Pending labels", "pending_labels", "short",
                        [(None, "green"), (10000, "orange"), (100000, "red")],
                        "Labels queued for ml_learn_pending: a growing queue means the learning job is not running."), 4, 4)
    lay.add(health_stat("Rejected labels", "rejected_labels", "short", [(None, "green"), (1, "red")],
                        "Labels moved to ml_rejected_labels (poison labels): read them there."), 4, 4)
    lay.add(health_stat("Since last prediction", "seconds_since_prediction", "s",
                        [(None, "green"), (3600, "orange"), (86400, "red")],
                        "Time since the alias last scored a row."), 4, 4)
    lay.add(health_stat("Since last refresh", "seconds_since_refresh", "s",
                        [(None, "green"), (900, "orange"), (3600, "red")],
                        "Time since ml_monitor_refresh last ran: the views are as old as this."), 4, 4)
    lay.add(health_stat("NaN / infinite scores", "nan_scores", "short", [(None, "green"), (1, "red")],
                        "NaN scores over the health window (ml_monitor_set('health_window', ...))."), 4, 4)
    lay.add(health_stat("Prediction rate", "prediction_rate", "reqps", [(None, "blue")],
                        "Predictions per second over the health window."), 4, 4)

    lay.row("Model quality and traffic (ml_model_metrics)")
    metrics = ", ".join("'%s'" % m for m in QUALITY_METRICS)
    lay.add({
        "type": "timeseries", "title": "Quality by version and variant",
        "description": "AUC, accuracy, log loss (classifiers), MAE, RMSE, R² (regression) per time bucket, "
                       "one line per version/variant/metric.",
        "targets": [target(f"""
            SELECT time, version || '/' || variant || ' ' || metric AS metric, value
            FROM ml_model_metrics
            WHERE model = '$model' AND metric IN ({metrics}) AND $__timeFilter(time)
            ORDER BY 1""")],
        "fieldConfig": {"defaults": {"unit": "none", "custom": {"drawStyle": "line", "showPoints": "always"}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "min"]},
                    "tooltip": {"mode": "multi"}},
    }, 24, 9)
    lay.add({
        "type": "timeseries", "title": "Prediction volume",
        "description": "Predictions and labels per time bucket, by version/variant.",
        "targets": [target("""
            SELECT time, version || '/' || variant || ' ' || metric AS metric, value
            FROM ml_model_metrics
            WHERE model = '$model' AND metric IN ('predictions', 'labels') AND $__timeFilter(time)
            ORDER BY 1""")],
        "fieldConfig": {"defaults": {"unit": "short", "custom": {"drawStyle": "bars", "fillOpacity": 60}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    }, 12, 8)
    lay.add({
        "type": "timeseries", "title": "Label delay and coverage",
        "description": "Median and 95th percentile of the time from prediction to label (seconds), and the "
                       "fraction of predictions labelled.",
        "targets": [target("""
            SELECT time, version || '/' || variant || ' ' || metric AS metric, value
            FROM ml_model_metrics
            WHERE model = '$model' AND metric IN ('label_delay_p50', 'label_delay_p95') AND $__timeFilter(time)
            ORDER BY 1"""),
                    target("""
            SELECT time, version || '/' || variant || ' coverage' AS metric, value
            FROM ml_model_metrics
            WHERE model = '$model' AND metric = 'label_coverage' AND $__timeFilter(time)
            ORDER BY 1""", ref="B")],
        "fieldConfig": {"defaults": {"unit": "s"},
                        "overrides": [{"matcher": {"id": "byRegexp", "options": ".* coverage"},
                                       "properties": [{"id": "unit", "value": "percentunit"},
                                                      {"id": "custom.axisPlacement", "value": "right"}]}]},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    }, 12, 8)

    lay.row("Feature drift and data quality (ml_feature_drift, ml_data_quality)")
    lay.add({
        "type": "status-history", "title": "Drift status by feature",
        "description": "Per feature and time bucket: 0 ok, 1 over the warn threshold, 2 over the alert threshold "
                       "(the method's thresholds: ml_monitor_set('drift_options', ...)).",
        "targets": [target("""
            SELECT time, feature AS metric, max(status_level) AS value
            FROM ml_feature_drift
            WHERE model = '$model' AND variant IN ($alias) AND feature IN ($feature) AND $__timeFilter(time)
            GROUP BY time, feature
            ORDER BY 1""")],
        "fieldConfig": {"defaults": {"thresholds": thresholds((None, "green"), (1, "orange"), (2, "red")),
                                     "color": {"mode": "thresholds"},
                                     "mappings": [{"type": "value", "options": {
                                         "0": {"text": "ok"}, "1": {"text": "warn"}, "2": {"text": "alert"}}}]},
                        "overrides": []},
        "options": {"showValue": "never", "rowHeight": 0.9, "legend": {"showLegend": False}},
    }, 24, 8)
    lay.add({
        "type": "timeseries", "title": "Drift value and thresholds",
        "description": "The drift statistic per feature (PSI, Jensen-Shannon, KS ... as configured) with the warn "
                       "and alert thresholds of its method as dashed lines.",
        "targets": [target("""
            SELECT time, feature || ' (' || method || ')' AS metric, max(value) AS value
            FROM ml_feature_drift
            WHERE model = '$model' AND variant IN ($alias) AND feature IN ($feature) AND value IS NOT NULL
              AND $__timeFilter(time)
            GROUP BY time, feature, method
            ORDER BY 1"""),
                    target("""
            SELECT time, method || ' ' || level AS metric, max(threshold) AS value
            FROM ml_feature_drift
            CROSS JOIN LATERAL (VALUES ('warn', warn_threshold), ('alert', alert_threshold)) t(level, threshold)
            WHERE model = '$model' AND variant IN ($alias) AND feature IN ($feature) AND threshold IS NOT NULL
              AND $__timeFilter(time)
            GROUP BY time, method, level
            ORDER BY 1""", ref="B")],
        "fieldConfig": {"defaults": {"unit": "none"},
                        "overrides": [{"matcher": {"id": "byRegexp", "options": ".* (warn|alert)$"},
                                       "properties": [{"id": "custom.lineStyle",
                                                       "value": {"fill": "dash", "dash": [10, 10]}},
                                                      {"id": "color", "value": {"mode": "fixed", "fixedColor": "red"}}]}]},
        "options": {"legend": {"displayMode": "table", "placement": "right", "calcs": ["lastNotNull", "max"]},
                    "tooltip": {"mode": "multi"}},
    }, 24, 9)
    lay.add({
        "type": "table", "title": "Data-quality anomalies",
        "description": "Anomalies of the logged features against the baseline's schema (TFDV's names).",
        "targets": [target("""
            SELECT time, version, variant, feature, anomaly, severity, count, description
            FROM ml_data_quality
            WHERE model = '$model' AND variant IN ($alias) AND $__timeFilter(time)
            ORDER BY time DESC, feature, anomaly""", "table")],
        "fieldConfig": {"defaults": {}, "overrides": [
            {"matcher": {"id": "byName", "options": "severity"},
             "properties": [{"id": "custom.cellOptions", "value": {"type": "color-text"}},
                            {"id": "mappings", "value": [{"type": "value", "options": {
                                "ERROR": {"color": "red"}, "WARNING": {"color": "orange"}}}]}]}]},
        "options": {"showHeader": True, "sortBy": [{"displayName": "time", "desc": True}]},
    }, 24, 8)

    lay.row("Deployed versions (ml_model_health, ml_model_health_history)")
    lay.add({
        "type": "table", "title": "Deployed versions",
        "description": "Per alias: the version it serves, since when, what it learned and what waits.",
        "targets": [target("""
            SELECT alias, version,
                   max(value) FILTER (WHERE metric = 'deployed_seconds') AS deployed_seconds,
                   max(value) FILTER (WHERE metric = 'examples_seen') AS examples_seen,
                   max(value) FILTER (WHERE metric = 'pending_labels') AS pending_labels,
                   max(value) FILTER (WHERE metric = 'seconds_since_learned') AS seconds_since_learned,
                   max(value) FILTER (WHERE metric = 'error_drift_detections') AS error_drift_detections
            FROM ml_model_health
            WHERE model = '$model' AND alias IN ($alias)
            GROUP BY alias, version
            ORDER BY alias""", "table")],
        "fieldConfig": {"defaults": {}, "overrides": [
            {"matcher": {"id": "byRegexp", "options": ".*seconds.*"}, "properties": [{"id": "unit", "value": "s"}]}]},
        "options": {"showHeader": True},
    }, 12, 7)
    lay.add({
        "type": "timeseries", "title": "Prediction rate by alias and version",
        "description": "Predictions per second in each time bucket: a rollout shows as one version giving way to "
                       "another.",
        "targets": [target("""
            SELECT time, alias || ' v' || version AS metric, value
            FROM ml_model_health_history
            WHERE model = '$model' AND alias IN ($alias) AND metric = 'prediction_rate' AND $__timeFilter(time)
            ORDER BY 1""")],
        "fieldConfig": {"defaults": {"unit": "reqps", "custom": {"drawStyle": "line", "fillOpacity": 20,
                                                                 "stacking": {"mode": "normal"}}},
                        "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
    }, 12, 7)

    variable = lambda name, label, sql, multi: {
        "name": name, "label": label, "type": "query", "datasource": DATASOURCE,
        "query": " ".join(sql.split()), "definition": " ".join(sql.split()), "refresh": 1,
        "multi": multi, "includeAll": multi, "sort": 1, "current": {}, "options": [], "hide": 0}
    return {
        "uid": "pg-learn-monitoring",
        "title": "pg_learn: model monitoring",
        "description": "Metrics, drift, data quality and health of pg_learn's deployed models "
                       "(the monitoring views; run ml_monitor_refresh on a schedule).",
        "tags": ["pg_learn", "machine learning", "postgresql"],
        "timezone": "utc",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5m",
        "time": {"from": "now-30d", "to": "now"},
        "timepicker": {},
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
        "templating": {"list": [
            variable("model", "Model",
                     "SELECT model FROM ml_model_health UNION SELECT model FROM ml_model_metrics ORDER BY 1", False),
            variable("alias", "Alias / variant",
                     "SELECT alias FROM ml_model_health WHERE model = '$model' UNION "
                     "SELECT variant FROM ml_model_metrics WHERE model = '$model' ORDER BY 1", True),
            variable("feature", "Feature",
                     "SELECT DISTINCT feature FROM ml_feature_drift WHERE model = '$model' AND feature IS NOT NULL "
                     "ORDER BY 1", True),
        ]},
        "panels": lay.panels,
    }


def main():
    path = os.path.join(HERE, "pg_learn.json")
    with open(path, "w") as f:
        json.dump(dashboard(), f, indent=2)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
