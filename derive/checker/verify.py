"""Cross-check a target's backward against the derivation: :func:`check`.

:func:`check` loads the target once (settling how it is called), skips an op the
target lacks at no cost, draws shapes and parameters from the catalog with
Hypothesis (or takes one given case) and runs :func:`derive.checker.example.run_example`
on each.  A failure is shrunk; when it lands on an unusual shape family (a 0-d
input, ``axis=()``, a 1-D operand) the search runs again without that family, so
the report leads with the most ordinary failing case and lists the others.

A check never passes vacuously: zero examples, an op the target lacks, a forward
that is not the op's, or a backward that raised is never a pass.
"""

from __future__ import annotations

import inspect
import math
import operator
import time
import types

import numpy as np
from hypothesis.database import ExampleDatabase

from ..catalog import strategies as dst
from ..catalog.registry import Case, get_op
from ..symbolic.derivation import vjp
from .example import (TOLERANCES, BackwardRaised, DerivationError, ForwardDiffers, Mismatch, derivation_for,
                      expected_gradients, run_example)
from .families import families, ordinariness
from .report import Failure, Report, Status
from ..targets import FunctionsTarget, Target, TargetError, Unsupported
from ..isolation import load_target
from ..targets.base import TargetCrashed, describe_raised

__all__ = ["check", "Report", "Failure", "TOLERANCES", "run_example", "expected_gradients", "DerivationError"]

#: how many times a failure is looked for again without the unusual families already found
MAX_ROUNDS = 4
#: seconds one op's check may take before the search stops (a failure found is still shrunk within it)
DEFAULT_OP_TIMEOUT = 300.0
#: more examples than this per op is a usage error (the op time limit ends long runs anyway)
MAX_EXAMPLES = 100_000
#: a count of drawn entries this far from its expectation happens by chance less often than this
DRAWN_ALPHA = 1e-9
#: how gradients at ties are judged: any subgradient (named), or only the catalog's declared convention
TIES = ("subgradient", "declared")
#: the tolerance a gradient in a lower precision than its inputs is compared at
DTYPE_TOLERANCES = ("inputs", "gradient")
_DEFAULT_DB = object()


class _OutOfTime(BaseException):
    """The op's time limit was reached: stops Hypothesis at once (it is not a failure to shrink)."""


class _Unshrinkable(BaseException):
    """A timeout or crash on the search's first (simplest) case: stops Hypothesis without a replay."""

    def __init__(self, failure):
        super().__init__(failure.message)
        self.failure = failure


def _settings(examples, database):
    from hypothesis import HealthCheck, Phase, Verbosity, settings
    return settings(max_examples=examples, deadline=None, database=database,
                    suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                    verbosity=Verbosity.quiet,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])


def resolve_target(op, target, style=None, timeout=None):
    """The :class:`Target` for ``target``; a plain function is ``op``'s functions-style backward."""
    if isinstance(target, Target):
        if timeout is not None and hasattr(target, "timeout"):
            target.timeout = float(timeout)
        return target
    if callable(target) and not inspect.isclass(target) and not isinstance(target, types.ModuleType):
        namespace = types.SimpleNamespace(**{op.name: target})
        return FunctionsTarget(namespace, getattr(target, "__name__", "backward"))
    return load_target(target, style, timeout=timeout)


