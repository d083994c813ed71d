"""Convolution, average and max pooling: forward (im2col) and hand-written backward functions.

Torch's semantics: cross-correlation, ``x`` (N, C, H, W), weight (F, C, K, K),
one ``stride``, ``padding`` and ``dilation`` for both spatial axes, zero
padding.  The 1-D versions run the 2-D code on a height of 1.

The columns ``cols[n, c, u, v, y, x] = Xp[n, c, s*y + d*u, s*x + d*v]`` of the
padded input ``Xp`` turn the convolution into one contraction,
``Z = einsum('ncuvyx,fcuv->nfyx', cols, W) + b``.  Its backward:

- ``dl/dW = einsum('nfyx,ncuvyx->fcuv', G, cols)``;
- ``dl/db = G.sum(axis=(0, 2, 3))``;
- ``dl/dX``: ``dcols = einsum('nfyx,fcuv->ncuvyx', G, W)`` added back into the
  padded input at every window position (windows overlap, so it accumulates),
  then cropped to the unpadded input: the correlation of ``G`` with the
  flipped kernel.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["conv2d_forward", "conv2d_grad_x", "conv2d_grad_weight", "conv2d_grad_bias",
           "conv1d_forward", "conv1d_grad_x", "conv1d_grad_weight", "conv1d_grad_bias",
           "avg_pool2d_forward", "avg_pool2d_grad_x", "max_pool2d_forward", "max_pool2d_grad_x",
           "conv_transpose1d_forward", "conv_transpose1d_grad_x", "conv_transpose1d_grad_weight",
           "conv_transpose1d_grad_bias"]


def _pair(v):
    return (int(v), int(v)) if np.ndim(v) == 0 else tuple(int(a) for a in v)


def _out_size(size, k, stride, padding, dilation):
    out = (size + 2 * padding - dilation * (k - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(f"convolution: input size {size} with padding {padding} is smaller than the "
                         f"kernel's reach {dilation * (k - 1) + 1}")
    return out


def _windows(shape, k, stride, padding, dilation):
    """For each kernel offset (u, v), the slices of the padded input it reads."""
    (kh, kw), (sh, sw), (ph, pw), (dh, dw) = k, stride, padding, dilation
    oh = _out_size(shape[2], kh, sh, ph, dh)
    ow = _out_size(shape[3], kw, sw, pw, dw)
    for u in range(kh):
        for v in range(kw):
            yield u, v, (slice(u * dh, u * dh + sh * (oh - 1) + 1, sh), slice(v * dw, v * dw + sw * (ow - 1) + 1, sw))


def _im2col(x, k, stride, padding, dilation, fill=0):
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    cols = None
    for u, v, (rows, columns) in _windows(x.shape, k, stride, padding, dilation):
        patch = xp[:, :, rows, columns]
        if cols is None:
            cols = np.empty(x.shape[:2] + tuple(k) + patch.shape[2:], dtype=np.result_type(x, 0.0))
        cols[:, :, u, v] = patch
    return cols


def _col2im(dcols, shape, k, stride, padding, dilation):
    ph, pw = padding
    dxp = np.zeros(shape[:2] + (shape[2] + 2 * ph, shape[3] + 2 * pw), dtype=dcols.dtype)
    for u, v, (rows, columns) in _windows(shape, k, stride, padding, dilation):
        dxp[:, :, rows, columns] += dcols[:, :, u, v]  # overlapping windows accumulate
    return dxp[:, :, ph:ph + shape[2], pw:pw + shape[3]]


def _params(weight, stride, padding, dilation):
    return dict(k=weight.shape[2:], stride=_pair(stride), padding=_pair(padding), dilation=_pair(dilation))


def _grouped(x, weight, groups):
    """Check the shapes; ``groups`` and the channels (``Cg``) and filters (``Fg``) per group."""
    g = int(groups)
    F, Cg = weight.shape[:2]
    if g < 1 or x.shape[1] != Cg * g or F % g:
        raise ValueError(f"convolution: {x.shape[1]} channels and {F} filters do not split into {g} groups "
                         f"of {Cg} channels")
    return g, Cg, F // g


def conv2d_forward(x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``Z[n, f, y, x] = b[f] + sum_{c,u,v} W[f, c, u, v] Xp[n, g(f)*Cg + c, s*y + d*u, s*x + d*v]``,
    ``g(f) = f // (F // groups)``: each filter reads the channels of its group."""
    x, weight, bias = np.asarray(x), np.asarray(weight), np.asarray(bias)
    if x.ndim != 4 or weight.ndim != 4 or bias.shape != weight.shape[:1]:
        raise ValueError(f"conv2d: expected x (N, C, H, W), weight (F, C // groups, K, K), bias (F,), "
                         f"got {x.shape}, {weight.shape}, {bias.shape}")
    g, Cg, Fg = _grouped(x, weight, groups)
    cols = _im2col(x, **_params(weight, stride, padding, dilation))
    cols = cols.reshape((x.shape[0], g, Cg) + cols.shape[2:])
    out = np.einsum("ngcuvyx,gfcuv->ngfyx", cols, weight.reshape((g, Fg) + weight.shape[1:]), optimize=True)
    return out.reshape((x.shape[0], g * Fg) + out.shape[3:]) + bias[:, None, None]


