"""The reference of a check: the derivation for a case, and the gradients it expects.

:func:`derivation_for` finds the derivation that covers a concrete case (one per shape
pattern, sizes and parameters as symbols) and its bindings; :func:`expected_gradients`
evaluates each input's gradient on the case's arrays, by its closed form, its scatter or
its index formula.  A closed form (or a scatter) is pattern matching on top of the
derivation, so its first use is checked against the index formula evaluated directly, and
a disagreement is :class:`DerivationError`, derive's own fault, never a verdict.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..catalog.notation import param_value
from ..catalog.registry import get_op
from .derivation import G_NAME, general_pattern, shape_pattern, vjp
from ..vocabulary.evaluate import IndexFormula
from .oracle import evaluate_closed_form
from ..vocabulary.expressions import dim

__all__ = ["derivation_for", "expected_gradients", "DerivationError"]


class DerivationError(RuntimeError):
    """The derived formula disagrees with finite differences: a bug in derive, not in the target."""


def derivation_for(op, case):
    """The (cached) derivation covering a concrete case, and the size-symbol bindings."""
    op = get_op(op)
    params = op.with_defaults(case.params)
    shapes = tuple(tuple(int(n) for n in s) for s in case.shapes)
    if not op.shape_generic:
        return vjp(op, *shapes, **params), {}
    if op.notation or op.declared_sizes:  # no broadcasting: one derivation, in the declared sizes, covers all
        _validate_notation_case(op, shapes, params)
        bindings = {dim(name): n for decl, shape in zip(op.canonical.shapes, shapes)
                    for name, n in zip(decl, shape) if isinstance(name, (str, sp.Symbol))}
        bindings.update({symbol: param_value(symbol, params[name]) for name, symbol in op.symbolic_params.items()})
        fixed = {k: v for k, v in params.items() if k not in op.symbolic_params}  # each value its own derivation
        return vjp(op, **fixed), bindings
    pattern, sizes = shape_pattern([tuple(sp.Integer(n) for n in s) for s in shapes])
    inverse = {v: k for k, v in sizes.items()}
    if "shape" in params and params["shape"] is not None:
        target = params["shape"] if isinstance(params["shape"], (tuple, list)) else (params["shape"],)
        params = {**params, "shape": tuple(inverse.get(int(n), sp.Integer(n)) if int(n) > 1 else int(n)
                                           for n in target)}
    bindings = {}
    for name, symbol in op.symbolic_params.items():  # one derivation for every stride, padding...
        bindings[symbol] = param_value(symbol, params[name])
        params = {**params, name: symbol}
    general, params, origin = general_pattern(op, pattern, params)
    bindings.update({new: sizes.get(old, 1) for new, old in origin.items()})
    return vjp(op, *general, **params), bindings


_VALID: dict = {}


def _validate_notation_case(op, shapes, params):
    """ValueError when the case does not fit the op's declared shapes and requirements (cached)."""
    key = (op.name, shapes, tuple(sorted((k, v) for k, v in params.items())))
    if key not in _VALID:
        if len(_VALID) > 4096:
            _VALID.clear()
        from ..vocabulary.expressions import SymArray
        arrays = [SymArray(spec.name, s) for spec, s in zip(op.inputs, shapes)]
        if hasattr(op.define, "ranges"):
            op.define.ranges(arrays, params)  # sizes, params and requirements, without the formula
        else:
            op.define(*arrays, **params)
        _VALID[key] = True


def _env(op, case, arrays, G):
    env = {spec.name: np.asarray(a).astype(np.int64) if spec.domain == "mask" else a
           for spec, a in zip(op.inputs, arrays)}  # a mask is 0/1 in the formulas
    env[G_NAME] = G
    env.update(op.with_defaults(case.params))
    return env


def expected_gradients(op, case, arrays, G, derivation=None):
    """The derived gradients for concrete arrays (float or symbolic), by the closed forms."""
    op = get_op(op)
    if derivation is None:
        derivation = derivation_for(op, case)[0]
    env = _env(op, case, arrays, G)
    out = {}
    for grad in derivation:
        value = _cross_checked(grad, env)
        shape = tuple(int(n) for n in case.shapes[op.input_names.index(grad.name)])
        out[grad.name] = np.broadcast_to(value, shape) if value.shape != shape else value
    return out


_CHECKED: dict = {}


def _cross_checked(grad, env):
    """The closed form's value, the first time checked against the index formula evaluated
    directly; where they disagree (or the closed form cannot be evaluated) the index formula is
    the reference from then on.  A closed form is pattern matching on top of the derivation, the
    index formula is the derivation."""
    entry = _CHECKED.get(id(grad))
    if entry is not None and entry[0] is grad:
        return entry[1](env) if entry[1] is not None else evaluate_closed_form(grad, env)
    if (grad.evaluator is not None and not getattr(grad.evaluator, "needs_cross_check", False)) \
            or grad.layout is None:
        return evaluate_closed_form(grad, env)
    try:
        direct = IndexFormula(grad.index_formula, grad.index, grad.shape, *grad.layout)
        reference = np.asarray(direct(env))
    except Exception:  # noqa: BLE001  a formula the direct evaluator cannot take: the closed form stands
        _CHECKED[id(grad)] = (grad, None)
        return evaluate_closed_form(grad, env)
    try:
        value = np.broadcast_to(evaluate_closed_form(grad, env), reference.shape)
    except Exception:  # noqa: BLE001  the closed form cannot be evaluated here: the index formula can
        _CHECKED[id(grad)] = (grad, direct)
        return reference
    try:  # rationals compare as floats; symbols cannot, and wait for a float example
        agrees = np.allclose(np.asarray(value, dtype=np.float64), np.asarray(reference, dtype=np.float64),
                             rtol=1e-9, atol=1e-12, equal_nan=True)
    except (TypeError, ValueError):
        return value
    if not agrees:  # one of derive's two evaluations is wrong: say so, never guess
        raise DerivationError(f"the closed form of dl/d{grad.name} ({grad.closed_form}) and its index formula "
                              f"({grad.index_formula}) disagree")
    _CHECKED[id(grad)] = (grad, None)
    if len(_CHECKED) > 4096:
        _CHECKED.clear()
    return value


def _expected_or_error(op, case, arrays, G, derivation):
    try:
        return expected_gradients(op, case, arrays, G, derivation)
    except Exception as exc:  # noqa: BLE001  a fault of derive, never blamed on the target
        raise DerivationError(f"evaluating the derived closed form of {op.name} at "
                              f"{case.describe(op)} failed: {type(exc).__name__}: {exc}") from exc


_SHAPES: dict = {}


def _output_shape(derivation, sizes):
    """The concrete output shape of a derivation with its size symbols bound (remembered: SymPy's
    ``subs`` costs more than a small example's whole check)."""
    key = (id(derivation), tuple(sorted(sizes.items(), key=str)))
    entry = _SHAPES.get(key)
    if entry is None or entry[0] is not derivation:
        if len(_SHAPES) > 4096:
            _SHAPES.clear()
        bound = {sp.sympify(k): sp.sympify(v) for k, v in sizes.items()}
        entry = _SHAPES[key] = (derivation, tuple(int(sp.sympify(n).xreplace(bound)) for n in derivation.output_shape))
    return entry[1]
