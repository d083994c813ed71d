"""Check many submissions in parallel: one checker process per core, each target in its own worker.

Each checker process takes one submission at a time, checks every op (the target
isolated in its worker process, in a sandbox where the system has one, see
:mod:`derive.isolation.sandbox`), writes that submission's JSON (the same data as
``--format json``) and asks for the next; the derivations are computed once per
checker process.  A submission that cannot be loaded, crashes, exits or hangs
costs its own row, never the others:

- each submission has a budget (load plus all its ops); the ops it leaves are
  marked as not checked, and a checker that overruns it by far is ended;
- a checker process that dies costs only the submission it was checking, which is
  checked once more in a fresh process, then marked with what happened.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from dataclasses import asdict, dataclass, field


__all__ = ["Options", "check_submission", "grade", "detail_name", "write_detail", "fingerprint", "source_digest",
           "DEFAULT_BUDGET"]

#: seconds one submission may take, load and every op (``--budget``)
DEFAULT_BUDGET = 900.0
#: seconds past its budget after which a checker process still busy with a submission is ended
_GRACE = 60.0


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
    budget: float = DEFAULT_BUDGET
    #: "on" (each submission in a sandbox) or "off: <why>"
    sandbox: str = "off: not asked for"
    #: where the sandboxes' scratch folders go (a grading run's own folder; None: the system's)
    scratch: str | None = None
    extra: dict = field(default_factory=dict)
    #: files of the user's own ops (``--ops``), loaded by each checker process first
    ops_files: tuple = ()


def fingerprint(options):
    """What makes two gradings of one submission the same (``--resume`` reuses a row only then)."""
    from .._version import __version__
    settings = {k: v for k, v in asdict(options).items() if k not in ("extra", "scratch")}
    settings["sandbox"] = settings["sandbox"] == "on"
    return hashlib.sha256(json.dumps([__version__, settings], sort_keys=True, default=str).encode()).hexdigest()[:16]


def source_digest(spec, own=None):
    """A digest of a submission's code (its ``.py`` and ``.ipynb`` files): a resubmission is graded again."""
    path = str(spec).partition(":")[0]
    folder = own or (path if os.path.isdir(path) else os.path.dirname(path) or ".")
    digest = hashlib.sha256()
    files = [path] if os.path.isfile(folder) else []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        files += [os.path.join(root, n) for n in sorted(names) if n.endswith((".py", ".ipynb"))]
    for name in files:
        try:
            with open(name, "rb") as f:
                digest.update(os.path.relpath(name, folder).encode() + b"\0" + f.read() + b"\0")
        except OSError:
            continue
    return digest.hexdigest()[:16]


def detail_name(name):
    """The detail file of submission ``name``: distinct names give distinct files (``x/y`` and ``x__y``)."""
    text = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "".join(f"%{b:02X}" for b in c.encode())
                   for c in name)
    return ("%2E" + text[1:] if text.startswith(".") else text) + ".json"


def write_detail(out_dir, name, data):
    """``out_dir/submissions/<name>.json``, the submission's data, and ``<name>.txt``, its feedback."""
    from .feedback import feedback
    path = os.path.join(out_dir, "submissions", detail_name(name))
    write_atomically(path, json.dumps(data, indent=2))
    write_atomically(path[:-len(".json")] + ".txt", feedback(data))


def write_atomically(path, text):
    """Write ``text`` to ``path`` through a temporary file and a rename: a reader sees the old or the new."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def run_options(options, spec):
    """The run loop's options for one submission: one process (the checker processes share the
    submissions out), no example database, the submission's budget."""
    from ..checker.run import RunOptions
    return RunOptions(target=spec, style=options.style, timeout=options.timeout, load_timeout=options.load_timeout,
                      examples=options.examples, seed=options.seed, dtype=options.dtype, no_database=True,
                      op_timeout=options.op_timeout, ties=options.ties, dtype_tolerance=options.dtype_tolerance,
                      jobs=1, budget=options.budget, ops_files=tuple(options.ops_files))


def check_submission(name, spec, options, out_dir, own=None, hide=()):
    """Check one submission; write ``out_dir/submissions/<name>.json``; its data (runs in a checker process).

    ``own`` is the submission's own folder (copied into its sandbox) and ``hide`` what its sandbox
    hides (the other submissions, the gradebook folder).  ``out_dir=None`` writes nothing (on a
    cluster, the grader writes).
    """
    from ..isolation import shutdown
    from ..isolation.sandbox import Sandbox, SandboxError
    from ..checker.report import run_summary
    from ..checker.run import run_ops
    from ..targets import TargetError
    from ..isolation import load_target
    start = time.perf_counter()
    box = None
    outside = str
    try:
        inside = spec
        if options.sandbox == "on":
            box = Sandbox(hide=[*hide, *([out_dir] if out_dir else [])], scratch_in=options.scratch)
            inside, outside = box.prepare(spec, own), box.outside
        target = load_target(inside, options.style, timeout=options.timeout, load_timeout=options.load_timeout,
                             sandbox=box)
    except (TargetError, SandboxError) as exc:
        message = outside(str(exc))
        if box is not None and "numeric" in message:
            message += " (derive's reference implementation is off limits to graded code)"
        data = {"target": spec, "error": message, "ops": [], "seconds": round(time.perf_counter() - start, 3)}
    else:
        reports, _ = run_ops(target, list(options.ops), run_options(options, spec), started=start)
        data = json.loads(outside(json.dumps(run_summary(target, reports, time.perf_counter() - start,
                                                             seed=options.seed))))
        data["target"] = spec
        if getattr(target, "uses_reference", False):
            data["flags"] = ["it imports derive's reference implementation (numeric)"]
    finally:
        shutdown()  # this submission's worker; the next one gets a fresh process
        if box is not None:
            box.cleanup()
    data["submission"] = name
    data["sandbox"] = options.sandbox
    data["settings"] = fingerprint(options)
    data["source"] = source_digest(spec, own)
    if out_dir is not None:
        write_detail(out_dir, name, data)
    return data


