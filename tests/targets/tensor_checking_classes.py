"""Homework-style Function classes where some forwards insist on the library's Tensor ("Both args must
be Tensors") and others take anything (a Tensor defines the operators they use). Correct throughout:
each class must be called the way its forward wants, never judged by another class's protocol."""

import numpy as np


class Tensor:
    def __init__(self, data):
        self.data = np.asarray(data)

    def __add__(self, other):
        return Tensor(self.data + getattr(other, "data", other))

    def __neg__(self):
        return Tensor(-self.data)


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Add:  # works on arrays and on Tensors alike
    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = np.shape(getattr(a, "data", a)), np.shape(getattr(b, "data", b))
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        return _unbroadcast(grad_output, ctx.shapes[0]), _unbroadcast(grad_output, ctx.shapes[1])


class Mul:  # insists on Tensors
    @staticmethod
    def forward(ctx, a, b):
        if not (isinstance(a, Tensor) and isinstance(b, Tensor)):
            raise TypeError(f"Both args must be Tensors: {type(a).__name__}, {type(b).__name__}")
        ctx.save_for_backward(a.data, b.data)
        return Tensor(a.data * b.data)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return _unbroadcast(grad_output * b, a.shape), _unbroadcast(grad_output * a, b.shape)


class Exp:  # insists on Tensors too
    @staticmethod
    def forward(ctx, x):
        assert isinstance(x, Tensor), f"Exp takes a Tensor, not {type(x).__name__}"
        y = np.exp(x.data)
        ctx.save_for_backward(y)
        return Tensor(y)

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y


class Neg:
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad_output):
        return -grad_output
