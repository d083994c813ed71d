"""Checking many ops at once: the ops of one run shared out over worker processes.

``python -m derive.check all`` checks each op in one of ``--jobs`` processes
(default: the number of cores), each with its own copy of the target, and
prints the reports in catalog order as they complete.  A process gets the
command line's options, not this process's state, so a run checks what one
op at a time would check.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

__all__ = ["Outcome", "summarize", "check_all"]


@dataclass(frozen=True)
class Outcome:
    """What the command line prints of one op's report, without the report's live objects."""

    op: str
    status: str
    examples: int
    evidence: dict
    first: str
    text: str
    body_text: str
    data: dict
    ok: bool

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.text

    def body(self):
        return self.body_text

    def to_dict(self):
        return self.data


def summarize(report):
    """The :class:`Outcome` of a :class:`~derive.checker.report.Report` (picklable, for another process)."""
    first = report.first_problem()
    return Outcome(op=report.op, status=report.status, examples=report.examples, evidence=dict(report.evidence),
                   first=first or "", text=str(report), body_text=report.body(), data=report.to_dict(),
                   ok=bool(report))


_STATE = {}


def _start(args):
    """Worker initializer: load the target once for every op this process checks."""
    from ..check.cli import _database
    from ..targets import load_target
    _STATE["args"] = args
    _STATE["target"] = load_target(args.target, args.style, isolate=not args.in_process, timeout=args.timeout,
                                   load_timeout=args.load_timeout, sandbox=getattr(args, "sandboxed", False))
    _STATE["database"] = _database(args)


def _check_one(name):
    from .verify import DEFAULT_OP_TIMEOUT, check
    args = _STATE["args"]
    report = check(name, target=_STATE["target"], examples=args.examples, seed=args.seed, dtype=args.dtype,
                   database=_STATE["database"], op_timeout=args.op_timeout or DEFAULT_OP_TIMEOUT,
                   ties=getattr(args, "ties", "subgradient"),
                   dtype_tolerance=getattr(args, "dtype_tolerance", "inputs"))
    return summarize(report)


def jobs_for(args, count):
    """How many processes check ``count`` ops: ``--jobs``, else the cores; 1 in-process or for one op."""
    if count < 2 or args.in_process:
        return 1
    return max(1, min(args.jobs or os.cpu_count() or 1, count))


def check_all(args, names, jobs, on_outcome):
    """Check ``names`` in ``jobs`` processes; ``on_outcome(outcome)`` in catalog order. Returns the outcomes
    and the elapsed seconds.

    The ops start longest first, by the seconds each took last time (kept next to the example
    database; an op not timed yet counts as long), so no process is left with a long op at the end.
    """
    start = time.perf_counter()
    context = multiprocessing.get_context("spawn")  # no state of this process (or its threads) is inherited
    path = _durations_path(args)
    durations = _read_durations(path)
    order = sorted(names, key=lambda n: -durations.get(n, float("inf")))
    outcomes = []
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start, initargs=(args,)) as pool:
        futures = {name: pool.submit(_check_one, name) for name in order}
        for name in names:
            outcome = futures[name].result()
            outcomes.append(outcome)
            on_outcome(outcome)
    _write_durations(path, {**durations, **{o.op: o.data.get("seconds", 0.0) for o in outcomes}})
    return outcomes, time.perf_counter() - start


def _durations_path(args):
    """Where the seconds of the last run are kept: next to the example database; None with
    ``--no-database``, which writes nothing to the working folder."""
    if getattr(args, "no_database", False):
        return None
    return os.path.join(getattr(args, "database", None) or os.path.join(".hypothesis", "derive"), "durations.json")


def _read_durations(path):
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        return {str(k): float(v) for k, v in data.items()}
    except (OSError, ValueError, TypeError, AttributeError):  # none yet, or not ours: no order to go by
        return {}


def _write_durations(path, durations):
    if path is None:
        return
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(durations, f, indent=0, sort_keys=True)
    except OSError:  # a read-only directory: the next run starts in catalog order
        pass
