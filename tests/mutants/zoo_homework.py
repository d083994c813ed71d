"""Mutants of the course homework ops: needle's scalar ops, MiniTorch's reciprocal and comparisons,
11-785's flatten and resampling, CS231n's recurrent steps, temporal layers and normalizations."""

from __future__ import annotations

import numpy as np

from .zoo import mutant, unbroadcast


# ---- a constant operand (needle) ------------------------------------------------------------------

@mutant("elementwise", "add_scalar", "ignores G: returns ones (the local derivative alone)")
def add_scalar_ignores_grad(grad, x, scalar=1.0):
    return np.ones(np.shape(x))


@mutant("elementwise", "mul_scalar", "forgets the scalar: returns G")
def mul_scalar_forgets_scalar(grad, x, scalar=1.0):
    return grad


@mutant("elementwise", "divide_scalar", "multiplies by the scalar instead of dividing: G * c")
def divide_scalar_multiplies(grad, x, scalar=1.0):
    return grad * scalar


@mutant("elementwise", "divide_scalar", "the divisor's derivative: -G * X / c**2")
def divide_scalar_as_divisor(grad, x, scalar=1.0):
    return -grad * x / scalar ** 2


@mutant("elementwise", "reciprocal", "the derivative's sign forgotten: G / X**2")
def reciprocal_sign_forgotten(grad, x):
    return grad / (x * x)


@mutant("elementwise", "reciprocal", "-G / X: the derivative of log's reciprocal, not of the reciprocal")
def reciprocal_one_power_short(grad, x):
    return -grad / x


# ---- comparisons: a step has gradient 0 ------------------------------------------------------------

def _both(x, y):
    shape = np.broadcast_shapes(np.shape(x), np.shape(y))
    return np.broadcast_to(x, shape), np.broadcast_to(y, shape)


@mutant("comparison", "less", "passes G where X < Y (relu's mask), -G to Y there")
def less_masks_grad(grad, x, y):
    xb, yb = _both(x, y)
    mask = xb < yb
    return unbroadcast(grad * mask, np.shape(x)), unbroadcast(-grad * mask, np.shape(y))


@mutant("comparison", "equal", "passes G to both where X == Y: right only when nothing ties")
def equal_passes_grad_at_ties(grad, x, y):
    xb, yb = _both(x, y)
    mask = xb == yb
    return unbroadcast(grad * mask, np.shape(x)), unbroadcast(grad * mask, np.shape(y))


@mutant("comparison", "greater", "subtract's gradient (G, -G), as if Z were X - Y")
def greater_as_subtract(grad, x, y):
    return unbroadcast(grad, np.shape(x)), unbroadcast(-np.asarray(grad), np.shape(y))


# ---- flatten, identity (11-785) ----------------------------------------------------------------------

@mutant("reshape", "flatten", "dl/dX left as G, (N, D), not reshaped back to X's shape")
def flatten_grad_left_flat(grad, x):
    return np.array(grad)


@mutant("reshape", "flatten", "dl/dX reshaped in Fortran order: right shape, entries moved")
def flatten_grad_fortran_order(grad, x):
    return np.reshape(grad, np.shape(x), order="F")


@mutant("elementwise", "identity", "ignores G: returns ones (the local derivative alone)")
def identity_ignores_grad(grad, x):
    return np.ones(np.shape(x))


# ---- resampling (11-785 HW2P1) ----------------------------------------------------------------------

@mutant("resampling", "downsample1d", "dl/dX of width k*(W_out - 1) + 1, not X's: short when k does not divide W - 1")
def downsample1d_width_from_output(grad, x, downsampling_factor=2):
    k, g = downsampling_factor, np.asarray(grad)
    out = np.zeros(g.shape[:2] + (k * (g.shape[2] - 1) + 1,))
    out[..., ::k] = g
    return out


@mutant("resampling", "downsample1d", "dl/dX of width k*W_out: one too wide unless k divides W")
def downsample1d_width_k_times_output(grad, x, downsampling_factor=2):
    k, g = downsampling_factor, np.asarray(grad)
    out = np.zeros(g.shape[:2] + (k * g.shape[2],))
    out[..., ::k] = g
    return out


@mutant("resampling", "upsample1d", "takes G[..., ::k - 1], the wrong stride: right only for k = 2's first entries")
def upsample1d_wrong_stride(grad, x, upsampling_factor=2):
    k = upsampling_factor
    return np.asarray(grad)[..., ::max(k - 1, 1)][..., :np.shape(x)[-1]]


@mutant("resampling", "upsample1d", "sums each window of k entries of G: the zeros between get the gradient too")
def upsample1d_sums_windows(grad, x, upsampling_factor=2):
    k, g = upsampling_factor, np.asarray(grad)
    padded = np.concatenate([g, np.zeros(g.shape[:2] + (k - 1,))], axis=-1)
    return padded.reshape(g.shape[:2] + (-1, k)).sum(axis=-1)


