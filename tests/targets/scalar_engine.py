"""A micrograd-like engine over arrays whose backward() takes no gradient and refuses to start
from anything but a scalar.  Correct; it lacks unary minus and ``x ** Tensor``.  Its ``split``
gives a list of Tensors, each with its own backward into ``x``."""

import numpy as np


class Tensor:
    def __init__(self, data, _parents=(), _backward=None):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self._parents = _parents
        self._backward = _backward or (lambda: None)

    @property
    def shape(self):
        return self.data.shape

    def backward(self):
        if self.data.ndim != 0:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for p in t._parents:
                    visit(p)
                order.append(t)

        visit(self)
        self.grad = np.ones_like(self.data)
        for t in reversed(order):
            t._backward()

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data * other.data, (self, other))

        def backward():
            self.grad = self.grad + _unbroadcast(out.grad * other.data, self.shape)
            other.grad = other.grad + _unbroadcast(out.grad * self.data, other.shape)
        out._backward = backward
        return out

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)
        out = Tensor(self.data + other.data, (self, other))

        def backward():
            self.grad = self.grad + _unbroadcast(out.grad, self.shape)
            other.grad = other.grad + _unbroadcast(out.grad, other.shape)
        out._backward = backward
        return out

    def sum(self, axis=None, keepdims=False):
        out = Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,))

        def backward():
            g = out.grad
            if not keepdims:
                axes = range(self.data.ndim) if axis is None else np.atleast_1d(axis)
                for a in sorted(int(a) % self.data.ndim for a in axes):
                    g = np.expand_dims(g, a)
            self.grad = self.grad + np.broadcast_to(g, self.shape)
        out._backward = backward
        return out

    def exp(self):
        out = Tensor(np.exp(self.data), (self,))

        def backward():
            self.grad = self.grad + out.grad * out.data
        out._backward = backward
        return out


def split(x, indices_or_sections, axis=0):
    pieces, start = [], 0
    for value in np.split(x.data, indices_or_sections, axis=axis):
        piece = Tensor(value, (x,))
        where = [slice(None)] * x.data.ndim
        where[axis] = slice(start, start + value.shape[axis])
        start += value.shape[axis]

        def backward(piece=piece, where=tuple(where)):
            grad = np.zeros_like(x.data)
            grad[where] = piece.grad
            x.grad = x.grad + grad
        piece._backward = backward
        pieces.append(piece)
    return pieces


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g