def check(op, target="numeric", style=None, examples=100, seed=None, shapes=None, params=None,
          dtype="float64", database=_DEFAULT_DB, fd=True, timeout=None, op_timeout=DEFAULT_OP_TIMEOUT,
          progress=None, ties="subgradient", dtype_tolerance="inputs"):
    """Cross-check ``target``'s backward for ``op`` against the derivation.

    Parameters
    ----------
    op : str or Op
        The op's name or alias.
    target : str, callable, Binding or Target
        ``"numeric"`` (default), ``"numeric.backward"``, a library with a ready binding
        (``"torch"``, ``"autograd"``, ``"jax"``, ``"mygrad"``, ``"mlfz"``), a user's ``module``,
        ``module:attr`` or ``path/to/file.py``, a :class:`derive.Binding`, or a backward
        function ``fn(grad, *inputs, **params)``.  A target given by name runs in a worker
        process (see :mod:`derive.isolation`).
    style : {None, "functions", "tensor", "function-class", "functional"}
        Force the target's style (default: discovered).
    examples : int
        How many Hypothesis examples to draw.
    seed : int, optional
        Make the draw reproducible.
    shapes, params : optional
        Check this one case instead of drawing.
    dtype : {"float64", "float32"}
        The dtype of the inputs given to the target; tolerances follow it.
    database : optional
        A Hypothesis example database (failing examples are replayed first);
        None disables it; default: Hypothesis's default database.
    fd : bool
        Also check the derivation against finite differences on small cases.
    timeout : float, optional
        Seconds one call of an isolated target may take (default 10); a call over it
        is a failure ("timed out after 10 s").
    op_timeout : float or None
        Seconds the whole check may take (default 300): the search stops there and the
        report says after how many examples.  None: no limit.
    progress : callable, optional
        ``progress(examples_run, examples)`` after each example.
    ties : {"subgradient", "declared"}
        At ties and kinks (max, maximum): ``"subgradient"`` (default) accepts any gradient inside
        the subdifferential, with a note naming the convention it follows; ``"declared"`` pins the
        catalog's convention (torch's), so that anything else fails.
    dtype_tolerance : {"inputs", "gradient"}
        A gradient returned in a lower precision than the inputs (float16 for float64) is compared at
        the inputs' tolerance (default), or at its own dtype's (``"gradient"``, lenient); either way
        a note names its dtype.

    Returns
    -------
    Report
        ``status`` is ``pass``, ``fail`` (a wrong gradient or a broken backward),
        ``differs`` (the forward is not the op's), ``skipped`` (the target lacks
        the op) or ``error`` (derive could not derive or evaluate).

    Raises
    ------
    ValueError
        Unknown op (naming the closest names) or a bad option value.
    derive.targets.TargetError
        The target cannot be imported, or no calling protocol fits it.
    """
    op = get_op(op)
    if dtype not in ("float64", "float32"):
        raise ValueError(f"unsupported dtype {dtype!r}; use float64 or float32")
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(TIES)}, got {ties!r}")
    if dtype_tolerance not in DTYPE_TOLERANCES:
        raise ValueError(f"dtype_tolerance must be one of {', '.join(DTYPE_TOLERANCES)}, got {dtype_tolerance!r}")
    if not isinstance(examples, (int, np.integer)) or isinstance(examples, (bool, np.bool_)):
        raise ValueError(f"examples is a whole number of examples, got {examples!r}")
    examples = int(examples)
    if not 1 <= examples <= MAX_EXAMPLES:
        raise ValueError(f"examples must be between 1 and {MAX_EXAMPLES:,}, got {examples}")
    for name, value in (("timeout", timeout), ("op_timeout", op_timeout)):
        if value is not None and not float(value) > 0:
            raise ValueError(f"{name} must be a positive number of seconds, got {value}")
    case = _given_case(op, shapes, params) if shapes is not None else None
    tgt = resolve_target(op, target, style, timeout)
    start = time.perf_counter()
    try:
        derivation = vjp(op) if case is None else derivation_for(op, case)[0]
    except Exception as exc:  # noqa: BLE001
        derivation, failed = None, f"cannot derive {op.name}: {exc}"
    if hasattr(tgt, "ready"):
        waited = time.perf_counter()
        tgt.ready()  # a target still loading in its worker (while this process derived)
        start += time.perf_counter() - waited  # loading is not the check's time
    report = Report(op=op.name, target=tgt.name, dtype=dtype, derivation=derivation)
    if derivation is None:
        report.status, report.message = Status.ERROR, failed
        return report
    run = _Run(tgt, dtype, fd, start + op_timeout if op_timeout else None, progress, examples, ties,
               dtype_tolerance)
    run.drain()
    try:
        ok, reason = tgt.supports(op)
    except TargetCrashed as exc:
        from ..targets.spelling import probe_case
        report.failures.append(_crashed(op, probe_case(op), exc, run, "while its forward was probed"))
    else:
        if not ok:
            report.status, report.message = Status.SKIPPED, reason
            return report
        if case is not None:
            _run_single(report, op, run, case, seed or 0)
        else:
            _run_rounds(report, op, run, examples, seed, database)
    report.seconds = time.perf_counter() - start
    unjudged = _judge_draws(report, op, run.draws)
    _settle(report, tgt, op)
    if report.status == Status.PASS and unjudged:  # a mask that kept nothing could not be told from dropout
        report.status, report.message = Status.ERROR, unjudged
    for f in report.failures + report.forward:
        f.input_names = tuple(spec.name for spec in op.inputs)  # an op outside the catalog has its own names
    return report


