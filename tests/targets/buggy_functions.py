"""Functions-style backward functions, each with one classic mistake."""

import numpy as np


def matmul(grad, x, y):
    """Bug: the transposes are missing (only shape-compatible for square operands)."""
    return grad @ y, x @ grad


def transpose(grad, x, axes=None):
    """Bug: applies `axes` again instead of its inverse permutation."""
    return np.transpose(grad, axes)


def sum(grad, x, axis=None, keepdims=False):  # noqa: A001
    """Bug: re-inserts the reduced axis by matching sizes (the seed's align_tuple)."""
    if axis is None or keepdims:
        return np.broadcast_to(grad, x.shape).copy()
    remaining = list(grad.shape)
    aligned = tuple(remaining.pop(remaining.index(n)) if n in remaining else 1 for n in x.shape)
    return np.broadcast_to(grad.reshape(aligned), x.shape).copy()


def mean(grad, x, axis=None, keepdims=False):
    """Bug: forgets the 1/N."""
    shape = list(x.shape)
    axes = range(x.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    if not keepdims:
        grad = np.expand_dims(grad, tuple(a % x.ndim for a in axes))
    return np.broadcast_to(grad, shape).copy()


def subtract(grad, x, y):
    """Bug: sign error on the subtrahend."""
    return grad, grad


def add(grad, x, y):
    """Bug: never un-broadcasts."""
    return grad, grad


def exp(grad, x):
    """Bug: raises."""
    raise RuntimeError("not implemented yet")


def log(grad, x):
    """Bug: returns None."""
    return None


def tanh(grad, x):
    """Bug: modifies the upstream gradient in place."""
    grad *= 1 - np.tanh(x) ** 2
    return grad


def negative(grad, x):
    """Bug: NaN."""
    return np.full(np.shape(x), np.nan)
