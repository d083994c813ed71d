"""Mutants of the backward of ops with a list of outputs: split and unstack get one G per piece."""

from __future__ import annotations

import numpy as np

from .zoo import mutant


@mutant("split", "split", "joins the pieces' gradients along axis 0 whatever the axis")
def split_joins_on_axis_0(grad, x, indices_or_sections=2, axis=0):
    return (np.concatenate(grad, axis=0).reshape(np.shape(x)),)


@mutant("split", "split", "joins the pieces' gradients in reverse order")
def split_reversed(grad, x, indices_or_sections=2, axis=0):
    return (np.concatenate(grad[::-1], axis=axis),)


@mutant("split", "split", "puts piece m at m * len(G_0): right only when the pieces are equal")
def split_assumes_equal_pieces(grad, x, indices_or_sections=2, axis=0):
    out = np.zeros(np.shape(x))
    width = np.shape(grad[0])[axis]
    for m, g in enumerate(grad):
        index = [slice(None)] * np.ndim(x)
        index[axis] = slice(m * width, m * width + np.shape(g)[axis])
        out[tuple(index)] = g
    return (out,)


@mutant("split", "unstack", "stacks the slices' gradients along axis 0 whatever the axis")
def unstack_stacks_on_axis_0(grad, x, axis=0):
    return (np.stack(grad, axis=0).reshape(np.shape(x)),)


@mutant("split", "unstack", "stacks the slices' gradients in reverse order")
def unstack_reversed(grad, x, axis=0):
    return (np.stack(grad[::-1], axis=axis),)
