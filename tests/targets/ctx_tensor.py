"""Homework-style Function classes whose forward takes the library's own Tensor (``a.data``)
and whose ctx receives forward keywords.  Correct."""

import numpy as np


class Tensor:
    def __init__(self, data):
        if not isinstance(data, (np.ndarray, np.generic)):
            raise TypeError("Tensor wants an ndarray")
        self.data = data


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Mul:
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a.data, b.data)
        return Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return _unbroadcast(grad_output * b, a.shape), _unbroadcast(grad_output * a, b.shape)


class Sum:
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.data.shape, axis, keepdims
        return Tensor(x.data.sum(axis=axis, keepdims=keepdims))

    @staticmethod
    def backward(ctx, grad_output):
        ndim = len(ctx.shape)
        axes = range(ndim) if ctx.axis is None else np.atleast_1d(ctx.axis)
        g = grad_output
        if not ctx.keepdims:
            for a in sorted(int(a) % ndim for a in axes):
                g = np.expand_dims(g, a)
        return np.broadcast_to(g, ctx.shape).copy()


class Exp:
    @staticmethod
    def forward(ctx, x):
        y = np.exp(x.data)
        ctx.save_for_backward(y)
        return Tensor(y)

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y
