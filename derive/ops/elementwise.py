"""Elementwise functions of one array: exp, log, tanh, sigmoid, relu, sqrt, sin, cos, abs."""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .. import strategies as st
from ..catalog import Case, Input, Op, call_by_name, register
from ..symbolic import Output, Relu, Sigmoid

X_ = Input("X")


def _sigmoid_np(X):
    e = np.exp(-np.abs(X))
    return np.where(X >= 0, 1 / (1 + e), e / (1 + e))


_ELEMENTWISE = [
    ("exp", (), sp.exp, np.exp, "real", "Z = exp(X)"),
    ("log", ("ln",), sp.log, np.log, "positive", "Z = log(X), X > 0"),
    ("tanh", (), sp.tanh, np.tanh, "real", "Z = tanh(X)"),
    ("sigmoid", ("logistic",), Sigmoid, _sigmoid_np, "real", "Z = 1 / (1 + exp(-X))"),
    ("relu", (), Relu, lambda X: np.maximum(X, 0), "away_from_zero",
     "Z = max(X, 0); derivative 0 at 0"),
    ("sqrt", (), sp.sqrt, np.sqrt, "positive", "Z = sqrt(X), X > 0"),
    ("sin", (), sp.sin, np.sin, "real", "Z = sin(X)"),
    ("cos", (), sp.cos, np.cos, "real", "Z = cos(X)"),
    ("abs", ("absolute",), sp.Abs, np.abs, "away_from_zero",
     "Z = abs(X); derivative sign(X), 0 at 0 (torch's convention); drawn away from the kink"),
]

for _name, _aliases, _fn, _np, _domain, _doc in _ELEMENTWISE:
    register(Op(
        name=_name, aliases=_aliases, inputs=(Input("X", domain=_domain),),
        define=(lambda f: lambda X: Output(X.shape, lambda *k: f(X[k])))(_fn), forward=_np,
        cases=st.one_array, canonical=Case((("n", "m"),)),
        call=functools.partial(call_by_name, name=_name), doc=_doc))
