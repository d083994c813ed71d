"""How a target's Tensor class makes a leaf that needs a gradient, and a constant."""

from __future__ import annotations

import inspect

import numpy as np

__all__ = ["leaf_factories"]


def _builds_from_array(tensor_type):
    try:
        tensor_type(np.ones((2, 2)))
        return True
    except Exception:  # noqa: BLE001  it wants its own storage
        return False


def leaf_factories(tensor_type, namespace=None):
    """``(leaf, constant)`` constructors for ``tensor_type``, using ``requires_grad``/``constant`` if taken;
    a ``tensor(data, requires_grad=...)`` function of ``namespace`` (MiniTorch's) when the class itself
    cannot be built from an array."""
    factory = getattr(namespace, "tensor", None) if namespace is not None else None
    if callable(factory) and not inspect.isclass(factory) and not _builds_from_array(tensor_type):
        try:
            taken = inspect.signature(factory).parameters
        except (TypeError, ValueError):
            taken = {}
        if "requires_grad" in taken:
            return ((lambda a: factory(np.asarray(a).tolist(), requires_grad=True)),
                    (lambda a: factory(np.asarray(a).tolist(), requires_grad=False)))
    try:
        params = inspect.signature(tensor_type).parameters
    except (TypeError, ValueError):
        params = {}
    if "requires_grad" in params:
        return (lambda a: tensor_type(a, requires_grad=True)), (lambda a: tensor_type(a, requires_grad=False))
    if "constant" in params:
        return (lambda a: tensor_type(a, constant=False)), (lambda a: tensor_type(a, constant=True))
    return tensor_type, tensor_type
