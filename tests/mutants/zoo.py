"""Plausible wrong backward functions, one classic mistake each, in the functions style.

Each mutant is registered with its family and the op it implements.  Everything
except the one mistake is done right, so a mutant that passes the verifier is
a mistake the verifier cannot see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Mutant:
    name: str
    family: str
    op: str
    backward: Callable
    mistake: str
    #: "declared": a convention at ties that is a valid subgradient, a mistake only where a grader pins
    #: the declared one (checked with ties="declared")
    ties: str = "subgradient"


MUTANTS: list[Mutant] = []


def mutant(family, op, mistake, ties="subgradient"):
    def register(fn):
        MUTANTS.append(Mutant(fn.__name__, family, op, fn, mistake, ties))
        return fn
    return register


# ---- correct helpers the mutants share ---------------------------------------------------------

def unbroadcast(grad, shape):
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else axis
    return tuple(sorted(a % ndim for a in axis))


def _sum_grad(grad, x, axis, keepdims):
    """The right gradient of ``x.sum(axis, keepdims)``: G expanded at the reduced axes, broadcast."""
    g = grad if keepdims else np.expand_dims(grad, _axes(axis, np.ndim(x)))
    return np.broadcast_to(g, np.shape(x)).copy()


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _binary(grad, x, y, gx, gy):
    x, y = np.asarray(x), np.asarray(y)
    xb, yb = np.broadcast_arrays(x, y)
    return unbroadcast(gx(grad, xb, yb), x.shape), unbroadcast(gy(grad, xb, yb), y.shape)


# ---- transposition ------------------------------------------------------------------------------

@mutant("transpose", "transpose", "applies `axes` again instead of its inverse")
def transpose_not_inverted(grad, x, axes=None):
    return np.transpose(grad, axes)


@mutant("transpose", "transpose", "always reverses the axes, ignoring `axes`")
def transpose_ignores_axes(grad, x, axes=None):
    return np.transpose(grad)


@mutant("transpose", "transpose", "inverts the permutation only for 2-D inputs")
def transpose_inverts_2d_only(grad, x, axes=None):
    return np.transpose(grad) if axes is None or np.ndim(x) == 2 else np.transpose(grad, axes)


# ---- matmul ------------------------------------------------------------------------------------

def _matmul_right(grad, x, y):
    x, y, grad = np.asarray(x), np.asarray(y), np.asarray(grad)
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g2 = grad
    if x.ndim == 1:
        g2 = np.expand_dims(g2, -1 if y.ndim == 1 else -2)
    if y.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    return x2, y2, g2


@mutant("matmul", "matmul", "the transposes are missing: G @ Y and X @ G")
def matmul_missing_transpose(grad, x, y):
    return grad @ y, x @ grad


@mutant("matmul", "matmul", ".T reverses every axis: only right for 2-D operands")
def matmul_2d_only(grad, x, y):
    return grad @ y.T, x.T @ grad


@mutant("matmul", "matmul", "no 1-D rule: promotes vectors the wrong way")
def matmul_no_1d(grad, x, y):
    x2, y2, g2 = np.atleast_2d(x), np.atleast_2d(y), np.atleast_2d(grad)
    gx = g2 @ np.swapaxes(y2, -1, -2)
    gy = np.swapaxes(x2, -1, -2) @ g2
    return gx.reshape(np.shape(x)), gy.reshape(np.shape(y))


@mutant("matmul", "matmul", "batch dimensions that broadcasting added are not summed out")
def matmul_no_batch_unbroadcast(grad, x, y):
    x2, y2, g2 = _matmul_right(grad, x, y)
    gx = g2 @ np.swapaxes(y2, -1, -2)
    gy = np.swapaxes(x2, -1, -2) @ g2
    return gx.reshape(gx.shape[:-2] + np.shape(x)[-2:]) if np.ndim(x) > 1 else gx, \
        gy.reshape(gy.shape[:-2] + np.shape(y)[-2:]) if np.ndim(y) > 1 else gy


@mutant("matmul", "matmul", "operands swapped: dl/dX uses X instead of Y")
def matmul_swapped(grad, x, y):
    x2, y2, g2 = _matmul_right(grad, x, y)
    gx = unbroadcast(g2 @ np.swapaxes(x2, -1, -2), x2.shape).reshape(np.shape(x))
    gy = unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(np.shape(y))
    return gx, gy


@mutant("matmul", "linear", "dl/dW = X.T @ G (transposed weight gradient)")
def linear_weight_transposed(grad, x, weight, bias):
    return grad @ weight, x.T @ grad, grad.sum(axis=0)


@mutant("matmul", "linear", "dl/db keeps the batch axis: G.sum(axis=1)")
def linear_bias_wrong_axis(grad, x, weight, bias):
    return grad @ weight, grad.T @ x, grad.sum(axis=1)


@mutant("matmul", "affine", "dl/dx left flat, (N, D), not reshaped back to x's shape")
def affine_dx_not_reshaped(grad, x, w, b):
    return grad @ w.T, x.reshape(len(x), -1).T @ grad, grad.sum(axis=0)


@mutant("matmul", "affine", "dl/dx reshaped as (d_k, ..., d_1) then transposed: right shape, entries moved")
def affine_dx_reshaped_reversed(grad, x, w, b):
    flat = grad @ w.T
    return flat.reshape(len(x), *reversed(x.shape[1:])).transpose(0, *range(x.ndim - 1, 0, -1)), \
        x.reshape(len(x), -1).T @ grad, grad.sum(axis=0)


@mutant("matmul", "affine", "dl/db = G.sum() (every entry the total)")
def affine_bias_summed_over_all(grad, x, w, b):
    return (grad @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ grad, np.full(b.shape, grad.sum())


def _svm_positive(x, labels):
    n = len(x)
    labels = np.asarray(labels, dtype=np.intp)
    positive = (x - x[np.arange(n), labels][:, None] + 1 > 0).astype(float)
    positive[np.arange(n), labels] = 0
    return positive, labels


@mutant("loss", "svm_loss", "the correct class's column gets no gradient (its -count of positive margins forgotten)")
def svm_loss_correct_class_forgotten(grad, scores, labels):
    positive, _ = _svm_positive(scores, labels)
    return grad * positive / len(scores), None


@mutant("loss", "svm_loss", "not divided by N (the loss's mean forgotten in the backward)")
def svm_loss_missing_mean(grad, scores, labels):
    positive, labels = _svm_positive(scores, labels)
    positive[np.arange(len(scores)), labels] = -positive.sum(axis=1)
    return grad * positive, None


# ---- broadcasting --------------------------------------------------------------------------------

@mutant("broadcasting", "add", "un-broadcasts aligned from the left: sums trailing axes where leading ones were added")
def add_aligns_from_the_left(grad, x, y):
    def from_left(g, shape):
        g = np.asarray(g)
        while g.ndim > len(shape):
            g = g.sum(axis=-1)
        return unbroadcast(g, shape)
    return from_left(grad, np.shape(x)), from_left(grad, np.shape(y))


@mutant("in-place", "relu", "writes into dout: dout[x <= 0] = 0; return dout")
def relu_writes_into_dout(grad, x):
    grad[np.asarray(x) <= 0] = 0
    return grad


@mutant("broadcasting", "add", "never un-broadcasts")
def add_no_unbroadcast(grad, x, y):
    return grad, grad


@mutant("broadcasting", "add", "un-broadcast forgets the new leading axes")
def add_forgets_leading_axes(grad, x, y):
    def partial(g, shape):
        if g.ndim != len(shape):
            return g
        return unbroadcast(g, shape)
    return partial(grad, np.shape(x)), partial(grad, np.shape(y))


@mutant("broadcasting", "add", "un-broadcast forgets stretched size-1 axes")
def add_forgets_size_one_axes(grad, x, y):
    def partial(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        return g
    return partial(grad, np.shape(x)), partial(grad, np.shape(y))


@mutant("broadcasting", "multiply", "un-broadcast squeezes the size-1 axes")
def multiply_unbroadcast_squeezes(grad, x, y):
    def squeeze(g, shape):
        while g.ndim > len(shape):
            g = g.sum(axis=0)
        stretched = tuple(a for a, n in enumerate(shape) if n == 1 and g.shape[a] != 1)
        return g.sum(axis=stretched) if stretched else g
    xb, yb = np.broadcast_arrays(x, y)
    return squeeze(grad * yb, np.shape(x)), squeeze(grad * xb, np.shape(y))


@mutant("broadcasting", "broadcast_to", "sums over trailing axes instead of the leading new ones")
def broadcast_to_sums_trailing(grad, x, shape=None):
    while grad.ndim > np.ndim(x):
        grad = grad.sum(axis=-1)
    return unbroadcast(grad, np.shape(x)) if grad.ndim == np.ndim(x) else grad


@mutant("broadcasting", "subtract", "un-broadcasts dl/dX but not dl/dY")
def subtract_unbroadcast_x_only(grad, x, y):
    return unbroadcast(grad, np.shape(x)), -grad


# ---- reductions ------------------------------------------------------------------------------------

@mutant("reduction", "sum", "re-inserts reduced axes by matching sizes (the seed's align_tuple)")
def sum_align_by_size(grad, x, axis=None, keepdims=False):
    remaining = list(np.shape(grad))
    aligned = tuple(remaining.pop(remaining.index(n)) if n in remaining else 1 for n in np.shape(x))
    return np.broadcast_to(np.reshape(grad, aligned), np.shape(x)).copy()


@mutant("reduction", "sum", "always expands G at the last axis")
def sum_expands_last_axis(grad, x, axis=None, keepdims=False):
    g = np.asarray(grad)
    while g.ndim < np.ndim(x):
        g = g[..., None]
    return np.broadcast_to(g, np.shape(x)).copy()


@mutant("reduction", "sum", "ignores keepdims: expands G again when the axes were kept")
def sum_ignores_keepdims(grad, x, axis=None, keepdims=False):
    return np.broadcast_to(np.expand_dims(grad, _axes(axis, np.ndim(x))), np.shape(x)).copy()


@mutant("reduction", "mean", "forgets the 1/N")
def mean_missing_one_over_n(grad, x, axis=None, keepdims=False):
    return _sum_grad(grad, x, axis, keepdims)


@mutant("reduction", "mean", "divides by the total size instead of the reduced size")
def mean_divides_by_total_size(grad, x, axis=None, keepdims=False):
    return _sum_grad(grad, x, axis, keepdims) / max(np.size(x), 1)


@mutant("reduction", "mean", "divides by the size of the first reduced axis only")
def mean_divides_by_first_axis(grad, x, axis=None, keepdims=False):
    axes = _axes(axis, np.ndim(x))
    return _sum_grad(grad, x, axis, keepdims) / (np.shape(x)[axes[0]] if axes else 1)


# ---- signs and operands ----------------------------------------------------------------------------

@mutant("sign", "subtract", "dl/dY = +G")
def subtract_sign_error(grad, x, y):
    return _binary(grad, x, y, lambda g, a, b: g, lambda g, a, b: g)


@mutant("sign", "negative", "dl/dX = G")
def negative_sign_error(grad, x):
    return grad


@mutant("sign", "divide", "the quotient rule lost its minus: dl/dY = G X / Y^2")
def divide_sign_error(grad, x, y):
    return _binary(grad, x, y, lambda g, a, b: g / b, lambda g, a, b: g * a / b ** 2)


@mutant("swap", "multiply", "operands swapped: dl/dX = G * X")
def multiply_swapped(grad, x, y):
    return _binary(grad, x, y, lambda g, a, b: g * a, lambda g, a, b: g * b)


@mutant("swap", "power", "dl/dY uses log(Y) instead of log(X)")
def power_log_of_exponent(grad, x, y):
    return _binary(grad, x, y, lambda g, a, b: g * b * a ** (b - 1), lambda g, a, b: g * a ** b * np.log(np.abs(b) + 1e-300))


# ---- elementwise -----------------------------------------------------------------------------------

@mutant("elementwise", "tanh", "1 - tanh(X) instead of 1 - tanh(X)^2")
def tanh_missing_square(grad, x):
    return grad * (1 - np.tanh(x))


@mutant("elementwise", "sqrt", "1 / sqrt(X): the 1/2 forgotten")
def sqrt_missing_half(grad, x):
    return grad / np.sqrt(x)


@mutant("elementwise", "sin", "-cos(X): the sign of cos's derivative")
def sin_wrong_sign(grad, x):
    return -grad * np.cos(x)


@mutant("elementwise", "cos", "sin(X) instead of -sin(X)")
def cos_missing_minus(grad, x):
    return grad * np.sin(x)


@mutant("elementwise", "abs", "relu's derivative (X > 0) instead of sign(X)")
def abs_as_relu(grad, x):
    return grad * (x > 0)


@mutant("elementwise", "sigmoid", "s (1 + s) instead of s (1 - s)")
def sigmoid_wrong_sign(grad, x):
    s = 1 / (1 + np.exp(-x))
    return grad * s * (1 + s)


@mutant("elementwise", "silu", "s(X) only: the product rule's X s(X)(1 - s(X)) forgotten")
def silu_missing_product_rule(grad, x):
    return grad / (1 + np.exp(-x))


@mutant("elementwise", "softplus", "1 / (1 + exp(X)), which is s(-X), for s(X)")
def softplus_sigmoid_of_minus_x(grad, x):
    return grad / (1 + np.exp(x))


@mutant("elementwise", "relu", "lets the gradient through where X < 0")
def relu_passes_negative(grad, x):
    return grad * (x != 0)


@mutant("elementwise", "log", "G * X instead of G / X")
def log_multiplies(grad, x):
    return grad * x


@mutant("elementwise", "exp", "forgets the local derivative: returns G")
def exp_returns_grad(grad, x):
    return grad


@mutant("elementwise", "exp", "ignores G: returns exp(X)")
def exp_ignores_grad(grad, x):
    return np.exp(x)


# ---- softmax family and losses -------------------------------------------------------------------

@mutant("softmax", "softmax", "keeps only the diagonal of the Jacobian: G S (1 - S)")
def softmax_diagonal_only(grad, x, axis=-1):
    s = _softmax(x, axis)
    return grad * s * (1 - s)


@mutant("softmax", "softmax", "sums over axis 0 instead of `axis`")
def softmax_wrong_axis(grad, x, axis=-1):
    s = _softmax(x, axis)
    return s * (grad - (grad * s).sum(axis=0, keepdims=True))


@mutant("softmax", "log_softmax", "forgets the sum of G: G - softmax(X)")
def log_softmax_missing_sum(grad, x, axis=-1):
    return grad - _softmax(x, axis)


@mutant("loss", "mse_loss", "forgets the mean: 2 G (P - T)")
def mse_missing_mean(grad, pred, target):
    return 2 * grad * (pred - target), -2 * grad * (pred - target)


@mutant("loss", "mse_loss", "forgets the 2: G (P - T) / N")
def mse_missing_two(grad, pred, target):
    n = max(np.size(pred), 1)
    return grad * (pred - target) / n, -grad * (pred - target) / n


@mutant("loss", "cross_entropy", "forgets the mean over N")
def cross_entropy_missing_mean(grad, logits, labels):
    onehot = np.eye(logits.shape[1])[labels]
    return grad * (_softmax(logits, 1) - onehot), None


@mutant("loss", "cross_entropy", "uses the logits where softmax(logits) belongs")
def cross_entropy_missing_softmax(grad, logits, labels):
    onehot = np.eye(logits.shape[1])[labels]
    return grad * (logits - onehot) / len(labels), None


# ---- reshape -------------------------------------------------------------------------------------------

@mutant("reshape", "reshape", "reshapes in Fortran order")
def reshape_fortran_order(grad, x, shape=None):
    return np.reshape(grad, np.shape(x), order="F")


@mutant("reshape", "reshape", "transposes before reshaping")
def reshape_via_transpose(grad, x, shape=None):
    return np.reshape(np.transpose(grad), np.shape(x))


# ---- in place ------------------------------------------------------------------------------------------

@mutant("in-place", "multiply", "reuses the upstream gradient's buffer for dl/dX")
def multiply_reuses_grad_buffer(grad, x, y):
    xb, yb = np.broadcast_arrays(x, y)
    gy = unbroadcast(grad * xb, np.shape(y))
    grad *= yb
    return unbroadcast(grad, np.shape(x)), gy


@mutant("in-place", "sum", "zeroes its input after use")
def sum_zeroes_input(grad, x, axis=None, keepdims=False):
    out = _sum_grad(grad, x, axis, keepdims)
    x[...] = 0
    return out


@mutant("in-place", "tanh", "computes 1 - tanh^2 into its input")
def tanh_overwrites_input(grad, x):
    np.tanh(x, out=x)
    x *= -x
    x += 1
    return grad * x

from . import zoo_convolution, zoo_piecewise, zoo_statistics, zoo_indexing, zoo_einsum, zoo_split, zoo_homework  # noqa: E402,F401  (register more families)