class _Run:
    """What every example of one check shares: the target, the dtype, the deadline, the progress."""

    def __init__(self, target, dtype, fd, deadline, progress, examples, ties="subgradient", dtype_tolerance="inputs"):
        self.target, self.dtype, self.fd, self.ties = target, dtype, fd, ties
        self.dtype_tolerance = dtype_tolerance
        self.deadline, self.progress, self.examples = deadline, progress, examples
        self.out_of_time = False
        self.printed = 0
        self.draws = {}  # input name -> the draws of each distinct example (see run_example)

    def example(self, report, op, case, seed, notes):
        """Run one example, with the target's output kept for its failure.

        What the target did wrong (a wrong gradient, a raise, an exit, a crash, a timeout)
        comes out as :class:`Mismatch`; derive's own faults as :class:`DerivationError`.
        """
        if self.deadline is not None and time.perf_counter() > self.deadline:
            self.out_of_time = True
            raise _OutOfTime()
        self.drain()
        try:
            run_example(op, self.target, case, seed, self.dtype, report.evidence, self.fd, notes, ties=self.ties,
                        dtype_tolerance=self.dtype_tolerance, draws=self.draws)
        except (Mismatch, ForwardDiffers) as exc:
            exc.failure.output = self.drain()
            raise
        except TargetCrashed as exc:
            raise Mismatch(_crashed(op, case, exc, self)) from None
        except BackwardRaised as exc:
            failure = _raised(op, case, exc.exc)
            failure.output, failure.spelling = self.drain(), getattr(exc, "spelling", None)
            raise Mismatch(failure) from exc
        except (Unsupported, DerivationError, TargetError):
            raise
        except Exception as exc:  # noqa: BLE001  derive's own fault: never blamed on the target
            raise DerivationError(f"derive failed while checking {op.name}({case.describe(op)}): "
                                  f"{type(exc).__name__}: {exc}") from exc
        finally:
            if self.progress is not None:
                self.progress(report.examples + 1, self.examples)

    def drain(self):
        text, total = self.target.drain_output()
        self.printed += total
        return text


def _given_case(op, shapes, params):
    """The one case of ``shapes=``/``params=``, or ValueError saying why it does not fit ``op``."""
    def size(n):
        if isinstance(n, (bool, np.bool_)):
            raise TypeError(n)
        return operator.index(n)  # 2 or np.int64(2); never 2.5 or "2"

    try:
        case = Case(tuple(tuple(size(n) for n in s) for s in shapes), op.given(dict(params or {})))
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(f"{op.name}: "):
            raise
        raise ValueError(f"{op.name}: shapes are tuples of sizes like [(2, 3), (3, 4)], got {shapes!r}") from None
    if any(n < 0 for s in case.shapes for n in s):
        raise ValueError(f"{op.name}: shapes cannot have negative sizes, got {case.shapes}")
    if any(0 in s for s in case.shapes):
        raise ValueError(f"{op.name}: a case with a size-0 input has no entries to compare, got {case.shapes}")
    try:
        derivation_for(op, case)
    except Exception:  # noqa: BLE001  a case that does not fit (an axis out of range, a shape that does not match)
        raise ValueError(_case_error(op, case)) from None
    return case


