"""Losses and layers: mse_loss, cross_entropy, linear, affine."""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from . import strategies as st
from .registry import Case, Input, Op, format_shape, register
from .spelling import call_function
from ..vocabulary.expressions import Output, nested_sum, ravel, summation
from .softmax import log_softmax_np


def _function_call(name):
    return functools.partial(call_function, name=name)


def define_mse_loss(pred, target):
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred{format_shape(pred.shape)} and target{format_shape(target.shape)} "
                         "must have the same shape")
    count = sp.Mul(*pred.shape)
    total = nested_sum(lambda k: (pred[k] - target[k]) ** 2, list(pred.shape))
    return Output((), lambda: total / count)


register(Op(
    name="mse_loss", aliases=("mse",), inputs=(Input("pred"), Input("target", may_be_constant=True)),
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
    logp = log_softmax_np(logits, axis=1)
    return -np.mean(logp[np.arange(len(labels)), np.asarray(labels, dtype=np.intp)])


register(Op(
    name="cross_entropy", aliases=("nll_softmax", "ce"),
    inputs=(Input("logits"), Input("labels", differentiable=False, domain="labels")),
    define=define_cross_entropy, forward=_cross_entropy_np, cases=st.cross_entropy_case,
    canonical=Case((("N", "C"), ("N",))), call=_function_call("cross_entropy"),
    doc="l = -mean_n log softmax(logits)[n, labels[n]]"))


def define_svm_loss(scores, onehot):
    if scores.ndim != 2:
        raise ValueError(f"svm_loss: scores must be (N, C), got {format_shape(scores.shape)}")
    n, c = scores.shape

    def loss():
        def per_sample(s):
            correct = summation(lambda t: onehot[s, t] * scores[s, t], c)
            return summation(lambda j: (1 - onehot[s, j]) * sp.Max(0, scores[s, j] - correct + 1), c)
        return summation(per_sample, n) / n

    return Output((), loss)


def _svm_loss_np(scores, labels):
    n = len(scores)
    labels = np.asarray(labels, dtype=np.intp)
    margins = np.maximum(0, scores - scores[np.arange(n), labels][:, None] + 1)
    margins[np.arange(n), labels] = 0
    return margins.sum() / n


def _svm_margins_away_from_zero(scores, labels):
    """Central differences see the hinge's kink within a step of a margin of 0: not taken there."""
    labels = np.asarray(labels, dtype=np.intp)
    margin = scores - scores[np.arange(len(scores)), labels][:, None] + 1
    margin[np.arange(len(scores)), labels] = 1.0
    return bool(np.all(np.abs(margin) > 1e-3))


register(Op(
    name="svm_loss", aliases=("multiclass_hinge", "multi_margin_loss"),
    inputs=(Input("scores"), Input("labels", differentiable=False, domain="labels")),
    define=define_svm_loss, forward=_svm_loss_np, cases=st.cross_entropy_case,
    canonical=Case((("N", "C"), ("N",))), call=_function_call("svm_loss"),
    differentiable_at=_svm_margins_away_from_zero,
    doc="l = mean_n sum_{j != labels[n]} max(0, scores[n, j] - scores[n, labels[n]] + 1) (CS231n's "
        "multiclass SVM)"))


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


def define_affine(x, w, b):
    if x.ndim < 2 or w.ndim != 2 or b.ndim != 1 or sp.simplify(sp.Mul(*x.shape[1:]) - w.shape[0]) != 0 \
            or b.shape[0] != w.shape[1]:
        raise ValueError(f"affine: expected x (N, d_1, ..., d_k), w (d_1*...*d_k, M), b (M,), got "
                         f"{format_shape(x.shape)}, {format_shape(w.shape)}, {format_shape(b.shape)}")
    inner = list(x.shape[1:])
    return Output((x.shape[0], w.shape[1]),
                  lambda n, m: nested_sum(lambda i: x[(n, *i)] * w[ravel(i, inner), m], inner) + b[m])


def _call_affine(api, x, w, b):
    z = x.reshape((x.shape[0], -1)) @ w
    # b broadcast explicitly where the tensor can: a library without implicit broadcasting (needle) is right
    return z + (b.broadcast_to(tuple(z.shape)) if callable(getattr(b, "broadcast_to", None)) else b)


register(Op(
    name="affine", aliases=("fully_connected_flat",),
    inputs=(Input("x"), Input("w"), Input("b")), define=define_affine,
    forward=lambda x, w, b: x.reshape(x.shape[0], -1) @ w + b, cases=st.affine_case,
    canonical=Case((("N", "D"), ("D", "M"), ("M",))), exact=True, shape_generic=False, call=_call_affine,
    doc="Z = x.reshape(N, -1) @ w + b: x (N, d_1, ..., d_k) flattened, w (D, M) (CS231n's affine layer)",
    variants=(("x @ w.T + b: w taken as (M, D)", lambda x, w, b: x.reshape(x.shape[0], -1) @ w.T + b),)))
