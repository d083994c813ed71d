"""Elementwise arithmetic with NumPy broadcasting: add, subtract, multiply, divide, power, negative."""

from __future__ import annotations

import numpy as np

from . import strategies as st
from .registry import Case, Input, Op, register
from ..symbolic.expressions import Output, broadcast_index, broadcast_shapes

X_ = Input("X")


def _binary(name, fn):
    def define(X, Y):
        out = broadcast_shapes(X.shape, Y.shape, op=name)
        return Output(out, lambda *k: fn(X[broadcast_index(X.shape, out, k)],
                                         Y[broadcast_index(Y.shape, out, k)]))
    define.__name__ = f"define_{name}"
    return define


_BINARY = [
    ("add", ("plus",), lambda x, y: x + y, np.add, Input("Y"), True, "Z = X + Y (broadcasting)"),
    ("subtract", ("sub", "minus"), lambda x, y: x - y, np.subtract, Input("Y"), True,
     "Z = X - Y (broadcasting)"),
    ("multiply", ("mul", "times"), lambda x, y: x * y, np.multiply, Input("Y"), True,
     "Z = X * Y elementwise (broadcasting)"),
    ("divide", ("div", "true_divide"), lambda x, y: x / y, np.divide, Input("Y", domain="nonzero"),
     False, "Z = X / Y elementwise (broadcasting)"),
    ("power", ("pow",), lambda x, y: x ** y, np.power, Input("Y", may_be_constant=True), False,
     "Z = X ** Y, differentiable in base and exponent (X > 0)"),
]

for _name, _aliases, _fn, _np, _y, _exact, _doc in _BINARY:
    register(Op(
        name=_name, aliases=_aliases,
        inputs=(Input("X", domain="positive" if _name == "power" else "real"), _y),
        define=_binary(_name, _fn), forward=_np, cases=st.broadcast_pair, broadcasts=True,
        canonical=Case((("n", "m"), ("n", "m"))), exact=_exact,
        call=(lambda f: lambda api, x, y: f(x, y))(_fn),
        doc=_doc))


register(Op(
    name="negative", aliases=("neg", "negate"), inputs=(X_,),
    define=lambda X: Output(X.shape, lambda *k: -X[k]), forward=np.negative, cases=st.one_array,
    canonical=Case((("n", "m"),)), exact=True, call=lambda api, x: -x, doc="Z = -X"))
