"""Ops whose output is a list of arrays: split and unstack, forwards and hand-written backward functions.

The backward of such an op gets one upstream gradient per piece,
``G_0, G_1, ...``, and puts each back where its piece came from: for split
``dl/dX = concatenate([G_0, G_1, ...], axis)``, for unstack
``dl/dX = stack([G_0, G_1, ...], axis)``.  A piece whose gradient is ``None``
(an output nobody used) contributes zeros.

In a graph each piece is its own :class:`numeric.Tensor` with one edge to ``X``
(``split_piece_grad_x``): the pieces' contributions add up in ``X``'s gradient.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["split_forward", "split_bounds", "split_piece_grad_x", "split_grad_x",
           "unstack_forward", "unstack_piece_grad_x", "unstack_grad_x"]


def split_forward(x, indices_or_sections=2, axis=0):
    """``np.split(x, indices_or_sections, axis)``: a list of pieces along ``axis``."""
    how = indices_or_sections if isinstance(indices_or_sections, int) else list(indices_or_sections)
    return np.split(np.asarray(x), how, axis=axis)


def split_bounds(n, indices_or_sections=2):
    """``[(start, stop), ...]``: where each piece of an axis of length ``n`` lies."""
    pieces = split_forward(np.arange(n), indices_or_sections, 0)
    bounds, start = [], 0
    for p in pieces:
        bounds.append((start, start + len(p)))
        start += len(p)
    return bounds


def _zeros_like(x, grad):
    return np.zeros(np.shape(x), dtype=np.result_type(np.asarray(grad).dtype, 0.0))


def split_piece_grad_x(grad, x, start, stop, axis=0):
    """One piece ``Z_m = X[..., start:stop, ...]``: ``dl/dX`` is ``G_m`` in that place, 0 elsewhere."""
    out = _zeros_like(x, grad)
    index = [slice(None)] * np.ndim(x)
    index[axis] = slice(start, stop)
    out[tuple(index)] = grad
    return out


def split_grad_x(grads, x, indices_or_sections=2, axis=0):
    """``[Z_0, Z_1, ...] = split(X, indices_or_sections, axis)``:
    ``dl/dX = concatenate([G_0, G_1, ...], axis)`` (zeros for a piece whose G is None)."""
    pieces = split_forward(np.zeros(np.shape(x)), indices_or_sections, axis)
    if len(grads) != len(pieces):
        raise ValueError(f"split: {len(grads)} gradient(s) for {len(pieces)} pieces")
    return np.concatenate([np.zeros(p.shape) if g is None else np.asarray(g) for g, p in zip(grads, pieces)],
                          axis=axis)


def unstack_forward(x, axis=0):
    """The slices of ``x`` along ``axis``, as a list (``np.unstack``, ``torch.unbind``)."""
    x = np.asarray(x)
    return [np.take(x, k, axis=axis) for k in range(x.shape[axis])]


def unstack_piece_grad_x(grad, x, index, axis=0):
    """One slice ``Z_m = take(X, m, axis)``: ``dl/dX`` is ``G_m`` at position ``m`` of ``axis``, 0 elsewhere."""
    out = _zeros_like(x, grad)
    where = [slice(None)] * np.ndim(x)
    where[axis] = index
    out[tuple(where)] = grad
    return out


def unstack_grad_x(grads, x, axis=0):
    """``[Z_0, Z_1, ...] = unstack(X, axis)``: ``dl/dX = stack([G_0, G_1, ...], axis)`` (zeros for a None)."""
    shape = np.delete(np.shape(x), axis % np.ndim(x))
    if len(grads) != np.shape(x)[axis]:
        raise ValueError(f"unstack: {len(grads)} gradient(s) for {np.shape(x)[axis]} slices")
    return np.stack([np.zeros(shape) if g is None else np.asarray(g) for g in grads], axis=axis)
