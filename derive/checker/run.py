"""The run loop: every op of one run checked with one :class:`RunOptions`, one after another in this
process or shared out over worker processes.

``python -m derive.check all`` checks each op in one of ``jobs`` processes (default:
the number of cores), each with its own copy of the target, and reports them in catalog
order as they complete.  A process gets the run's options, not this process's state, so a
run checks what one op at a time would check.
"""

from __future__ import annotations

import json
import dataclasses
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Optional

from .._paths import cache_directory

__all__ = ["RunOptions", "OpSummary", "summarize", "run_ops", "jobs_for", "example_database", "default_database",
           "profile_options"]


def default_database():
    """Where the examples Hypothesis saves are kept, unless a run names another folder: the user's
    cache (:func:`derive._paths.cache_directory`), not the working folder."""
    return cache_directory("examples")


@dataclass(frozen=True)
class RunOptions:
    """How one run loads its target and checks each op (the command line's options, as data).

    ``database`` is the example database's folder (None: :func:`default_database`), or a Hypothesis
    ``ExampleDatabase`` itself (the pytest front-ends give the active profile's);
    ``no_database`` saves nothing and writes nothing to the working folder.  ``op_timeout``
    None is the checker's default; ``jobs`` None is one process per core.  ``budget`` is the
    seconds the whole run may take, in one process (a graded submission's): an op not started
    in time is a SKIP that says so, and none runs past it.  ``shapes`` and ``params`` check one
    given case (of one op).  ``ops_files`` are declaration files
    (:func:`~derive.catalog.declarations.load_declarations`) each process loads first.
    """

    target: str = "numeric"
    style: Optional[str] = None
    isolate: bool = True
    timeout: Optional[float] = None
    load_timeout: Optional[float] = None
    sandbox: bool = False
    examples: int = 100
    seed: Optional[int] = None
    dtype: str = "float64"
    database: object = None
    no_database: bool = False
    op_timeout: Optional[float] = None
    ties: str = "subgradient"
    dtype_tolerance: str = "inputs"
    jobs: Optional[int] = None
    budget: Optional[float] = None
    shapes: Optional[tuple] = None
    params: dict = field(default_factory=dict)
    #: files of the user's own ops (``--ops``), loaded in every process the run starts
    ops_files: tuple = ()


@dataclass(frozen=True)
class OpSummary:
    """What a front-end shows of one op's report, without the report's live objects (picklable, so it
    crosses from a worker process).  ``report`` is the :class:`~derive.checker.report.Report` itself
    when the op was checked in this process; a worker's summary comes without it."""

    op: str
    status: str
    examples: int
    evidence: dict
    first: str
    text: str
    body_text: str
    data: dict
    ok: bool
    report: object = field(default=None, repr=False, compare=False)

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self.text

    def body(self):
        return self.body_text

    def to_dict(self):
        return self.data


def summarize(report):
    """The :class:`OpSummary` of a :class:`~derive.checker.report.Report`, holding it."""
    first = report.first_problem()
    return OpSummary(op=report.op, status=report.status, examples=report.examples, evidence=dict(report.evidence),
                     first=first or "", text=str(report), body_text=report.body(), data=report.to_dict(),
                     ok=bool(report), report=report)


def profile_options(examples=None, database=None, **fields):
    """The :class:`RunOptions` of a check inside pytest: the active Hypothesis profile's examples and
    database unless given (a profile with ``database=None`` keeps none); ``fields`` as given."""
    from hypothesis import settings
    active = settings()
    database = active.database if database is None else database
    return RunOptions(examples=active.max_examples if examples is None else examples, database=database,
                      no_database=database is None, **fields)


def example_database(options):
    """The example database of a run: the one given, a folder's, or None with ``no_database``."""
    if options.no_database:
        return None
    from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
    if isinstance(options.database, ExampleDatabase):
        return options.database
    return DirectoryBasedExampleDatabase(options.database or default_database())


def load(options, wait=True):
    """The run's target, loaded as ``options`` say."""
    from ..isolation import load_target
    return load_target(options.target, options.style, isolate=options.isolate, timeout=options.timeout,
                       load_timeout=options.load_timeout, wait=wait, sandbox=options.sandbox)


