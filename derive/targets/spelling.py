"""How a target spells an op, and telling "the op is not there" from "the op raised".

A *spelling* is ``spell(api, *tensors, **params)``: the catalog's ``Op.call``
(operators, methods, module functions with NumPy's names) unless a binding
gives its own.  When it raises, the traceback says who raised: a lookup that
failed in the spelling itself (AttributeError, or TypeError for a missing
operator or keyword) means the target lacks the op or the keyword; anything
raised inside the target's own code is the target's forward failing.
"""

from __future__ import annotations

import os

import numpy as np

from .base import ForwardError, Missing, Target, Unsupported

_DERIVE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _raised_in_derive(exc):
    """Whether the innermost Python frame of ``exc``'s traceback is derive's own code."""
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb.tb_frame.f_code.co_filename
        tb = tb.tb_next
    return last is not None and os.path.abspath(last).startswith(_DERIVE_DIR)


def missing_reason(op, exc):
    """A reason when ``exc`` means the target lacks ``op`` (or a keyword of it), else None."""
    if isinstance(exc, Unsupported):
        return str(exc) or f"cannot express {op.name}"
    if isinstance(exc, (AttributeError, TypeError)) and _raised_in_derive(exc):
        return f"no `{op.name}` in target ({type(exc).__name__}: {exc})"
    return None


def call_forward(op, spell, api, tensors, params):
    """Run a spelling; :class:`Unsupported` when the op is missing, :class:`ForwardError` when it raised."""
    if spell is None:
        raise Missing(f"no `{op.name}` in target")
    try:
        out = spell(api, *tensors, **params)
    except Exception as exc:  # noqa: BLE001  classified below
        reason = missing_reason(op, exc)
        if reason is not None:  # a spelling's own Unsupported is about this case; a failed lookup, the op
            raise (type(exc) if isinstance(exc, Unsupported) else Missing)(reason) from None
        raise ForwardError(exc) from exc
    if out is None:
        raise Missing(f"no `{op.name}` in target")
    return out


def probe_case(op):
    """A small concrete case of ``op``: its canonical shapes with distinct sizes 2, 3, 4..., and its
    parameters' values (a parameter the canonical case keeps as a symbol, conv's ``stride``, at its
    default).  Where the op's own forward refuses that case (a conv whose kernel outgrows its input),
    every size 2 instead, else the simplest case its strategy draws."""
    known = _PROBES.get(op.name)
    if known is not None and known[0] is op:
        return known[1]
    distinct, same = _canonical(op, lambda n, seen: 2 + len(seen)), _canonical(op, lambda n, seen: 2)
    case = next((c for c in (distinct, same) if _runs(op, c)), None) or _simplest_case(op) or distinct
    _PROBES[op.name] = (op, case)
    return case


#: op name -> (the op, its probe case): settled once per process
_PROBES = {}


def _canonical(op, size_of):
    """``op``'s canonical case, each symbolic size ``size_of(name, sizes so far)``."""
    from ..catalog.registry import Case
    sizes = {}

    def size(n):
        if isinstance(n, int):
            return n
        return sizes.setdefault(str(n), size_of(str(n), sizes))

    shapes = tuple(tuple(size(n) for n in s) for s in op.canonical.shapes)
    params = {}
    for key, value in op.canonical.params.items():
        if isinstance(value, tuple) and key == "shape":
            value = tuple(size(n) for n in value)
        elif isinstance(value, str) and value == key and key in op.params:
            value = op.params[key]
        params[key] = value
    return Case(shapes, params)


def _runs(op, case):
    from ..catalog import strategies as dst
    try:
        op.forward(*dst.make_inputs(op, case, 0), **op.with_defaults(case.params))
        return True
    except Exception:  # noqa: BLE001  not a case of this op
        return False


def _simplest_case(op):
    """The first case ``op``'s strategy draws that its forward runs on, derandomized (the same one
    every time) and not shrunk (Hypothesis's first draws are its simplest); None if none is found."""
    from hypothesis import HealthCheck, Phase, find, settings
    try:
        return find(op.cases(), lambda case: _runs(op, case),
                    settings=settings(database=None, derandomize=True, max_examples=200, phases=(Phase.generate,),
                                      suppress_health_check=list(HealthCheck)))
    except Exception:  # noqa: BLE001  none found: the caller keeps the canonical case, and reports what it does
        return None


def probe_inputs(op, seed=0):
    from ..catalog import strategies as dst
    case = probe_case(op)
    return case, dst.make_inputs(op, case, seed)


def looks_linear(g1, g2, factor):
    """Whether gradient lists from G and ``factor * G`` scale with the factor (and are not all zero)."""
    nonzero = False
    for a, b in zip(g1, g2):
        if a is None or b is None:
            return False
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape or not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            return False
        if not np.allclose(b, factor * a, rtol=1e-6, atol=1e-9):
            return False
        nonzero = nonzero or bool(np.any(np.abs(a) > 1e-12))
    return nonzero


class ProbedTarget(Target):
    """A target whose ops are spelled (``spellings``, else the catalog's ``Op.call``) and found by
    one trial forward call each, cached: subclasses give ``forward(op, case, inputs)``."""

    spellings = {}

    def spelling(self, op):
        from ..catalog.registry import get_op
        op = get_op(op)
        return self.spellings[op.name] if op.name in self.spellings else op.call

    def supports(self, op):
        cache = self.__dict__.setdefault("_supported", {})
        if op.name not in cache:
            case, inputs = probe_inputs(op)
            try:
                self.forward(op, case, inputs)
                cache[op.name] = (True, "")
            except Missing as exc:
                cache[op.name] = (False, str(exc))
            except Unsupported:  # this case only (a parameter value, a shape): the others are tried
                cache[op.name] = (True, "")
            except ForwardError:
                cache[op.name] = (True, "")  # the op is there; what it raises is reported case by case
        return cache[op.name]

    def forward(self, op, case, inputs):
        raise NotImplementedError
