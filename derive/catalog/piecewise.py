"""Ops with kinks and choices: leaky_relu, clip, maximum, minimum, where, dropout, and the
comparisons less, equal, greater (MiniTorch's lt, eq, gt).

The conventions at a kink or a tie are torch's: ``leaky_relu`` takes the
negative slope at 0; ``clip`` passes the gradient on its boundaries
(``a_min <= X <= a_max``); ``maximum`` and ``minimum`` give each tied operand
half of ``G`` (SymPy's ``Heaviside(0) = 1/2``).  The strategies draw the
operands of ``maximum`` and ``minimum`` on a half-integer grid, so that ties
happen and the convention is checked on purpose; the other kinks are drawn
away from.  ``where``'s condition and ``dropout``'s mask are data (booleans),
never differentiated.  A comparison ``Z = [X < Y]`` (as a float) is a step: constant
off ``X = Y``, so its gradient is 0 for both operands (torch's convention at the tie
too); its operands are drawn on the grid, so ties happen and ``equal`` is 1 somewhere.
"""

from __future__ import annotations

import functools
import operator

import numpy as np
import sympy as sp
from hypothesis import strategies as hst

from . import strategies as st
from .registry import Case, Drawn, Input, Op, register
from .spelling import call_by_name, call_function, offered, spelled
from ..vocabulary.expressions import Bracket, Output, broadcast_index, broadcast_shapes


def _call(name):
    return functools.partial(call_by_name, name=name)


def _unary(fn):
    return lambda X, **params: Output(X.shape, lambda *k: fn(X[k], **params))


def _broadcasting(fn, name):
    def define(*arrays):
        out = broadcast_shapes(*(a.shape for a in arrays), op=name)
        return Output(out, lambda *k: fn(*(a[broadcast_index(a.shape, out, k)] for a in arrays)))
    return define


def _leaky(x, negative_slope=0.01):
    return sp.Piecewise((x, x > 0), (sp.nsimplify(negative_slope) * x, True))


def _clip(x, a_min=-1.0, a_max=1.0):
    lo, hi = sp.nsimplify(a_min), sp.nsimplify(a_max)
    return sp.Piecewise((lo, x < lo), (hi, x > hi), (x, True))


register(Op(
    name="leaky_relu", inputs=(Input("X", domain="away_from_zero"),), params={"negative_slope": 0.01},
    define=_unary(_leaky), forward=lambda X, negative_slope=0.01: np.where(X > 0, X, negative_slope * X),
    cases=lambda: st.one_array().flatmap(lambda c: st.param_choices(c, negative_slope=[0.01, 0.2, 0.5])),
    canonical=Case((("n", "m"),), {"negative_slope": 0.2}), call=_call("leaky_relu"),
    doc="Z = X where X > 0, else negative_slope X; the slope at 0 (torch's convention)"))

register(Op(
    name="clip", aliases=("clamp",), inputs=(Input("X"),), params={"a_min": -1.0, "a_max": 1.0},
    define=_unary(_clip), forward=lambda X, a_min=-1.0, a_max=1.0: np.clip(X, a_min, a_max),
    cases=lambda: st.one_array().flatmap(lambda c: hst.sampled_from([(-1.0, 1.0), (-0.5, 1.5), (0.0, 0.75)]).map(
        lambda b: Case(c.shapes, {"a_min": b[0], "a_max": b[1]}))),
    canonical=Case((("n", "m"),)),
    call=lambda api, x, a_min=-1.0, a_max=1.0: call_function(api, x, a_min, a_max, name="clip"),  # NumPy 2 renamed the keywords
    doc="Z = clip(X, a_min, a_max); gradient 1 on the boundaries (torch's clamp)"))

def sum_to(a, shape):
    """``a`` summed down to ``shape``, the shape of one operand it was broadcast from (un-broadcast)."""
    while a.ndim > len(shape):
        a = a.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and a.shape[axis] != 1:
            a = a.sum(axis=axis, keepdims=True)
    return a


def _tie_subgradient(wins):
    """Where X = Y any split of G into t G for X and (1 - t) G for Y, t in [0, 1], is a subgradient (torch
    gives 1/2 each; all of it to X is another convention); none to either, or G to both, is not.
    ``wins(X, Y)`` is where X alone is the result."""
    def check(arrays, G, grads, **params):
        X, Y = (np.asarray(a, dtype=np.float64) for a in arrays)
        gX, gY = (np.asarray(g, dtype=np.float64) for g in grads)
        shape = np.broadcast_shapes(X.shape, Y.shape)
        Xb, Yb, Gb = (np.broadcast_to(a, shape) for a in (X, Y, np.asarray(G, dtype=np.float64)))
        tie, x_wins = Xb == Yb, wins(Xb, Yb)
        y_wins = ~tie & ~x_wins
        tol = 1e-9 * max(1.0, float(np.max(np.abs(Gb)))) * max(1, Gb.size)
        for g, own, spec_shape in ((gX, x_wins, X.shape), (gY, y_wins, Y.shape)):
            low = sum_to(np.where(own, Gb, 0) + np.where(tie, np.minimum(Gb, 0), 0), spec_shape)
            high = sum_to(np.where(own, Gb, 0) + np.where(tie, np.maximum(Gb, 0), 0), spec_shape)
            if g.shape != tuple(spec_shape) or np.any(g < low - tol) or np.any(g > high + tol):
                return None
        if X.shape == Y.shape == shape:
            split_ok = np.allclose(gX + gY, Gb, rtol=1e-7, atol=tol)
        else:
            split_ok = np.isclose(gX.sum() + gY.sum(), Gb.sum(), rtol=1e-7, atol=tol)
        return "at a tie, G split between X and Y another way than half each" if split_ok else None
    return check


