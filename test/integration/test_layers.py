"""The layers of DESIGN.md, checked in the source (no cluster):

- the core (src/core) includes no PostgreSQL header: its quoted includes are the core's own
  ("core/..."), its angle includes the C++ standard library, nlohmann/json and Eigen;
- the glue (src/pg) names no model family: none of its string literals (its messages, hints and
  SQL) holds a kind that the core registers (family_entry("kind", ...) or a ModelFamily
  initialised with its kind), so what a family does is said by the core (for example
  core::timestamp_readers()).

Run as root or any user: /usr/bin/python3 test/integration/test_layers.py
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import Reporter  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCES = (".cpp", ".hpp", ".h", ".cc")


def files_under(sub):
    for base, _dirs, names in os.walk(os.path.join(ROOT, sub)):
        for n in sorted(names):
            if n.endswith(SOURCES):
                yield os.path.join(base, n)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_parts(text):
    """(comments removed) the code's string literals, with the line each starts on."""
    out, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += text.count("\n", i, j)
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            if not m or end < 0:
                i += 2
                continue
            body = text[i + m.end():end]
            out.append((line, body))
            line += body.count("\n")
            i = end + len(m.group(1)) + 2
        elif c == "'":
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        elif c == '"':
            j, buf = i + 1, []
            while j < n and text[j] != '"':
                if text[j] == "\\":
                    buf.append(text[j:j + 2])
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            out.append((line, "".join(buf)))
            i = j + 1
        else:
            i += 1
    return out


def registered_kinds():
    kinds = set()
    pat = re.compile(r'(?:family_entry\(\s*|ModelFamily\s+k\w+\s*=?\s*\{\s*)"([a-z_]+)"')
    for path in files_under("src/core"):
        kinds.update(pat.findall(read(path)))
    return kinds


ALLOWED_ANGLE = re.compile(r"^(?:[a-z_]+|nlohmann/[\w./]+|Eigen/[\w./]+)$")


def main():
    r = Reporter()

    bad = []
    for path in files_under("src/core"):
        for num, l in enumerate(read(path).splitlines(), 1):
            m = re.match(r'\s*#\s*include\s*([<"])([^>"]+)[>"]', l)
            if not m:
                continue
            quoted, name = m.group(1) == '"', m.group(2)
            if (quoted and not name.startswith("core/")) or (not quoted and not ALLOWED_ANGLE.match(name)):
                bad.append("%s:%d %s" % (os.path.relpath(path, ROOT), num, l.strip()))
    r.check("core includes only the core, the standard library, nlohmann/json and Eigen", not bad,
            "; ".join(bad[:5]))

    kinds = registered_kinds()
    r.check("the core registers the model kinds (found %d)" % len(kinds),
            {"linear_regression", "logistic_regression", "pipeline", "partitioned", "xgboost"} <= kinds,
            ", ".join(sorted(kinds)))
    word = re.compile(r"\b(" + "|".join(sorted(map(re.escape, kinds), key=len, reverse=True)) + r")\b")
    bad = []
    for path in files_under("src/pg"):
        for line, lit in code_parts(read(path)):
            m = word.search(lit)
            if m:
                bad.append('%s:%d "%s" (%s)' % (os.path.relpath(path, ROOT), line, lit[:60], m.group(1)))
    r.check("the glue's string literals name no model kind", not bad, "; ".join(bad[:5]))

    # The check itself: a literal naming a kind is found, one in a comment is not.
    sample = '// a pipeline step\nfail("read by a pipeline step"); /* xgboost */ ok("none");'
    found = [lit for _l, lit in code_parts(sample) if word.search(lit)]
    r.check("the literal scanner finds a kind in a literal and none in comments",
            found == ["read by a pipeline step"], repr(found))
    r.exit()


if __name__ == "__main__":
    main()