def conv2d_grad_x(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``dl/dX``: ``einsum('ngfyx,gfcuv->ngcuvyx', G, W)`` per group, accumulated into the padded input,
    cropped."""
    weight, grad = np.asarray(weight), np.asarray(grad)
    g, Cg, Fg = _grouped(np.asarray(x), weight, groups)
    p = _params(weight, stride, padding, dilation)
    dcols = np.einsum("ngfyx,gfcuv->ngcuvyx", grad.reshape((grad.shape[0], g, Fg) + grad.shape[2:]),
                      weight.reshape((g, Fg) + weight.shape[1:]), optimize=True)
    return _col2im(dcols.reshape((grad.shape[0], g * Cg) + dcols.shape[3:]), np.shape(x), **p)


def conv2d_grad_weight(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``dl/dW = einsum('ngfyx,ngcuvyx->gfcuv', G, cols)`` per group."""
    x, grad = np.asarray(x), np.asarray(grad)
    g, Cg, Fg = _grouped(x, np.asarray(weight), groups)
    cols = _im2col(x, **_params(np.asarray(weight), stride, padding, dilation))
    dw = np.einsum("ngfyx,ngcuvyx->gfcuv", grad.reshape((grad.shape[0], g, Fg) + grad.shape[2:]),
                   cols.reshape((x.shape[0], g, Cg) + cols.shape[2:]), optimize=True)
    return dw.reshape(np.shape(weight))


def conv2d_grad_bias(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``dl/db = G.sum(axis=(0, 2, 3))``."""
    return np.asarray(grad).sum(axis=(0, 2, 3))


def _as_2d(x, weight, stride, padding, dilation):
    """The 1-D convolution as a 2-D one of height 1: (N, C, 1, L), (F, C, 1, K)."""
    return (np.asarray(x)[:, :, None, :], np.asarray(weight)[:, :, None, :],
            dict(stride=(1, int(stride)), padding=(0, int(padding)), dilation=(1, int(dilation))))


def conv1d_forward(x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``Z[n, f, o] = b[f] + sum_{c,j} W[f, c, j] Xp[n, g(f)*Cg + c, s*o + d*j]``: conv2d on a height of 1."""
    x, weight, bias = np.asarray(x), np.asarray(weight), np.asarray(bias)
    if x.ndim != 3 or weight.ndim != 3 or bias.shape != weight.shape[:1]:
        raise ValueError(f"conv1d: expected x (N, C, L), weight (F, C // groups, K), bias (F,), "
                         f"got {x.shape}, {weight.shape}, {bias.shape}")
    x2, w2, p = _as_2d(x, weight, stride, padding, dilation)
    return conv2d_forward(x2, w2, bias, groups=groups, **p)[:, :, 0, :]


def conv1d_grad_x(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``dl/dX``: the 2-D backward on a height of 1."""
    x2, w2, p = _as_2d(x, weight, stride, padding, dilation)
    return conv2d_grad_x(np.asarray(grad)[:, :, None, :], x2, w2, bias, groups=groups, **p)[:, :, 0, :]


def conv1d_grad_weight(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``dl/dW``: the 2-D backward on a height of 1."""
    x2, w2, p = _as_2d(x, weight, stride, padding, dilation)
    return conv2d_grad_weight(np.asarray(grad)[:, :, None, :], x2, w2, bias, groups=groups, **p)[:, :, 0, :]


def conv1d_grad_bias(grad, x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    """``dl/db = G.sum(axis=(0, 2))``."""
    return np.asarray(grad).sum(axis=(0, 2))


def _pool_params(kernel, stride, padding):
    return dict(k=_pair(kernel), stride=_pair(stride), padding=_pair(padding), dilation=(1, 1))


def avg_pool2d_forward(x, kernel=2, stride=2, padding=0):
    """``Z[n, c, y, x] = sum_{u,v} Xp[n, c, s*y + u, s*x + v] / K**2`` (padding counted)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"avg_pool2d: expected x (N, C, H, W), got {x.shape}")
    if 2 * int(padding) > int(kernel):
        raise ValueError(f"avg_pool2d: padding {padding} is more than half the kernel {kernel}")
    cols = _im2col(x, **_pool_params(kernel, stride, padding))
    return cols.mean(axis=(2, 3))


def avg_pool2d_grad_x(grad, x, kernel=2, stride=2, padding=0):
    """``dl/dX``: ``G / K**2`` spread over every window, accumulated where windows overlap, cropped."""
    p = _pool_params(kernel, stride, padding)
    grad = np.asarray(grad)
    k = p["k"]
    dcols = np.broadcast_to((grad / (k[0] * k[1]))[:, :, None, None], grad.shape[:2] + k + grad.shape[2:])
    return _col2im(dcols, np.shape(x), **p)


def _max_pool_cols(x, kernel, stride, padding):
    """The windows of ``x`` padded with ``-inf`` (torch's: the padding never wins a max)."""
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"max_pool2d: expected x (N, C, H, W), got {x.shape}")
    if 2 * int(padding) > int(kernel):
        raise ValueError(f"max_pool2d: padding {padding} is more than half the kernel {kernel}")
    p = _pool_params(kernel, stride, padding)
    return _im2col(x, fill=-np.inf, **p), p


def max_pool2d_forward(x, kernel=2, stride=2, padding=0):
    """``Z[n, c, y, x] = max_{u,v} X[n, c, s*y + u - p, s*x + v - p]`` over the window's entries inside
    ``X`` (padding with ``-inf``, torch's semantics)."""
    return _max_pool_cols(x, kernel, stride, padding)[0].max(axis=(2, 3))


def max_pool2d_grad_x(grad, x, kernel=2, stride=2, padding=0):
    """``dl/dX``: each window's ``G`` to its largest entry (shared evenly between tied entries),
    accumulated where windows overlap (one entry can be the largest of several windows); the
    ``-inf`` padding is never the largest, and is cropped."""
    cols, p = _max_pool_cols(x, kernel, stride, padding)
    top = cols == cols.max(axis=(2, 3), keepdims=True)
    dcols = top * (np.asarray(grad)[:, :, None, None] / top.sum(axis=(2, 3), keepdims=True))
    return _col2im(dcols, np.shape(x), **p)


# ---- conv_transpose1d: the adjoint of conv1d -------------------------------------------------------

def _transpose_out(x, weight, stride, padding, dilation):
    """The output length ``(L - 1) s - 2 p + d (K - 1) + 1`` (torch's, no output_padding)."""
    out = (x.shape[2] - 1) * int(stride) - 2 * int(padding) + int(dilation) * (weight.shape[2] - 1) + 1
    if out < 1:
        raise ValueError(f"conv_transpose1d: padding {padding} crops the whole output (length {out})")
    return out


def conv_transpose1d_forward(x, weight, bias, stride=1, padding=0, dilation=1):
    """``Z[n, f, s*i + d*j - p] += X[n, c, i] W[c, f, j]``, plus ``b[f]``: every input entry spreads
    over a window of the output (the conv1d backward of ``X``, with ``X`` as its ``G``)."""
    x, weight, bias = np.asarray(x), np.asarray(weight), np.asarray(bias)
    if x.ndim != 3 or weight.ndim != 3 or weight.shape[0] != x.shape[1] or bias.shape != weight.shape[1:2]:
        raise ValueError(f"conv_transpose1d: expected x (N, C, L), weight (C, F, K), bias (F,), "
                         f"got {x.shape}, {weight.shape}, {bias.shape}")
    x2, w2, p = _as_2d(x, weight, stride, padding, dilation)
    out = (x.shape[0], weight.shape[1], 1, _transpose_out(x, weight, stride, padding, dilation))
    spread = np.einsum("ncyx,cfuv->nfuvyx", x2, w2, optimize=True)
    return (_col2im(spread, out, k=w2.shape[2:], **p) + bias[:, None, None])[:, :, 0, :]


def _g_columns(grad, x, weight, stride, padding, dilation):
    x2, w2, p = _as_2d(x, weight, stride, padding, dilation)
    return x2, w2, _im2col(np.asarray(grad)[:, :, None, :], k=w2.shape[2:], **p)


def conv_transpose1d_grad_x(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    """``dl/dX[n, c, i] = sum_{f,j} Gp[n, f, s*i + d*j] W[c, f, j]``: conv1d of ``G`` (padded by p) with ``W``."""
    x2, w2, cols = _g_columns(grad, x, weight, stride, padding, dilation)
    return np.einsum("nfuvyx,cfuv->ncyx", cols, w2, optimize=True)[:, :, 0, :]


def conv_transpose1d_grad_weight(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    """``dl/dW[c, f, j] = sum_{n,i} X[n, c, i] Gp[n, f, s*i + d*j]``."""
    x2, w2, cols = _g_columns(grad, x, weight, stride, padding, dilation)
    return np.einsum("ncyx,nfuvyx->cfuv", x2, cols, optimize=True)[:, :, 0, :]


def conv_transpose1d_grad_bias(grad, x, weight, bias, stride=1, padding=0, dilation=1):
    """``dl/db = G.sum(axis=(0, 2))``."""
    return np.asarray(grad).sum(axis=(0, 2))
