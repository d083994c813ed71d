"""Ops that move entries around: transpose, reshape, broadcast_to, flatten (11-785's Flatten), identity."""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from hypothesis.extra import numpy as hnp

from . import strategies as st
from .registry import Case, Input, Op, format_shape, register
from .spelling import PASSED_OVER, call_function, offered, spelled, takes_sizes_apart
from ..vocabulary.expressions import Output, broadcast_index, dim, ravel, unravel

X_ = Input("X")


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


def _call_reshape(api, x, shape):
    """``x.reshape(shape)``, or a ``view`` (MiniTorch's name), with the sizes apart where it takes them
    so; passing over those, the function ``reshape(x, shape)``."""
    for name in ("reshape", "view"):
        method = getattr(x, name, None)
        if callable(method) and offered("method", type(x), name):
            spelled("method", type(x), name)
            return method(*shape) if takes_sizes_apart(method) else method(tuple(shape))
    return call_function(api, x, name="reshape", shape=tuple(shape)) if PASSED_OVER.get() else None


def _call_transpose(api, x, axes=None):
    order = tuple(reversed(range(len(x.shape)))) if axes is None else tuple(axes)
    if order == tuple(reversed(range(len(x.shape)))) and hasattr(x, "T") and offered("attribute", type(x), "T"):
        spelled("attribute", type(x), "T")
        return x.T
    if callable(getattr(x, "transpose", None)) and offered("method", type(x), "transpose"):
        spelled("method", type(x), "transpose")
        return x.transpose(order)
    if callable(getattr(x, "permute", None)) and offered("method", type(x), "permute"):
        # MiniTorch's and torch's name, the order as sizes apart
        spelled("method", type(x), "permute")
        return x.permute(*order) if takes_sizes_apart(x.permute) else x.permute(order)
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
    call=_call_reshape,
    doc="Z = X.reshape(shape), C order, -1 allowed"))


def define_broadcast_to(X, shape=None):
    if shape is None:
        raise ValueError("broadcast_to: the parameter `shape` is required")
    target = tuple(dim(n) for n in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    lead = len(target) - X.ndim
    if lead < 0 or any(n != 1 and n != target[lead + a] for a, n in enumerate(X.shape)):
        raise ValueError(f"broadcast_to: cannot broadcast {format_shape(X.shape)} to {format_shape(target)}")
    return Output(target, lambda *k: X[broadcast_index(X.shape, target, k)])


def _call_broadcast_to(api, x, shape):
    if callable(getattr(x, "broadcast_to", None)) and offered("method", type(x), "broadcast_to"):
        spelled("method", type(x), "broadcast_to")
        return x.broadcast_to(tuple(shape))
    fn = getattr(api, "broadcast_to", None)
    if not callable(fn) or not offered("function", api, "broadcast_to"):
        return None
    spelled("function", api, "broadcast_to")
    return fn(x, tuple(shape))


register(Op(
    name="broadcast_to", aliases=("broadcast", "expand"), inputs=(X_,), params={"shape": None},
    define=define_broadcast_to, forward=lambda X, shape: np.broadcast_to(X, shape),
    cases=st.broadcast_to_case, canonical=Case((("n", 1),), {"shape": ("n", "m")}), exact=True,
    call=_call_broadcast_to, doc="Z = np.broadcast_to(X, shape)"))


def define_flatten(X):
    if X.ndim < 1:
        raise ValueError("flatten: X must have a batch axis, got a 0-d array")
    out = (X.shape[0], sp.Mul(*X.shape[1:]))
    return Output(out, lambda n, f: X[unravel(ravel((n, f), out), X.shape)])  # reshape's read, in C order


register(Op(
    name="flatten", aliases=("flatten_batch",), inputs=(X_,), define=define_flatten,
    forward=lambda X: np.reshape(X, (np.shape(X)[0], -1)),
    cases=lambda: hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=st.MAX_SIDE).map(lambda s: Case((s,))),
    canonical=Case((("N", "C", "W"),)), exact=True, shape_generic=False,
    call=functools.partial(call_function, name="flatten"),  # a Tensor's .flatten() is often NumPy's: to 1-D
    doc="Z = X.reshape(N, -1): every axis but the first flattened in C order (11-785's Flatten); "
        "dl/dX = G.reshape(X.shape)"))

def _call_identity(api, x):
    """A method ``identity``, else a function of ``api``; not in a NumPy-like namespace (one with ``eye``:
    MyGrad, autograd.numpy), where ``identity(n)`` makes an identity matrix."""
    method = getattr(x, "identity", None)
    if callable(method):
        return method()
    return None if hasattr(api, "eye") else call_function(api, x, name="identity")


register(Op(
    name="identity", inputs=(X_,), define=lambda X: Output(X.shape, lambda *k: X[k]), forward=lambda X: X + 0,
    cases=st.one_array, canonical=Case((("n", "m"),)), exact=True,
    call=_call_identity, doc="Z = X (11-785's Identity activation)"))
