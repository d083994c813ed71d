"""Reductions over axes: sum, mean."""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import strategies as st
from ..catalog import Case, Input, Op, register
from ..symbolic import Output, nested_sum, normalize_axes

X_ = Input("X")


def _reduce(name, mean):
    def define(X, axis=None, keepdims=False):
        axes = normalize_axes(axis, X.ndim, name)
        kept = [a for a in range(X.ndim) if a not in axes]
        out = tuple(sp.Integer(1) if a in axes else X.shape[a]
                    for a in range(X.ndim) if keepdims or a not in axes)
        count = sp.Mul(*[X.shape[a] for a in axes])

        def entry(*k):
            k = [k[a] for a in kept] if keepdims else list(k)

            def body(reduced):
                idx, it_k, it_r = [], iter(k), iter(reduced)
                for a in range(X.ndim):
                    idx.append(next(it_r) if a in axes else next(it_k))
                return X[tuple(idx)]

            expr = nested_sum(body, [X.shape[a] for a in axes])
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


for _name, _mean, _aliases in [("sum", False, ("reduce_sum",)), ("mean", True, ("average",))]:
    register(Op(
        name=_name, aliases=_aliases, inputs=(X_,), params={"axis": None, "keepdims": False},
        define=_reduce(_name, _mean),
        forward=(lambda f: lambda X, axis=None, keepdims=False: f(X, axis=axis, keepdims=keepdims))(
            np.mean if _mean else np.sum),
        cases=st.reduction_case, canonical=Case((("a", "b", "c"),), {"axis": 1}), exact=True,
        variants=_reduction_variants(_mean),
        call=(lambda n: lambda api, x, axis=None, keepdims=False: getattr(x, n)(axis=axis, keepdims=keepdims))(
            _name),
        doc=f"Z = X.{_name}(axis, keepdims)"))
