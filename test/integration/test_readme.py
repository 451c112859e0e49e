"""The README's SQL tour runs as written.

Every ```sql block of README.md is run, in order, in one database of a throwaway cluster, with
psql (so psql's own commands work too) and ON_ERROR_STOP: one PASS or FAIL line per block.
Blocks build on the tables of earlier blocks, as a reader following the tour would. A block
whose first line is `-- needs pg_cron` is skipped (pg_cron needs a preloaded library).

Run as root: /usr/bin/python3 test/integration/test_readme.py
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import PG_BIN, Cluster, Reporter  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sql_blocks(text):
    """(line number, body) of each fenced block whose info string is exactly sql."""
    blocks = []
    for m in re.finditer(r"^```sql\n(.*?)^```", text, re.S | re.M):
        blocks.append((text.count("\n", 0, m.start()) + 1, m.group(1)))
    return blocks


def main():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        blocks = sql_blocks(f.read())
    res = Reporter()
    res.check("readme_has_sql_blocks", len(blocks) >= 5, "%d blocks" % len(blocks))
    with Cluster(port=int(os.environ.get("PGL_TEST_PORT", "5483"))) as conn:
        conn.execute("CREATE DATABASE readme")
        for line, body in blocks:
            if body.lstrip().startswith("-- needs pg_cron"):
                print("SKIP readme_block_line_%d (needs pg_cron: test_cron.py runs such jobs)" % line)
                continue
            cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                   "-h", cluster_host(conn), "-p", str(conn.info.port), "-U", "postgres", "-d", "readme"]
            if os.geteuid() == 0:
                cmd = ["runuser", "-u", "postgres", "--"] + cmd
            # The extension is created by the README's own first block when it says so;
            # otherwise create it here, as the tour assumes an installed extension.
            out = subprocess.run(cmd, input="CREATE EXTENSION IF NOT EXISTS pg_learn;\n" + body,
                                 capture_output=True, text=True)
            first = body.strip().splitlines()[0][:60] if body.strip() else ""
            res.check("readme_block_line_%d" % line, out.returncode == 0,
                      first if out.returncode == 0 else (first + " -> " + out.stderr.strip()[-400:]))
    res.exit()


def cluster_host(conn):
    return conn.info.host


if __name__ == "__main__":
    main()
