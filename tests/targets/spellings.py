"""A small Tensor engine whose spellings of one op are separate code, as students write them.

``x * y``, ``x @ y``, ``x.exp()``, ``x.sum(axis)`` and ``x + 2`` are right.  Four other spellings
of the same ops each carry a classic mistake:

- ``exp(x)``, the module's function, forgets to multiply by the upstream gradient;
- ``2 * x`` (``__rmul__``) takes the factor from the wrong side: ``G * x`` for ``G * 2``;
- ``2 + x`` (``__radd__``), pasted from a ``__rsub__``, computes ``2 - x``;
- ``x.dot(y)``, for 2-D operands, gives X the gradient ``G @ Y`` (no transpose), which only has
  the right shape when Y is square.

``sum(x, axis)``, the module's function, is another op on some cases: given a tuple of axes it sums
over the first one only.  Where it computes the sum, its gradient is right.
"""

import numpy as np


def _unbroadcast(g, shape):
    """``g`` summed back to ``shape``: over the leading axes broadcasting added, and over size-1 axes."""
    g = np.sum(g, axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    return np.sum(g, axis=tuple(a for a, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)


def _matmul_grads(x, y, g):
    """dX, dY of ``x @ y`` for 1-D, 2-D and batched operands (a 1-D one is a row, or a column, of one)."""
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    g2 = np.asarray(g).reshape(np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2]) + (x2.shape[-2], y2.shape[-1]))
    dx = _unbroadcast(g2 @ np.swapaxes(y2, -1, -2), x2.shape).reshape(x.shape)
    dy = _unbroadcast(np.swapaxes(x2, -1, -2) @ g2, y2.shape).reshape(y.shape)
    return dx, dy


class Tensor:
    def __init__(self, data, parents=(), backward=None):
        self.data = np.asarray(data, dtype=float)
        self.grad = None
        self._parents = parents
        self._backward = backward  # grad of the output -> one gradient per parent

    @property
    def shape(self):
        return self.data.shape

    def backward(self, grad):
        order, seen = [], set()

        def visit(t):
            if id(t) not in seen:
                seen.add(id(t))
                for p in t._parents:
                    visit(p)
                order.append(t)

        visit(self)
        self.grad = np.asarray(grad, dtype=float)
        for t in reversed(order):
            if t._backward is None or t.grad is None:
                continue
            for p, g in zip(t._parents, t._backward(t.grad)):
                p.grad = g if p.grad is None else p.grad + g

    # -- right -------------------------------------------------------------------------------------
    def __add__(self, other):
        if not isinstance(other, Tensor):
            return Tensor(self.data + other, (self,), lambda g: (g,))
        return Tensor(self.data + other.data, (self, other),
                      lambda g: (_unbroadcast(g, self.shape), _unbroadcast(g, other.shape)))

    def __mul__(self, other):
        if not isinstance(other, Tensor):
            return Tensor(self.data * other, (self,), lambda g: (g * other,))
        return Tensor(self.data * other.data, (self, other),
                      lambda g: (_unbroadcast(g * other.data, self.shape), _unbroadcast(g * self.data, other.shape)))

    def __matmul__(self, other):
        return Tensor(self.data @ other.data, (self, other), lambda g: _matmul_grads(self.data, other.data, g))

    def exp(self):
        out = np.exp(self.data)
        return Tensor(out, (self,), lambda g: (g * out,))

    def sum(self, axis=None, keepdims=False):
        def back(g):
            kept = g if keepdims or axis is None else np.expand_dims(g, axis)
            return (np.broadcast_to(kept, self.data.shape).copy(),)
        return Tensor(self.data.sum(axis=axis, keepdims=keepdims), (self,), back)

    # -- each with a mistake ---------------------------------------------------------------------
    def __rmul__(self, other):
        return Tensor(other * self.data, (self,), lambda g: (g * self.data,))

    def __radd__(self, other):  # pasted from a __rsub__: 2 + X computes 2 - X
        return Tensor(other - self.data, (self,), lambda g: (-g,))

    def dot(self, other):
        return Tensor(self.data @ other.data, (self, other), lambda g: (g @ other.data, self.data.T @ g))



def exp(x):
    out = np.exp(x.data)
    return Tensor(out, (x,), lambda g: (out,))


def sum(x, axis=None):
    first = axis[0] if isinstance(axis, tuple) else axis
    return x.sum(first)
