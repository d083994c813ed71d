"""Softmax, log-softmax, the losses and the linear layer: hand-written backward functions.

Each function is named after one op and one operand and computes the gradient
with respect to that operand from ``grad``, the upstream gradient ``G``; its
closed form is in the docstring.  This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np


def _softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_grad_x(grad, x, axis=-1):
    """``S = softmax(X, axis)``: ``dl/dX = S * (G - (G * S).sum(axis, keepdims=True))``."""
    s = _softmax(x, axis)
    return s * (grad - (grad * s).sum(axis=axis, keepdims=True))


def log_softmax_grad_x(grad, x, axis=-1):
    """``Z = log_softmax(X, axis)``: ``dl/dX = G - softmax(X) * G.sum(axis, keepdims=True)``."""
    return grad - _softmax(x, axis) * grad.sum(axis=axis, keepdims=True)


def mse_loss_grad_pred(grad, pred, target):
    """``l = mean((P - T)**2)``: ``dl/dP = G * 2 * (P - T) / N`` with ``N = P.size``."""
    return grad * 2 * (pred - target) / np.size(pred)


def mse_loss_grad_target(grad, pred, target):
    """``l = mean((P - T)**2)``: ``dl/dT = -G * 2 * (P - T) / N`` with ``N = P.size``."""
    return -mse_loss_grad_pred(grad, pred, target)


def cross_entropy_grad_logits(grad, logits, labels):
    """``l = -mean_n log_softmax(X)[n, labels[n]]``: ``dl/dX = G * (softmax(X) - onehot(labels)) / N``."""
    n, c = np.shape(logits)
    onehot = np.eye(c)[np.asarray(labels, dtype=np.intp)]
    return grad * (_softmax(logits, -1) - onehot) / n


def svm_loss_grad_scores(grad, scores, labels):
    """``l = mean_n sum_{j != y_n} max(0, X[n, j] - X[n, y_n] + 1)``: ``dl/dX = G * (M - onehot * M.sum(1)) / N``
    with ``M`` the positive margins (1 where a wrong class's margin is positive)."""
    n = np.shape(scores)[0]
    rows, labels = np.arange(n), np.asarray(labels, dtype=np.intp)
    positive = (scores - scores[rows, labels][:, None] + 1 > 0).astype(float)
    positive[rows, labels] = 0
    positive[rows, labels] = -positive.sum(axis=1)
    return grad * positive / n


def linear_grad_x(grad, x, weight, bias):
    """``Z = X @ W.T + b``: ``dl/dX = G @ W``."""
    return grad @ weight


def linear_grad_weight(grad, x, weight, bias):
    """``Z = X @ W.T + b``: ``dl/dW = G.T @ X``."""
    return np.swapaxes(grad, -1, -2) @ x


def linear_grad_bias(grad, x, weight, bias):
    """``Z = X @ W.T + b``: ``dl/db = G.sum(axis=0)``."""
    return grad.sum(axis=0)


def affine_grad_x(grad, x, w, b):
    """``Z = X.reshape(N, -1) @ W + b``: ``dl/dX = (G @ W.T).reshape(X.shape)``."""
    return (grad @ w.T).reshape(np.shape(x))


def affine_grad_w(grad, x, w, b):
    """``Z = X.reshape(N, -1) @ W + b``: ``dl/dW = X.reshape(N, -1).T @ G``."""
    return np.reshape(x, (np.shape(x)[0], -1)).T @ grad


def affine_grad_b(grad, x, w, b):
    """``Z = X.reshape(N, -1) @ W + b``: ``dl/db = G.sum(axis=0)``."""
    return grad.sum(axis=0)
