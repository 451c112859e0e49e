"""The Grafana dashboard and alert rules (examples/grafana, docs/grafana.md) against the demo.

Grafana is not in Debian, so this does what Grafana would do with them:
1. the committed pg_learn.json is what examples/grafana/make_dashboard.py writes, and it has the
   fields of Grafana's dashboard schema (schemaVersion, uid, title, time, templating, panels with
   unique ids, known types, grid positions inside the 24 columns and not overlapping, targets
   with refIds and SQL, the data source the provisioning file defines);
2. the demo (examples/demo.sql) runs on a throwaway cluster; then, as a role holding exactly the
   grants docs/monitoring.md gives a dashboard (SELECT on the monitoring views), every template
   variable's query runs with the variables before it substituted, and every panel's SQL runs
   the way Grafana's PostgreSQL data source runs it: $model, $alias and $feature substituted
   (a multi-value variable as Grafana's quoted list of all its values), the macros
   ($__timeFilter, $__timeGroup, $__timeFrom, ...) expanded over the demo's time range;
3. each query returns rows of the shape its panel expects (time series: a timestamptz "time",
   a text "metric", a numeric "value", the times inside the range; tables: the columns named);
4. the alert rules (provisioning/alerting) are well formed, their queries run the same way, and
   the drift rule fires on the demo's drifted feature (amount, days 7 and 8).

Run as root: /usr/bin/python3 test/integration/test_grafana.py
"""

import datetime
import importlib.util
import json
import os
import re
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, run_example  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAFANA = os.path.join(ROOT, "examples", "grafana")
FROM = datetime.datetime(2026, 2, 25, tzinfo=datetime.timezone.utc)
TO = datetime.datetime(2026, 3, 15, tzinfo=datetime.timezone.utc)
PANEL_TYPES = {"row", "stat", "timeseries", "table", "status-history", "state-timeline", "heatmap", "gauge",
               "bargauge", "text"}


