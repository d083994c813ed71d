"""What a check reports: one :class:`Report` per op, its :class:`Failure` s, and how numbers are shown."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

from ..catalog.registry import get_op

__all__ = ["Report", "Failure", "format_pair", "STATUSES", "run_summary", "one_line"]

#: pass; fail (a gradient is wrong or the backward broke); differs (the forward is not the op's,
#: so its gradient could not be checked there); skipped (the target lacks the op); error (derive's fault)
STATUSES = ("pass", "fail", "differs", "skipped", "error")
#: lines of a target's output shown with its failure in text reports (JSON keeps all that was captured)
MAX_OUTPUT_LINES = 20


def format_pair(expected, got):
    """Expected and got with as many digits as it takes to tell them apart, and the relative error."""
    e, g = float(expected), float(got)
    for digits in range(6, 18):
        se, sg = f"{e:.{digits}g}", f"{g:.{digits}g}"
        if se != sg:
            break
    rel = abs(g - e) / abs(e) if e != 0 else float("inf") if g != 0 else 0.0
    return se, sg, rel


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, (float, int, str, bool)):
        return v
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return str(v)


@dataclass
class Failure:
    """One wrong (or broken) gradient or forward, minimal after shrinking."""

    op: str
    input: str | None
    case: object
    kind: str
    message: str
    index: tuple | None = None
    expected_formula: str | None = None
    expected: object = None
    got: object = None
    evidence: str = "numeric"
    diagnosis: str | None = None
    expected_array: object = field(default=None, repr=False)
    got_array: object = field(default=None, repr=False)
    #: other shape families the op also fails on (see :mod:`derive.checker.families`)
    also: list = field(default_factory=list)
    #: what the target printed during the failing call (truncated)
    output: str = ""
    #: the op's input names (set by the check: an op outside the catalog, a whole expression's, has its own)
    input_names: tuple = ()
    #: the target's spelling that failed, when it is not the first (``method Tensor.add``)
    spelling: str | None = None

    def describe(self):
        try:
            op = get_op(self.op)
        except ValueError:  # an op that is not in the catalog (a whole expression's)
            op = None
        through = f" through {self.spelling}" if self.spelling else ""
        lines = [f"{self.op}({self.case.describe(op, self.input_names)}){through}", f"  {self.message}"]
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        if self.also:
            lines.append(f"  also fails on: {'; '.join(self.also)}")
        if self.output.strip():
            shown = self.output.rstrip().splitlines()
            more = f" (first {len(shown[:MAX_OUTPUT_LINES])} lines)" if len(shown) > MAX_OUTPUT_LINES else ""
            lines.append(f"  the target printed{more}:")
            lines.extend(f"    | {line}" for line in shown[:MAX_OUTPUT_LINES])
        return "\n".join(lines)

    def to_dict(self):
        return {"op": self.op, "input": self.input, "shapes": [list(s) for s in self.case.shapes],
                "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.case.params.items()},
                "kind": self.kind, "message": self.message,
                "index": list(self.index) if self.index is not None else None,
                "expected_formula": self.expected_formula,
                "expected": _jsonable(self.expected), "got": _jsonable(self.got),
                "evidence": self.evidence, "diagnosis": self.diagnosis, "also_fails_on": list(self.also),
                "output": self.output, "spelling": self.spelling}


@dataclass
class Report:
    """The outcome of checking one op against one target.

    Truthy only when every example passed, at least one ran, and the forward
    agreed with the catalog's everywhere.
    """

    op: str
    target: str
    status: str = "pass"
    examples: int = 0
    skipped_cases: int = 0
    #: why cases were skipped: reason -> count (``numeric.conv1d takes no `groups` ...``)
    skip_reasons: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    derivation: object = None
    message: str = ""
    seconds: float = 0.0
    dtype: str = "float64"
    #: cases whose forward differs from the catalog's (raised, or other values): the most ordinary first
    forward: list = field(default_factory=list)
    forward_cases: int = 0
    notes: list = field(default_factory=list)

    def __bool__(self):
        return (self.status == "pass" and self.examples > 0 and not self.failures
                and self.evidence.get("numeric", 0) >= self.examples)

    def __repr__(self):
        ev = ", ".join(f"{k} {v}" for k, v in self.evidence.items() if v)
        return f"<Report {self.op}: {self.status.upper()} {self.examples} example(s) ({ev})>"

    def skip(self, reason):
        """Count a case the target cannot express, and why."""
        reason = reason or "cannot express this case"
        self.skipped_cases += 1
        self.skip_reasons[reason] = self.skip_reasons.get(reason, 0) + 1
        self.message = reason

    def skipped_why(self, most=3):
        """The commonest reasons for skipped cases, with their counts, on one line."""
        ranked = sorted(self.skip_reasons.items(), key=lambda kv: -kv[1])
        text = "; ".join(f"{reason}: {n}" for reason, n in ranked[:most])
        return text + (f"; {len(ranked) - most} more reason(s)" if len(ranked) > most else "")

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)

    def verdict(self):
        ev = ", ".join(f"{k} {v}" for k, v in self.evidence.items() if v) or "none passed"
        skipped = (f", {self.skipped_cases} case(s) the target cannot express skipped ({self.skipped_why()})"
                   if self.skipped_cases else "")
        if self.status == "pass":
            return f"PASS {self.op}: {self.examples} examples ({ev}){skipped} in {self.seconds:.2f}s"
        if self.status == "skipped":
            return f"SKIP {self.op}: {self.message}"
        if self.status == "error":
            return f"ERROR {self.op}: {self.message}"
        if self.status == "differs":
            checked = (f"; the backward passed on the other {self.examples} ({ev})" if self.examples
                       else "; the gradient was not checked")
            return (f"DIFFERS {self.op}: the forward is not NumPy's {self.op} on {self.forward_cases} case(s)"
                    f"{checked}")
        return f"FAIL {self.op}: {len(self.failures)} failure(s) after {self.examples} examples ({ev}){skipped}"

    def __str__(self):
        lines = [str(self.derivation)] if self.derivation is not None else []
        return "\n".join(lines + [self.body()])

    def body(self):
        """The verdict, the failures, the forward that differs and the notes (no derivation)."""
        lines = [self.verdict()]
        for f in self.failures:
            lines.append(f.describe())
        if self.forward:
            lines.append(("forward differs: " if self.status != "differs" else "") + self.forward[0].describe())
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def to_dict(self):
        deriv = None
        if self.derivation is not None:
            deriv = {g.name: {"index_formula": str(g.index_formula), "closed_form": g.closed_form}
                     for g in self.derivation}
        return {"op": self.op, "status": self.status, "examples": self.examples,
                "skipped_cases": self.skipped_cases, "skip_reasons": dict(self.skip_reasons), "evidence": dict(self.evidence),
                "failures": [f.to_dict() for f in self.failures], "derivation": deriv,
                "forward_differs": [f.to_dict() for f in self.forward], "forward_cases": self.forward_cases,
                "notes": list(self.notes), "message": self.message, "seconds": round(self.seconds, 4)}

    def to_json(self, **kwargs):
        return json.dumps(self.to_dict(), **kwargs)


def one_line(report):
    """A report in one line: its verdict and, when it did not pass, the first failure's message."""
    if report.status == "fail" and report.failures:
        return f"FAIL: {report.failures[0].message}"
    if report.status == "differs" and report.forward:
        return f"DIFFERS: {report.forward[0].message}"
    if report.status in ("skipped", "error"):
        return f"{'SKIP' if report.status == 'skipped' else 'ERROR'}: {report.message}"
    return report.status.upper()


#: the version of the JSON layout of :func:`run_summary`, raised when a field changes meaning or goes
JSON_SCHEMA = 1


def run_summary(target, reports, seconds, seed=None):
    """One target's run as JSON-able data: what ``--format json`` prints and a gradebook row reads.

    ``schema`` is :data:`JSON_SCHEMA`, ``derive`` the version that checked, ``seed`` the run's
    (None: Hypothesis's own, a run that is not repeated exactly)."""
    from .._version import __version__
    return {"schema": JSON_SCHEMA, "derive": __version__, "seed": seed,
            "target": target.name, "style": target.style, "seeding": target.seeding,
            "ops": [r.to_dict() for r in reports],
            "passed": sum(1 for r in reports if r),
            "failed": sum(1 for r in reports if r.status in ("fail", "error")),
            "forward_differs": sum(1 for r in reports if r.status == "differs"),
            "skipped": sum(1 for r in reports if r.status == "skipped"), "seconds": round(seconds, 3)}
