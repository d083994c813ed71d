"""Selecting, reordering and joining entries: forwards and hand-written backward functions.

``getitem`` takes one basic slice on one axis (Python's semantics, negative
steps too); its gradient scatters ``G`` back into zeros.  A slice never
repeats an entry, so assignment is enough here; integer-array indexing with
repeats would need ``np.add.at``.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

__all__ = ["getitem_forward", "getitem_grad_x", "flip_grad_x", "expand_dims_grad_x", "squeeze_grad_x", "pad_grad_x",
           "embedding_forward", "embedding_grad_weight", "take_along_axis_forward", "take_along_axis_grad_x",
           "take_forward", "take_grad_x", "masked_select_forward", "masked_select_grad_x",
           "concatenate_grad_x", "concatenate_grad_y", "stack_grad_x", "stack_grad_y"]


def _index(ndim, axis, start, stop, step):
    index = [slice(None)] * ndim
    index[axis] = slice(start, stop, step)
    return tuple(index)


def getitem_forward(x, axis=0, start=None, stop=None, step=None):
    """``x[..., start:stop:step, ...]`` on ``axis``."""
    return x[_index(np.ndim(x), axis, start, stop, step)]


def getitem_grad_x(grad, x, axis=0, start=None, stop=None, step=None):
    """``Z = X[s]``: ``dl/dX = zeros_like(X)`` with ``dl/dX[s] = G`` (the slice's entries are distinct)."""
    out = np.zeros(np.shape(x), dtype=np.result_type(grad, 0.0))
    out[_index(np.ndim(x), axis, start, stop, step)] = grad
    return out


def flip_grad_x(grad, x, axis=0):
    """``Z = flip(X, axis)``: ``dl/dX = flip(G, axis)`` (a flip is its own inverse)."""
    return np.flip(grad, axis)


def expand_dims_grad_x(grad, x, axis=0):
    """``Z = expand_dims(X, axis)``: ``dl/dX = G.reshape(X.shape)``."""
    return np.reshape(grad, np.shape(x))


def squeeze_grad_x(grad, x, axis=0):
    """``Z = squeeze(X, axis)``: ``dl/dX = expand_dims(G, axis)``."""
    return np.expand_dims(grad, axis)


def concatenate_grad_x(grad, x, y, axis=0):
    """``Z = concatenate([X, Y], axis)``: ``dl/dX = G[..., :nx, ...]``."""
    return np.split(grad, [np.shape(x)[axis]], axis=axis)[0]


def concatenate_grad_y(grad, x, y, axis=0):
    """``Z = concatenate([X, Y], axis)``: ``dl/dY = G[..., nx:, ...]``."""
    return np.split(grad, [np.shape(x)[axis]], axis=axis)[1]


def stack_grad_x(grad, x, y, axis=0):
    """``Z = stack([X, Y], axis)``: ``dl/dX = take(G, 0, axis)``."""
    return np.take(grad, 0, axis=axis)


def stack_grad_y(grad, x, y, axis=0):
    """``Z = stack([X, Y], axis)``: ``dl/dY = take(G, 1, axis)``."""
    return np.take(grad, 1, axis=axis)


def embedding_forward(weight, indices):
    """``weight[indices]``: the rows of ``weight`` (V, D) picked by integer ``indices`` (N,)."""
    return weight[np.asarray(indices, dtype=np.intp)]


def embedding_grad_weight(grad, weight, indices):
    """``Z = W[idx]``: ``dl/dW[v] = sum_{n: idx[n] = v} G[n]``, a scatter-add (``np.add.at``).

    ``dW[idx] = G`` would keep only the last of repeated indices: assignment does not accumulate.
    """
    out = np.zeros(np.shape(weight), dtype=np.result_type(grad, 0.0))
    np.add.at(out, np.asarray(indices, dtype=np.intp), grad)
    return out


def take_along_axis_forward(x, indices):
    """``np.take_along_axis(x, indices, axis=-1)``: ``Z[..., m] = X[..., indices[..., m]]``."""
    return np.take_along_axis(np.asarray(x), np.asarray(indices, dtype=np.intp), axis=-1)


def take_along_axis_grad_x(grad, x, indices):
    """``dl/dX[..., i] = sum_{m: indices[..., m] = i} G[..., m]``, a scatter-add along the last axis."""
    idx = np.asarray(indices, dtype=np.intp)
    out = np.zeros(np.shape(x), dtype=np.result_type(grad, 0.0))
    np.add.at(out, (*np.indices(idx.shape, sparse=True)[:-1], idx), grad)
    return out


def take_forward(x, indices, axis=0):
    """``np.take(x, indices, axis)``: ``Z[..., m, ...] = X[..., indices[m], ...]`` (``X[:, indices]`` on axis 1)."""
    return np.take(np.asarray(x), np.asarray(indices, dtype=np.intp), axis=axis)


def take_grad_x(grad, x, indices, axis=0):
    """``Z = take(X, idx, axis)``: ``dl/dX[..., i, ...] = sum_{m: idx[m] = i} G[..., m, ...]``, a scatter-add
    along ``axis`` (``np.add.at`` on ``X`` with ``axis`` moved to the front)."""
    idx = np.asarray(indices, dtype=np.intp)
    axis = axis % np.ndim(x)
    out = np.zeros(np.shape(x), dtype=np.result_type(grad, 0.0))
    # G's axes for idx come first, the rest in order: then the sum over idx's entries is one add.at
    g = np.moveaxis(np.asarray(grad), tuple(range(axis, axis + idx.ndim)), tuple(range(idx.ndim)))
    np.add.at(np.moveaxis(out, axis, 0), idx, g)
    return out


def masked_select_forward(x, mask=()):
    """``x[mask]``: the entries where the boolean ``mask`` (x's shape) is True, in row-major order."""
    return np.asarray(x)[np.asarray(mask, dtype=bool)]


def masked_select_grad_x(grad, x, mask=()):
    """``Z = X[mask]``: ``dl/dX = G`` put back where the mask is True, 0 elsewhere (a mask never
    repeats an entry, so assignment is enough; an empty G leaves all zeros)."""
    out = np.zeros(np.shape(x), dtype=np.result_type(grad, 0.0))
    out[np.asarray(mask, dtype=bool)] = grad
    return out


def pad_grad_x(grad, x, pad_width=()):
    """``Z = pad(X, pad_width)``: ``dl/dX = G[a0:a0 + n0, a1:a1 + n1, ...]``, G cropped to X."""
    return grad[tuple(slice(int(a), int(a) + n) for (a, _), n in zip(pad_width, np.shape(x)))]