def _crashed(op, case, exc, run, when=""):
    """The failure of a call that timed out, exited or crashed (with what it printed)."""
    message = str(exc) + (f" {when}" if when else "")
    return Failure(op=op.name, input=None, case=case, kind=exc.kind, message=message, output=run.drain())


def _case_error(op, case):
    """Why a given case does not fit ``op``, in its concrete sizes, with the op named once."""
    try:
        vjp(op, *case.shapes, **case.params)
    except ValueError as exc:
        message = str(exc)
    except Exception as exc:  # noqa: BLE001  what the derivation says of a case it cannot take
        message = f"cannot derive {op.name} at {case.describe(op)}: {type(exc).__name__}: {exc}"
    else:  # pragma: no cover - the general pattern failed where the concrete case does not
        message = f"cannot derive {op.name} at {case.describe(op)}"
    return message if message.startswith(f"{op.name}:") else f"{op.name}: {message}"


def _settle(report, tgt, op):
    """The final status, once every round ran."""
    if "scalar" in getattr(tgt, "seeding", ""):
        report.note(f"G was seeded through {tgt.seeding}")
    raised = [f for f in report.forward if f.message.startswith("the forward raised")]
    if raised and len(raised) == len(report.forward) and report.examples == 0 and not report.failures:
        first = min(raised, key=lambda f: ordinariness(f.case))
        if _raised_kind(first.message) == "NotImplementedError" and ", in __" in first.message:
            # an operator the Tensor leaves out on purpose (needle hw1's Tensor ** Tensor): the library
            # does not offer the op, which is neither a verdict on the code nor a question for derive
            report.status = Status.SKIPPED
            report.message = (f"not offered: {first.message[len('the '):]} on every case tried "
                              f"({report.forward_cases}): the library leaves this operator out; nothing was checked")
            report.forward = []
            return
        if _calling_mismatch(first.message):
            # the forward refuses what derive passes (a Tensor it wants, an argument it takes another way):
            # derive's question to settle, never a verdict on the student's code
            report.status = Status.ERROR
            report.message = (f"{tgt.name} cannot be called the way derive tried: {first.message[len('the '):]} "
                              f"on every case tried ({report.forward_cases}); a protocol mismatch, not a verdict "
                              f"on the code (--style or a Binding says how it is called)")
            report.forward = []
            return
        if all(_raised_kind(f.message) == "NotImplementedError" for f in raised):
            # a stub the course or the student left (MiniTorch's matmul in module 2): nothing to check,
            # and not a wrong gradient either
            report.status = Status.SKIPPED
            report.message = (f"not implemented: {first.message[len('the '):]} on every case tried "
                              f"({report.forward_cases}); nothing was checked")
            report.forward = []
            return
        # a forward that raised on every case tried otherwise is broken (a typo)
        first.message += f" (on every case tried: {report.forward_cases})"
        report.failures.append(first)
        report.forward = []
    if report.failures and not any(report.evidence.values()) and all(f.kind == "protocol" for f in report.failures):
        # every call failed to fit the protocol derive guessed (a pair whose forward returns no cache,
        # and whose backward takes none): derive called the code the wrong way, never the student's FAIL
        report.status = Status.ERROR
        report.message = (f"{tgt.name} cannot be called the way derive tried: {report.failures[0].message} "
                          "on every case tried; a protocol mismatch, not a verdict on the code (--style or a "
                          "Binding says how it is called)")
        report.failures = []
        return
    plain_differs = any(not families(f.case) for f in report.forward)
    if report.failures and plain_differs:
        # the forward is another op on ordinary cases: a failure where it happens to agree is no verdict
        for f in report.failures:
            report.note(f"where the forward happens to agree ({f.case.describe(op)}), "
                        f"the backward also failed: {f.message}")
        report.failures = []
    if report.failures:
        report.status = Status.FAIL
    elif report.status == Status.ERROR:
        return
    elif report.forward:
        report.forward.sort(key=lambda f: (f.message.startswith("the forward raised"), ordinariness(f.case)))
        report.status = Status.DIFFERS
    elif report.examples == 0:
        report.status = Status.SKIPPED if report.skipped_cases else Status.ERROR
        report.message = (f"every case was one {tgt.name} cannot express ({report.skipped_cases} skipped: "
                          f"{report.skipped_why()})"
                          if report.skipped_cases else "no example ran")
    elif report.evidence.get("numeric", 0) < report.examples:  # a pass needs each example's evidence
        report.status, report.message = Status.ERROR, f"{report.examples} example(s) ran but none gave evidence"


