"""Statistics over axes (var, std, logsumexp, norm) and normalization layers (layer_norm, batch_norm).

``var`` and ``std`` take NumPy's ``ddof``; ``norm`` is the 2-norm over the
given axes (``sqrt(sum X**2)``, torch's ``vector_norm``); ``logsumexp`` is
``log(sum(exp(X)))`` (how it is stabilized is the implementation's business:
the stabilizer must take no gradient).  ``layer_norm`` normalizes each row of
``X`` (N, D), ``batch_norm`` (training mode) each column, both with the biased
variance, ``eps`` inside the square root, and an affine ``weight``, ``bias``:
three coupled terms in the gradient of ``X``.  ``batch_norm2d`` (CS231n's spatial
batch norm) normalizes each channel of ``X`` (N, C, H, W) over (N, H, W);
``group_norm`` each sample's group of ``C / num_groups`` channels over the group's
channels and (H, W) (CS231n's spatial group norm, torch's ``group_norm``); both with
a weight and a bias per channel.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from hypothesis import strategies as hst

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import call_function
from ..vocabulary.expressions import Output, Unravel, bracket, nested_sum, normalize_axes


def _reducer(name, statistic, least=1):
    """An axis reduction whose entry is ``statistic(over, count, **params)``, where
    ``over(f)`` sums ``f(entry)`` over the reduced entries; at least ``least`` of them,
    and more than ``ddof`` (a concrete case with fewer is a ValueError)."""
    def define(X, axis=None, keepdims=False, **params):
        axes = normalize_axes(axis, X.ndim, name)
        kept = [a for a in range(X.ndim) if a not in axes]
        out = tuple(sp.Integer(1) if a in axes else X.shape[a]
                    for a in range(X.ndim) if keepdims or a not in axes)
        count = sp.Mul(*[X.shape[a] for a in axes])
        ddof = params.get("ddof", 0)
        if count.is_Integer and (count < least or (isinstance(ddof, int) and count - ddof < 1)):
            raise ValueError(f"{name}: {int(count)} entr{'y' if count == 1 else 'ies'} reduced with ddof={ddof}; "
                             f"it needs at least {max(least, int(ddof) + 1)}")

        def entry(*k):
            k = [k[a] for a in kept] if keepdims else list(k)

            def over(f):
                def body(reduced):
                    idx, it_k, it_r = [], iter(k), iter(reduced)
                    for a in range(X.ndim):
                        idx.append(next(it_r) if a in axes else next(it_k))
                    return f(X[tuple(idx)])
                return nested_sum(body, [X.shape[a] for a in axes])

            return statistic(over, count, **params)

        return Output(out, entry)
    define.__name__ = f"define_{name}"
    return define


def _var(over, count, ddof=0):
    mean = over(lambda x: x) / count
    return over(lambda x: (x - mean) ** 2) / (count - ddof)


def _reduced_count(case):
    shape, axis = case.shapes[0], case.params["axis"]
    axes = range(len(shape)) if axis is None else ([axis] if isinstance(axis, int) else axis)
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _with_ddof(case, minimum):
    """A reduction case with ``ddof`` 0 or 1, keeping at least ``minimum`` entries beyond ``ddof``."""
    return hst.sampled_from([0, 1]).map(lambda d: Case(case.shapes, {**case.params, "ddof": d})).filter(
        lambda c: _reduced_count(c) - c.params["ddof"] >= minimum)


_AXIS = {"axis": None, "keepdims": False}
_CANONICAL = Case((("a", "b"),), {"axis": 1})


def _spell(name):
    return functools.partial(call_function, name=name)


register(Op(
    name="var", aliases=("variance",), inputs=(Input("X"),), params={**_AXIS, "ddof": 0},
    define=_reducer("var", _var),
    forward=lambda X, axis=None, keepdims=False, ddof=0: np.var(X, axis=axis, ddof=ddof, keepdims=keepdims),
    cases=lambda: st.reduction_case().flatmap(lambda c: _with_ddof(c, 1)), canonical=_CANONICAL, exact=True,
    call=_spell("var"), doc="Z = X.var(axis, ddof, keepdims): sum (X - mean)**2 / (N - ddof)"))

register(Op(
    name="std", inputs=(Input("X"),), params={**_AXIS, "ddof": 0},
    define=_reducer("std", lambda over, count, ddof=0: sp.sqrt(_var(over, count, ddof)), least=2),
    forward=lambda X, axis=None, keepdims=False, ddof=0: np.std(X, axis=axis, ddof=ddof, keepdims=keepdims),
    cases=lambda: st.reduction_case().flatmap(lambda c: _with_ddof(c, 1)).filter(lambda c: _reduced_count(c) >= 2),
    canonical=_CANONICAL, call=_spell("std"),
    doc="Z = X.std(axis, ddof, keepdims); at least two entries reduced (a single one has no derivative)"))


def _logsumexp_np(X, axis=None, keepdims=False):
    m = np.max(X, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(X - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=normalize_axes(axis, np.ndim(X)))


register(Op(
    name="logsumexp", inputs=(Input("X"),), params=dict(_AXIS),
    define=_reducer("logsumexp", lambda over, count: sp.log(over(sp.exp))), forward=_logsumexp_np,
    cases=st.reduction_case, canonical=_CANONICAL, call=_spell("logsumexp"),
    doc="Z = log(sum(exp(X), axis, keepdims)); the stabilizer takes no gradient"))

register(Op(
    name="norm", aliases=("vector_norm",), inputs=(Input("X", domain="away_from_zero"),), params=dict(_AXIS),
    define=_reducer("norm", lambda over, count: sp.sqrt(over(lambda x: x ** 2))),
    forward=lambda X, axis=None, keepdims=False: np.sqrt(np.sum(np.square(X), axis=axis, keepdims=keepdims)),
    cases=st.reduction_case, canonical=_CANONICAL, call=_spell("norm"),
    doc="Z = sqrt(sum(X**2, axis, keepdims)): the 2-norm over the axes (torch's vector_norm)"))


def _normalization(axis):
    def define(X, weight, bias, eps=1e-5):
        n_red = X.shape[axis]
        e = sp.nsimplify(eps)

        def entry(n, j):
            def at(r):
                return X[r, j] if axis == 0 else X[n, r]
            from ..vocabulary.expressions import summation
            mean = summation(at, n_red) / n_red
            var = summation(lambda r: (at(r) - mean) ** 2, n_red) / n_red
            return weight[j] * (X[n, j] - mean) / sp.sqrt(var + e) + bias[j]

        return Output(X.shape, entry)
    return define


def _normalization_np(axis):
    def forward(X, weight, bias, eps=1e-5):
        mu = X.mean(axis=axis, keepdims=True)
        return (X - mu) / np.sqrt(((X - mu) ** 2).mean(axis=axis, keepdims=True) + eps) * weight + bias
    return forward


def _normalization_case(min_batch):
    return hst.tuples(hst.integers(min_batch, st.MAX_SIDE), hst.integers(2, st.MAX_SIDE)).map(
        lambda s: Case(((s[0], s[1]), (s[1],), (s[1],))))


_NORM_INPUTS = (Input("X"), Input("weight"), Input("bias"))

register(Op(
    name="layer_norm", inputs=_NORM_INPUTS, params={"eps": 1e-5}, define=_normalization(1),
    forward=_normalization_np(1), cases=lambda: _normalization_case(1),
    canonical=Case((("N", "D"), ("D",), ("D",))), call=_spell("layer_norm"),
    doc="Z = (X - mean) / sqrt(var + eps) * weight + bias over each row of X (N, D)"))

register(Op(
    name="batch_norm", aliases=("batch_norm1d",), inputs=_NORM_INPUTS, params={"eps": 1e-5}, define=_normalization(0),
    forward=_normalization_np(0), cases=lambda: _normalization_case(2),
    canonical=Case((("N", "D"), ("D",), ("D",))), call=_spell("batch_norm"),
    doc="Z = (X - mean) / sqrt(var + eps) * weight + bias over each column of X (N, D); training mode, N >= 2"))


def _standardized(entries, count, value, e):
    """``(value - mean) / sqrt(var + eps)`` over ``entries(f) = sum f(entry)`` of ``count`` entries."""
    mean = entries(lambda v: v) / count
    var = entries(lambda v: (v - mean) ** 2) / count
    return (value - mean) / sp.sqrt(var + e)


def _nchw(name, X, weight, bias):
    if X.ndim != 4 or weight.ndim != 1 or bias.ndim != 1 or weight.shape[0] != X.shape[1] \
            or bias.shape[0] != X.shape[1]:
        raise ValueError(f"{name}: expected X (N, C, H, W), weight (C,), bias (C,), got "
                         + ", ".join(str(tuple(a.shape)) for a in (X, weight, bias)))


def define_batch_norm2d(X, weight, bias, eps=1e-5):
    _nchw("batch_norm2d", X, weight, bias)
    N, C, H, W = X.shape
    e = sp.nsimplify(eps)

    def entry(n, c, h, w):
        over = lambda f: nested_sum(lambda r: f(X[r[0], c, r[1], r[2]]), [N, H, W])  # noqa: E731
        return weight[c] * _standardized(over, N * H * W, X[n, c, h, w], e) + bias[c]

    return Output(X.shape, entry)


def define_group_norm(X, weight, bias, num_groups=1, eps=1e-5):
    _nchw("group_norm", X, weight, bias)
    N, C, H, W = X.shape
    if C.is_Integer and (num_groups < 1 or C % num_groups):
        raise ValueError(f"group_norm: {num_groups} groups do not divide {C} channels")
    per = C // num_groups  # channels per group; channel c is in group Unravel(c, (groups, per), 0)
    e = sp.nsimplify(eps)

    def group(channel):
        return Unravel(channel, sp.Tuple(num_groups, per), 0)

    def entry(n, c, h, w):
        def over(f):  # every channel, bracketed to c's group
            return nested_sum(lambda r: bracket(sp.Eq(group(r[0]), group(c))) * f(X[n, r[0], r[1], r[2]]), [C, H, W])
        return weight[c] * _standardized(over, per * H * W, X[n, c, h, w], e) + bias[c]

    return Output(X.shape, entry)


def _batch_norm2d_np(X, weight, bias, eps=1e-5):
    mu = X.mean(axis=(0, 2, 3), keepdims=True)
    var = ((X - mu) ** 2).mean(axis=(0, 2, 3), keepdims=True)
    return (X - mu) / np.sqrt(var + eps) * weight[None, :, None, None] + bias[None, :, None, None]


def _group_norm_np(X, weight, bias, num_groups=1, eps=1e-5):
    grouped = X.reshape(X.shape[0], num_groups, -1)
    mu = grouped.mean(axis=2, keepdims=True)
    var = ((grouped - mu) ** 2).mean(axis=2, keepdims=True)
    xhat = ((grouped - mu) / np.sqrt(var + eps)).reshape(X.shape)
    return xhat * weight[None, :, None, None] + bias[None, :, None, None]


@hst.composite
def _nchw_case(draw, groups=False):
    """X (N, C, H, W) of sides 1 to 3, weight and bias (C,); at least two entries per statistic; with
    ``groups``, a ``num_groups`` that divides C (one, and one per channel, included)."""
    n, c, h, w = (draw(hst.integers(1, 3)) for _ in range(4))
    params = {}
    if groups:
        params["num_groups"] = draw(hst.sampled_from([d for d in range(1, c + 1) if c % d == 0]))
    per = n * h * w if not groups else c // params["num_groups"] * h * w
    if per < 2:
        h = 2
    return Case(((n, c, h, w), (c,), (c,)), params)


register(Op(
    name="batch_norm2d", aliases=("spatial_batchnorm", "spatial_batch_norm"), inputs=_NORM_INPUTS,
    params={"eps": 1e-5}, define=define_batch_norm2d, forward=_batch_norm2d_np, cases=_nchw_case,
    canonical=Case((("N", "C", "H", "W"), ("C",), ("C",))), call=_spell("batch_norm2d"),
    doc="Z = (X - mean) / sqrt(var + eps) * weight + bias per channel of X (N, C, H, W), the statistics over "
        "(N, H, W); training mode (CS231n's spatial batch norm)"))

register(Op(
    name="group_norm", aliases=("spatial_groupnorm", "spatial_group_norm"), inputs=_NORM_INPUTS,
    params={"num_groups": 1, "eps": 1e-5}, define=define_group_norm, forward=_group_norm_np,
    cases=lambda: _nchw_case(groups=True), shape_generic=False,
    canonical=Case(((1, 4, 1, 2), (4,), (4,)), {"num_groups": 2}), call=_spell("group_norm"),
    doc="Z = (X - mean) / sqrt(var + eps) * weight + bias, the statistics over each sample's group of "
        "C / num_groups channels and (H, W): X (N, C, H, W) (torch's group_norm, CS231n's spatial group norm)"))