def _checker(conn, options, out_dir):
    """A checker process: submissions in, their data out, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the grading process's to handle
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from ..catalog.declarations import load_declarations
    load_declarations(options.ops_files)  # a spawned process knows only the standard ops
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        name, spec, own, hide = job
        try:
            data = check_submission(name, spec, options, out_dir, own, hide)
        except Exception as exc:  # noqa: BLE001  derive's own failure on this submission
            data = _failed(name, spec, f"derive failed on this submission: {type(exc).__name__}: {exc}")
        conn.send(data)


def _failed(name, spec, why, fault="derive"):
    """The row of a submission derive could not grade (``fault`` says whose the reason is)."""
    return {"submission": name, "target": spec, "ops": [], "error": why, "fault": fault}


def _how_it_ended(process):
    code = process.exitcode
    if code is not None and code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class _Checker:
    """One checker process and the submission it is on."""

    def __init__(self, context, options, out_dir):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_checker, args=(child, options, out_dir), daemon=True)
        self.process.start()
        child.close()
        self.job = None
        self.started = 0.0

    def give(self, job, payload):
        self.job, self.started = job, time.monotonic()
        self.conn.send(payload)

    def end(self):
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)
        self.conn.close()


def grade(submissions, options, out_dir, jobs=None, progress=None, results=None, owns=None, hide=None):
    """Check ``submissions`` (``[(name, spec)]``) over ``jobs`` processes; their data, in input order.

    ``progress(done, total, data)`` is called as each submission finishes, and ``results``
    (a dict, name to data) fills as they do, so that an interrupted run keeps what it finished;
    submissions already in ``results`` are not checked again.  ``owns`` gives each submission's
    own folder and ``hide(k)`` what the sandbox of the k-th submission hides.
    """
    import dataclasses
    import multiprocessing
    import shutil
    import tempfile
    from multiprocessing.connection import wait

    os.makedirs(os.path.join(out_dir, "submissions"), exist_ok=True)
    # the sandboxes' scratch folders, in one folder of this run's: gone at its end, whatever ended a checker
    options = dataclasses.replace(options, scratch=tempfile.mkdtemp(prefix="derive-grading-"))
    results = {} if results is None else results
    owns = owns or [None] * len(submissions)
    todo = [(k, 1) for k, (name, _) in enumerate(submissions) if name not in results]
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo) or 1))
    context = multiprocessing.get_context("spawn")  # no state of this process (or its threads) is inherited
    checkers = []
    hard_limit = options.budget + (options.load_timeout or 60) + _GRACE

    def finish(k, data):
        results[submissions[k][0]] = data
        if progress is not None:
            progress(len(results), len(submissions), data)

    try:
        while todo or any(c.job for c in checkers):
            while todo:
                idle = next((c for c in checkers if c.job is None), None)
                if idle is None:
                    if len(checkers) >= jobs:
                        break
                    idle = _Checker(context, options, out_dir)
                    checkers.append(idle)
                k, attempt = todo.pop(0)
                name, spec = submissions[k]
                idle.give((k, attempt), (name, spec, owns[k], hide(k) if hide else ()))
            busy = [c for c in checkers if c.job is not None]
            ready = wait([c.conn for c in busy] + [c.process.sentinel for c in busy], timeout=1.0)
            for c in busy:
                k, attempt = c.job
                name, spec = submissions[k]
                if c.conn in ready:
                    try:
                        data = c.conn.recv()
                    except (EOFError, OSError):
                        data = None
                    if data is not None:
                        c.job = None
                        finish(k, data)
                        continue
                if c.process.sentinel in ready or not c.process.is_alive():
                    c.process.join(1)
                    how = _how_it_ended(c.process)
                    checkers.remove(c)
                    c.end()
                    if attempt == 1:  # perhaps not the submission's doing: once more, in a fresh process
                        todo.insert(0, (k, 2))
                    else:
                        finish(k, _failed(name, spec, f"the checker process ended ({how}) while checking this "
                                                      "submission, twice", fault="checker"))
                elif time.monotonic() - c.started > hard_limit:
                    checkers.remove(c)
                    c.end()
                    finish(k, _failed(name, spec, f"grading stopped: it was still running {hard_limit:.0f} s "
                                                  f"after it started (budget {options.budget:g} s, --budget)",
                                      fault="submission"))
    finally:
        for c in checkers:
            try:
                c.conn.send(None)
            except (OSError, ValueError):
                pass
            c.end()
        shutil.rmtree(options.scratch, ignore_errors=True)
    return [results[name] for name, _ in submissions]
