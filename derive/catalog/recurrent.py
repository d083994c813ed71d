"""CS231n's recurrent steps: rnn_step and lstm_step, each one step of the recurrence.

``rnn_step``: ``next_h = tanh(x @ Wx + prev_h @ Wh + b)``, x (N, D), prev_h (N, H),
Wx (D, H), Wh (H, H), b (H,).  Its backward's classic mistakes: the tanh's
``1 - next_h**2`` forgotten, ``Wx.T`` and ``x.T`` on the wrong side, ``db`` not
summed over the batch.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from hypothesis import strategies as hst

from . import strategies as st
from .registry import Case, Input, Op, call_function, format_shape, register
from ..symbolic.expressions import Output, summation


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
