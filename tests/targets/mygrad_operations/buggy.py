"""The operations of correct.py with classic mistakes (each line marked)."""

import numpy as np
from mygrad.operation_base import Operation


class SiLU(Operation):
    def __call__(self, x):
        self.variables = (x,)
        self.s = 1.0 / (1.0 + np.exp(-x.data))
        return x.data * self.s

    def backward_var(self, grad, index, **kwargs):
        x = self.variables[index].data
        return grad * self.s * (1.0 - self.s)  # sigmoid's derivative: the product rule's s term is lost


class Multiply(Operation):
    """Broadcasting: MyGrad sums each gradient back to its input's shape itself."""

    def __call__(self, a, b):
        self.variables = (a, b)
        return a.data * b.data

    def backward_var(self, grad, index, **kwargs):
        a, b = (v.data for v in self.variables)
        return grad * (a if index == 0 else b)  # each input's own value, not the other's


class Sum(Operation):
    def __call__(self, x, axis=None, keepdims=False):
        self.variables = (x,)
        self.axis, self.keepdims = axis, keepdims
        return np.sum(x.data, axis=axis, keepdims=keepdims)

    def backward_var(self, grad, index, **kwargs):
        x = self.variables[index].data
        if not self.keepdims and self.axis is not None:
            grad = np.expand_dims(grad, 0)  # the first axis, not the one summed
        return np.broadcast_to(grad, x.shape).copy()
