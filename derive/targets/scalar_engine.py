"""Scalar engines: a ``Value`` that holds one number (micrograd's, MiniTorch's ``Scalar``), checked on
arrays of Values.

Each input becomes a NumPy array of Values (dtype object), so the catalog's spellings
run elementwise on them: operators call the Values' own (``x * y``, ``x ** 3``),
NumPy's reductions and ``@`` add and multiply Values, and an op NumPy lacks on such
arrays (``relu``, ``tanh``) is the Value's own method, applied to every entry.  G is
seeded through a scalar ``sum(Z * G)`` built from the Values (``backward()`` seeds 1),
once that route is verified to give G back.  Gradients are read from each Value's
``grad`` (MiniTorch's ``derivative``); an entry that no gradient reached holds None there, and
its gradient is 0.
"""

from __future__ import annotations

import operator

import numpy as np

from .base import Missing
from .leaves import leaf_factories
from .engine import GRAD_ATTRIBUTES, SCALAR, EngineTarget, _instance_attributes

__all__ = ["ScalarEngineTarget", "holds_one_number"]


def holds_one_number(value_type):
    """Whether ``value_type(1.5)`` makes a Value whose ``data`` is that number (micrograd's ``Value``)."""
    try:
        v = value_type(1.5)
        return float(v.data) == 1.5 and np.ndim(v.data) == 0
    except Exception:  # noqa: BLE001  it wants something else
        return False


#: comparisons a Value may define as operators (MiniTorch's ``Scalar.__lt__`` gives a Scalar), which
#: NumPy's own ``less`` would turn into booleans
_COMPARED = {"less": operator.lt, "equal": operator.eq, "greater": operator.gt}


class _Elementwise:
    """The namespace spellings look functions up in: a Value's own method applied to every entry
    (``relu``, ``tanh``, ``exp``), its own comparison operator on every pair of entries, else NumPy's
    function (``sum``, ``matmul``)."""

    def __init__(self, value_type):
        self._value_type = value_type

    def __getattr__(self, name):
        if not name.startswith("_") and callable(getattr(self._value_type, name, None)):
            def each(x, *args, **kwargs):
                return _map(lambda v: getattr(v, name)(*args, **kwargs), x)
            return each
        compare = _COMPARED.get(name)
        if compare is not None and getattr(self._value_type, f"__{compare.__name__}__") \
                is not getattr(object, f"__{compare.__name__}__"):
            def pairs(x, y):
                x, y = np.broadcast_arrays(np.asarray(x, dtype=object), np.asarray(y, dtype=object))
                out = np.empty(x.shape, dtype=object)
                for index in np.ndindex(x.shape):
                    out[index] = compare(x[index], y[index])
                return out.view(_Values)
            return pairs
        fn = getattr(np, name, None)
        if fn is None:
            raise AttributeError(name)
        return fn


class _Values(np.ndarray):
    """An array of Values that stays one: NumPy would give a 0-d result as the bare Value, which has
    no ``sum`` or ``reshape`` of its own."""

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return np.asarray(array).view(_Values)

    def backward(self, *args, **kwargs):
        """The one Value's ``backward()`` (the scalar loss ``sum(Z * G)``)."""
        if self.ndim:
            raise TypeError(f"backward() starts from one Value, not an array of shape {self.shape}")
        loss = self[()]
        if not hasattr(loss, "backward") and loss == 0:  # the sum over an empty piece: nothing to propagate
            return None
        return loss.backward(*args, **kwargs)


def _map(fn, x):
    x = np.asarray(x, dtype=object)
    out = np.empty(x.shape, dtype=object)
    for index in np.ndindex(x.shape):
        out[index] = fn(x[index])
    return out.view(_Values)


#: what NumPy says when an array of Values lacks what an op needs
_MISSING = ("not supported between instances", "has no callable", "bad operand type", "unsupported operand")


_SYMBOLS = {"less": "<", "equal": "==", "greater": ">"}


