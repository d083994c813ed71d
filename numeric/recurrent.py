"""CS231n's recurrent steps: forwards and hand-written backward functions.

``rnn_step``: ``next_h = tanh(a)``, ``a = x @ Wx + prev_h @ Wh + b``, x (N, D),
prev_h (N, H), Wx (D, H), Wh (H, H), b (H,).  With ``da = G (1 - next_h**2)``
the gradients are ``da @ Wx.T``, ``da @ Wh.T``, ``x.T @ da``, ``prev_h.T @ da`` and
``da.sum(axis=0)``.

``lstm_step``: gates ``i, f, o, g`` the four column blocks of ``a`` (Wx (D, 4H)),
``next_c = f prev_c + i g``, ``next_h = o tanh(next_c)``; its two outputs each get
their own G.  The cell's gradient is ``dc = dnext_c + dnext_h o (1 - tanh(next_c)**2)``.

``temporal_affine``: ``x @ w + b`` at every step, x (N, T, D).
``temporal_softmax_loss``: ``-sum mask log softmax(x)[y] / N``; its gradient
``(softmax(x) - onehot(y)) mask / N``.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["rnn_step_forward", "rnn_step_grad_x", "rnn_step_grad_prev_h", "rnn_step_grad_Wx",
           "rnn_step_grad_Wh", "rnn_step_grad_b", "lstm_step_forward", "lstm_step_grads",
           "temporal_affine_forward", "temporal_affine_grad_x", "temporal_affine_grad_w", "temporal_affine_grad_b",
           "temporal_softmax_loss_forward", "temporal_softmax_loss_grad_x"]


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


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def _lstm_gates(x, prev_h, prev_c, Wx, Wh, b):
    a = x @ Wx + prev_h @ Wh + b
    i, f, o, g = np.split(a, 4, axis=1)
    i, f, o, g = _sigmoid(i), _sigmoid(f), _sigmoid(o), np.tanh(g)
    next_c = f * prev_c + i * g
    return i, f, o, g, next_c


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """``[next_h, next_c]``: one LSTM step, gates input, forget, output, candidate in Wx's column blocks."""
    i, f, o, g, next_c = _lstm_gates(x, prev_h, prev_c, Wx, Wh, b)
    return [o * np.tanh(next_c), next_c]


def lstm_step_grads(dnext_h, dnext_c, x, prev_h, prev_c, Wx, Wh, b):
    """``(dx, dprev_h, dprev_c, dWx, dWh, db)`` from the two outputs' gradients.

    ``dc = dnext_c + dnext_h o (1 - tanh(next_c)**2)``; through the gates,
    ``da = [dc g i(1-i), dc prev_c f(1-f), dnext_h tanh(next_c) o(1-o), dc i (1-g**2)]``.
    """
    i, f, o, g, next_c = _lstm_gates(x, prev_h, prev_c, Wx, Wh, b)
    tanh_c = np.tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tanh_c ** 2)
    da = np.concatenate([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o),
                         dc * i * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


def temporal_affine_forward(x, w, b):
    """``x @ w + b`` at every step: x (N, T, D), w (D, M), b (M,)."""
    return x @ w + b


def temporal_affine_grad_x(grad, x, w, b):
    """``dl/dx = G @ w.T``."""
    return grad @ w.T


def temporal_affine_grad_w(grad, x, w, b):
    """``dl/dw = sum_{n,t} x[n, t]^T G[n, t]``: the steps flattened into the batch."""
    return x.reshape(-1, x.shape[-1]).T @ grad.reshape(-1, grad.shape[-1])


def temporal_affine_grad_b(grad, x, w, b):
    """``dl/db = G summed over the batch and the steps``."""
    return grad.sum(axis=(0, 1))


def _log_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def temporal_softmax_loss_forward(x, y, mask):
    """``-sum_{n,t} mask[n, t] log softmax(x[n, t])[y[n, t]] / N``."""
    picked = np.take_along_axis(_log_softmax(x), np.asarray(y, dtype=np.intp)[..., None], axis=2)[..., 0]
    return -np.sum(picked * np.asarray(mask, dtype=x.dtype)) / x.shape[0]


def temporal_softmax_loss_grad_x(grad, x, y, mask):
    """``dl/dx = G (softmax(x) - onehot(y)) mask / N``."""
    p = np.exp(_log_softmax(x))
    np.put_along_axis(p, np.asarray(y, dtype=np.intp)[..., None],
                      np.take_along_axis(p, np.asarray(y, dtype=np.intp)[..., None], axis=2) - 1, axis=2)
    return grad * p * np.asarray(mask, dtype=x.dtype)[..., None] / x.shape[0]
