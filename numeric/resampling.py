"""11-785's resampling layers: forwards and hand-written backward functions.

``x`` is (N, C, W) or (N, C, H, W).  Upsampling by ``k`` puts ``x[..., i]`` at
``z[..., k*i]`` with zeros between (width ``k*(W - 1) + 1``); downsampling by
``k`` keeps ``x[..., ::k]`` (width ``(W - 1) // k + 1``).  Each one's backward is
the other's forward, except that downsampling's gradient takes ``x``'s own width,
which ``k*(W_out - 1) + 1`` is not when ``k`` does not divide ``W - 1``.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["upsample_forward", "upsample_grad_x", "downsample_forward", "downsample_grad_x",
           "upsample1d_forward", "upsample1d_grad_x", "downsample1d_forward", "downsample1d_grad_x",
           "upsample2d_forward", "upsample2d_grad_x", "downsample2d_forward", "downsample2d_grad_x"]


def _every(k, spatial):
    return (Ellipsis,) + (slice(None, None, int(k)),) * spatial


def upsample_forward(x, factor, spatial):
    """``z[..., k*i] = x[..., i]`` on the last ``spatial`` axes, zeros between."""
    x = np.asarray(x)
    shape = x.shape[:-spatial] + tuple(factor * (n - 1) + 1 for n in x.shape[-spatial:])
    z = np.zeros(shape, dtype=x.dtype)
    z[_every(factor, spatial)] = x
    return z


def upsample_grad_x(grad, x, factor, spatial):
    """``Z[..., k*i] = X[..., i]``: ``dl/dX = G[..., ::k]`` (the zeros between take no gradient)."""
    return np.array(np.asarray(grad)[_every(factor, spatial)])


def downsample_forward(x, factor, spatial):
    """``z = x[..., ::k]`` on the last ``spatial`` axes."""
    return np.array(np.asarray(x)[_every(factor, spatial)])


def downsample_grad_x(grad, x, factor, spatial):
    """``Z = X[..., ::k]``: ``dl/dX`` is ``G`` at every k-th entry of zeros of ``X``'s shape."""
    out = np.zeros(np.shape(x), dtype=np.result_type(np.asarray(grad).dtype, 0.0))
    out[_every(factor, spatial)] = grad
    return out


# ---- the layers, with 11-785's parameter names ------------------------------------------------------

def upsample1d_forward(x, upsampling_factor=2):
    """(N, C, W) -> (N, C, k*(W - 1) + 1): ``z[..., k*i] = x[..., i]``, zeros between."""
    return upsample_forward(x, upsampling_factor, 1)


def upsample1d_grad_x(grad, x, upsampling_factor=2):
    """``Z[..., k*i] = X[..., i]``: ``dl/dX = G[..., ::k]``."""
    return upsample_grad_x(grad, x, upsampling_factor, 1)


def downsample1d_forward(x, downsampling_factor=2):
    """(N, C, W) -> (N, C, (W - 1) // k + 1): ``z = x[..., ::k]``."""
    return downsample_forward(x, downsampling_factor, 1)


def downsample1d_grad_x(grad, x, downsampling_factor=2):
    """``Z = X[..., ::k]``: ``dl/dX = zeros(X.shape)`` with ``[..., ::k] = G``."""
    return downsample_grad_x(grad, x, downsampling_factor, 1)


def upsample2d_forward(x, upsampling_factor=2):
    """(N, C, H, W) -> (N, C, k*(H - 1) + 1, k*(W - 1) + 1): ``z[..., k*i, k*j] = x[..., i, j]``."""
    return upsample_forward(x, upsampling_factor, 2)


def upsample2d_grad_x(grad, x, upsampling_factor=2):
    """``Z[..., k*i, k*j] = X[..., i, j]``: ``dl/dX = G[..., ::k, ::k]``."""
    return upsample_grad_x(grad, x, upsampling_factor, 2)


def downsample2d_forward(x, downsampling_factor=2):
    """(N, C, H, W) -> (N, C, (H - 1) // k + 1, (W - 1) // k + 1): ``z = x[..., ::k, ::k]``."""
    return downsample_forward(x, downsampling_factor, 2)


def downsample2d_grad_x(grad, x, downsampling_factor=2):
    """``Z = X[..., ::k, ::k]``: ``dl/dX = zeros(X.shape)`` with ``[..., ::k, ::k] = G``."""
    return downsample_grad_x(grad, x, downsampling_factor, 2)
