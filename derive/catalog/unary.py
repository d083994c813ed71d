"""Elementwise functions of one array: exp, log, tanh, sigmoid, relu, sqrt, sin, cos, abs,
the smooth activations gelu, silu and softplus, reciprocal, and a power with a constant exponent."""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import by_name_else, call_by_name
from ..vocabulary.expressions import Output, Relu, Sigmoid

X_ = Input("X")


def _sigmoid_np(X):
    e = np.exp(-np.abs(X))
    return np.where(X >= 0, 1 / (1 + e), e / (1 + e))


_erf = np.vectorize(math.erf, otypes=[float])


def _gelu_np(X):
    return X * (1 + _erf(np.asarray(X, dtype=float) / math.sqrt(2))) / 2


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
    ("gelu", (), lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2, _gelu_np, "real",
     "Z = X Phi(X), Phi the normal CDF (torch's exact gelu)"),
    ("silu", ("swish",), lambda x: x * Sigmoid(x), lambda X: X * _sigmoid_np(X), "real", "Z = X sigmoid(X)"),
    ("softplus", (), lambda x: sp.log(1 + sp.exp(x)), lambda X: np.logaddexp(0.0, X), "real",
     "Z = log(1 + exp(X))"),
]

#: ops real code computes with a guard ``X + eps`` under the op's own name (MiniTorch's log)
_GUARDED = ("log",)

for _name, _aliases, _fn, _np, _domain, _doc in _ELEMENTWISE:
    register(Op(
        name=_name, aliases=_aliases, inputs=(Input("X", domain=_domain),),
        define=(lambda f: lambda X: Output(X.shape, lambda *k: f(X[k])))(_fn), forward=_np,
        cases=st.one_array, canonical=Case((("n", "m"),)),
        call=functools.partial(call_by_name, name=_name), doc=_doc, guarded=_name in _GUARDED))

register(Op(
    name="power_scalar", aliases=("pow_scalar",), inputs=(Input("X", domain="positive"),),
    params={"exponent": 2.0},
    define=lambda X, exponent=2.0: Output(X.shape, lambda *k: X[k] ** sp.nsimplify(exponent)),
    forward=lambda X, exponent=2.0: np.power(X, exponent),
    cases=lambda: st.one_array().flatmap(lambda c: st.param_choices(c, exponent=[2.0, 3.0, 0.5, -1.0, 2.5, -1.5])),
    canonical=Case((("n", "m"),), {"exponent": 3.0}),
    call=by_name_else("power_scalar", ("**", lambda x, exponent: x ** exponent)),
    doc="Z = X ** p, a constant exponent p (X > 0)"))


def _reciprocal(api, x):
    """``reciprocal`` by name, else MiniTorch's ``inv``."""
    result = call_by_name(api, x, name="reciprocal")
    return call_by_name(api, x, name="inv") if result is None else result


register(Op(
    name="reciprocal", aliases=("inv",), inputs=(Input("X", domain="nonzero"),),
    define=lambda X: Output(X.shape, lambda *k: 1 / X[k]), forward=np.reciprocal,
    cases=st.one_array, canonical=Case((("n", "m"),)), call=_reciprocal,
    doc="Z = 1 / X, X non-zero (MiniTorch's inv)"))
