"""The standard ops, NumPy's names and semantics.  The one place they are declared.

Each entry gives the elementwise definition (output entry as a SymPy
expression of input entries), the NumPy reference forward, the input domains,
the shape/parameter strategy, and how tensor-style targets and torch spell it.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from . import strategies as st
from .catalog import Case, Input, Op, call_by_name, format_shape, register
from .symbolic import (Output, Relu, Sigmoid, broadcast_index, broadcast_shapes, dim, normalize_axes,
                       ravel, summation, unravel)

X_ = Input("X")


# ---- elementwise binary ops with broadcasting ----------------------------------------

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
    ("power", ("pow",), lambda x, y: x ** y, np.power, Input("Y"), False,
     "Z = X ** Y, differentiable in base and exponent (X > 0)"),
]

for _name, _aliases, _fn, _np, _y, _exact, _doc in _BINARY:
    register(Op(
        name=_name, aliases=_aliases,
        inputs=(Input("X", domain="positive" if _name == "power" else "real"), _y),
        define=_binary(_name, _fn), forward=_np, cases=st.broadcast_pair,
        canonical=Case((("n", "m"), ("n", "m"))), exact=_exact,
        call=(lambda f: lambda api, x, y: f(x, y))(_fn),
        doc=_doc))


register(Op(
    name="negative", aliases=("neg",), inputs=(X_,),
    define=lambda X: Output(X.shape, lambda *k: -X[k]), forward=np.negative, cases=st.one_array,
    canonical=Case((("n", "m"),)), exact=True, call=lambda api, x: -x, doc="Z = -X"))


# ---- matmul -------------------------------------------------------------------------------

def define_matmul(X, Y):
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got {format_shape(X.shape)} "
                         f"and {format_shape(Y.shape)}")
    n_x = X.shape[-1]
    n_y = Y.shape[-2] if Y.ndim > 1 else Y.shape[0]
    if n_x != n_y:
        raise ValueError(f"matmul: inner dimensions differ: X{format_shape(X.shape)} has {n_x}, "
                         f"Y{format_shape(Y.shape)} has {n_y}")
    x_batch, y_batch = X.shape[:-2], Y.shape[:-2]
    batch = broadcast_shapes(x_batch, y_batch, op="matmul")
    out = batch + (X.shape[-2:-1] if X.ndim > 1 else ()) + (Y.shape[-1:] if Y.ndim > 1 else ())
    nb = len(batch)

    def entry(*k):
        kb, rest = k[:nb], list(k[nb:])
        row = (rest.pop(0),) if X.ndim > 1 else ()
        col = (rest.pop(0),) if Y.ndim > 1 else ()
        xb = broadcast_index(x_batch, batch, kb)
        yb = broadcast_index(y_batch, batch, kb)
        return summation(lambda s: X[xb + row + (s,)] * Y[yb + (s,) + col], n_x)

    return Output(out, entry)


register(Op(
    name="matmul", aliases=("mm", "dot", "matrix_multiply"), inputs=(Input("X"), Input("Y")),
    define=define_matmul, forward=np.matmul, cases=st.matmul_pair,
    canonical=Case((("p", "q"), ("q", "r"))), exact=True, call=lambda api, x, y: x @ y,
    doc="Z = X @ Y (1-D, 2-D, batched with broadcasting)",
    variants=(("X @ Y.T", lambda X, Y: X @ np.swapaxes(Y, -1, -2)),
              ("X.T @ Y", lambda X, Y: np.swapaxes(X, -1, -2) @ Y),
              ("X * Y (elementwise)", np.multiply))))


# ---- moving entries around ------------------------------------------------------------

def _permutation(axes, ndim):
    if axes is None:
        return tuple(reversed(range(ndim)))
    axes = tuple(int(a) for a in axes)
    if sorted(a % ndim if ndim else a for a in axes) != list(range(ndim)):
        raise ValueError(f"transpose: axes {axes} is not a permutation of {ndim} axes")
    return tuple(a % ndim for a in axes)


def define_transpose(X, axes=None):
    perm = _permutation(axes, X.ndim)

    def entry(*k):
        idx = [None] * X.ndim
        for t, a in enumerate(perm):
            idx[a] = k[t]
        return X[tuple(idx)]

    return Output(tuple(X.shape[a] for a in perm), entry)


def _call_transpose(api, x, axes=None):
    if axes is None or tuple(axes) == tuple(reversed(range(len(x.shape)))):
        return x.T
    if callable(getattr(x, "transpose", None)):
        return x.transpose(tuple(axes))
    return None


register(Op(
    name="transpose", aliases=("permute", "permute_dims"), inputs=(X_,), params={"axes": None},
    define=define_transpose, forward=lambda X, axes=None: np.transpose(X, axes),
    cases=st.transpose_case, canonical=Case((("n", "m"),)), exact=True, call=_call_transpose,
    doc="Z = X.transpose(axes); axes=None reverses them (X.T)",
    variants=(("X.swapaxes(-1, -2): only the last two axes swapped", lambda X, axes=None: np.swapaxes(X, -1, -2)),
              ("X unchanged", lambda X, axes=None: X))))


def _reshape_target(shape, target):
    target = tuple(target) if isinstance(target, (tuple, list)) else (target,)
    size = sp.Mul(*shape)
    if sum(1 for n in target if n == -1) > 1:
        raise ValueError(f"reshape: at most one -1 in the target shape, got {target}")
    known = sp.Mul(*[dim(n) for n in target if n != -1])
    out = tuple(sp.simplify(size / known) if n == -1 else dim(n) for n in target)
    if sp.simplify(sp.Mul(*out) - size) != 0 or any(n.is_Integer is False and n.is_Rational for n in out):
        raise ValueError(f"reshape: cannot reshape {format_shape(shape)} into {target}")
    return out


def define_reshape(X, shape=None):
    if shape is None:
        raise ValueError("reshape: the parameter `shape` is required")
    out = _reshape_target(X.shape, shape)
    return Output(out, lambda *k: X[unravel(ravel(k, out), X.shape)] if X.ndim else X[()])


register(Op(
    name="reshape", aliases=("view",), inputs=(X_,), params={"shape": None},
    define=define_reshape, forward=lambda X, shape: np.reshape(X, shape), cases=st.reshape_case,
    canonical=Case((("a", "b", "c"),), {"shape": ("c", -1)}), exact=True, shape_generic=False,
    call=lambda api, x, shape: x.reshape(tuple(shape)), doc="Z = X.reshape(shape), C order, -1 allowed"))


def define_broadcast_to(X, shape=None):
    if shape is None:
        raise ValueError("broadcast_to: the parameter `shape` is required")
    target = tuple(dim(n) for n in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    lead = len(target) - X.ndim
    if lead < 0 or any(n != 1 and n != target[lead + a] for a, n in enumerate(X.shape)):
        raise ValueError(f"broadcast_to: cannot broadcast {format_shape(X.shape)} to {format_shape(target)}")
    return Output(target, lambda *k: X[broadcast_index(X.shape, target, k)])


def _call_broadcast_to(api, x, shape):
    if callable(getattr(x, "broadcast_to", None)):
        return x.broadcast_to(tuple(shape))
    fn = getattr(api, "broadcast_to", None)
    return fn(x, tuple(shape)) if callable(fn) else None


register(Op(
    name="broadcast_to", aliases=("broadcast", "expand"), inputs=(X_,), params={"shape": None},
    define=define_broadcast_to, forward=lambda X, shape: np.broadcast_to(X, shape),
    cases=st.broadcast_to_case, canonical=Case((("n", 1),), {"shape": ("n", "m")}), exact=True,
    call=_call_broadcast_to, doc="Z = np.broadcast_to(X, shape)"))


# ---- reductions ---------------------------------------------------------------------------

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

            expr = _nested_sum(body, [X.shape[a] for a in axes])
            return expr / count if mean else expr

        return Output(out, entry)
    define.__name__ = f"define_{name}"
    return define


def _nested_sum(body, sizes, chosen=()):
    if not sizes:
        return body(chosen)
    return summation(lambda s: _nested_sum(body, sizes[1:], chosen + (s,)), sizes[0])


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


# ---- elementwise functions ----------------------------------------------------------------

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


# ---- softmax family ------------------------------------------------------------------------

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


def _log_softmax_np(X, axis=-1):
    shifted = X - np.max(X, axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _call_axis_fn(name):
    def call(api, x, axis=-1):
        method = getattr(x, name, None)
        if callable(method):
            return method(axis=axis)
        fn = getattr(api, name, None) if api is not None else None
        return fn(x, axis=axis) if callable(fn) else None
    return call


for _name, _define, _np, _doc in [("softmax", define_softmax, _softmax_np, "Z = exp(X) / sum(exp(X), axis)"),
                                  ("log_softmax", define_log_softmax, _log_softmax_np,
                                   "Z = X - log(sum(exp(X), axis))")]:
    register(Op(
        name=_name, inputs=(X_,), params={"axis": -1}, define=_define, forward=_np,
        cases=st.softmax_case, canonical=Case((("n", "m"),), {"axis": 1}), call=_call_axis_fn(_name),
        doc=_doc))


# ---- losses and layers ----------------------------------------------------------------------

def _function_call(name):
    def call(api, *tensors):
        fn = getattr(api, name, None) if api is not None else None
        return fn(*tensors) if callable(fn) else None
    return call


def define_mse_loss(pred, target):
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred{format_shape(pred.shape)} and target{format_shape(target.shape)} "
                         "must have the same shape")
    count = sp.Mul(*pred.shape)
    total = _nested_sum(lambda k: (pred[k] - target[k]) ** 2, list(pred.shape))
    return Output((), lambda: total / count)


register(Op(
    name="mse_loss", aliases=("mse",), inputs=(Input("pred"), Input("target")),
    define=define_mse_loss, forward=lambda P, T: np.mean((P - T) ** 2), cases=st.same_shape_pair,
    canonical=Case((("n", "m"), ("n", "m"))), exact=True, call=_function_call("mse_loss"),
    doc="l = mean((pred - target)**2) over all entries",
    variants=(("the sum of squares divided by the batch size (len(pred))",
               lambda P, T: np.sum((P - T) ** 2) / len(P)),
              ("the sum of squares, not their mean", lambda P, T: np.sum((P - T) ** 2)),
              ("half the mean of squares", lambda P, T: np.mean((P - T) ** 2) / 2))))


def define_cross_entropy(logits, onehot):
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be (N, C), got {format_shape(logits.shape)}")
    n, c = logits.shape

    def loss():
        def per_sample(s):
            lse = summation(lambda t: sp.exp(logits[s, t]), c)
            return summation(lambda t: onehot[s, t] * (logits[s, t] - sp.log(lse)), c)
        return -summation(per_sample, n) / n

    return Output((), loss)


def _cross_entropy_np(logits, labels):
    logp = _log_softmax_np(logits, axis=1)
    return -np.mean(logp[np.arange(len(labels)), np.asarray(labels, dtype=np.intp)])


register(Op(
    name="cross_entropy", aliases=("nll_softmax", "ce"),
    inputs=(Input("logits"), Input("labels", differentiable=False, domain="labels")),
    define=define_cross_entropy, forward=_cross_entropy_np, cases=st.cross_entropy_case,
    canonical=Case((("N", "C"), ("N",))), call=_function_call("cross_entropy"),
    doc="l = -mean_n log softmax(logits)[n, labels[n]]"))


def define_linear(x, weight, bias):
    if x.ndim != 2 or weight.ndim != 2 or bias.ndim != 1 or x.shape[1] != weight.shape[1] \
            or bias.shape[0] != weight.shape[0]:
        raise ValueError(f"linear: expected x (N, in), weight (out, in), bias (out,), got "
                         f"{format_shape(x.shape)}, {format_shape(weight.shape)}, {format_shape(bias.shape)}")
    return Output((x.shape[0], weight.shape[0]),
                  lambda k, l: summation(lambda s: x[k, s] * weight[l, s], x.shape[1]) + bias[l])


register(Op(
    name="linear", aliases=("dense", "fully_connected"),
    inputs=(Input("x"), Input("weight"), Input("bias")), define=define_linear,
    forward=lambda x, W, b: x @ W.T + b, cases=st.linear_case,
    canonical=Case((("N", "d"), ("h", "d"), ("h",))), exact=True, call=_function_call("linear"),
    doc="Z = x @ weight.T + bias"))

