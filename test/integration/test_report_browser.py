"""The demo's ml_report page and each kind of SVG chart, rendered in a real browser.

Runs the demo (examples/demo.sql) on a throwaway cluster, writes ml_report('fraud') and one chart
of each kind (ml_plot_roc, ml_plot_pr, ml_plot_calibration, ml_plot_histogram, ml_plot_drift,
ml_plot_series) to files, and renders each in headless Chromium (Debian's chromium package):
- to PNG: the image is not blank (enough pixels differ from the background, several colours);
- its DOM (--dump-dom): the expected text is there (the report's sections and tables, each
  chart's title and legend);
- its console: no error logged, no request for anything but the file itself (the page is
  self-contained: no network fetch);
- ml_report returns in under a second.

With --write-screenshot PATH it also writes the report's screenshot there (the README's image:
scripts/report-screenshot regenerates it).

Run as root: /usr/bin/python3 test/integration/test_report_browser.py
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, run_example  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def chromium(args, timeout=120):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--enable-logging=stderr", "--v=0",
           "--user-data-dir=" + tempfile.mkdtemp(prefix="pgl-chromium-")] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def console_problems(stderr):
    """Console messages Chromium logged for the page (its own D-Bus noise aside): the pages have no
    script, so any console message (an error, a CSP or SVG parse report) is a problem."""
    return [line.strip() for line in stderr.splitlines()
            if ":CONSOLE" in line or "net::ERR_" in line or "Failed to load resource" in line]


def external_references(body):
    """Attributes and CSS that would fetch something: src/href/xlink:href/url() not pointing inside
    the document (the SVG namespace URI is a name, not a fetch)."""
    refs = re.findall(r'(?:src|href|xlink:href)\s*=\s*"([^"]*)"', body) + re.findall(r"url\(([^)]*)\)", body)
    return [r for r in refs if not r.strip("'\" ").startswith("#")]


def not_blank(png):
    img = Image.open(png).convert("RGB")
    w, h = img.size
    small = img.resize((max(1, w // 4), max(1, h // 4)))
    pixels = list(small.getdata())
    background = max(set(pixels), key=pixels.count)
    differ = sum(1 for p in pixels if sum(abs(a - b) for a, b in zip(p, background)) > 60)
    colours = len(set(pixels))
    return differ / len(pixels), colours


def main():
    res = Reporter()
    write_to = None
    if "--write-screenshot" in sys.argv:
        write_to = os.path.abspath(sys.argv[sys.argv.index("--write-screenshot") + 1])
    if not os.path.exists(CHROMIUM):
        res.fail("report_browser_chromium", "chromium is not installed (Debian's chromium package)")
        res.exit()
    out_dir = tempfile.mkdtemp(prefix="pgl-report-")
    # The checks themselves: a page with a console error, a failing script and an external image
    # is caught by both detectors.
    bad = os.path.join(out_dir, "bad.html")
    with open(bad, "w") as f:
        f.write('<html><body><p>x</p><script>console.error("pgl-check"); throw new Error("boom")</script>'
                '<img src="http://127.0.0.1:9/x.png"></body></html>')
    caught = console_problems(chromium(["--dump-dom", "file://" + bad]).stderr)
    res.check("browser_checks_catch_errors", len(caught) >= 2 and external_references(open(bad).read()),
              "caught %s" % caught)
    with Cluster(port=int(os.environ.get("PGL_TEST_PORT", "5488"))) as conn:
        out = run_example(conn, "demo", "demo")
        if not res.check("report_demo_runs", out.returncode == 0, out.stderr.strip()[-400:]):
            res.exit()
        import psycopg
        demo = psycopg.connect(host=conn.info.host, port=conn.info.port, user="postgres", dbname="demo",
                               autocommit=True)
        best = None
        for _ in range(3):  # the fastest of three (a shared machine)
            t0 = time.monotonic()
            html = demo.execute("SELECT ml_report('fraud')").fetchone()[0]
            best = min(best or 1e9, time.monotonic() - t0)
        res.check("report_under_a_second", best < 1.0, "%.3f s" % best)
        charts = {
            "roc": ("SELECT ml_plot_roc(metric_state) FROM ml_monitor_windows "
                    "WHERE model_name = 'fraud' AND labels > 0 ORDER BY bucket DESC LIMIT 1",
                    ["ROC curve", "AUC ", "chance", "false positive rate"]),
            "pr": ("SELECT ml_plot_pr(metric_state) FROM ml_monitor_windows "
                   "WHERE model_name = 'fraud' AND labels > 0 ORDER BY bucket DESC LIMIT 1",
                   ["Precision-recall curve", "positive rate", "recall"]),
            "calibration": ("SELECT ml_plot_calibration(metric_state) FROM ml_monitor_windows "
                            "WHERE model_name = 'fraud' AND labels > 0 ORDER BY bucket DESC LIMIT 1",
                            ["Calibration", "perfectly calibrated", "mean predicted probability"]),
            "histogram": ("SELECT ml_plot_histogram(ml_stats(score)) FROM ml_prediction_log WHERE model_name = 'fraud'",
                          ["Histogram", "values", "count"]),
            "drift": ("SELECT ml_plot_drift(m.baseline, w.features, 'amount') FROM ml_monitor_windows w "
                      "JOIN ml_models m ON m.name = w.model_name AND m.version = w.version "
                      "WHERE w.model_name = 'fraud' AND w.bucket = '2026-03-07 00:00:00+00'",
                      ["Drift of amount", "baseline", "current"]),
            "series": ("SELECT ml_plot_series(time, value, metric, 'fraud: AUC and accuracy') FROM ml_model_metrics "
                       "WHERE model = 'fraud' AND metric IN ('auc', 'accuracy') AND variant = 'production'",
                       ["fraud: AUC and accuracy", "auc", "accuracy", "2026-03-0"]),
            "empty": ("SELECT ml_plot_roc(ml_binary_state(score, label = 1)) FROM ml_prediction_log WHERE false",
                      ["ROC curve", "no data"]),
        }
        files = {"report": (os.path.join(out_dir, "fraud.html"), html, (1300, 2600),
                            ["Model fraud", "Versions", "Deployments and rollouts", "Metrics over time",
                             "Latest labelled window", "Feature drift", "Data-quality anomalies",
                             "Label delay and queue health", "retrained after the drift of day 7",
                             "FLOAT_TYPE_BIG_FLOAT", "ROC curve", "Drift of amount", "Quality by version and variant"])}
        for name, (sql, expect) in charts.items():
            svg = demo.execute(sql).fetchone()[0]
            files[name] = (os.path.join(out_dir, name + ".svg"), svg, (600, 400), expect)
        demo.close()
    for name, (path, body, (w, h), expect) in files.items():
        with open(path, "w", encoding="utf-8") as f:
            f.write(body)
        png = path + ".png"
        shot = chromium(["--window-size=%d,%d" % (w, h), "--screenshot=" + png, "file://" + path])
        ok = shot.returncode == 0 and os.path.exists(png)
        res.check("browser_%s_renders" % name, ok, shot.stderr.strip()[-300:] if not ok else "")
        if ok:
            frac, colours = not_blank(png)
            res.check("browser_%s_not_blank" % name, frac > 0.01 and colours >= 3,
                      "%.1f%% of pixels drawn, %d colours" % (100 * frac, colours))
        dom = chromium(["--dump-dom", "file://" + path])
        text = re.sub(r"<[^>]+>", " ", dom.stdout)
        text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
        missing = [e for e in expect if e not in text]
        res.check("browser_%s_dom_text" % name, dom.returncode == 0 and not missing, "missing %s" % missing)
        problems = console_problems(shot.stderr + dom.stderr)
        res.check("browser_%s_console_clean" % name, not problems, "; ".join(problems[:3]))
        refs = external_references(body)
        res.check("browser_%s_self_contained" % name, not refs, "fetches %s" % refs[:3])
        if name == "report" and write_to and ok:
            os.makedirs(os.path.dirname(write_to), exist_ok=True)
            Image.open(png).convert("RGB").save(write_to, optimize=True)
            print("wrote", write_to)
    shutil.rmtree(out_dir, ignore_errors=True)
    res.exit()


if __name__ == "__main__":
    main()
