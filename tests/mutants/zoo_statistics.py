"""Mutants of statistics and normalization backward functions, one classic mistake each."""

from __future__ import annotations

import numpy as np

from numeric import statistics as S

from .zoo import mutant


def _axes(x, axis):
    return S._axes(axis, np.ndim(x))


@mutant("statistics", "var", "divides by N whatever ddof says")
def var_ignores_ddof(grad, x, axis=None, ddof=0, keepdims=False):
    return (S.var_grad_x(grad, x, axis, 0, keepdims),)


@mutant("statistics", "var", "forgets the factor 2 of the square")
def var_missing_two(grad, x, axis=None, ddof=0, keepdims=False):
    return (S.var_grad_x(grad, x, axis, ddof, keepdims) / 2,)


@mutant("statistics", "std", "divides by the variance instead of the standard deviation")
def std_by_variance(grad, x, axis=None, ddof=0, keepdims=False):
    v = S.var_forward(x, axis, ddof, keepdims=True)
    return (S._kept(grad, x, axis, keepdims) * S._centered(x, axis) / ((S._count(x, axis) - ddof) * v),)


@mutant("statistics", "logsumexp", "lets the stabilizer take gradient: G also flows to the maximum entry")
def logsumexp_stabilizer_gradient(grad, x, axis=None, keepdims=False):
    axes = _axes(x, axis)
    g = S.logsumexp_grad_x(grad, x, axis, keepdims)
    is_max = (x == np.max(x, axis=axes, keepdims=True))
    return (g + S._kept(grad, x, axis, keepdims) * is_max,)


@mutant("statistics", "norm", "returns G X (the gradient of the squared norm over 2), not G X / norm")
def norm_of_square(grad, x, axis=None, keepdims=False):
    return (S._kept(grad, x, axis, keepdims) * x,)


@mutant("statistics", "layer_norm", "treats the mean as a constant (drops the mean(g) term)")
def layer_norm_constant_mean(grad, x, weight, bias, eps=1e-5):
    xhat, rstd = S._normalize(x, 1, eps)
    g = grad * weight
    return (rstd * (g - xhat * np.mean(g * xhat, axis=1, keepdims=True)),
            S.layer_norm_grad_weight(grad, x, weight, bias, eps), S.layer_norm_grad_bias(grad, x, weight, bias, eps))


@mutant("statistics", "batch_norm", "treats the variance as a constant (drops the xhat mean(g xhat) term)")
def batch_norm_constant_variance(grad, x, weight, bias, eps=1e-5):
    xhat, rstd = S._normalize(x, 0, eps)
    g = grad * weight
    return (rstd * (g - np.mean(g, axis=0, keepdims=True)),
            S.batch_norm_grad_weight(grad, x, weight, bias, eps), S.batch_norm_grad_bias(grad, x, weight, bias, eps))


@mutant("statistics", "batch_norm", "normalizes the gradient over the features (layer norm's axis)")
def batch_norm_wrong_axis(grad, x, weight, bias, eps=1e-5):
    return (S._norm_grad_x(grad, x, weight, 1, eps),
            S.batch_norm_grad_weight(grad, x, weight, bias, eps), S.batch_norm_grad_bias(grad, x, weight, bias, eps))


@mutant("statistics", "batch_norm", "dgamma and dbeta keep the batch axis: shape (1, D)")
def batch_norm_affine_grads_keep_batch_axis(grad, x, weight, bias, eps=1e-5):
    xhat, _ = S._normalize(x, 0, eps)
    return (S._norm_grad_x(grad, x, weight, 0, eps), np.sum(grad * xhat, axis=0, keepdims=True),
            np.sum(grad, axis=0, keepdims=True))


@mutant("statistics", "max", "gives all of G to the first maximum (argmax's convention), not an even share",
        ties="declared")
def max_first_argmax(grad, x, axis=None, keepdims=False):
    axes = _axes(x, axis)
    x = np.asarray(x, dtype=float)
    moved = np.moveaxis(x, axes, tuple(range(-len(axes), 0))) if axes else x[..., None]
    flat = moved.reshape(moved.shape[:moved.ndim - max(len(axes), 1)] + (-1,))
    onehot = np.zeros_like(flat)
    np.put_along_axis(onehot, np.argmax(flat, axis=-1)[..., None], 1.0, axis=-1)
    onehot = onehot.reshape(moved.shape)
    onehot = np.moveaxis(onehot, tuple(range(-len(axes), 0)), axes) if axes else onehot[..., 0]
    return (S._kept(grad, x, axis, keepdims) * onehot,)


@mutant("statistics", "min", "gives G to every tied minimum in full (no sharing)")
def min_ties_in_full(grad, x, axis=None, keepdims=False):
    axes = _axes(x, axis)
    return (S._kept(grad, x, axis, keepdims) * (x == np.min(x, axis=axes, keepdims=True)),)
