"""What a check reports: one :class:`Report` per op, its :class:`Failure` s, and how numbers are shown."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass, field

import numpy as np

from ..catalog.registry import get_op

__all__ = ["Report", "Failure", "Status", "format_pair", "run_summary"]


class Status(str, enum.Enum):
    """A check's verdict.  A ``str``, so that ``status == "pass"`` and the JSON stay plain text.

    pass; fail (a gradient is wrong or the backward broke); differs (the forward is not the op's, so its
    gradient could not be checked there); skipped (the target lacks the op); error (derive could not
    check it: derive's fault, a protocol it cannot settle, or too little evidence).
    """

    PASS = "pass"
    FAIL = "fail"
    DIFFERS = "differs"
    SKIPPED = "skipped"
    ERROR = "error"

    def __str__(self):
        return self.value

    def __repr__(self):  # shown as the text it is equal to, as before it was an enum
        return repr(self.value)

    __format__ = str.__format__

    @property
    def label(self):
        """The verdict's word in reports and gradebooks: ``PASS``, ``SKIP``..."""
        return "SKIP" if self is Status.SKIPPED else self.value.upper()

    @property
    def counts_as_failed(self):
        """Whether a run counts it among the failed: a FAIL, or an op derive could not check."""
        return self in (Status.FAIL, Status.ERROR)

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

    def where(self):
        """The failing call on one line: ``matmul(X(1, 2), Y(2, 1))``, and the spelling if not the first."""
        try:
            op = get_op(self.op)
        except ValueError:  # an op that is not in the catalog (a whole expression's)
            op = None
        through = f" through {self.spelling}" if self.spelling else ""
        return f"{self.op}({self.case.describe(op, self.input_names)}){through}"

    def describe(self):
        lines = [self.where(), f"  {self.message}"]
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
        return {"op": self.op, "input": self.input, "case": self.where(), "shapes": [list(s) for s in self.case.shapes],
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
    status: Status = Status.PASS
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
        return (self.status == Status.PASS and self.examples > 0 and not self.failures
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
        if self.status == Status.PASS:
            return f"PASS {self.op}: {self.examples} examples ({ev}){skipped} in {self.seconds:.2f}s"
        if self.status == Status.SKIPPED:
            return f"SKIP {self.op}: {self.message}"
        if self.status == Status.ERROR:
            return f"ERROR {self.op}: {self.message}"
        if self.status == Status.DIFFERS:
            other = "the other " if self.forward_cases else ""
            checked = (f"; the backward passed on {other}{self.examples} ({ev})" if self.examples
                       else "; the gradient was not checked")
            where = f"on {self.forward_cases} case(s)" if self.forward_cases else "over the whole run"
            return f"DIFFERS {self.op}: the forward is not NumPy's {self.op} {where}{checked}"
        return f"FAIL {self.op}: {len(self.failures)} failure(s) after {self.examples} examples ({ev}){skipped}"

    def first_problem(self):
        """What a one-line summary (a gradebook cell, a markdown row) shows: the first failure, or the
        first case whose forward differs, with its case; else the report's message."""
        shown = self.failures or (self.forward if self.status == Status.DIFFERS else [])
        return f"{shown[0].message} (at {shown[0].where()})" if shown else self.message

    def __str__(self):
        lines = [str(self.derivation)] if self.derivation is not None else []
        return "\n".join(lines + [self.body()])

    def body(self):
        """The verdict, the failures, the forward that differs and the notes (no derivation)."""
        lines = [self.verdict()]
        for f in self.failures:
            lines.append(f.describe())
        if self.forward:
            lines.append(("forward differs: " if self.status != Status.DIFFERS else "") + self.forward[0].describe())
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
            "failed": sum(1 for r in reports if Status(r.status).counts_as_failed),
            "forward_differs": sum(1 for r in reports if r.status == Status.DIFFERS),
            "skipped": sum(1 for r in reports if r.status == Status.SKIPPED), "seconds": round(seconds, 3)}
