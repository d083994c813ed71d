"""A needle-style package (CMU 10-414/714, homework 1), written for these tests in needle's conventions:
``TensorOp`` classes with ``compute(*arrays)`` on NumPy arrays and ``gradient(out_grad, node)`` built from
needle's own ops, module functions that apply them (``add_scalar(a, scalar)``, ``summation(a, axes)``,
``transpose(a, axes)`` swapping two axes, the last two by default), and ``Tensor.backward(out_grad)``.
As in needle, ``grad`` is only a class annotation of Tensor until the backward pass sets it."""

from . import ops  # noqa: F401
from .ops import *  # noqa: F401,F403
from .autograd import Tensor, TensorOp, Value  # noqa: F401
