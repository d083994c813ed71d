"""Reductions over axes: sum, mean, max, min."""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import call_by_name, call_function
from ..vocabulary.expressions import MaxOver, MinOver, Output, _fresh, nested_sum, normalize_axes

X_ = Input("X")


def _reduced(X, axis, keepdims, name):
    """``(axes, entry_index, out_shape)`` of a reduction of ``X`` over ``axis``: ``entry_index(k, reduced)``
    is the index of ``X`` read at output index ``k`` and reduced indices ``reduced``."""
    axes = normalize_axes(axis, X.ndim, name)
    kept = [a for a in range(X.ndim) if a not in axes]
    out = tuple(sp.Integer(1) if a in axes else X.shape[a] for a in range(X.ndim) if keepdims or a not in axes)

    def entry_index(k, reduced):
        it_k, it_r = iter([k[a] for a in kept] if keepdims else k), iter(reduced)
        return tuple(next(it_r) if a in axes else next(it_k) for a in range(X.ndim))
    return axes, entry_index, out


def _reduce(name, mean):
    def define(X, axis=None, keepdims=False):
        axes, entry_index, out = _reduced(X, axis, keepdims, name)
        count = sp.Mul(*[X.shape[a] for a in axes])

        def entry(*k):
            expr = nested_sum(lambda reduced: X[entry_index(k, reduced)], [X.shape[a] for a in axes])
            return expr / count if mean else expr

        return Output(out, entry)
    define.__name__ = f"define_{name}"
    return define


def _reduction_variants(mean):
    if not mean:
        return (("the mean, not the sum", lambda X, axis=None, keepdims=False: np.mean(X, axis, keepdims=keepdims)),
                ("the sum over every axis", lambda X, axis=None, keepdims=False: np.sum(X)))
    return (("the sum, not the mean", lambda X, axis=None, keepdims=False: np.sum(X, axis, keepdims=keepdims)),
            ("the sum divided by the first axis's size",
             lambda X, axis=None, keepdims=False: np.sum(X, axis, keepdims=keepdims) / X.shape[0]),
            ("the mean over every axis", lambda X, axis=None, keepdims=False: np.mean(X)))


for _name, _mean, _aliases in [("sum", False, ("reduce_sum", "summation")), ("mean", True, ("average",))]:
    register(Op(
        name=_name, aliases=_aliases, inputs=(X_,), params={"axis": None, "keepdims": False},
        define=_reduce(_name, _mean),
        forward=(lambda f: lambda X, axis=None, keepdims=False: f(X, axis=axis, keepdims=keepdims))(
            np.mean if _mean else np.sum),
        cases=st.reduction_case, canonical=Case((("a", "b", "c"),), {"axis": 1}), exact=True,
        variants=_reduction_variants(_mean),
        call=(lambda n: lambda api, x, axis=None, keepdims=False: call_by_name(
            api, x, name=n, axis=axis, keepdims=keepdims))(_name),
        doc=f"Z = X.{_name}(axis, keepdims)"))


def _extreme(name, over):
    """max or min over axes, as a ``MaxOver``/``MinOver`` of the entries (symbolic sizes)."""
    def define(X, axis=None, keepdims=False):
        axes, entry_index, out = _reduced(X, axis, keepdims, name)

        def entry(*k):
            reduced = [_fresh.take() for _ in axes]
            read = X[entry_index(k, reduced)]
            return over(read, *[(r, 0, X.shape[a] - 1) for r, a in zip(reduced, axes)]) if axes else read

        return Output(out, entry)
    define.__name__ = f"define_{name}"
    return define


def _no_tie(reduce):
    """Central differences see a derivative at an extreme shared by at most two entries (1/2 each, the
    convention too); at three or more they give 1/2 where the convention gives 1/k."""
    def check(X, axis=None, keepdims=False):
        axes = normalize_axes(axis, np.ndim(X))
        hits = np.sum(X == reduce(X, axis=axes, keepdims=True), axis=axes)
        return bool(np.all(hits <= 2))
    return check


def _extreme_subgradient(reduce):
    """At tied extremes any split of a group's G among its tied entries with shares in [0, 1] summing
    to 1 is a subgradient (all of it to the first is argmax's, torch's ``max(dim)``); anything else
    is not (G to every tied entry, G to an entry that is not an extreme)."""
    def check(arrays, G, grads, axis=None, keepdims=False):
        (X,), (g,) = arrays, grads
        X, g = np.asarray(X, dtype=np.float64), np.asarray(g, dtype=np.float64)
        axes = normalize_axes(axis, X.ndim)
        hit = X == reduce(X, axis=axes, keepdims=True)
        group = np.asarray(G, dtype=np.float64)  # one G per group, with the reduced axes kept
        if not keepdims and axes:
            group = np.expand_dims(group, axes)
        Gk = np.broadcast_to(group, X.shape)
        tol = 1e-9 * max(1.0, float(np.max(np.abs(Gk)))) if Gk.size else 1e-9
        share_ok = np.all(np.where(hit, (g * Gk >= -tol) & (np.abs(g) <= np.abs(Gk) + tol), np.abs(g) <= tol))
        total_ok = np.allclose(np.sum(g, axis=axes, keepdims=True), group, rtol=1e-7, atol=tol)
        if not (share_ok and total_ok):
            return None
        return "a tied extreme's G split another way (all of it to one entry, argmax's convention)"
    return check


for _name, _over, _np, _aliases in [("max", MaxOver, np.max, ("amax",)), ("min", MinOver, np.min, ("amin",))]:
    register(Op(
        name=_name, aliases=_aliases, inputs=(Input("X", domain="ties"),), params={"axis": None, "keepdims": False},
        differentiable_at=_no_tie(_np), subgradient=_extreme_subgradient(_np),
        define=_extreme(_name, _over),
        forward=(lambda f: lambda X, axis=None, keepdims=False: f(X, axis=axis, keepdims=keepdims))(_np),
        cases=st.reduction_case, canonical=Case((("a", "b"),), {"axis": 1}),
        call=functools.partial(call_function, name=_name),
        doc=f"Z = X.{_name}(axis, keepdims); tied extremes share G evenly (torch's a{_name})"))