def _judge_draws(report, op, draws):
    """Whether the inputs the target drew itself were drawn at their rate over the whole run, a
    DIFFERS if not.  A forward whose mask keeps nothing, with a backward of zeros, agrees with itself
    on every example: only the count of kept entries tells it is not dropout.  Returns why a rate
    could not be judged ("" if every one was)."""
    unjudged = ""
    for name, counted in draws.items():
        cases = [case for case, *_ in counted.values()]
        kept, mean, n = (sum(row[k] for row in counted.values()) for k in (1, 2, 3))
        bound = math.sqrt(n * math.log(2 / DRAWN_ALPHA) / 2)  # Hoeffding, for a sum of independent draws
        if abs(kept - mean) > bound:
            report.forward.append(Failure(
                op=op.name, input=name, case=min(cases, key=ordinariness), kind="forward",
                message=(f"the {name} it drew itself is True on {kept:,} of {n:,} entries over {len(counted)} "
                         f"example(s), where {op.name}'s parameters keep about {mean:,.0f} (a count this far off "
                         f"happens by chance with probability under {DRAWN_ALPHA:g})")))
        elif mean <= bound and not unjudged:
            unjudged = (f"the {name} {report.target} drew itself covered {n:,} entries, too few to tell it from "
                        f"one that keeps none; check more examples or larger shapes")
    return unjudged


def _raised_kind(message):
    """``NotImplementedError`` of ``the forward raised NotImplementedError: ...``."""
    return message[len("the forward raised "):].split(":", 1)[0].split(" ", 1)[0]


def _calling_mismatch(message):
    """Whether a forward's error says it was called the wrong way: a TypeError (the types or arguments
    derive passed), or an error about NumPy's arrays it was given where it wanted its own type."""
    kind = _raised_kind(message)
    if kind == "NotImplementedError":  # a stub, or an operator left out: settled as such, not a mismatch
        return False
    if kind == "AssertionError":  # an assert on its arguments (micrograd's isinstance(other, (int, float)))
        return True
    # "only supporting int/float powers", "not supported for Tensor": it takes another kind of operand
    return kind == "TypeError" or "ndarray" in message or "'numpy." in message or "support" in message.lower()


def _raised(op, case, exc):
    """The failure of a backward that raised ``exc``."""
    return Failure(op=op.name, input=None, case=case, kind="exception",
                   message=f"the backward raised {describe_raised(exc)}")


def _run_single(report, op, run, case, seed):
    notes = set()
    try:
        run.example(report, op, case, seed, notes)
        report.examples += 1
    except Mismatch as m:
        report.examples += 1
        report.failures.append(m.failure)
    except ForwardDiffers as f:
        report.forward_cases += 1
        report.forward.append(f.failure)
    except Unsupported as exc:
        report.skip(str(exc))
    except (DerivationError, TargetError) as exc:
        report.status, report.message = Status.ERROR, str(exc)
    except _OutOfTime:  # pragma: no cover - one example starts before any limit
        pass
    _finish(report, run, notes)


def _finish(report, run, notes):
    for n in sorted(notes):
        report.note(n)
    if run.printed:
        report.note(f"the target printed {run.printed:,} bytes (shown with the failure it belongs to)")
    if run.out_of_time:
        report.note(f"the search stopped after {report.examples} example(s): the op's time limit was reached "
                    "(raise it with --op-timeout)")