@mutant("resampling", "downsample2d", "dl/dX of shape k*(out - 1) + 1 on each axis, not X's")
def downsample2d_shape_from_output(grad, x, downsampling_factor=2):
    k, g = downsampling_factor, np.asarray(grad)
    out = np.zeros(g.shape[:2] + tuple(k * (n - 1) + 1 for n in g.shape[2:]))
    out[..., ::k, ::k] = g
    return out


@mutant("resampling", "upsample2d", "strides only the last axis: G[..., ::k] with every row kept, then cropped")
def upsample2d_one_axis(grad, x, upsampling_factor=2):
    k = upsampling_factor
    return np.asarray(grad)[..., :np.shape(x)[-2], ::k]


# ---- recurrent steps (CS231n) -----------------------------------------------------------------------

def _rnn_grads(da, x, prev_h, Wx, Wh):
    return da @ Wx.T, da @ Wh.T, x.T @ da, prev_h.T @ da, da.sum(axis=0)


@mutant("recurrent", "rnn_step", "forgets the tanh's factor: da = G, not G (1 - next_h**2)")
def rnn_step_forgets_tanh(grad, x, prev_h, Wx, Wh, b):
    return _rnn_grads(np.asarray(grad), x, prev_h, Wx, Wh)


@mutant("recurrent", "rnn_step", "transposes on the wrong side: dWx = da.T @ x, dWh = da.T @ prev_h")
def rnn_step_transposes_swapped(grad, x, prev_h, Wx, Wh, b):
    da = grad * (1 - np.tanh(x @ Wx + prev_h @ Wh + b) ** 2)
    dx, dprev_h, _, _, db = _rnn_grads(da, x, prev_h, Wx, Wh)
    return dx, dprev_h, (da.T @ x).reshape(np.shape(Wx)), (da.T @ prev_h).reshape(np.shape(Wh)), db


@mutant("recurrent", "rnn_step", "db not summed over the batch: db = da[0]")
def rnn_step_db_not_summed(grad, x, prev_h, Wx, Wh, b):
    da = grad * (1 - np.tanh(x @ Wx + prev_h @ Wh + b) ** 2)
    dx, dprev_h, dWx, dWh, _ = _rnn_grads(da, x, prev_h, Wx, Wh)
    return dx, dprev_h, dWx, dWh, da[0]


def _lstm_parts(x, prev_h, prev_c, Wx, Wh, b):
    H = np.shape(prev_h)[1]
    a = x @ Wx + prev_h @ Wh + b
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    return i, f, o, g, f * prev_c + i * g


def _lstm_grads(dc, dnext_h, x, prev_h, prev_c, Wx, Wh, parts, gate=lambda s: s * (1 - s)):
    i, f, o, g, next_c = parts
    da = np.concatenate([dc * g * gate(i), dc * prev_c * gate(f), dnext_h * np.tanh(next_c) * gate(o),
                         dc * i * (1 - g ** 2)], axis=1)
    return da @ Wx.T, da @ Wh.T, dc * f, x.T @ da, prev_h.T @ da, da.sum(axis=0)