def check_one(name, target, options, database, progress=None, deadline=None):
    """The :class:`OpSummary` of checking op ``name`` (or an Op) on ``target`` (by ``deadline``, a
    ``time.perf_counter()`` value, or not at all)."""
    from .report import Report, Status
    from .verify import DEFAULT_OP_TIMEOUT, check
    op_timeout = options.op_timeout or DEFAULT_OP_TIMEOUT
    if deadline is not None:
        remaining = deadline - time.perf_counter()
        if remaining <= 1:
            return summarize(Report(op=getattr(name, "name", name), target=target.name, status=Status.SKIPPED,
                                    message=f"not checked: the budget of {options.budget:g} s was spent (--budget)"))
        op_timeout = min(op_timeout, remaining)
    report = check(name, target=target, examples=options.examples, seed=options.seed, dtype=options.dtype,
                   database=database, shapes=options.shapes, params=options.params, ties=options.ties,
                   dtype_tolerance=options.dtype_tolerance, op_timeout=op_timeout, progress=progress)
    return summarize(report)


_STATE = {}


def _start(options):
    """Worker initializer: load the target once for every op this process checks."""
    from ..catalog.declarations import load_declarations
    load_declarations(options.ops_files)  # a spawned process knows only the standard ops
    _STATE["options"] = options
    _STATE["target"] = load(options)
    _STATE["database"] = example_database(options)


def _check_in_worker(name):
    summary = check_one(name, _STATE["target"], _STATE["options"], _STATE["database"])
    return dataclasses.replace(summary, report=None)  # the report's live objects stay in the worker


def jobs_for(options, count):
    """How many processes check ``count`` ops: ``jobs``, else the cores; 1 in-process, for one op or
    with a budget."""
    if count < 2 or not options.isolate or options.budget is not None:
        return 1
    return max(1, min(options.jobs or os.cpu_count() or 1, count))


def run_ops(target, names, options, on_summary=lambda summary: None, progress=None, started=None):
    """Check the ops ``names`` (names, or Op objects in this process) on ``target``; ``on_summary(summary)`` in the order given, as each is
    known.  Returns the summaries and the elapsed seconds.

    Over more than one process (:func:`jobs_for`), each loads its own copy of the target, and the ops
    start longest first, by the seconds each took last time (kept next to the example database; an op
    not timed yet counts as long), so no process is left with a long op at the end.  In this process,
    ``progress(name)`` gives an op's progress callback.  The budget counts from ``started`` (a
    ``time.perf_counter()`` value; default now): a graded submission's includes its load.
    """
    start = time.perf_counter()
    jobs = jobs_for(options, len(names))
    summaries = []
    if jobs == 1:
        database = example_database(options)
        deadline = None if options.budget is None else (start if started is None else started) + options.budget
        for name in names:
            summaries.append(check_one(name, target, options, database, progress(name) if progress else None,
                                       deadline))
            on_summary(summaries[-1])
        return summaries, time.perf_counter() - start
    if hasattr(target, "ready"):
        target.ready()  # a target that cannot load is one error here, not one per process
    context = multiprocessing.get_context("spawn")  # no state of this process (or its threads) is inherited
    path = _durations_path(options)
    durations = _read_durations(path)
    order = sorted(names, key=lambda n: -durations.get(n, float("inf")))
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start, initargs=(options,)) as pool:
        futures = {name: pool.submit(_check_in_worker, name) for name in order}
        for name in names:
            summaries.append(futures[name].result())
            on_summary(summaries[-1])
    _write_durations(path, {**durations, **{s.op: s.data.get("seconds", 0.0) for s in summaries}})
    return summaries, time.perf_counter() - start


def _durations_path(options):
    """Where the seconds of the last run are kept: next to the example database; None with
    ``no_database``, which writes nothing to the working folder, or with a database given as an object."""
    if options.no_database or not isinstance(options.database, (str, type(None))):
        return None
    return os.path.join(options.database or default_database(), "durations.json")


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
