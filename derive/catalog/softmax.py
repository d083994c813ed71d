"""The softmax family along an axis: softmax, log_softmax."""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import call_by_name
from ..vocabulary.expressions import Output, normalize_axes, summation

X_ = Input("X")


def _axis_sum(X, axis, k, fn):
    a = normalize_axes(axis, X.ndim, "softmax")[0]
    return summation(lambda s: fn(X[tuple(s if t == a else k[t] for t in range(X.ndim))]), X.shape[a])


def define_softmax(X, axis=-1):
    if X.ndim == 0:
        raise ValueError("softmax: needs at least one dimension")
    return Output(X.shape, lambda *k: sp.exp(X[k]) / _axis_sum(X, axis, k, sp.exp))


def define_log_softmax(X, axis=-1):
    if X.ndim == 0:
        raise ValueError("log_softmax: needs at least one dimension")
    return Output(X.shape, lambda *k: X[k] - sp.log(_axis_sum(X, axis, k, sp.exp)))


def _softmax_np(X, axis=-1):
    e = np.exp(X - np.max(X, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_np(X, axis=-1):
    shifted = X - np.max(X, axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _call_axis_fn(name):
    return lambda api, x, axis=-1: call_by_name(api, x, name=name, axis=axis)


for _name, _define, _np, _doc in [("softmax", define_softmax, _softmax_np, "Z = exp(X) / sum(exp(X), axis)"),
                                  ("log_softmax", define_log_softmax, log_softmax_np,
                                   "Z = X - log(sum(exp(X), axis))")]:
    register(Op(
        name=_name, inputs=(X_,), params={"axis": -1}, define=_define, forward=_np,
        cases=st.softmax_case, canonical=Case((("n", "m"),), {"axis": 1}), call=_call_axis_fn(_name),
        doc=_doc))
