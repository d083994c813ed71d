"""The Tensor of MiniTorch module 2: operators and methods built from the Function classes,
``backward(grad_output=None)``, and the derivative kept in ``grad``."""

import numpy as np

from . import tensor_functions as tf
from .autodiff import backpropagate


class Tensor:
    def __init__(self, storage, back=None, requires_grad=False):
        self._storage = np.asarray(storage, dtype=float)
        self.history = back
        self.requires_grad = requires_grad
        self.grad = None

    @property
    def shape(self):
        return self._storage.shape

    def to_numpy(self):
        return self._storage.copy()

    # -- autodiff --------------------------------------------------------------------------
    def is_leaf(self):
        return self.history is None

    def is_constant(self):
        return self.history is None and not self.requires_grad

    @property
    def parents(self):
        return [] if self.history is None else self.history[2]

    def accumulate_derivative(self, d):
        self.grad = d if self.grad is None else Tensor(self.grad._storage + d._storage)

    def chain_rule(self, d_output):
        cls, ctx, inputs = self.history
        return [(inp, inp.expand(g)) for inp, g in zip(inputs, cls._backward(ctx, d_output))]

    def expand(self, other):
        """``other`` (a gradient at a broadcast shape) summed back to this tensor's shape."""
        g = other._storage if isinstance(other, Tensor) else np.asarray(other, dtype=float)
        g = np.broadcast_to(g, np.broadcast_shapes(g.shape, self.shape)) if g.ndim < len(self.shape) else g
        while g.ndim > len(self.shape):
            g = g.sum(axis=0)
        for axis, n in enumerate(self.shape):
            if n == 1 and g.shape[axis] != 1:
                g = g.sum(axis=axis, keepdims=True)
        return Tensor(g)

    def backward(self, grad_output=None):
        if grad_output is None:
            assert self.shape in ((), (1,)), "Must provide grad_output if non-scalar"
            grad_output = Tensor(np.ones(self.shape))
        backpropagate(self, grad_output)

    # -- ops ---------------------------------------------------------------------------------
    def _ensure(self, b):
        return b if isinstance(b, Tensor) else Tensor(np.asarray(b, dtype=float))

    def __add__(self, b):
        return tf.Add.apply(self, self._ensure(b))

    def __radd__(self, b):
        return self + b

    def __sub__(self, b):
        return tf.Add.apply(self, tf.Neg.apply(self._ensure(b)))

    def __mul__(self, b):
        return tf.Mul.apply(self, self._ensure(b))

    def __rmul__(self, b):
        return self * b

    def __truediv__(self, b):
        return tf.Mul.apply(self, tf.Inv.apply(self._ensure(b)))

    def __neg__(self):
        return tf.Neg.apply(self)

    def __matmul__(self, b):
        return tf.MatMul.apply(self, b)

    def __lt__(self, b):
        return tf.LT.apply(self, self._ensure(b))

    def __gt__(self, b):
        return tf.LT.apply(self._ensure(b), self)

    def __eq__(self, b):
        return tf.EQ.apply(self, self._ensure(b))

    def exp(self):
        return tf.Exp.apply(self)

    def log(self):
        return tf.Log.apply(self)

    def sigmoid(self):
        return tf.Sigmoid.apply(self)

    def relu(self):
        return tf.ReLU.apply(self)

    def sum(self, dim=None):
        if dim is None:
            return tf.Sum.apply(self.view(int(np.prod(self.shape))), Tensor(0.0))
        return tf.Sum.apply(self, Tensor(float(dim)))

    def permute(self, *order):
        return tf.Permute.apply(self, Tensor(np.asarray(order, dtype=float)))

    def view(self, *shape):
        return tf.View.apply(self, Tensor(np.asarray(shape, dtype=float)))


def tensor(ls, requires_grad=False):
    """A tensor from (nested) numbers, as ``minitorch.tensor`` makes one."""
    return Tensor(np.array(ls, dtype=float), requires_grad=requires_grad)
