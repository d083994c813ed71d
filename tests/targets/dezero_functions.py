"""A DeZero-style engine, written here as independent code: forward *functions* over a Variable,
Function instances that keep their inputs and weak references to their outputs, parameters in
``__init__``, and ``backward(retain_grad=False, create_graph=False)`` that seeds ones when the
output's grad is None.  All correct, for its own forward."""

import weakref

import numpy as np


class Variable:
    __array_priority__ = 200

    def __init__(self, data):
        self.data = np.asarray(data)
        self.grad = None
        self.creator = None

    @property
    def shape(self):
        return self.data.shape

    def backward(self, retain_grad=False, create_graph=False):
        if self.grad is None:
            self.grad = np.ones_like(self.data)
        funcs, seen = [self.creator], {self.creator}
        order = []
        while funcs:  # collect, then run in reverse topological order
            f = funcs.pop()
            order.append(f)
            for x in f.inputs:
                if x.creator is not None and x.creator not in seen:
                    seen.add(x.creator)
                    funcs.append(x.creator)
        order.sort(key=lambda f: f.generation, reverse=True)
        for f in order:
            gys = [o().grad for o in f.outputs]
            gxs = f.backward(*gys)
            gxs = gxs if isinstance(gxs, tuple) else (gxs,)
            for x, gx in zip(f.inputs, gxs):
                x.grad = gx if x.grad is None else x.grad + gx

    def __add__(self, other):
        return add(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __neg__(self):
        return neg(self)

    def sum(self, axis=None, keepdims=False):
        return sum(self, axis, keepdims)


def as_variable(x):
    return x if isinstance(x, Variable) else Variable(x)


def _unbroadcast(g, shape):
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g


class Function:
    def __call__(self, *inputs):
        inputs = [as_variable(x) for x in inputs]
        y = self.forward(*[x.data for x in inputs])
        out = Variable(y)
        self.generation = max([0] + [getattr(x.creator, "generation", 0) + 1 for x in inputs])
        out.creator = self
        self.inputs = inputs
        self.outputs = [weakref.ref(out)]
        return out


class Add(Function):
    def forward(self, a, b):
        return a + b

    def backward(self, gy):
        a, b = self.inputs
        return _unbroadcast(gy, a.shape), _unbroadcast(gy, b.shape)


class Mul(Function):
    def forward(self, a, b):
        return a * b

    def backward(self, gy):
        a, b = self.inputs
        return _unbroadcast(gy * b.data, a.shape), _unbroadcast(gy * a.data, b.shape)


class Neg(Function):
    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Exp(Function):
    def forward(self, x):
        return np.exp(x)

    def backward(self, gy):
        return gy * self.outputs[0]().data


class Sum(Function):
    def __init__(self, axis, keepdims):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.x_shape = x.shape
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, gy):
        axes = range(len(self.x_shape)) if self.axis is None else np.atleast_1d(self.axis)
        axes = sorted(a % len(self.x_shape) for a in axes)
        if not self.keepdims:
            for a in axes:
                gy = np.expand_dims(gy, a)
        return np.broadcast_to(gy, self.x_shape).copy()


def add(a, b):
    return Add()(a, b)


def mul(a, b):
    return Mul()(a, b)


def neg(x):
    return Neg()(x)


def exp(x):
    return Exp()(x)


def sum(x, axis=None, keepdims=False):
    return Sum(axis, keepdims)(x)