def _holds_no_value(out, value_type):
    """Whether ``out`` is an array of booleans (or holds only them), which no backward reaches."""
    if isinstance(out, (list, tuple)) or not isinstance(out, np.ndarray) or not out.size:
        return False
    if out.dtype == bool:
        return True
    return out.dtype == object and all(isinstance(v, (bool, np.bool_)) for v in out.flat)


class ScalarEngineTarget(EngineTarget):
    """A scalar engine's ``value_type`` driven entry by entry (see the module's docstring)."""

    def __init__(self, name, api, value_type):
        super().__init__(name, _Elementwise(value_type), self._leaf, seeding=SCALAR, tensor_type=value_type)
        self.module = api
        self.value_type = value_type
        self.unwrap = self._numbers
        names = _instance_attributes(value_type)
        self.grad = next((a for a in GRAD_ATTRIBUTES if a in names), "grad")

    def forward(self, op, case, inputs, spelling=None, passed_over=None):
        """The op on arrays of Values; a NumPy loop that finds no such operator or method on a Value
        (``max`` needs ``>``, ``sqrt`` a ``sqrt`` method) is the engine lacking the op."""
        try:
            tensors, out = super().forward(op, case, inputs, spelling, passed_over)
        except Exception as exc:  # noqa: BLE001
            cause = getattr(exc, "exc", None) or exc.__cause__ or exc
            text = str(cause)
            if isinstance(cause, TypeError) and any(w in text for w in _MISSING):
                raise Missing(f"no `{op.name}` in target (TypeError: {text})") from None
            raise
        if _holds_no_value(out, self.value_type):  # NumPy's ``less`` of Values: booleans, out of the graph
            raise Missing(f"no `{op.name}` in target: on {self.value_type.__name__}s it gives no "
                          f"{self.value_type.__name__}")
        how = self._spelled.get(op.name) or ""
        name = how.rsplit(".", 1)[-1]
        if how.startswith("function ") and name in _COMPARED:
            self._spelled[op.name] = f"{self.value_type.__name__}'s operator {_SYMBOLS[name]} on each entry"
        elif how.startswith("function ") and callable(getattr(self.value_type, name, None)):
            self._spelled[op.name] = f"{self.value_type.__name__}.{name}() on each entry"
        elif how.startswith("function "):  # NumPy's loop over the Values' operators
            self._spelled[op.name] = f"NumPy's {name} on arrays of {self.value_type.__name__}"
        elif how.startswith("the operators of "):
            self._spelled[op.name] = f"{self.value_type.__name__}'s operators on each entry ({how[17:]})"
        elif how.startswith("operator "):
            self._spelled[op.name] = f"{self.value_type.__name__}'s {how} on each entry"
        return tensors, self._as_values(out)

    def _as_values(self, out):
        """NumPy gives a lone Value (or a plain array) for some 0-d results: an array of Values again."""
        if isinstance(out, (list, tuple)):
            return type(out)(self._as_values(piece) for piece in out)
        if isinstance(out, self.value_type) or (isinstance(out, np.ndarray) and out.dtype == object):
            return _map(lambda v: v, np.array(out, dtype=object))
        return out

    def _leaf(self, array):
        make = leaf_factories(self.value_type)[0]  # Value(x, requires_grad=True) where it takes that
        return _map(lambda x: make(float(x)), np.asarray(array, dtype=float))

    def constant(self, array):
        return np.asarray(array, dtype=float)  # a Value times a number makes the number a Value of its own

    def _numbers(self, out, attr="data", unreached=None):
        def number(v):
            value = getattr(v, attr) if isinstance(v, self.value_type) else v
            return unreached if value is None else float(value)
        if isinstance(out, self.value_type):
            return np.asarray(number(out))
        numbers = _map(number, np.asarray(out, dtype=object))
        return np.asarray(numbers.view(np.ndarray), dtype=float)

    def read_grad(self, tensor):
        return self._numbers(tensor, self.grad, unreached=0.0)

    def describe(self):
        return (f"{self.name} (tensor: arrays of {self.value_type.__name__}, one number each; "
                f"{self.seeding})")
