"""CS231n's recurrent layers (``rnn_layers.py``): rnn_step, lstm_step, temporal_affine and
temporal_softmax_loss.

``rnn_step``: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``, x (N, D), prev_h (N, H),
Wx (D, H), Wh (H, H), b (H,).  Its backward's classic mistakes: the tanh's
``1 - next_h**2`` forgotten, ``Wx.T`` and ``x.T`` on the wrong side, ``db`` not
summed over the batch.

``lstm_step`` has two outputs, ``next_h`` and ``next_c``, so its backward gets one G
for each (``lstm_step_backward(dnext_h, dnext_c, cache)``); derive works with them
joined, ``Z = concatenate([next_h, next_c], axis=1)``.  Its gates are the four
column blocks of ``a = x @ Wx + prev_h @ Wh + b`` (Wx (D, 4H)): input, forget,
output, then the tanh candidate.  Classic mistakes: ``dnext_c`` not added to the
cell's gradient from ``next_h``, a gate's derivative taken as ``s`` instead of
``s (1 - s)``, ``tanh(next_c)`` differentiated as ``tanh(prev_c)``.

``temporal_affine`` is affine on every step, x (N, T, D) @ w (D, M) + b;
``temporal_softmax_loss`` the mean over the batch of the masked softmax losses of
every step, ``-sum_{n,t} mask[n, t] log softmax(x[n, t])[y[n, t]] / N``.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from hypothesis import strategies as hst

from . import strategies as st
from .registry import Case, Input, Op, Pieces, format_shape, register
from .spelling import call_function
from ..vocabulary.expressions import Output, Sigmoid, bracket, nested_sum, summation
from .softmax import log_softmax_np


def _affine_step(x, prev_h, Wx, Wh, b, n, col):
    """``(x @ Wx + prev_h @ Wh + b)[n, col]``: one entry of the step's pre-activation."""
    return (summation(lambda d: x[n, d] * Wx[d, col], x.shape[1])
            + summation(lambda h: prev_h[n, h] * Wh[h, col], prev_h.shape[1]) + b[col])


def define_rnn_step(x, prev_h, Wx, Wh, b):
    ok = (x.ndim == prev_h.ndim == Wx.ndim == Wh.ndim == 2 and b.ndim == 1 and x.shape[0] == prev_h.shape[0]
          and Wx.shape == (x.shape[1], prev_h.shape[1]) and Wh.shape == (prev_h.shape[1],) * 2
          and b.shape == prev_h.shape[1:])
    if not ok:
        raise ValueError("rnn_step: expected x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,), got "
                         + ", ".join(format_shape(a.shape) for a in (x, prev_h, Wx, Wh, b)))
    return Output(prev_h.shape, lambda n, j: sp.tanh(_affine_step(x, prev_h, Wx, Wh, b, n, j)))


def _rnn_step_np(x, prev_h, Wx, Wh, b):
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def rnn_step_case():
    """N, D, H of 1 to 4 (D = H often: a transposed Wx then has the right shape)."""
    side = hst.integers(1, st.MAX_SIDE)
    return hst.tuples(side, side, side).map(
        lambda s: Case(((s[0], s[1]), (s[0], s[2]), (s[1], s[2]), (s[2], s[2]), (s[2],))))


register(Op(
    name="rnn_step",
    inputs=(Input("x"), Input("prev_h"), Input("Wx"), Input("Wh"), Input("b")),
    define=define_rnn_step, forward=_rnn_step_np, cases=rnn_step_case,
    canonical=Case((("N", "D"), ("N", "H"), ("D", "H"), ("H", "H"), ("H",))),
    call=functools.partial(call_function, name="rnn_step"),
    doc="next_h = tanh(x @ Wx + prev_h @ Wh + b): x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) "
        "(CS231n's rnn_step_forward)"))


# ---- lstm_step: two outputs, next_h and next_c ------------------------------------------------------

def define_lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1] if prev_h.ndim == 2 else None
    ok = (x.ndim == prev_h.ndim == prev_c.ndim == Wx.ndim == Wh.ndim == 2 and b.ndim == 1
          and x.shape[0] == prev_h.shape[0] == prev_c.shape[0] and prev_c.shape[1] == H
          and Wx.shape == (x.shape[1], 4 * H) and Wh.shape == (H, 4 * H) and b.shape == (4 * H,))
    if not ok:
        raise ValueError("lstm_step: expected x (N, D), prev_h (N, H), prev_c (N, H), Wx (D, 4H), Wh (H, 4H), "
                         "b (4H,), got " + ", ".join(format_shape(a.shape) for a in (x, prev_h, prev_c, Wx, Wh, b)))

    def gate(n, k, j):  # block k of a = x @ Wx + prev_h @ Wh + b: input, forget, output, candidate
        return _affine_step(x, prev_h, Wx, Wh, b, n, k * H + j)

    def next_c(n, j):
        return (Sigmoid(gate(n, 1, j)) * prev_c[n, j]
                + Sigmoid(gate(n, 0, j)) * sp.tanh(gate(n, 3, j)))

    # Z[:, :H] is next_h, Z[:, H:] next_c (a read past an input's end is zero, so each block is its own term)
    return Output((x.shape[0], 2 * H), lambda n, j: (
        bracket(j < H) * Sigmoid(gate(n, 2, j)) * sp.tanh(next_c(n, j))
        + bracket(j >= H) * next_c(n, j - H)))


