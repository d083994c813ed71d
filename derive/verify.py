"""Cross-check a backward implementation against the derivation.

:func:`check` draws shapes and parameters from the catalog with Hypothesis
(or takes one given case), runs the target's backward, and compares every
entry of every gradient with the derived formula:

- **exact**: inputs and ``G`` are arrays of SymPy symbols, for ops whose
  backward is polynomial; equality is identity, no tolerance;
- **numeric**: float inputs, the derived closed form evaluated in float64,
  compared with a stated tolerance (dtype-aware);
- **finite differences**: the derived gradient itself is checked against
  central differences of the NumPy reference forward, on small cases.

A check never passes vacuously: zero examples, an op the target lacks, or a
backward that raised is never a pass.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import strategies as dst
from .catalog import Case, get_op
from .derivation import G_NAME, shape_pattern, vjp
from .diagnose import diagnose
from .oracle import evaluate_closed_form, exact_inputs, symbol_array
from .targets import CannotExpress, TargetError, load_target

__all__ = ["check", "Report", "Failure", "TOLERANCES", "run_example", "DerivationError"]

#: (rtol, atol) per dtype, relative to the largest expected entry.
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (2e-4, 2e-5)}
FD_MAX_ENTRIES = 64


class DerivationError(RuntimeError):
    """The derived formula disagrees with finite differences: a bug in derive, not in the target."""


@dataclass
class Failure:
    """One wrong (or broken) gradient, minimal after shrinking."""

    op: str
    input: str | None
    case: Case
    kind: str
    message: str
    index: tuple | None = None
    expected_formula: str | None = None
    expected: object = None
    got: object = None
    evidence: str = "numeric"
    diagnosis: str | None = None

    def describe(self, op=None):
        lines = [f"{self.op}({self.case.describe(get_op(self.op))})"]
        lines.append(f"  {self.message}")
        if self.diagnosis:
            lines.append(f"  diagnosis: {self.diagnosis}")
        return "\n".join(lines)

    def to_dict(self):
        return {"op": self.op, "input": self.input, "shapes": [list(s) for s in self.case.shapes],
                "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.case.params.items()},
                "kind": self.kind, "message": self.message,
                "index": list(self.index) if self.index is not None else None,
                "expected_formula": self.expected_formula,
                "expected": _jsonable(self.expected), "got": _jsonable(self.got),
                "evidence": self.evidence, "diagnosis": self.diagnosis}


def _jsonable(v):
    if v is None:
        return None
    if isinstance(v, (float, int, str, bool)):
        return v
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return str(v)


@dataclass
class Report:
    """The outcome of checking one op against one target.

    Truthy only when every example passed and at least one ran.
    """

    op: str
    target: str
    status: str = "pass"
    examples: int = 0
    skipped_cases: int = 0
    evidence: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    derivation: object = None
    message: str = ""
    seconds: float = 0.0
    dtype: str = "float64"

    def __bool__(self):
        return self.status == "pass" and self.examples > 0 and not self.failures

    def verdict(self):
        ev = ", ".join(f"{k} {v}" for k, v in self.evidence.items() if v)
        skipped = f", {self.skipped_cases} case(s) the target cannot express skipped" if self.skipped_cases else ""
        if self.status == "pass":
            return f"PASS {self.op}: {self.examples} examples ({ev}){skipped} in {self.seconds:.2f}s"
        if self.status == "skipped":
            return f"SKIP {self.op}: {self.message}"
        if self.status == "error":
            return f"ERROR {self.op}: {self.message}"
        return f"FAIL {self.op}: {len(self.failures)} failure(s) after {self.examples} examples ({ev}){skipped}"

    def __str__(self):
        lines = []
        if self.derivation is not None:
            lines.append(str(self.derivation))
        lines.append(self.verdict())
        for f in self.failures:
            lines.append(f.describe())
        return "\n".join(lines)

    def to_dict(self):
        deriv = None
        if self.derivation is not None:
            deriv = {g.name: {"index_formula": str(g.index_formula), "closed_form": g.closed_form}
                     for g in self.derivation}
        return {"op": self.op, "status": self.status, "examples": self.examples,
                "skipped_cases": self.skipped_cases, "evidence": dict(self.evidence),
                "failures": [f.to_dict() for f in self.failures], "derivation": deriv,
                "message": self.message, "seconds": round(self.seconds, 4)}

    def to_json(self, **kwargs):
        import json
        return json.dumps(self.to_dict(), **kwargs)


class _Mismatch(AssertionError):
    def __init__(self, failure):
        super().__init__(failure.message)
        self.failure = failure


# ----------------------------------------------------------------------------------------------
# one example
# ----------------------------------------------------------------------------------------------

def derivation_for(op, case):
    """The (cached) derivation covering a concrete case, and the size-symbol bindings."""
    op = get_op(op)
    params = op.with_defaults(case.params)
    shapes = tuple(tuple(int(n) for n in s) for s in case.shapes)
    if not op.shape_generic:
        return vjp(op, *shapes, **params), {}
    pattern, sizes = shape_pattern([tuple(sp.Integer(n) for n in s) for s in shapes])
    inverse = {v: k for k, v in sizes.items()}
    if "shape" in params and params["shape"] is not None:
        target = params["shape"] if isinstance(params["shape"], (tuple, list)) else (params["shape"],)
        params = {**params, "shape": tuple(inverse.get(int(n), int(n)) if int(n) > 1 else int(n)
                                           for n in target)}
    return vjp(op, *pattern, **params), sizes


def _env(op, derivation, case, arrays, G):
    env = {spec.name: a for spec, a in zip(op.inputs, arrays)}
    env[G_NAME] = G
    env.update(op.with_defaults(case.params))
    return env


def expected_gradients(op, case, arrays, G):
    """The derived gradients for concrete arrays (float or symbolic), by the closed forms."""
    op = get_op(op)
    derivation, _ = derivation_for(op, case)
    env = _env(op, derivation, case, arrays, G)
    out = {}
    for grad in derivation:
        value = evaluate_closed_form(grad, env)
        shape = tuple(int(n) for n in case.shapes[op.input_names.index(grad.name)])
        out[grad.name] = np.broadcast_to(value, shape) if value.shape != shape else value
    return out


def _expected_or_error(op, case, arrays, G):
    try:
        return expected_gradients(op, case, arrays, G)
    except Exception as exc:  # noqa: BLE001  a fault of derive, never blamed on the target
        raise DerivationError(f"evaluating the derived closed form of {op.name} at "
                              f"{case.describe(op)} failed: {type(exc).__name__}: {exc}") from exc


def _output_shape(op, case):
    derivation, sizes = derivation_for(op, case)
    return tuple(int(sp.sympify(n).subs(sizes)) for n in derivation.output_shape)


def _call(target, op, case, inputs, G):
    """Run the target; check structure (count, None, shape, mutation, determinism)."""
    snapshot = [np.array(a, copy=True) for a in inputs]
    G_snapshot = np.array(G, copy=True)
    grads = target.run(op, case, [np.array(a, copy=True) if False else a for a in inputs], G)
    if len(grads) != len(op.inputs):
        raise _structural(op, case, None, f"returned {len(grads)} gradient(s) for {len(op.inputs)} "
                                          f"input(s) ({', '.join(op.input_names)})")
    for spec, a, before in zip(op.inputs, inputs, snapshot):
        if not _same(a, before):
            raise _structural(op, case, spec.name, f"modified its input {spec.name} in place")
    if not _same(G, G_snapshot):
        raise _structural(op, case, None, "modified the upstream gradient G in place")
    return grads


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype == object or b.dtype == object:
        return all(x == y for x, y in zip(a.ravel(), b.ravel()))
    return np.array_equal(a, b, equal_nan=True)


def _structural(op, case, name, message, evidence="numeric"):
    who = f"dl/d{name}: " if name else ""
    return _Mismatch(Failure(op=op.name, input=name, case=case, kind="structure",
                             message=f"{who}{message}", evidence=evidence))


def _check_structure(op, case, grads, evidence, dtype):
    for spec, g, shape in zip(op.inputs, grads, case.shapes):
        if not spec.differentiable:
            continue
        if g is None:
            raise _structural(op, case, spec.name, "the backward returned None", evidence)
        try:
            g = np.asarray(g)
        except Exception as exc:  # noqa: BLE001
            raise _structural(op, case, spec.name, f"not an array ({type(g).__name__}: {exc})", evidence)
        if g.shape != tuple(shape):
            failure = _structural(op, case, spec.name, f"gradient has shape {g.shape}, input has shape "
                                                       f"{tuple(shape)}", evidence)
            if g.shape == _output_shape(op, case) and len(op.inputs) > 1:
                failure.failure.diagnosis = ("un-broadcast missing: the gradient has the broadcast output's "
                                             "shape; sum it over the axes broadcasting added or stretched")
            raise failure
        if evidence != "exact":
            if g.dtype.kind != "f":
                raise _structural(op, case, spec.name, f"gradient has dtype {g.dtype}, "
                                                       "expected a real floating dtype", evidence)
            if not np.all(np.isfinite(g)):
                bad = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
                raise _structural(op, case, spec.name, f"gradient is not finite at {list(bad)}: "
                                                       f"{g[bad]}", evidence)


def _fmt_index(idx):
    return "[" + ",".join(str(int(i)) for i in idx) + "]"


def _entry_formula(derivation, name, idx, sizes):
    grad = derivation[name]
    expr = grad.index_formula.subs({s: v for s, v in sizes.items()})
    expr = expr.subs(dict(zip(grad.index, idx)))
    try:
        expr = expr.doit()
    except Exception:  # noqa: BLE001
        pass
    return str(expr).replace("onehot", "onehot")


def _fd_gradients(op, case, arrays, G):
    params = op.with_defaults(case.params)
    h = 1e-6
    out = {}
    for k, spec in enumerate(op.inputs):
        if not spec.differentiable:
            continue
        a = arrays[k]
        g = np.zeros_like(a, dtype=np.float64)
        for idx in np.ndindex(*a.shape):
            plus = [np.array(b, dtype=np.float64, copy=True) if s.domain != "labels" else b
                    for s, b in zip(op.inputs, arrays)]
            minus = [np.array(b, dtype=np.float64, copy=True) if s.domain != "labels" else b
                     for s, b in zip(op.inputs, arrays)]
            plus[k][idx] += h
            minus[k][idx] -= h
            g[idx] = (np.sum(G * op.forward(*plus, **params)) - np.sum(G * op.forward(*minus, **params))) / (2 * h)
        out[spec.name] = g
    return out


def run_example(op, target, case, seed, dtype="float64", evidence=None, fd=True):
    """Check one case; raise :class:`_Mismatch` with a :class:`Failure` when wrong.

    ``evidence`` (a dict) counts the evidence levels used.
    """
    op = get_op(op)
    evidence = {} if evidence is None else evidence
    try:
        derivation, sizes = derivation_for(op, case)
        out_shape = _output_shape(op, case)
    except Exception as exc:  # noqa: BLE001
        raise DerivationError(f"cannot derive {op.name} at {case.describe(op)}: {exc}") from exc

    # 1. exact
    if op.exact and target.exact_capable:
        inputs = exact_inputs(op, case)
        G = symbol_array(G_NAME, out_shape)
        try:
            grads = _call(target, op, case, inputs, G)
        except _Mismatch:
            raise
        except (CannotExpress, TargetError):
            raise
        except Exception:  # noqa: BLE001  the target cannot take symbols: fall back to numeric
            grads = None
        if grads is not None:
            expected = _expected_or_error(op, case, inputs, G)
            _check_structure(op, case, grads, "exact", dtype)
            for name, exp in expected.items():
                got = np.asarray(grads[op.input_names.index(name)])
                for idx in np.ndindex(*exp.shape):
                    e, g = sp.expand(exp[idx]), sp.expand(sp.sympify(got[idx]))
                    if sp.expand(e - g) != 0:
                        raise _Mismatch(Failure(
                            op=op.name, input=name, case=case, kind="value", index=idx,
                            expected_formula=str(e), expected=str(e), got=str(g), evidence="exact",
                            message=f"dl/d{name}{_fmt_index(idx)}: expected {e}, got {g}",
                            diagnosis=diagnose(op, case, name, None, None, exact=(exp, got))))
            evidence["exact"] = evidence.get("exact", 0) + 1

    # 2. numeric
    np_dtype = np.dtype(dtype)
    arrays64 = dst.make_inputs(op, case, seed)
    G64 = dst.make_upstream(out_shape, seed)
    arrays = [a.astype(np_dtype) if spec.domain != "labels" else a for spec, a in zip(op.inputs, arrays64)]
    G = G64.astype(np_dtype)
    expected = _expected_or_error(op, case, [a.astype(np.float64) if s.domain != "labels" else a
                                             for s, a in zip(op.inputs, arrays)], G.astype(np.float64))
    grads = _call(target, op, case, arrays, G)
    _check_structure(op, case, grads, "numeric", dtype)
    again = _call(target, op, case, arrays, G)
    rtol, atol = TOLERANCES.get(np_dtype.name, TOLERANCES["float32"])
    for name, exp in expected.items():
        got = np.asarray(grads[op.input_names.index(name)], dtype=np.float64)
        second = np.asarray(again[op.input_names.index(name)], dtype=np.float64)
        if not np.array_equal(got, second, equal_nan=True):
            raise _structural(op, case, name, "two calls with the same arguments gave different results")
        scale = max(1.0, float(np.max(np.abs(exp))) if exp.size else 1.0)
        bad = np.abs(got - exp) > atol * scale + rtol * np.abs(exp) + rtol * scale * 0
        if np.any(bad):
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            formula = _entry_formula(derivation, name, idx, sizes)
            env = _env(op, derivation, case, arrays, G)
            raise _Mismatch(Failure(
                op=op.name, input=name, case=case, kind="value", index=idx, expected_formula=formula,
                expected=float(exp[idx]), got=float(got[idx]), evidence="numeric",
                message=(f"dl/d{name}{_fmt_index(idx)}: expected {formula} = {exp[idx]:.6g}, "
                         f"got {got[idx]:.6g} (rtol {rtol:g}, atol {atol:g}x{scale:.3g}, {np_dtype.name})"),
                diagnosis=diagnose(op, case, name, got, exp, env=env, expected_all=expected)))
    evidence["numeric"] = evidence.get("numeric", 0) + 1

    # 3. finite differences guard the derivation itself
    if fd and sum(int(np.prod(s, dtype=int)) for s in case.shapes) <= FD_MAX_ENTRIES:
        numeric = _fd_gradients(op, case, arrays64, G64)
        exp64 = expected_gradients(op, case, arrays64, G64)
        for name, g in numeric.items():
            if not np.allclose(exp64[name], g, rtol=1e-4, atol=1e-5):
                raise DerivationError(f"the derived gradient of {op.name} for {name} at "
                                      f"{case.describe(op)} disagrees with finite differences")
        evidence["finite differences"] = evidence.get("finite differences", 0) + 1


# ----------------------------------------------------------------------------------------------
# the check
# ----------------------------------------------------------------------------------------------

def _settings(examples, database, derandomize):
    from hypothesis import HealthCheck, Phase, settings
    kwargs = dict(max_examples=examples, deadline=None, database=database, derandomize=derandomize,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
                  phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])
    return settings(**kwargs)


_DEFAULT_DB = object()


def check(op, target="numeric", style=None, examples=100, seed=None, shapes=None, params=None,
          dtype="float64", database=_DEFAULT_DB, fd=True):
    """Cross-check ``target``'s backward for ``op`` against the derivation.

    Parameters
    ----------
    op : str or Op
        The op's name or alias.
    target : str or Target
        ``"numeric"`` (default), ``"numeric.backward"``, ``"torch"``, or a user's
        ``module``, ``module:attr`` or ``path/to/file.py``.
    style : {None, "functions", "tensor", "function-class"}
        Force the target's style (default: detected).
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

    Returns
    -------
    Report

    Raises
    ------
    ValueError
        Unknown op (naming the closest names) or a bad option value.
    derive.targets.TargetError
        The target cannot be imported or used.
    """
    op = get_op(op)
    if dtype not in TOLERANCES:
        raise ValueError(f"unsupported dtype {dtype!r}; use one of {', '.join(TOLERANCES)}")
    if int(examples) < 1:
        raise ValueError(f"examples must be at least 1, got {examples}")
    tgt = load_target(target, style)
    report = Report(op=op.name, target=tgt.name, dtype=dtype)
    start = time.perf_counter()
    try:
        report.derivation = vjp(op)
    except Exception as exc:  # noqa: BLE001
        report.status, report.message = "error", f"cannot derive {op.name}: {exc}"
        return report
    ok, reason = tgt.supports(op)
    if not ok:
        report.status, report.message = "skipped", reason
        return report
    evidence = report.evidence
    if shapes is not None:
        case = Case(tuple(tuple(s) for s in shapes), dict(params or {}))
        try:
            op.with_defaults(case.params)
            derivation_for(op, case)
        except ValueError as exc:
            raise ValueError(f"{op.name}: {exc}") from None
        report.derivation = derivation_for(op, case)[0]
        _run_single(report, op, tgt, case, seed or 0, dtype, evidence, fd)
    else:
        _run_hypothesis(report, op, tgt, examples, seed, dtype, evidence, database, fd)
    report.seconds = time.perf_counter() - start
    if report.status == "pass" and report.examples == 0:
        report.status = "skipped" if report.skipped_cases else "error"
        report.message = (f"every case was one {tgt.name} cannot express ({report.skipped_cases} skipped)"
                          if report.skipped_cases else "no example ran")
    return report


def _run_single(report, op, tgt, case, seed, dtype, evidence, fd):
    try:
        run_example(op, tgt, case, seed, dtype, evidence, fd)
        report.examples += 1
    except _Mismatch as m:
        report.examples += 1
        report.status = "fail"
        report.failures.append(m.failure)
    except CannotExpress:
        report.skipped_cases += 1
    except DerivationError as exc:
        report.status, report.message = "error", str(exc)
    except TargetError as exc:
        report.status, report.message = "error", str(exc)
    except Exception as exc:  # noqa: BLE001  the backward raised: a failure with its message
        report.examples += 1
        report.status = "fail"
        report.failures.append(Failure(op=op.name, input=None, case=case, kind="exception",
                                       message=f"the backward raised {type(exc).__name__}: {exc}"))


def _run_hypothesis(report, op, tgt, examples, seed, dtype, evidence, database, fd):
    from hypothesis import given
    from hypothesis import seed as hseed
    from hypothesis.errors import Unsatisfiable

    seen = {"n": 0, "skipped": 0}
    last = {}

    def one(example):
        case, value_seed = example
        try:
            run_example(op, tgt, case, value_seed, dtype, evidence, fd)
        except CannotExpress:
            seen["skipped"] += 1
            from hypothesis import reject
            reject()
        except (_Mismatch, DerivationError, TargetError):
            seen["n"] += 1
            raise
        except Exception as exc:  # noqa: BLE001
            seen["n"] += 1
            last["failure"] = Failure(op=op.name, input=None, case=case, kind="exception",
                                      message=f"the backward raised {type(exc).__name__}: {exc}")
            raise _Mismatch(last["failure"]) from exc
        seen["n"] += 1

    one._hypothesis_internal_add_digest = f"derive:{op.name}:{tgt.name}:{dtype}".encode()
    if database is _DEFAULT_DB:
        from hypothesis import settings as hsettings
        database = hsettings.default.database
    test = _settings(examples, database, derandomize=False)(given(dst.examples(op))(one))
    if seed is not None:
        test = hseed(seed)(test)
    try:
        test()
    except _Mismatch as m:
        report.status = "fail"
        report.failures.append(m.failure)
    except DerivationError as exc:
        report.status, report.message = "error", str(exc)
    except TargetError as exc:
        report.status, report.message = "error", str(exc)
    except Unsatisfiable:
        pass
    report.examples = seen["n"]
    report.skipped_cases = seen["skipped"]