def _run_rounds(report, op, run, examples, seed, database):
    """Search for a failure; search again without the unusual families of each one found."""
    if database is _DEFAULT_DB:
        from hypothesis import settings as hsettings
        database = hsettings.default.database
    found, excluded = [], set()
    notes = set()
    for _ in range(MAX_ROUNDS):
        # each search keeps its failure under its own key (the families it leaves out), so a rerun
        # replays every one of them, the reported (most ordinary) one included
        failure = _search(report, op, run, examples, seed, database, frozenset(excluded), notes)
        if failure is None:
            break
        found.append(failure)
        new = set(families(failure.case)) - excluded
        if not new or failure.kind in ("timeout", "exit", "crash") or run.out_of_time:
            break  # a hang or a crash is not a matter of shapes; each search would pay for it again
        excluded |= new
    if found:
        found.sort(key=lambda f: ordinariness(f.case))
        primary = found[0]
        primary.also = [f"{', '.join(families(f.case))}: {f.op}({f.case.describe(op)}): {f.message}"
                        for f in found[1:]]
        report.failures.append(primary)
    _finish(report, run, notes)


class _Keyed(ExampleDatabase):
    """``database`` with every key under ``prefix``.  Hypothesis keys a test's examples by its function,
    the same one for every search here: each op, target, dtype and round keeps its own this way."""

    def __init__(self, database, prefix):
        super().__init__()
        self.database, self.prefix = database, prefix

    def save(self, key, value):
        self.database.save(self.prefix + key, value)

    def fetch(self, key):
        return self.database.fetch(self.prefix + key)

    def delete(self, key, value):
        self.database.delete(self.prefix + key, value)

    def move(self, src, dest, value):
        self.database.move(self.prefix + src, self.prefix + dest, value)


def _search(report, op, run, examples, seed, database, excluded, notes):
    from hypothesis import given, reject
    from hypothesis import seed as hseed
    from hypothesis.errors import Flaky, Unsatisfiable

    strategy = dst.examples(op)
    if excluded:
        strategy = strategy.filter(lambda ex: not (set(families(ex[0])) & excluded))
    last = []  # the latest failure: what a search stopped by the time limit reports

    calls = []

    def one(example):
        case, value_seed = example
        calls.append(None)
        try:
            run.example(report, op, case, value_seed, notes)
        except Unsupported as exc:
            report.skip(str(exc))
            reject()
        except ForwardDiffers as f:
            report.forward_cases += 1
            if len(report.forward) < 50:
                report.forward.append(f.failure)
            reject()
        except Mismatch as m:
            report.examples += 1
            last[:] = [m.failure]
            if m.failure.kind in ("timeout", "exit", "crash") and len(calls) == 1:
                # the search's first case is its simplest: nothing to shrink, and a replay would cost a
                # timeout or a new worker
                raise _Unshrinkable(m.failure) from None
            raise
        except (DerivationError, TargetError):
            report.examples += 1
            raise
        report.examples += 1

    if database is not None:
        database = _Keyed(database, (f"derive:{op.name}:{run.target.name}:{run.dtype}:"
                                     f"{','.join(sorted(excluded))}:").encode())
    test = _settings(examples, database)(given(strategy)(one))
    if seed is not None:
        test = hseed(seed)(test)
    try:
        test()
    except Mismatch as m:
        return m.failure
    except (DerivationError, TargetError) as exc:
        report.status, report.message = Status.ERROR, str(exc)
    except Unsatisfiable:
        pass
    except _Unshrinkable as stop:
        return stop.failure
    except _OutOfTime:
        return last[0] if last else None
    except Flaky:
        # the same case failed, then did not (or failed otherwise): the target is not deterministic
        # (micrograd's set of parents with an = for +=); its last failure stands, unshrunk
        if last:
            report.note("the target's answers changed when a case was run again, so shrinking stopped: "
                        "its backward is not deterministic")
            return last[0]
        raise
    return None