def load_generator():
    spec = importlib.util.spec_from_file_location("make_dashboard", os.path.join(GRAFANA, "make_dashboard.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def interval_seconds(text):
    m = re.fullmatch(r"'?(\d+)([smhdw])'?", text.strip())
    if not m:
        raise ValueError("interval %r" % text)
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[m.group(2)]


def expand_macros(sql, t_from=FROM, t_to=TO):
    """Grafana's PostgreSQL macros (grafana/pkg/tsdb/grafana-postgresql-datasource/macros.go)."""
    def args(m):
        return [a.strip() for a in m.group(2).split(",")] if m.group(2).strip() else []

    def one(m):
        name, a = m.group(1), args(m)
        if name == "timeFilter":
            return "%s BETWEEN '%s' AND '%s'" % (a[0], iso(t_from), iso(t_to))
        if name == "timeFrom":
            return "'%s'" % iso(t_from)
        if name == "timeTo":
            return "'%s'" % iso(t_to)
        if name == "time":
            return '%s AS "time"' % a[0]
        if name == "timeEpoch":
            return 'extract(epoch from %s) AS "time"' % a[0]
        if name in ("timeGroup", "timeGroupAlias"):
            s = interval_seconds(a[1])
            out = "floor(extract(epoch from %s)/%d)*%d" % (a[0], s, s)
            return out + (' AS "time"' if name == "timeGroupAlias" else "")
        if name == "unixEpochFilter":
            return "%s >= %d AND %s <= %d" % (a[0], t_from.timestamp(), a[0], t_to.timestamp())
        raise ValueError("macro $__%s is not one Grafana's PostgreSQL data source knows" % name)

    return re.sub(r"\$__(\w+)\(([^()]*)\)", one, sql)


def substitute(sql, values):
    """Variables: a single value as its text, a multi-value one as 'a','b' (Grafana's quoting)."""
    def one(m):
        name = m.group(1) or m.group(2)
        v = values[name]
        if isinstance(v, list):
            return ",".join("'%s'" % x.replace("'", "''") for x in v) or "NULL"
        return v
    return re.sub(r"\$\{(\w+)\}|\$(?!__)(\w+)", one, sql)


def check_schema(res, dash, datasource_uid):
    problems = []
    for key, kind in (("uid", str), ("title", str), ("schemaVersion", int), ("panels", list), ("time", dict),
                      ("templating", dict), ("refresh", str), ("tags", list), ("timezone", str),
                      ("annotations", dict), ("version", int), ("editable", bool)):
        if not isinstance(dash.get(key), kind):
            problems.append("top-level %s is not a %s" % (key, kind.__name__))
    if dash.get("schemaVersion", 0) < 36:
        problems.append("schemaVersion %s is older than Grafana 9" % dash.get("schemaVersion"))
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", str(dash.get("uid", ""))):
        problems.append("uid is not 1-40 of [A-Za-z0-9_-]")
    ids, cells = set(), {}
    for p in dash.get("panels", []):
        pid = p.get("id")
        if not isinstance(pid, int) or pid in ids:
            problems.append("panel id %r missing or repeated" % pid)
        ids.add(pid)
        if p.get("type") not in PANEL_TYPES:
            problems.append("panel %s: unknown type %r" % (pid, p.get("type")))
        if not isinstance(p.get("title"), str) or not p["title"]:
            problems.append("panel %s: no title" % pid)
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in ("h", "w", "x", "y")) or g["x"] + g["w"] > 24 or g["w"] < 1:
            problems.append("panel %s: gridPos %r outside the 24 columns" % (pid, g))
            continue
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                if (x, y) in cells:
                    problems.append("panel %s overlaps panel %s" % (pid, cells[(x, y)]))
                    break
                cells[(x, y)] = pid
        if p["type"] == "row":
            continue
        if p.get("datasource", {}).get("uid") != datasource_uid:
            problems.append("panel %s: data source %r, not %r" % (pid, p.get("datasource"), datasource_uid))
        targets = p.get("targets", [])
        refs = [t.get("refId") for t in targets]
        if not targets or len(set(refs)) != len(refs) or not all(refs):
            problems.append("panel %s: targets without unique refIds" % pid)
        for t in targets:
            if t.get("format") not in ("time_series", "table") or not t.get("rawQuery") or not t.get("rawSql"):
                problems.append("panel %s: target %s is not a raw SQL query with a format" % (pid, t.get("refId")))
        steps = p.get("fieldConfig", {}).get("defaults", {}).get("thresholds", {}).get("steps")
        if steps is not None and (steps[0].get("value") is not None
                                  or any(not isinstance(s.get("value"), (int, float)) for s in steps[1:])):
            problems.append("panel %s: threshold steps must start with a null base, then numbers" % pid)
    names = [v.get("name") for v in dash.get("templating", {}).get("list", [])]
    if names != ["model", "alias", "feature"]:
        problems.append("template variables %r, not model, alias and feature" % names)
    res.check("grafana_dashboard_schema", not problems, "; ".join(problems[:6]))


def check_rows(res, name, cur, rows, fmt, columns=None):
    cols = [d.name for d in cur.description]
    if not rows:
        return res.fail(name, "no rows")
    if fmt == "time_series":
        ok = cols[:1] == ["time"] and "metric" in cols and "value" in cols
        detail = "columns %s" % cols
        if ok:
            ti, mi, vi = cols.index("time"), cols.index("metric"), cols.index("value")
            for r in rows:
                if not isinstance(r[ti], datetime.datetime) or not isinstance(r[mi], str) or \
                        not (r[vi] is None or isinstance(r[vi], (int, float)) or hasattr(r[vi], "as_tuple")):
                    ok, detail = False, "row %r" % (r,)
                    break
        return res.check(name, ok, "%s, %d rows" % (detail, len(rows)))
    ok = columns is None or all(c in cols for c in columns)
    return res.check(name, ok, "columns %s, %d rows" % (cols, len(rows)))


def main():
    res = Reporter()
    gen = load_generator()
    with open(os.path.join(GRAFANA, "pg_learn.json")) as f:
        committed = json.load(f)
    res.check("grafana_json_is_generated", committed == gen.dashboard(),
              "run /usr/bin/python3 examples/grafana/make_dashboard.py")
    with open(os.path.join(GRAFANA, "provisioning", "datasources", "pg_learn.yaml")) as f:
        ds = yaml.safe_load(f)["datasources"][0]
    with open(os.path.join(GRAFANA, "provisioning", "dashboards", "pg_learn.yaml")) as f:
        prov = yaml.safe_load(f)
    with open(os.path.join(GRAFANA, "provisioning", "alerting", "pg_learn_alerts.yaml")) as f:
        alerts = yaml.safe_load(f)
    res.check("grafana_provisioning", ds.get("type") == "grafana-postgresql-datasource" and ds.get("uid")
              and prov.get("providers", [{}])[0].get("type") == "file", "datasource %r" % ds)
    check_schema(res, committed, ds["uid"])

    with Cluster(port=int(os.environ.get("PGL_TEST_PORT", "5487"))) as conn:
        out = run_example(conn, "demo", "demo")
        if not res.check("grafana_demo_runs", out.returncode == 0, out.stderr.strip()[-400:]):
            res.exit()
        import psycopg
        demo = psycopg.connect(host=conn.info.host, port=conn.info.port, user="postgres", dbname="demo",
                               autocommit=True)
        # The dashboard's role, with the grants docs/monitoring.md gives it (and nothing else).
        demo.execute("CREATE ROLE grafana LOGIN")
        demo.execute("GRANT USAGE ON SCHEMA public TO grafana")
        demo.execute("GRANT SELECT ON ml_model_metrics, ml_feature_drift, ml_data_quality, ml_model_health, "
                     "ml_model_health_history TO grafana")
        demo.execute("SET ROLE grafana")
        demo.execute("SET search_path = public")

        # Template variables, in order, each with the ones before it substituted; a multi-value
        # variable's "All" is every value of its query.
        values = {}
        for v in committed["templating"]["list"]:
            sql = expand_macros(substitute(v["query"], values))
            try:
                got = [r[0] for r in demo.execute(sql).fetchall()]
            except Exception as e:  # noqa: BLE001 - reported
                res.fail("grafana_variable_%s" % v["name"], str(e).splitlines()[0])
                got = []
            res.check("grafana_variable_%s" % v["name"], bool(got), "values %s" % got[:8])
            if not got:
                res.exit()
            values[v["name"]] = got if v.get("multi") else ("fraud" if "fraud" in got else got[0])

        # Every panel's queries.
        for p in committed["panels"]:
            if p["type"] == "row":
                continue
            for t in p["targets"]:
                name = "grafana_panel_%d_%s %s" % (p["id"], t["refId"], p["title"])
                sql = expand_macros(substitute(t["rawSql"], values))
                if "$" in sql:
                    res.fail(name, "unexpanded: %s" % sql)
                    continue
                try:
                    cur = demo.execute(sql)
                    rows = cur.fetchall()
                except Exception as e:  # noqa: BLE001 - reported
                    res.fail(name, str(e).splitlines()[0])
                    continue
                expect = None
                if t["format"] == "table":  # the columns its SELECT list names
                    m = re.match(r"SELECT (.*?) FROM", t["rawSql"])
                    expect = [c.strip().split(" AS ")[-1].split(".")[-1] for c in re.split(r",(?![^(]*\))", m.group(1))]
                check_rows(res, name, cur, rows, t["format"], columns=expect)
                if t["format"] == "time_series" and rows and "$__timeFilter" in t["rawSql"]:
                    inside = all(FROM <= r[0] <= TO for r in rows)
                    res.check(name + " (times in range)", inside)

        # The drift status panel shows the demo's drift: amount at level 2 (alert).
        drift = next(p for p in committed["panels"] if p["type"] == "status-history")
        rows = demo.execute(expand_macros(substitute(drift["targets"][0]["rawSql"], values))).fetchall()
        res.check("grafana_drift_panel_shows_alert", any(r[1] == "amount" and r[2] == 2 for r in rows),
                  "levels of amount %s" % [(r[0].date().isoformat(), r[2]) for r in rows if r[1] == "amount"])

        # Alert rules: well formed; queries run; the drift rule's last value for amount is over 1.5.
        rules = [r for g in alerts["groups"] for r in g["rules"]]
        res.check("grafana_alert_rules_present", {r["uid"] for r in rules} >= {"pg-learn-drift-alert",
                                                                              "pg-learn-metric-drop"})
        for r in rules:
            refs = [d["refId"] for d in r["data"]]
            ok = r["condition"] in refs and len(set(refs)) == len(refs) and all(
                d["datasourceUid"] in (ds["uid"], "__expr__") for d in r["data"])
            res.check("grafana_alert_%s_well_formed" % r["uid"], ok, "refs %s" % refs)
            query = next(d for d in r["data"] if d["datasourceUid"] == ds["uid"])
            span = datetime.timedelta(seconds=query["relativeTimeRange"]["from"])

            def evaluate(now):
                """The rule's series (A) over its relative range ending at `now`, reduced to the last
                value of each (B), and those over the threshold (C)."""
                cur = demo.execute(expand_macros(query["model"]["rawSql"], now - span, now))
                rows = cur.fetchall()
                last = {}
                for _t, metric, value in rows:
                    last[metric] = value
                cond = next(d for d in r["data"] if d["refId"] == r["condition"])["model"]["conditions"][0]
                op, limit = cond["evaluator"]["type"], cond["evaluator"]["params"][0]
                fired = sorted(m for m, v in last.items()
                               if v is not None and (v > limit if op == "gt" else v < limit))
                return cur, rows, fired

            try:  # evaluated the day after the demo's last day
                cur, rows, _ = evaluate(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.timezone.utc))
            except Exception as e:  # noqa: BLE001 - reported
                res.fail("grafana_alert_%s_query" % r["uid"], str(e).splitlines()[0])
                continue
            check_rows(res, "grafana_alert_%s_query" % r["uid"], rows=rows, cur=cur, fmt="time_series")
            if r["uid"] == "pg-learn-drift-alert":
                # Evaluated on day 8 (the drift of days 7 and 8): it fires on amount; on day 10
                # (day 9 scored by version 2, against its own baseline): it does not.
                _, _, day8 = evaluate(datetime.datetime(2026, 3, 8, 12, tzinfo=datetime.timezone.utc))
                _, _, day10 = evaluate(datetime.datetime(2026, 3, 10, 12, tzinfo=datetime.timezone.utc))
                res.check("grafana_alert_drift_fires_on_amount_day_8",
                          any(m.endswith(" amount") for m in day8), "firing %s" % day8)
                res.check("grafana_alert_drift_quiet_day_10", not any(m.endswith(" amount") for m in day10),
                          "firing %s" % day10)
        demo.close()
    res.exit()


if __name__ == "__main__":
    main()
