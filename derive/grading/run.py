"""Check many submissions in parallel: one checker process per core, each target in its own worker.

Each checker process takes one submission at a time, checks every op (the target
isolated in its worker process, :mod:`derive.isolation`), writes that
submission's JSON (the same data as ``--format json``) and moves on; the
derivations are computed once per checker process.  A submission that cannot be
loaded, crashes, exits or hangs costs its own row, never the others.
"""

from __future__ import annotations

import json
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

__all__ = ["Options", "check_submission", "grade"]


@dataclass
class Options:
    """How every submission is checked (the same for all: same seed, same examples, same limits)."""

    ops: list
    examples: int = 100
    seed: int = 0
    dtype: str = "float64"
    style: str | None = None
    timeout: float | None = None
    op_timeout: float | None = None
    load_timeout: float | None = None
    ties: str = "subgradient"
    dtype_tolerance: str = "inputs"
    extra: dict = field(default_factory=dict)


def check_submission(name, spec, options, out_dir):
    """Check one submission; write ``out_dir/submissions/<name>.json``; its data (runs in a checker process)."""
    from ..isolation import shutdown
    from ..checker.report import run_summary
    from ..targets import TargetError, load_target
    from ..checker.verify import DEFAULT_OP_TIMEOUT, check
    start = time.perf_counter()
    try:
        target = load_target(spec, options.style, timeout=options.timeout, load_timeout=options.load_timeout)
    except TargetError as exc:
        data = {"target": spec, "error": str(exc), "ops": [], "seconds": round(time.perf_counter() - start, 3)}
    else:
        reports = [check(op, target=target, examples=options.examples, seed=options.seed, dtype=options.dtype,
                         database=None, op_timeout=options.op_timeout or DEFAULT_OP_TIMEOUT, ties=options.ties,
                         dtype_tolerance=options.dtype_tolerance)
                   for op in options.ops]
        data = run_summary(target, reports, time.perf_counter() - start)
        data["target"] = spec
    finally:
        shutdown()  # this submission's worker; the next one gets a fresh process
    data["submission"] = name
    path = os.path.join(out_dir, "submissions", name.replace("/", "__") + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
    return data


def _ignore_interrupts():
    """A checker process leaves Ctrl-C to the grading process, which ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _end(pool):
    """Stop a pool at once (Ctrl-C): its processes end, and their target workers with them."""
    for process in list(getattr(pool, "_processes", {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def grade(submissions, options, out_dir, jobs=None, progress=None, results=None):
    """Check ``submissions`` (``[(name, spec)]``) over ``jobs`` processes; their data, in input order.

    ``progress(done, total, data)`` is called as each submission finishes, and ``results``
    (a dict, name to data) fills as they do, so that an interrupted run keeps what it finished.
    """
    import multiprocessing

    os.makedirs(os.path.join(out_dir, "submissions"), exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(submissions) or 1))
    results = {} if results is None else results
    todo = list(submissions)
    context = multiprocessing.get_context("spawn")  # no state of this process (or its threads) is inherited
    while todo:
        pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_ignore_interrupts)
        try:
            futures = {pool.submit(check_submission, name, spec, options, out_dir): (name, spec)
                       for name, spec in todo}
            broken = False
            for future in as_completed(futures):
                name, spec = futures[future]
                try:
                    data = future.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                except Exception as exc:  # noqa: BLE001  derive's own failure on this submission
                    data = {"submission": name, "target": spec, "ops": [],
                            "error": f"derive failed on this submission: {type(exc).__name__}: {exc}"}
                results[name] = data
                if progress is not None:
                    progress(len(results), len(submissions), data)
        except BaseException:
            _end(pool)
            raise
        pool.shutdown(wait=True)
        remaining = [(n, s) for n, s in todo if n not in results]
        if broken and remaining == todo:  # pragma: no cover - nothing finished: give up on the rest
            for name, spec in remaining:
                results[name] = {"submission": name, "target": spec, "ops": [],
                                 "error": "the checker process ended unexpectedly"}
            remaining = []
        todo = remaining
    return [results[name] for name, _ in submissions]