def _lstm_step_np(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = np.split(a, 4, axis=1)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    next_c = sigmoid(f) * prev_c + sigmoid(i) * np.tanh(g)
    return np.concatenate([sigmoid(o) * np.tanh(next_c), next_c], axis=1)


_H = sp.Symbol("H", positive=True, integer=True)  # the hidden size, as the canonical case's "H" is


def lstm_step_case():
    """N, D, H of 1 to 3 (D = H often: a transposed Wx then has the right shape)."""
    side = hst.integers(1, 3)
    return hst.tuples(side, side, side).map(lambda s: Case((
        (s[0], s[1]), (s[0], s[2]), (s[0], s[2]), (s[1], 4 * s[2]), (s[2], 4 * s[2]), (4 * s[2],))))


register(Op(
    name="lstm_step",
    inputs=(Input("x"), Input("prev_h"), Input("prev_c"), Input("Wx"), Input("Wh"), Input("b")),
    define=define_lstm_step, forward=_lstm_step_np, cases=lstm_step_case, declared_sizes=True,
    canonical=Case((("N", "D"), ("N", "H"), ("N", "H"), ("D", 4 * _H), ("H", 4 * _H), (4 * _H,))),
    call=functools.partial(call_function, name="lstm_step"),
    pieces=Pieces(lambda A: np.split(A, 2, axis=1), lambda pieces: np.concatenate(pieces, axis=1),
                  "np.concatenate([Z_0, Z_1], axis=1) (_0 is next_h, _1 is next_c)"),
    doc="[next_h, next_c] = one LSTM step: gates i, f, o, g = the column blocks of x @ Wx + prev_h @ Wh + b "
        "(Wx (D, 4H)), next_c = f prev_c + i g, next_h = o tanh(next_c) (CS231n's lstm_step_forward)"))


# ---- temporal_affine, temporal_softmax_loss ---------------------------------------------------------

def define_temporal_affine(x, w, b):
    if not (x.ndim == 3 and w.ndim == 2 and b.ndim == 1 and w.shape[0] == x.shape[2] and b.shape[0] == w.shape[1]):
        raise ValueError("temporal_affine: expected x (N, T, D), w (D, M), b (M,), got "
                         + ", ".join(format_shape(a.shape) for a in (x, w, b)))
    return Output((x.shape[0], x.shape[1], w.shape[1]),
                  lambda n, t, m: summation(lambda d: x[n, t, d] * w[d, m], x.shape[2]) + b[m])


def temporal_affine_case():
    """N, T, D, M of 1 to 4."""
    side = hst.integers(1, st.MAX_SIDE)
    return hst.tuples(side, side, side, side).map(
        lambda s: Case(((s[0], s[1], s[2]), (s[2], s[3]), (s[3],))))


register(Op(
    name="temporal_affine", inputs=(Input("x"), Input("w"), Input("b")),
    define=define_temporal_affine, forward=lambda x, w, b: x @ w + b, cases=temporal_affine_case,
    canonical=Case((("N", "T", "D"), ("D", "M"), ("M",))), exact=True,
    call=functools.partial(call_function, name="temporal_affine"),
    doc="Z = x @ w + b at every step: x (N, T, D), w (D, M), b (M,) (CS231n's temporal_affine_forward)"))


def define_temporal_softmax_loss(x, onehot, mask):
    if x.ndim != 3 or mask.ndim != 2 or tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(f"temporal_softmax_loss: expected x (N, T, V), y (N, T), mask (N, T), got "
                         f"x{format_shape(x.shape)}, mask{format_shape(mask.shape)}")
    N, T, V = x.shape

    def step(nt):
        n, t = nt
        lse = summation(lambda v: sp.exp(x[n, t, v]), V)
        return mask[n, t] * summation(lambda v: onehot[n, t, v] * (x[n, t, v] - sp.log(lse)), V)

    return Output((), lambda: -nested_sum(step, [N, T]) / N)


def _temporal_softmax_loss_np(x, y, mask):
    logp = log_softmax_np(x, axis=2)
    picked = np.take_along_axis(logp, np.asarray(y, dtype=np.intp)[..., None], axis=2)[..., 0]
    return -np.sum(picked * np.asarray(mask, dtype=float)) / x.shape[0]


def temporal_softmax_loss_case():
    """x (N, T, V), y (N, T), mask (N, T), sides 1 to 4."""
    side = hst.integers(1, st.MAX_SIDE)
    return hst.tuples(side, side, side).map(lambda s: Case(((s[0], s[1], s[2]), (s[0], s[1]), (s[0], s[1]))))


register(Op(
    name="temporal_softmax_loss",
    inputs=(Input("x"), Input("y", domain="labels"), Input("mask", domain="mask")),
    define=define_temporal_softmax_loss, forward=_temporal_softmax_loss_np, cases=temporal_softmax_loss_case,
    canonical=Case((("N", "T", "V"), ("N", "T"), ("N", "T"))),
    call=functools.partial(call_function, name="temporal_softmax_loss"),
    doc="l = -sum_{n,t} mask[n, t] log softmax(x[n, t])[y[n, t]] / N: x (N, T, V), y, mask (N, T) "
        "(CS231n's temporal_softmax_loss)"))
