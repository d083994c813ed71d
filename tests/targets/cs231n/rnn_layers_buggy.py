"""The CS231n-style ``rnn_layers.py`` with one classic mistake in each of four backward functions (the
rest imported correct): derive must FAIL exactly these four."""
import numpy as np

from rnn_layers import (lstm_step_forward, rnn_step_forward, temporal_affine_forward,  # noqa: F401
                        word_embedding_backward, word_embedding_forward)


def rnn_step_backward(dnext_h, cache):
    """Mistake: the tanh's factor forgotten, da = dnext_h."""
    x, prev_h, Wx, Wh, next_h = cache
    da = dnext_h
    return da.dot(Wx.T), da.dot(Wh.T), x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)


def lstm_step_backward(dnext_h, dnext_c, cache):
    """Mistake: dnext_c is not added to the cell's gradient from next_h."""
    x, prev_h, prev_c, Wx, Wh, i, f, o, g, next_c = cache
    tanh_c = np.tanh(next_c)
    dc = dnext_h * o * (1 - tanh_c ** 2)
    da = np.hstack([dc * g * i * (1 - i), dc * prev_c * f * (1 - f), dnext_h * tanh_c * o * (1 - o),
                    dc * i * (1 - g ** 2)])
    return da.dot(Wx.T), da.dot(Wh.T), dc * f, x.T.dot(da), prev_h.T.dot(da), da.sum(axis=0)


def temporal_affine_backward(dout, cache):
    """Mistake: db sums over the batch only, shape (T, M)."""
    x, w, b, out = cache
    N, T, D = x.shape
    M = b.shape[0]
    dx = dout.reshape(N * T, M).dot(w.T).reshape(N, T, D)
    dw = dout.reshape(N * T, M).T.dot(x.reshape(N * T, D)).T
    return dx, dw, dout.sum(axis=0)


def temporal_softmax_loss(x, y, mask, verbose=False):
    """Mistake: dx is not masked (the loss is)."""
    N, T, V = x.shape
    x_flat, y_flat, mask_flat = x.reshape(N * T, V), y.reshape(N * T), mask.reshape(N * T)
    probs = np.exp(x_flat - np.max(x_flat, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.sum(mask_flat * np.log(probs[np.arange(N * T), y_flat])) / N
    dx_flat = probs.copy()
    dx_flat[np.arange(N * T), y_flat] -= 1
    return loss, (dx_flat / N).reshape(N, T, V)
