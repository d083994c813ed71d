"""Statistics over axes and normalization layers: forwards and hand-written backward functions.

``var`` and ``std`` take NumPy's ``ddof`` (``N - ddof`` in the denominator),
``logsumexp`` and ``norm`` (the 2-norm, torch's ``vector_norm``) reduce over
``axis`` with ``keepdims``.  ``layer_norm`` normalizes each row of ``x`` (N, D)
and ``batch_norm`` (training mode) each column, both with the biased variance
and an affine ``weight``, ``bias``.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["var_forward", "var_grad_x", "std_forward", "std_grad_x", "logsumexp_forward", "logsumexp_grad_x",
           "norm_forward", "norm_grad_x", "layer_norm_forward", "layer_norm_grad_x", "layer_norm_grad_weight",
           "layer_norm_grad_bias", "batch_norm_forward", "batch_norm_grad_x", "batch_norm_grad_weight",
           "batch_norm_grad_bias", "max_grad_x", "min_grad_x", "batch_norm2d_forward", "batch_norm2d_grad_x",
           "batch_norm2d_grad_weight", "batch_norm2d_grad_bias", "group_norm_forward", "group_norm_grad_x",
           "group_norm_grad_weight", "group_norm_grad_bias"]


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if np.ndim(axis) == 0 else axis
    return tuple(sorted(int(a) % ndim for a in axis))


def _count(x, axis):
    return int(np.prod([np.shape(x)[a] for a in _axes(axis, np.ndim(x))], dtype=np.int64))


def _kept(grad, x, axis, keepdims):
    """``grad`` with the reduced axes back as size-1 axes (by position), ready to broadcast against ``x``."""
    grad = np.asarray(grad)
    if keepdims:
        return grad
    axes = _axes(axis, np.ndim(x))
    return np.reshape(grad, tuple(1 if a in axes else n for a, n in enumerate(np.shape(x))))


def _centered(x, axis):
    return x - np.mean(x, axis=_axes(axis, np.ndim(x)), keepdims=True)


def var_forward(x, axis=None, ddof=0, keepdims=False):
    """``np.var(x, axis, ddof=ddof, keepdims=keepdims)``."""
    return np.var(x, axis=_axes(axis, np.ndim(x)), ddof=ddof, keepdims=keepdims)


def var_grad_x(grad, x, axis=None, ddof=0, keepdims=False):
    """``Z = sum (X - mean)**2 / (N - ddof)``: ``dl/dX = 2 G (X - mean) / (N - ddof)``.

    The mean's own dependence on ``X`` drops out, since the centred entries sum to zero.
    """
    return 2 * _kept(grad, x, axis, keepdims) * _centered(x, axis) / (_count(x, axis) - ddof)


def std_forward(x, axis=None, ddof=0, keepdims=False):
    """``np.std(x, axis, ddof=ddof, keepdims=keepdims)``."""
    return np.std(x, axis=_axes(axis, np.ndim(x)), ddof=ddof, keepdims=keepdims)


def std_grad_x(grad, x, axis=None, ddof=0, keepdims=False):
    """``Z = sqrt(var(X))``: ``dl/dX = G (X - mean) / ((N - ddof) Z)``."""
    s = std_forward(x, axis, ddof, keepdims=True)
    return _kept(grad, x, axis, keepdims) * _centered(x, axis) / ((_count(x, axis) - ddof) * s)


def logsumexp_forward(x, axis=None, keepdims=False):
    """``log(sum(exp(x), axis))``, stabilized by the maximum (which takes no gradient)."""
    axes = _axes(axis, np.ndim(x))
    m = np.max(x, axis=axes, keepdims=True) if np.size(x) else 0.0
    out = np.log(np.sum(np.exp(x - m), axis=axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axes)


def logsumexp_grad_x(grad, x, axis=None, keepdims=False):
    """``Z = log sum exp(X)``: ``dl/dX = G exp(X - Z)``, the softmax over the reduced axes."""
    return _kept(grad, x, axis, keepdims) * np.exp(x - logsumexp_forward(x, axis, keepdims=True))


def norm_forward(x, axis=None, keepdims=False):
    """The 2-norm over ``axis``: ``sqrt(sum(x**2, axis))``."""
    return np.sqrt(np.sum(np.square(x), axis=_axes(axis, np.ndim(x)), keepdims=keepdims))


def norm_grad_x(grad, x, axis=None, keepdims=False):
    """``Z = sqrt(sum X**2)``: ``dl/dX = G X / Z``."""
    return _kept(grad, x, axis, keepdims) * x / norm_forward(x, axis, keepdims=True)


# ---- normalization layers: x (N, D); the statistics run over `axis` --------------------------

def _normalize(x, axis, eps):
    mu = np.mean(x, axis=axis, keepdims=True)
    rstd = 1 / np.sqrt(np.mean((x - mu) ** 2, axis=axis, keepdims=True) + eps)
    return (x - mu) * rstd, rstd


def _norm_grad_x(grad, x, weight, axis, eps):
    """``dl/dX = rstd (g - mean(g) - xhat mean(g xhat))``, ``g = G weight``: three coupled terms."""
    xhat, rstd = _normalize(x, axis, eps)
    g = grad * weight
    return rstd * (g - np.mean(g, axis=axis, keepdims=True) - xhat * np.mean(g * xhat, axis=axis, keepdims=True))


def layer_norm_forward(x, weight, bias, eps=1e-5):
    """Each row normalized (mean 0, biased variance 1), then ``* weight + bias``."""
    return _normalize(x, 1, eps)[0] * weight + bias


def layer_norm_grad_x(grad, x, weight, bias, eps=1e-5):
    """``dl/dX = rstd (g - mean_j g - xhat mean_j(g xhat))``, ``g = G weight``, per row."""
    return _norm_grad_x(grad, x, weight, 1, eps)


def layer_norm_grad_weight(grad, x, weight, bias, eps=1e-5):
    """``dl/dweight = sum_n G xhat``."""
    return np.sum(grad * _normalize(x, 1, eps)[0], axis=0)


def layer_norm_grad_bias(grad, x, weight, bias, eps=1e-5):
    """``dl/dbias = sum_n G``."""
    return np.sum(grad, axis=0)


def batch_norm_forward(x, weight, bias, eps=1e-5):
    """Each column normalized over the batch (training mode, biased variance), then ``* weight + bias``."""
    return _normalize(x, 0, eps)[0] * weight + bias


def batch_norm_grad_x(grad, x, weight, bias, eps=1e-5):
    """``dl/dX = rstd (g - mean_n g - xhat mean_n(g xhat))``, ``g = G weight``, per column."""
    return _norm_grad_x(grad, x, weight, 0, eps)


def batch_norm_grad_weight(grad, x, weight, bias, eps=1e-5):
    """``dl/dweight = sum_n G xhat``."""
    return np.sum(grad * _normalize(x, 0, eps)[0], axis=0)


def batch_norm_grad_bias(grad, x, weight, bias, eps=1e-5):
    """``dl/dbias = sum_n G``."""
    return np.sum(grad, axis=0)


def max_grad_x(grad, x, axis=None, keepdims=False):
    """``Z = X.max(axis)``: ``dl/dX = G [X = Z] / #ties``: tied maxima share G evenly (torch's ``amax``)."""
    return _extreme_grad(grad, x, axis, keepdims, np.max)


