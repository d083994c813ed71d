"""needle's API (CMU 10-414/714): ``TensorOp`` classes reached through a Tensor engine.

A ``TensorOp`` has ``compute(*arrays)`` on NumPy arrays and ``gradient(out_grad, node)`` built
from the library's own ops; ``Tensor.backward(out_grad)`` runs them.  The Tensor engine checks
them as they are used, through the module's functions and the Tensor's operators.  What needle
promises differs from NumPy in two ways, and derive asks only for what it promises:

- elementwise ops take operands of one shape: broadcasting is explicit, through
  ``broadcast_to`` (whose gradient sums back), so an ``EWiseAdd`` gradient of
  ``(out_grad, out_grad)`` is right;
- ``matmul`` takes 2-D and batched operands, whose batch axes broadcast as its ``compute``
  (NumPy's ``@``) broadcasts them, a size-1 batch axis included: a gradient that does not sum
  one back has the wrong shape, a real bug; its ``transpose(a, axes)`` swaps two axes, the last
  two by default (:mod:`.conventions`);
- reductions take ``axes`` as a tuple (``Optional[tuple]``), so an axis goes as one, counted
  from the front.
"""

from __future__ import annotations

import inspect

BROADCASTING = "the library's elementwise ops take operands of one shape (broadcasting is explicit, through broadcast_to)"
MATMUL = "the library's matmul takes 2-D and batched operands"


def tensor_op_classes(namespace):
    """The classes of ``namespace`` with both ``compute`` and ``gradient`` (needle's TensorOps)."""
    found = {}
    for name, obj in (vars(namespace).items() if hasattr(namespace, "__dict__") else ()):
        if inspect.isclass(obj) and callable(getattr(obj, "compute", None)) \
                and callable(getattr(obj, "gradient", None)):
            found[name] = obj
    return found


def explicit_broadcasting(op, case):
    """Why ``case`` is outside needle's promises (operands of unequal shapes to an elementwise op, a
    matmul operand below 2-D), or None."""
    shapes = [s for spec, s in zip(op.inputs, case.shapes) if not spec.data]
    if op.broadcasts and len({tuple(s) for s in shapes}) > 1:
        return BROADCASTING
    if op.name == "matmul" and any(len(s) < 2 for s in shapes):
        return MATMUL
    return None


def reduces_over_axes(op):
    """Whether ``op`` reduces over an ``axis`` that may be several (its default, None, is all of them)."""
    return "axis" in op.params and op.params["axis"] is None


def axes_as_tuple(spell):
    """``spell`` with an ``axis`` passed as a tuple of axes counted from the front (needle's
    ``Summation(axes: Optional[tuple])``)."""
    def spelled(api, x, *rest, axis=None, **params):
        if axis is not None:
            ndim = len(x.shape)
            axis = tuple(int(a) % ndim for a in (axis if isinstance(axis, (tuple, list)) else (axis,)))
        return spell(api, x, *rest, axis=axis, **params)
    spelled.__name__ = getattr(spell, "__name__", "spell")
    return spelled
