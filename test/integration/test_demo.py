"""The demo (examples/demo.sql, run by scripts/demo) runs to the end and shows what the README says.

Runs the file with psql and ON_ERROR_STOP on a throwaway cluster, then checks the story in its
output: the model learns (AUC of day 3 above day 1's), the drift of days 7 and 8 is flagged
(alerts in ml_feature_drift, FLOAT_TYPE_BIG_FLOAT and ENUM_TYPE_UNEXPECTED_STRING_VALUES in
ml_data_quality), and version 2 is deployed.

Run as root: /usr/bin/python3 test/integration/test_demo.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, run_example  # noqa: E402


def main():
    res = Reporter()
    with Cluster(port=int(os.environ.get("PGL_TEST_PORT", "5484"))) as conn:
        out = run_example(conn, "demo", "demo")
        res.check("demo_runs", out.returncode == 0, out.stderr.strip()[-400:])
        text = out.stdout
        days = {}
        for m in re.finditer(r"^ (2026-03-0\d) \| 1 +\| +2000 \| +2000 \|[^|]*\|[^|]*\| ([0-9.]+) \|", text, re.M):
            days.setdefault(m.group(1), float(m.group(2)))
        ok = "2026-03-01" in days and "2026-03-03" in days and days["2026-03-03"] > days["2026-03-01"]
        res.check("demo_model_learns", ok, "auc by day %s" % days)
        res.check("demo_drift_alert", re.search(r"^ amount +\|[^\n]*\| [0-9.]+ alert", text, re.M) is not None)
        res.check("demo_anomalies", "FLOAT_TYPE_BIG_FLOAT" in text and "ENUM_TYPE_UNEXPECTED_STRING_VALUES" in text)
        res.check("demo_version_2_deployed", re.search(r"^ +2 \| \{production\}", text, re.M) is not None)
    res.exit()


if __name__ == "__main__":
    main()
