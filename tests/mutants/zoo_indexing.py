"""Mutants of slicing, flipping and joining backward functions, one classic mistake each."""

from __future__ import annotations

import numpy as np

from .zoo import mutant


@mutant("indexing", "getitem", "scatters G in slice order for a negative step (forgets to reverse)")
def getitem_negative_step_unreversed(grad, x, axis=0, start=None, stop=None, step=None):
    n = np.shape(x)[axis]
    picked = list(range(*slice(start, stop, step).indices(n)))
    out = np.zeros(np.shape(x))
    target = [slice(None)] * np.ndim(x)
    target[axis] = sorted(picked)
    out[tuple(target)] = grad
    return (out,)


@mutant("indexing", "getitem", "ignores the step: writes G into a contiguous block from start")
def getitem_ignores_step(grad, x, axis=0, start=None, stop=None, step=None):
    n = np.shape(x)[axis]
    first = range(*slice(start, stop, step).indices(n)).start
    count = np.shape(grad)[axis]
    lo = min(first, n - count)
    out = np.zeros(np.shape(x))
    target = [slice(None)] * np.ndim(x)
    target[axis] = slice(lo, lo + count)
    out[tuple(target)] = grad
    return (out,)


@mutant("indexing", "flip", "returns G unflipped")
def flip_unflipped(grad, x, axis=0):
    return (grad,)


@mutant("indexing", "expand_dims", "np.squeeze(G): every size-1 axis goes, X's own ones too")
def expand_dims_squeezes_all(grad, x, axis=0):
    return (np.squeeze(grad),)


@mutant("indexing", "expand_dims", "sums G over axis 0, whatever the axis was")
def expand_dims_sums_the_first_axis(grad, x, axis=0):
    return (np.sum(grad, axis=0),)


@mutant("indexing", "concatenate", "splits G at Y's length instead of X's")
def concatenate_split_at_y(grad, x, y, axis=0):
    n = np.shape(grad)[axis] - np.shape(x)[axis]
    head, tail = np.split(grad, [n], axis=axis)
    return (head if head.shape == np.shape(x) else np.resize(head, np.shape(x)),
            tail if tail.shape == np.shape(y) else np.resize(tail, np.shape(y)))


@mutant("indexing", "stack", "takes both gradients from the first slot along the axis")
def stack_same_slot(grad, x, y, axis=0):
    return np.take(grad, 0, axis=axis), np.take(grad, 0, axis=axis)


@mutant("indexing", "squeeze", "returns G as it is, without putting the squeezed axis back")
def squeeze_axis_not_restored(grad, x, axis=0):
    return (grad,)


@mutant("indexing", "embedding", "assigns dW[indices] = G: a repeated index keeps only its last row")
def embedding_overwrites_repeats(grad, weight, indices):
    out = np.zeros(np.shape(weight))
    out[np.asarray(indices)] = grad
    return out, None


@mutant("indexing", "pad", "crops G from the start of each axis, ignoring the 'before' widths")
def pad_crops_from_the_corner(grad, x, pad_width=()):
    return (grad[tuple(slice(0, n) for n in np.shape(x))],)


@mutant("indexing", "take", "assigns dX[:, indices] = G along the axis: a repeated index keeps only its last pick")
def take_overwrites_repeats(grad, x, indices, axis=0):
    out = np.zeros(np.shape(x))
    index = [slice(None)] * out.ndim
    index[axis] = np.asarray(indices, dtype=np.intp).reshape(-1)
    moved = np.moveaxis(np.asarray(grad), tuple(range(axis % out.ndim, axis % out.ndim + np.ndim(indices))),
                        tuple(range(np.ndim(indices))))
    out[tuple(index)] = np.moveaxis(moved.reshape((-1,) + moved.shape[np.ndim(indices):]), 0, axis % out.ndim)
    return out, None


@mutant("indexing", "take", "scatters G back along axis 0 whatever the axis (right only when axis is 0)")
def take_scatters_on_axis_zero(grad, x, indices, axis=0):
    out = np.zeros(np.shape(x))
    np.add.at(out, np.asarray(indices, dtype=np.intp), grad)
    return out, None


@mutant("indexing", "take_along_axis", "assigns dX[..., indices] = G: a repeated index keeps only its last pick")
def take_along_axis_overwrites_repeats(grad, x, indices):
    idx = np.asarray(indices, dtype=np.intp)
    out = np.zeros(np.shape(x))
    out[(*np.indices(idx.shape, sparse=True)[:-1], idx)] = grad
    return out, None


@mutant("indexing", "masked_select", "starts from np.ones_like(X): the entries the mask drops get 1, not 0")
def masked_select_ones_elsewhere(grad, x, mask=()):
    out = np.ones(np.shape(x))
    out[np.asarray(mask, dtype=bool)] = grad
    return (out,)


@mutant("indexing", "masked_select", "puts G back in column-major order (dX.T[mask.T] = G): right only where "
                                     "both orders visit the True entries alike")
def masked_select_column_major(grad, x, mask=()):
    out = np.zeros(np.shape(x))
    out.T[np.asarray(mask, dtype=bool).T] = grad
    return (out,)
