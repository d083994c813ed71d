"""Write the gradebook: a row per submission, a column per op, as CSV, JSON and a markdown summary.

Each cell is the verdict and, when it did not pass, the first failure's one-line
message (``FAIL: dl/dX[0,1]: expected G[1], got G[0]``).  A submission that could
not be loaded has its reason in ``problem`` and ``NOT LOADED`` in every op cell;
``flags`` says what else an instructor should know (it imports derive's reference
implementation).  Every cell is plain text: no control characters (a terminal's
escapes), no spreadsheet formula (``=HYPERLINK(...)`` reads as text), and in the
markdown no unescaped pipe.  Every file is written whole (a temporary file, then a
rename), so a reader never sees half of one.
"""

from __future__ import annotations

import collections
import csv
import io
import json
import os

from ..checker.report import Status
from ..isolation.channel import printable
from .feedback import shown
from .run import detail_name, write_atomically

__all__ = ["rows", "write", "plain", "not_graded"]

def plain(text):
    """``text`` on one line, with terminal escapes and other control characters removed."""
    return " ".join(printable(text).split())


def _csv_safe(value):
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _cell(op_data):
    status = Status(op_data["status"])
    if status == Status.PASS:
        return status.label
    first = shown(op_data)
    if first:  # the failing case too, so that the cell is enough to reproduce it
        message = first[0]["message"] + (f" (at {first[0]['case']})" if first[0].get("case") else "")
    else:
        message = op_data.get("message", "")
    message = plain(message)
    return f"{status.label}: {message}" if message else status.label


def rows(results, ops):
    """One flat row per submission: name, target, counts, problem, and a cell per op."""
    out = []
    for data in results:
        by_op = {o["op"]: o for o in data.get("ops", [])}
        row = {"submission": plain(data["submission"]), "target": plain(data["target"]),
               "passed": data.get("passed", 0), "failed": data.get("failed", 0),
               "skipped": data.get("skipped", 0), "forward_differs": data.get("forward_differs", 0),
               "checked": len(by_op), "problem": plain(data.get("error", "")),
               "flags": plain("; ".join(data.get("flags", [])))}
        for op in ops:
            row[op] = _cell(by_op[op]) if op in by_op else "NOT LOADED"
        out.append(row)
    return out


def not_graded(results):
    """The submissions derive could not grade for its own reasons (a checker that died on it twice,
    derive's own error): the run's exit code is then 3."""
    return [data["submission"] for data in results
            if data.get("fault") == "checker" or str(data.get("error", "")).startswith("derive failed")]


def write(results, ops, out_dir, options=None, seconds=None):
    """Write ``gradebook.csv``, ``gradebook.json`` and ``gradebook.md`` in ``out_dir``; their paths."""
    table = rows(results, ops)
    columns = ["submission", "target", "passed", "failed", "skipped", "forward_differs", "checked", "problem",
               "flags", *ops]
    paths = {kind: os.path.join(out_dir, f"gradebook.{kind}") for kind in ("csv", "json", "md")}
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows({k: _csv_safe(v) for k, v in row.items()} for row in table)
    write_atomically(paths["csv"], text.getvalue())
    names = {r["submission"]: data["submission"] for r, data in zip(table, results)}
    write_atomically(paths["json"], json.dumps(
        {"ops": list(ops), "options": options or {}, "seconds": seconds, "submissions": table,
         "not_graded": [plain(n) for n in not_graded(results)],
         "details": {r["submission"]: os.path.join("submissions", detail_name(names[r["submission"]]))
                     for r in table}}, indent=2))
    write_atomically(paths["md"], summary(table, ops, seconds, sandbox=(options or {}).get("sandbox")))
    return paths


def _md(text):
    return plain(text).replace("\\", "\\\\").replace("|", "\\|").replace("`", "\\`")


def summary(table, ops, seconds=None, sandbox=None):
    """The markdown summary: per op, how many passed and the commonest failure; per submission, its score."""
    n = len(table)
    loaded = [r for r in table if not r["problem"]]
    lines = ["# Gradebook", "",
             f"{n} submission(s), {len(loaded)} loaded, {len(ops)} op(s)"
             + (f", checked in {seconds:.0f} s" if seconds is not None else "") + ".", "",
             *([f"Sandbox: {_md(sandbox)}.", ""] if sandbox else []),
             "## Per op", "", "| op | passed | failed | other | commonest failure |", "|---|---|---|---|---|"]
    for op in ops:
        cells = [r[op] for r in loaded]
        passed = sum(1 for c in cells if c == "PASS")
        failed = sum(1 for c in cells if c.startswith(("FAIL", "ERROR")))
        failures = collections.Counter(c for c in cells if c.startswith("FAIL"))
        common = failures.most_common(1)
        text = f"{_md(common[0][0][:120])} ({common[0][1]}x)" if common else ""
        lines.append(f"| `{op}` | {passed}/{len(cells)} | {failed} | {len(cells) - passed - failed} | {text} |")
    lines += ["", "## Per submission", "", "| submission | passed | failed | skipped | problem |", "|---|---|---|---|---|"]
    for r in table:
        problem = "; ".join(p for p in (r["problem"][:160], r["flags"][:160]) if p)
        lines.append(f"| {_md(r['submission'])} | {r['passed']}/{r['checked'] or len(ops)} | {r['failed']} | "
                     f"{r['skipped']} | {_md(problem)} |")
    return "\n".join(lines) + "\n"