def min_grad_x(grad, x, axis=None, keepdims=False):
    """``Z = X.min(axis)``: ``dl/dX = G [X = Z] / #ties``."""
    return _extreme_grad(grad, x, axis, keepdims, np.min)


def _extreme_grad(grad, x, axis, keepdims, reduce):
    axes = _axes(axis, np.ndim(x))
    hit = np.asarray(x == reduce(x, axis=axes, keepdims=True), dtype=float)
    return _kept(grad, x, axis, keepdims) * hit / np.sum(hit, axis=axes, keepdims=True)


# ---- (N, C, H, W): batch norm per channel, group norm per sample and group of channels -------------

def _per_channel(v):
    """A channel parameter (C,) as (1, C, 1, 1), to scale (N, C, H, W)."""
    return np.reshape(v, (1, -1, 1, 1))


def batch_norm2d_forward(x, weight, bias, eps=1e-5):
    """Each channel normalized over (N, H, W) (training mode), then ``* weight + bias`` per channel."""
    return _normalize(x, (0, 2, 3), eps)[0] * _per_channel(weight) + _per_channel(bias)


def batch_norm2d_grad_x(grad, x, weight, bias, eps=1e-5):
    """Batch norm's three terms, the means over (N, H, W): ``rstd (g - mean g - xhat mean(g xhat))``."""
    return _norm_grad_x(grad, x, _per_channel(weight), (0, 2, 3), eps)


def batch_norm2d_grad_weight(grad, x, weight, bias, eps=1e-5):
    """``dl/dweight = sum_{n,h,w} G xhat``."""
    return np.sum(grad * _normalize(x, (0, 2, 3), eps)[0], axis=(0, 2, 3))


def batch_norm2d_grad_bias(grad, x, weight, bias, eps=1e-5):
    """``dl/dbias = sum_{n,h,w} G``."""
    return np.sum(grad, axis=(0, 2, 3))


def _grouped(a, num_groups):
    """(N, C, H, W) as (N, num_groups, C // num_groups * H * W): one row per sample and group."""
    return np.reshape(a, (a.shape[0], int(num_groups), -1))


def group_norm_forward(x, weight, bias, num_groups=1, eps=1e-5):
    """Each sample's group of ``C // num_groups`` channels normalized over its channels and (H, W), then
    ``* weight + bias`` per channel."""
    xhat = _normalize(_grouped(x, num_groups), 2, eps)[0].reshape(x.shape)
    return xhat * _per_channel(weight) + _per_channel(bias)


def group_norm_grad_x(grad, x, weight, bias, num_groups=1, eps=1e-5):
    """Layer norm's three terms on each group: ``g = G weight``, means over the group's entries."""
    g = _grouped(grad * _per_channel(weight), num_groups)
    return _norm_grad_x(g, _grouped(x, num_groups), 1.0, 2, eps).reshape(x.shape)


def group_norm_grad_weight(grad, x, weight, bias, num_groups=1, eps=1e-5):
    """``dl/dweight = sum_{n,h,w} G xhat``."""
    xhat = _normalize(_grouped(x, num_groups), 2, eps)[0].reshape(x.shape)
    return np.sum(grad * xhat, axis=(0, 2, 3))


def group_norm_grad_bias(grad, x, weight, bias, num_groups=1, eps=1e-5):
    """``dl/dbias = sum_{n,h,w} G``."""
    return np.sum(grad, axis=(0, 2, 3))
