"""11-785's resampling layers, declared by their index formulas (:func:`derive.define`).

HW2P1's conventions: ``X`` is (N, C, W) or (N, C, H, W); ``upsample1d`` with
``upsampling_factor`` k puts ``X[..., i]`` at ``Z[..., k*i]`` and zeros between,
a width of ``k*(W - 1) + 1``; ``downsample1d`` with ``downsampling_factor`` k keeps
``X[..., ::k]``, a width of ``(W - 1) // k + 1``.  The 2-D versions do the same on
both spatial axes.  Their gradients are each other's: ``dl/dX = G[..., ::k]`` for
upsampling, ``G`` put back at every k-th entry of zeros of ``X``'s width for
downsampling (a width the factor does not divide is where that goes wrong).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as hst

from .registry import Case
from .notation import define


def _upsample(X, k, axes):
    shape = list(np.shape(X))
    for a in axes:
        shape[a] = k * (shape[a] - 1) + 1
    Z = np.zeros(shape, dtype=np.asarray(X).dtype)
    Z[(Ellipsis,) + (slice(None, None, k),) * len(axes)] = X
    return Z


def _downsample(X, k, axes):
    return np.asarray(X)[(Ellipsis,) + (slice(None, None, k),) * len(axes)]


def _resampling_case(spatial, param):
    """A factor of 1 to 3 (mostly 2 or 3) and widths 1 to 7 in 1-D, 1 to 5 in 2-D, so that every
    remainder of the width by the factor is drawn (W = 6 with k = 2: a downsampled gradient given
    the width k*(W_out - 1) + 1 is one short)."""
    @hst.composite
    def case(draw):
        k = draw(hst.sampled_from([2, 3, 1]))
        widths = tuple(draw(hst.integers(1, 7 if spatial == 1 else 5)) for _ in range(spatial))
        N, C = draw(hst.integers(1, 2)), draw(hst.integers(1, 2))
        return Case(((N, C) + widths,), {param: k})
    return case


define(
    "Z[n, c, o] = sum(i: bracket(upsampling_factor*i == o) * X[n, c, i])",
    inputs="X[N, C, W]", name="upsample1d", params={"upsampling_factor": 2},
    sizes={"o": "upsampling_factor*(W - 1) + 1"}, cases=_resampling_case(1, "upsampling_factor"),
    forward=lambda X, upsampling_factor=2: _upsample(X, upsampling_factor, (-1,)),
    doc="Z[..., k*i] = X[..., i], zeros between: width k*(W - 1) + 1, k the upsampling_factor (11-785's "
        "Upsample1d); dl/dX = G[..., ::k]")

define(
    "Z[n, c, o] = X[n, c, downsampling_factor*o]",
    inputs="X[N, C, W]", name="downsample1d", params={"downsampling_factor": 2},
    sizes={"o": "(W - 1) // downsampling_factor + 1"}, cases=_resampling_case(1, "downsampling_factor"),
    forward=lambda X, downsampling_factor=2: _downsample(X, downsampling_factor, (-1,)),
    doc="Z = X[..., ::k], k the downsampling_factor: width (W - 1) // k + 1 (11-785's Downsample1d); "
        "dl/dX is G at every k-th entry of zeros of X's width")

define(
    "Z[n, c, y, x] = sum(i, j: bracket(upsampling_factor*i == y) * bracket(upsampling_factor*j == x)"
    " * X[n, c, i, j])",
    inputs="X[N, C, H, W]", name="upsample2d", params={"upsampling_factor": 2},
    sizes={"y": "upsampling_factor*(H - 1) + 1", "x": "upsampling_factor*(W - 1) + 1"},
    cases=_resampling_case(2, "upsampling_factor"),
    forward=lambda X, upsampling_factor=2: _upsample(X, upsampling_factor, (-2, -1)),
    doc="Z[..., k*i, k*j] = X[..., i, j], zeros between (11-785's Upsample2d); dl/dX = G[..., ::k, ::k]")

define(
    "Z[n, c, y, x] = X[n, c, downsampling_factor*y, downsampling_factor*x]",
    inputs="X[N, C, H, W]", name="downsample2d", params={"downsampling_factor": 2},
    sizes={"y": "(H - 1) // downsampling_factor + 1", "x": "(W - 1) // downsampling_factor + 1"},
    cases=_resampling_case(2, "downsampling_factor"),
    forward=lambda X, downsampling_factor=2: _downsample(X, downsampling_factor, (-2, -1)),
    doc="Z = X[..., ::k, ::k] (11-785's Downsample2d); dl/dX is G at every k-th entry of zeros of X's shape")
