"""A submission's feedback file: its report as text a student can be handed.

``gradebook/submissions/<name>.txt`` is written next to the detail JSON, from the same data (so
a cluster's results and a resumed run get one too): each op that did not pass with its failing
case, the message, the diagnosis, the derived gradient it was checked against and what the
code printed; then one line per op that passed.
"""

from __future__ import annotations

from ..checker.report import Status
from ..isolation.channel import printable

__all__ = ["feedback", "shown"]


def shown(op):
    """The failures a summary of one op's data shows: its wrong gradients for a FAIL, the cases whose
    forward differs for a DIFFERS, none otherwise (a gradebook cell, this file)."""
    status = Status(op["status"])
    return (op.get("failures") if status == Status.FAIL else
            op.get("forward_differs") if status == Status.DIFFERS else None) or []


def _problem(op):
    """The lines of one op that did not pass."""
    status = Status(op["status"])
    lines = [f"{status.label} {op['op']}"]
    failures = shown(op)
    if not failures:
        return lines + [f"  {op.get('message', '')}"]
    first = failures[0]
    lines.append(f"  at {first.get('case') or first.get('shapes')}")
    lines.append(f"  {first['message']}")
    if first.get("diagnosis"):
        lines.append(f"  diagnosis: {first['diagnosis']}")
    if first.get("also_fails_on"):
        lines.append(f"  also fails on: {'; '.join(first['also_fails_on'])}")
    name = first.get("input")
    derived = (op.get("derivation") or {}).get(name) if name else None
    if status == Status.FAIL and derived:
        lines.append(f"  dl/d{name} was checked against the derived entry {derived['index_formula']}"
                     + (f", in closed form {derived['closed_form']}" if derived.get("closed_form") else ""))
    if first.get("output", "").strip():
        lines.append("  the code printed:")
        lines.extend(f"    | {line}" for line in first["output"].rstrip().splitlines()[:20])
    return lines


def feedback(data):
    """The feedback text of one submission's data (a gradebook detail file's contents)."""
    head = f"derive {data.get('derive', '')}: {data.get('submission', '')} ({data.get('target', '')})".strip()
    lines = [head]
    if data.get("seed") is not None:
        lines.append(f"seed {data['seed']}: `--seed {data['seed']}` repeats this run")
    if data.get("error"):
        lines += ["", f"not checked: {data['error']}"]
        return printable("\n".join(lines)) + "\n"
    ops = data.get("ops", [])
    lines.append(f"{data.get('passed', 0)} passed, {data.get('failed', 0)} failed, "
                 f"{data.get('forward_differs', 0)} with a forward that differs, {data.get('skipped', 0)} skipped")
    for op in ops:
        if Status(op["status"]) in (Status.FAIL, Status.DIFFERS, Status.ERROR):
            lines += ["", *_problem(op)]
            lines.extend(f"  note: {n}" for n in op.get("notes", []))
    passed = [op for op in ops if Status(op["status"]) == Status.PASS]
    if passed:
        lines += ["", *(f"PASS {op['op']} ({op.get('examples', 0)} examples)" for op in passed)]
    return printable("\n".join(lines)) + "\n"
