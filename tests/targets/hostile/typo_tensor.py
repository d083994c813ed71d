"""A tensor-style engine whose exp has a typo (self.vlaue): a bug, not a missing op."""
import numpy as np


class Tensor:
    def __init__(self, value, parents=(), backward_fn=None):
        self.value = np.asarray(value, dtype=float)
        self.grad = None
        self.parents, self.backward_fn = parents, backward_fn

    def __add__(self, other):
        out = Tensor(self.value + other.value, (self, other))

        def backward_fn(grad):
            return [(self, _unbroadcast(grad, self.value.shape)), (other, _unbroadcast(grad, other.value.shape))]
        out.backward_fn = backward_fn
        return out

    def exp(self):
        return Tensor(np.exp(self.vlaue), (self,), lambda grad: [(self, grad * np.exp(self.value))])

    def backward(self, grad):
        self.grad = grad if self.grad is None else self.grad + grad
        if self.backward_fn is not None:
            for parent, g in self.backward_fn(grad):
                parent.backward(g)


def _unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
