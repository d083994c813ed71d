"""Matrix products: matmul (1-D, 2-D, batched)."""

from __future__ import annotations

import numpy as np

from . import strategies as st
from .registry import Case, Input, Op, format_shape, register
from ..symbolic.expressions import Output, broadcast_index, broadcast_shapes, summation

X_ = Input("X")


def define_matmul(X, Y):
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got {format_shape(X.shape)} "
                         f"and {format_shape(Y.shape)}")
    n_x = X.shape[-1]
    n_y = Y.shape[-2] if Y.ndim > 1 else Y.shape[0]
    if n_x != n_y:
        raise ValueError(f"matmul: inner dimensions differ: X{format_shape(X.shape)} has {n_x}, "
                         f"Y{format_shape(Y.shape)} has {n_y}")
    x_batch, y_batch = X.shape[:-2], Y.shape[:-2]
    batch = broadcast_shapes(x_batch, y_batch, op="matmul")
    out = batch + (X.shape[-2:-1] if X.ndim > 1 else ()) + (Y.shape[-1:] if Y.ndim > 1 else ())
    nb = len(batch)

    def entry(*k):
        kb, rest = k[:nb], list(k[nb:])
        row = (rest.pop(0),) if X.ndim > 1 else ()
        col = (rest.pop(0),) if Y.ndim > 1 else ()
        xb = broadcast_index(x_batch, batch, kb)
        yb = broadcast_index(y_batch, batch, kb)
        return summation(lambda s: X[xb + row + (s,)] * Y[yb + (s,) + col], n_x)

    return Output(out, entry)


register(Op(
    name="matmul", aliases=("mm", "dot", "matrix_multiply"), inputs=(Input("X"), Input("Y")),
    define=define_matmul, forward=np.matmul, cases=st.matmul_pair,
    canonical=Case((("p", "q"), ("q", "r"))), exact=True, call=lambda api, x, y: x @ y,
    doc="Z = X @ Y (1-D, 2-D, batched with broadcasting)",
    variants=(("X @ Y.T", lambda X, Y: X @ np.swapaxes(Y, -1, -2)),
              ("X.T @ Y", lambda X, Y: np.swapaxes(X, -1, -2) @ Y),
              ("X * Y (elementwise)", np.multiply))))