for _name, _fn, _np in [("maximum", sp.Max, np.maximum), ("minimum", sp.Min, np.minimum)]:
    register(Op(
        name=_name, inputs=(Input("X", domain="grid"), Input("Y", domain="grid")),
        subgradient=_tie_subgradient(np.greater if _name == "maximum" else np.less),
        define=_broadcasting(_fn, _name), forward=_np, cases=st.broadcast_pair, broadcasts=True,
        canonical=Case((("n", "m"), ("n", "m"))), call=_call(_name),
        doc=f"Z = np.{_name}(X, Y) (broadcasting); ties split G in half (torch's convention), drawn on purpose"))

register(Op(
    name="where", inputs=(Input("condition", domain="mask"), Input("X"), Input("Y")),
    define=_broadcasting(lambda c, x, y: c * x + (1 - c) * y, "where"), forward=np.where,
    cases=st.broadcast_triple, canonical=Case((("n", "m"), ("n", "m"), ("n", "m"))), exact=True, broadcasts=True,
    call=functools.partial(call_function, name="where"), doc="Z = np.where(condition, X, Y) (broadcasting); the condition is data"))

def _kept(Z, X, mask, p=0.5):
    """The mask a forward drew itself, read off its output: X is drawn nonzero, so Z is zero exactly
    where the entry was dropped."""
    return np.asarray(Z) != 0


register(Op(
    name="dropout", inputs=(Input("X", domain="nonzero"),
                            Input("mask", domain="mask", drawn=Drawn(recover=_kept, rate=lambda p=0.5: 1 - p))),
    params={"p": 0.5},
    define=lambda X, mask, p=0.5: Output(X.shape, lambda *k: X[k] * mask[k] / (1 - sp.nsimplify(p))),
    forward=lambda X, mask, p=0.5: X * mask / (1 - p),
    cases=lambda: st.one_array().map(lambda c: Case(c.shapes * 2)).flatmap(
        lambda c: st.param_choices(c, p=[0.5, 0.1, 0.75])),
    canonical=Case((("n", "m"), ("n", "m"))), call=_call("dropout"),
    doc="Z = X * mask / (1 - p): inverted dropout with a given keep-mask (data)"))


def _apart(X, Y):
    """Central differences of a step are not taken within a step of its jump (a tie of X and Y)."""
    return bool(np.all(np.abs(np.subtract(X, Y, dtype=np.float64)) > 1e-3))


def _compared(name, alias, symbol, compare):
    """``name`` by name, else MiniTorch's ``alias`` (``lt``), else the operator ``symbol`` where the
    tensor's own class defines it (MiniTorch's ``Tensor.__lt__`` is its only spelling of ``lt``).
    A result that is not a tensor of the target's (MyGrad's ``less``, or a NumPy-backed ``<``, gives
    a NumPy array) has no backward to check: None, the op is not in the target."""
    dunder = f"__{compare.__name__}__"
    def call(api, x, y):
        result = call_by_name(api, x, y, name=name)
        result = call_by_name(api, x, y, name=alias) if result is None else result
        if result is None and _defines(type(x), dunder) and offered("operator", None, symbol):
            spelled("operator", None, symbol)
            result = compare(x, y)
        return result if isinstance(result, type(x)) else None
    return call


def _defines(cls, dunder):
    """Whether ``cls`` (not ``object``, not a NumPy array) has its own ``dunder``."""
    return not issubclass(cls, np.ndarray) and getattr(cls, dunder, None) is not getattr(object, dunder)


_COMPARISONS = [
    ("less", "lt", "<", operator.lt, sp.StrictLessThan, np.less, _apart, "Z = (X < Y) as a float (broadcasting)"),
    ("equal", "eq", "==", operator.eq, sp.Eq, np.equal, None, "Z = (X == Y) as a float (broadcasting)"),
    ("greater", "gt", ">", operator.gt, sp.StrictGreaterThan, np.greater, _apart,
     "Z = (X > Y) as a float (broadcasting)"),
]

for _name, _alias, _symbol, _operator, _relation, _np, _at, _doc in _COMPARISONS:
    register(Op(
        name=_name, aliases=(_alias,), inputs=(Input("X", domain="grid"), Input("Y", domain="grid")),
        define=_broadcasting((lambda r: lambda x, y: Bracket(r(x, y)))(_relation), _name),
        forward=(lambda f: lambda X, Y: f(X, Y).astype(np.result_type(X, Y)))(_np), cases=st.broadcast_pair,
        broadcasts=True, canonical=Case((("n", "m"), ("n", "m"))), call=_compared(_name, _alias, _symbol, _operator), differentiable_at=_at,
        doc=f"{_doc}; a step, so the gradient is 0 for both (MiniTorch's {_alias}); ties drawn on purpose"))
