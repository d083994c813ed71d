"""Tensor's operators and methods, each one of :mod:`numeric.ops`, made from one table.

The Tensor class (:mod:`numeric.tensor`) holds the graph and backpropagation; the ops build
Tensors.  Spelling the ops as ``x @ y`` or ``x.sum(axis)`` is this module's job, so that the
ops depend on the Tensor and never the reverse.
"""

from __future__ import annotations

from . import ops
from .tensor import Tensor

__all__ = ["OPERATORS", "METHODS"]

#: ``(op, operator, reflected operator)``: ``x + y`` is ``add(x, y)``, ``2 + x`` is ``add(2, x)``
OPERATORS = (
    ("add", "__add__", "__radd__"),
    ("subtract", "__sub__", "__rsub__"),
    ("multiply", "__mul__", "__rmul__"),
    ("divide", "__truediv__", "__rtruediv__"),
    ("power", "__pow__", "__rpow__"),
    ("matmul", "__matmul__", "__rmatmul__"),
)

#: ``(method, what it computes)``: ``x.exp()`` is ``exp(x)``, its keywords passed on
METHODS = (
    ("exp", "Elementwise ``exp``."),
    ("log", "Elementwise natural logarithm."),
    ("tanh", "Elementwise ``tanh``."),
    ("sigmoid", "Elementwise logistic sigmoid."),
    ("relu", "Elementwise ``max(x, 0)``."),
    ("sqrt", "Elementwise square root."),
    ("sin", "Elementwise ``sin``."),
    ("cos", "Elementwise ``cos``."),
    ("abs", "Elementwise ``|x|``."),
    ("sum", "Sum over ``axis`` (None, int or tuple), as ``ndarray.sum(axis=None, keepdims=False)``."),
    ("mean", "Mean over ``axis`` (None, int or tuple), as ``ndarray.mean(axis=None, keepdims=False)``."),
    ("broadcast_to", "Broadcast to ``shape``, as ``np.broadcast_to``."),
    ("softmax", "Softmax along ``axis`` (default -1)."),
    ("log_softmax", "Log-softmax along ``axis`` (default -1)."),
)


def _operator(fn, reflected):
    if reflected:
        return lambda self, other: fn(other, self)
    return lambda self, other: fn(self, other)


def _method(fn, name, doc):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = doc
    return method


def transpose(self, *axes):
    """Permute the axes, as ``ndarray.transpose`` (no axes reverses them)."""
    if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
        axes = axes[0]
    return ops.transpose(self, axes if axes else None)


def reshape(self, *shape):
    """Reshape (C order, one ``-1`` allowed), as ``ndarray.reshape``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return ops.reshape(self, tuple(shape))


def _install():
    for name, operator, reflected in OPERATORS:
        fn = getattr(ops, name)
        setattr(Tensor, operator, _operator(fn, False))
        setattr(Tensor, reflected, _operator(fn, True))
    Tensor.__neg__ = lambda self: ops.negative(self)
    for name, doc in METHODS:
        setattr(Tensor, name, _method(getattr(ops, name), name, doc))
    Tensor.__abs__ = Tensor.abs
    Tensor.transpose, Tensor.reshape = transpose, reshape
    Tensor.T = property(lambda self: ops.transpose(self), doc="The transpose (all axes reversed), as ``ndarray.T``.")


_install()
