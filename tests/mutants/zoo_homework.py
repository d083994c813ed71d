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
