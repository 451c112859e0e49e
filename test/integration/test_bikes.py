"""The bike-sharing story (examples/bikes.sql; issue 14, part 3) runs to the end and shows what the README says.

Runs the file with psql and ON_ERROR_STOP on a throwaway cluster, then reads its output: the mean
absolute error by day of ml_model_metrics (the monitoring view) for the static model (trained once
on week 1) and for the online pipeline (week 1, then every label before the next hour), days 7-20.
Checks the story (the world is the same every run: setseed):
  - both start from the same trained value, and the online one is better from its first day (the
    static model's aggregates froze at the end of week 1: its station's "recent rentals" are those
    of Sunday night);
  - the static model degrades after the change of day 12: its MAE of week 3's weekdays (days
    14-18) is at least 20% above that of week 2's (days 7-11);
  - the online pipeline holds: below the static model's MAE on every day of the stream, at least
    20% below it over the last five days, and on week 3's weekdays still below what the static
    model did on week 2's, before the change;
  - the new station S31 (opened on day 12), which the static model's frozen aggregates never saw,
    is predicted at least 30% better by the online pipeline;
  - every label reached the online model (nothing pending) and none the static one.

Run as root: /usr/bin/python3 test/integration/test_bikes.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Cluster, Reporter, run_example  # noqa: E402



def mean(xs):
    return sum(xs) / len(xs)


def main():
    res = Reporter()
    with Cluster(port=int(os.environ.get("PGL_TEST_PORT", "5485"))) as conn:
        out = run_example(conn, "bikes", "bikes")
        res.check("bikes_runs", out.returncode == 0, out.stderr.strip()[-400:])
        text = out.stdout
        # " 2026-05-11 | Mon |         720 |         3.11 |      3.267 |      2.132"
        days = {}
        for m in re.finditer(r"^ (2026-05-\d\d) \| \w+ +\| +(\d+) \| +([0-9.]+) \| +([0-9.]+) \| +([0-9.]+)$", text, re.M):
            days[m.group(1)] = (int(m.group(2)), float(m.group(4)), float(m.group(5)))
        res.check("bikes_fourteen_days", len(days) == 14, "days %s" % sorted(days))
        if len(days) == 14:
            order = sorted(days)
            week2, week3, last = order[0:5], order[7:12], order[-5:]
            static2 = mean([days[d][1] for d in week2])
            static3 = mean([days[d][1] for d in week3])
            online3 = mean([days[d][2] for d in week3])
            detail = "static weekdays %.3f -> %.3f, online weekdays of week 3 %.3f; (day, static, online) %s" % (
                static2, static3, online3, [(d[-2:], days[d][1], days[d][2]) for d in order])
            res.check("bikes_online_better_from_day_7", days[order[0]][2] < days[order[0]][1], detail)
            res.check("bikes_static_degrades", static3 >= 1.2 * static2, detail)
            res.check("bikes_online_holds",
                      all(days[d][2] < days[d][1] for d in order)
                      and mean([days[d][2] for d in last]) <= 0.8 * mean([days[d][1] for d in last])
                      and online3 < static2, detail)
            res.check("bikes_rows_scored", all(days[d][0] == (720 if d < "2026-05-16" else 744) for d in order), detail)
        m = re.search(r"^ S31 +\| +([0-9.]+) \| +([0-9.]+)$", text, re.M)
        res.check("bikes_new_station", m is not None and float(m.group(2)) <= 0.7 * float(m.group(1)),
                  m.group(0) if m else text[-600:])
        m1 = re.search(r"^ bikes_static \| +1 \| +(\d+) \|[^|]*\| +(\d+)$", text, re.M)
        m2 = re.search(r"^ bikes_online \| +1 \| +(\d+) \|[^|]*\| +(\d+)$", text, re.M)
        ok = (m1 is not None and m2 is not None and int(m1.group(1)) == 5040 and int(m1.group(2)) == 10296
              and int(m2.group(1)) == 5040 + 10296 and int(m2.group(2)) == 0)
        res.check("bikes_labels_learned_by_online_only", ok, "%s / %s" % (m1 and m1.group(0), m2 and m2.group(0)))
    res.exit()


if __name__ == "__main__":
    main()
