"""Elementwise arithmetic with NumPy broadcasting: add, subtract, multiply, divide, power, negative;
and with a constant (needle's add_scalar, mul_scalar, divide_scalar: a Python number ``scalar``)."""

from __future__ import annotations

import numpy as np
import sympy as sp

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import by_name_else, operator_else
from ..vocabulary.expressions import Output, broadcast_index, broadcast_shapes

X_ = Input("X")


def _binary(name, fn):
    def define(X, Y):
        out = broadcast_shapes(X.shape, Y.shape, op=name)
        return Output(out, lambda *k: fn(X[broadcast_index(X.shape, out, k)],
                                         Y[broadcast_index(Y.shape, out, k)]))
    define.__name__ = f"define_{name}"
    return define


_BINARY = [
    ("add", ("plus",), "+", lambda x, y: x + y, np.add, Input("Y"), True, "Z = X + Y (broadcasting)"),
    ("subtract", ("sub", "minus"), "-", lambda x, y: x - y, np.subtract, Input("Y"), True,
     "Z = X - Y (broadcasting)"),
    ("multiply", ("mul", "times"), "*", lambda x, y: x * y, np.multiply, Input("Y"), True,
     "Z = X * Y elementwise (broadcasting)"),
    ("divide", ("div", "true_divide"), "/", lambda x, y: x / y, np.divide, Input("Y", domain="nonzero"),
     False, "Z = X / Y elementwise (broadcasting)"),
    ("power", ("pow",), "**", lambda x, y: x ** y, np.power, Input("Y", may_be_constant=True), False,
     "Z = X ** Y, differentiable in base and exponent (X > 0)"),
]

for _name, _aliases, _symbol, _fn, _np, _y, _exact, _doc in _BINARY:
    register(Op(
        name=_name, aliases=_aliases,
        inputs=(Input("X", domain="positive" if _name == "power" else "real"), _y),
        define=_binary(_name, _fn), forward=_np, cases=st.broadcast_pair, broadcasts=True,
        canonical=Case((("n", "m"), ("n", "m"))), exact=_exact,
        call=operator_else(_symbol, _fn, _name), doc=_doc))


register(Op(
    name="negative", aliases=("neg", "negate"), inputs=(X_,),
    define=lambda X: Output(X.shape, lambda *k: -X[k]), forward=np.negative, cases=st.one_array,
    canonical=Case((("n", "m"),)), exact=True, call=operator_else("unary -", lambda x: -x, "negative"), doc="Z = -X"))


# ---- a constant operand: needle's TensorOps with a Python number ``scalar`` -------------------------

def _scalar_cases(scalars):
    return lambda: st.one_array().flatmap(lambda c: st.param_choices(c, scalar=scalars))


# never 1 (a backward that forgets the scalar would pass), negative and fractional ones included
_SCALARS = [2.0, -1.5, 0.5, -0.25, 3.0]

# each with the operators that spell it: ``X + 2`` and the reflected ``2 + X`` (``__radd__``)
_SCALAR = [
    ("add_scalar", ("plus_scalar",), lambda x, c: x + c,
     (("+", lambda x, scalar=1.0: x + scalar), ("reflected +", lambda x, scalar=1.0: scalar + x)),
     "Z = X + scalar, a constant scalar (needle's add_scalar)"),
    ("mul_scalar", ("multiply_scalar",), lambda x, c: x * c,
     (("*", lambda x, scalar=1.0: x * scalar), ("reflected *", lambda x, scalar=1.0: scalar * x)),
     "Z = X * scalar, a constant scalar (needle's mul_scalar)"),
    ("divide_scalar", ("div_scalar",), lambda x, c: x / c, (("/", lambda x, scalar=1.0: x / scalar),),
     "Z = X / scalar, a constant non-zero scalar (needle's divide_scalar)"),
]

for _name, _aliases, _fn, _operators, _doc in _SCALAR:
    register(Op(
        name=_name, aliases=_aliases, inputs=(X_,), params={"scalar": 1.0},
        define=(lambda f: lambda X, scalar=1.0: Output(X.shape, lambda *k: f(X[k], sp.nsimplify(scalar))))(_fn),
        forward=(lambda f: lambda X, scalar=1.0: f(X, scalar))(_fn), cases=_scalar_cases(_SCALARS),
        canonical=Case((("n", "m"),), {"scalar": 3.0}), call=by_name_else(_name, *_operators), doc=_doc))