@mutant("recurrent", "lstm_step", "dnext_c not added: the cell's gradient comes from next_h alone")
def lstm_step_drops_dnext_c(grad, x, prev_h, prev_c, Wx, Wh, b):
    dnext_h, dnext_c = (np.asarray(g) for g in grad)
    parts = _lstm_parts(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_h * parts[2] * (1 - np.tanh(parts[4]) ** 2)
    return _lstm_grads(dc, dnext_h, x, prev_h, prev_c, Wx, Wh, parts)


@mutant("recurrent", "lstm_step", "a gate's derivative taken as s, not s (1 - s)")
def lstm_step_gate_derivative(grad, x, prev_h, prev_c, Wx, Wh, b):
    dnext_h, dnext_c = (np.asarray(g) for g in grad)
    parts = _lstm_parts(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_c + dnext_h * parts[2] * (1 - np.tanh(parts[4]) ** 2)
    return _lstm_grads(dc, dnext_h, x, prev_h, prev_c, Wx, Wh, parts, gate=lambda s: s)


@mutant("recurrent", "lstm_step", "tanh(next_c) differentiated as tanh(prev_c)")
def lstm_step_tanh_of_prev_c(grad, x, prev_h, prev_c, Wx, Wh, b):
    dnext_h, dnext_c = (np.asarray(g) for g in grad)
    parts = _lstm_parts(x, prev_h, prev_c, Wx, Wh, b)
    dc = dnext_c + dnext_h * parts[2] * (1 - np.tanh(prev_c) ** 2)
    return _lstm_grads(dc, dnext_h, x, prev_h, prev_c, Wx, Wh, parts)


@mutant("recurrent", "temporal_affine", "db summed over the batch only: shape (T, M)")
def temporal_affine_db_per_step(grad, x, w, b):
    grad = np.asarray(grad)
    return grad @ w.T, np.einsum("ntd,ntm->dm", x, grad), grad.sum(axis=0)


@mutant("recurrent", "temporal_affine", "dw from the first step only")
def temporal_affine_dw_first_step(grad, x, w, b):
    grad = np.asarray(grad)
    return grad @ w.T, x[:, 0].T @ grad[:, 0], grad.sum(axis=(0, 1))


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _onehot(y, V):
    return np.eye(V)[np.asarray(y, dtype=np.intp)]


@mutant("recurrent", "temporal_softmax_loss", "dx not masked (the loss is)")
def temporal_softmax_loss_unmasked(grad, x, y, mask):
    return (grad * (_softmax(x) - _onehot(y, x.shape[2])) / x.shape[0],)


@mutant("recurrent", "temporal_softmax_loss", "divides by N * T, not N")
def temporal_softmax_loss_mean_over_steps(grad, x, y, mask):
    return (grad * (_softmax(x) - _onehot(y, x.shape[2])) * np.asarray(mask)[..., None] / (x.shape[0] * x.shape[1]),)


# ---- (N, C, H, W) normalizations (CS231n's spatial batch norm and group norm) -------------------------

def _grouped_norm_grad(grad, x, weight, groups, eps):
    """dX of group norm with ``groups`` (a per-channel batch norm when groups is None)."""
    axes = (0, 2, 3) if groups is None else 2
    xs = x if groups is None else x.reshape(x.shape[0], groups, -1)
    g = (grad * weight[None, :, None, None])
    g = g if groups is None else g.reshape(xs.shape)
    mu = xs.mean(axis=axes, keepdims=True)
    rstd = 1 / np.sqrt(((xs - mu) ** 2).mean(axis=axes, keepdims=True) + eps)
    xhat = (xs - mu) * rstd
    dx = rstd * (g - g.mean(axis=axes, keepdims=True) - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    return dx.reshape(x.shape), xhat.reshape(x.shape)


@mutant("statistics", "batch_norm2d", "dgamma and dbeta keep the reduced axes: shape (1, C, 1, 1)")
def batch_norm2d_keepdims(grad, x, weight, bias, eps=1e-5):
    dx, xhat = _grouped_norm_grad(grad, x, weight, None, eps)
    return dx, (grad * xhat).sum(axis=(0, 2, 3), keepdims=True), grad.sum(axis=(0, 2, 3), keepdims=True)


@mutant("statistics", "batch_norm2d", "statistics over the batch only, as if each pixel were a feature")
def batch_norm2d_over_batch_only(grad, x, weight, bias, eps=1e-5):
    g = grad * weight[None, :, None, None]
    mu = x.mean(axis=0, keepdims=True)
    rstd = 1 / np.sqrt(((x - mu) ** 2).mean(axis=0, keepdims=True) + eps)
    xhat = (x - mu) * rstd
    dx = rstd * (g - g.mean(axis=0, keepdims=True) - xhat * (g * xhat).mean(axis=0, keepdims=True))
    return dx, (grad * _grouped_norm_grad(grad, x, weight, None, eps)[1]).sum(axis=(0, 2, 3)), grad.sum(axis=(0, 2, 3))


@mutant("statistics", "group_norm", "normalizes over all channels (layer norm), ignoring num_groups")
def group_norm_one_group(grad, x, weight, bias, num_groups=1, eps=1e-5):
    dx, xhat = _grouped_norm_grad(grad, x, weight, 1, eps)
    return dx, (grad * _grouped_norm_grad(grad, x, weight, num_groups, eps)[1]).sum(axis=(0, 2, 3)), \
        grad.sum(axis=(0, 2, 3))


@mutant("statistics", "group_norm", "treats the group's variance as a constant")
def group_norm_constant_variance(grad, x, weight, bias, num_groups=1, eps=1e-5):
    xs = x.reshape(x.shape[0], num_groups, -1)
    g = (grad * weight[None, :, None, None]).reshape(xs.shape)
    mu = xs.mean(axis=2, keepdims=True)
    rstd = 1 / np.sqrt(((xs - mu) ** 2).mean(axis=2, keepdims=True) + eps)
    dx = (rstd * (g - g.mean(axis=2, keepdims=True))).reshape(x.shape)
    xhat = ((xs - mu) * rstd).reshape(x.shape)
    return dx, (grad * xhat).sum(axis=(0, 2, 3)), grad.sum(axis=(0, 2, 3))
