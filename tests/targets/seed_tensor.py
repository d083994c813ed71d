"""A Tensor in the seed's style: backward() always starts from ones and takes no gradient."""

from collections import namedtuple

import numpy as np

Edge = namedtuple("Edge", ["prev", "local_grad", "backward_fn"], defaults=[None, None, None])


def _pointwise(tensor, local_grad, prev):
    return tensor.backwards_grad * local_grad


def _matmul_left(tensor, local_grad, prev):
    return tensor.backwards_grad @ local_grad


def _matmul_right(tensor, local_grad, prev):
    return local_grad @ tensor.backwards_grad


def _transpose(tensor, local_grad, prev):
    return tensor.backwards_grad.T


class Tensor:
    def __init__(self, value, prevs=None):
        self.value = np.array(value)
        self.prevs = prevs if prevs is not None else []
        self.backwards_grad = np.zeros_like(self.value)

    @property
    def shape(self):
        return self.value.shape

    def _backward_step(self):
        for prev, local_grad, backward_fn in self.prevs:
            prev.backwards_grad = prev.backwards_grad + backward_fn(self, local_grad, prev)

    def _get_graph(self, zero_grad=False):
        ordered, visited = [], set()

        def visit(x):
            if x not in visited:
                visited.add(x)
                if zero_grad:
                    x.backwards_grad = np.zeros_like(x.value)
                for prev, _, _ in x.prevs:
                    visit(prev)
                ordered.append(x)

        visit(self)
        return ordered

    def backward(self):
        ordered = self._get_graph(zero_grad=True)
        self.backwards_grad = np.ones_like(self.value)
        for t in reversed(ordered):
            t._backward_step()

    def __mul__(self, other):
        return Tensor(self.value * other.value, [Edge(self, other.value, _pointwise),
                                                 Edge(other, self.value, _pointwise)])

    def __matmul__(self, other):
        return Tensor(self.value @ other.value, [Edge(self, other.value.T, _matmul_left),
                                                 Edge(other, self.value.T, _matmul_right)])

    @property
    def T(self):
        return Tensor(self.value.T, [Edge(self, None, _transpose)])
