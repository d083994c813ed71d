"""CS231n's recurrent steps: forwards and hand-written backward functions.

``rnn_step``: ``next_h = tanh(a)``, ``a = x @ Wx + prev_h @ Wh + b``, x (N, D),
prev_h (N, H), Wx (D, H), Wh (H, H), b (H,).  With ``da = G (1 - next_h**2)``
the gradients are ``da @ Wx.T``, ``da @ Wh.T``, ``x.T @ da``, ``prev_h.T @ da`` and
``da.sum(axis=0)``.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rnn_step_forward", "rnn_step_grad_x", "rnn_step_grad_prev_h", "rnn_step_grad_Wx",
           "rnn_step_grad_Wh", "rnn_step_grad_b"]


def rnn_step_forward(x, prev_h, Wx, Wh, b):
    """``tanh(x @ Wx + prev_h @ Wh + b)``."""
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def _rnn_da(grad, x, prev_h, Wx, Wh, b):
    """``G (1 - next_h**2)``: G back through the tanh."""
    next_h = rnn_step_forward(x, prev_h, Wx, Wh, b)
    return grad * (1 - next_h * next_h)


def rnn_step_grad_x(grad, x, prev_h, Wx, Wh, b):
    """``next_h = tanh(a)``: ``dl/dx = da @ Wx.T``, ``da = G (1 - next_h**2)``."""
    return _rnn_da(grad, x, prev_h, Wx, Wh, b) @ Wx.T


def rnn_step_grad_prev_h(grad, x, prev_h, Wx, Wh, b):
    """``dl/dprev_h = da @ Wh.T``."""
    return _rnn_da(grad, x, prev_h, Wx, Wh, b) @ Wh.T


def rnn_step_grad_Wx(grad, x, prev_h, Wx, Wh, b):
    """``dl/dWx = x.T @ da``."""
    return x.T @ _rnn_da(grad, x, prev_h, Wx, Wh, b)


def rnn_step_grad_Wh(grad, x, prev_h, Wx, Wh, b):
    """``dl/dWh = prev_h.T @ da``."""
    return prev_h.T @ _rnn_da(grad, x, prev_h, Wx, Wh, b)


def rnn_step_grad_b(grad, x, prev_h, Wx, Wh, b):
    """``dl/db = da.sum(axis=0)``."""
    return _rnn_da(grad, x, prev_h, Wx, Wh, b).sum(axis=0)
