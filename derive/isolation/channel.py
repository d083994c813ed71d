"""What crosses between the checker and a worker, and how the checker reads it safely.

Requests (checker to worker) are plain pickles: the worker trusts the checker.
Replies (worker to checker) are read by :func:`loads_reply`, an unpickler that
builds only NumPy arrays and scalars, fractions, SymPy expressions and builtin
containers: a reply cannot run code in the checker, whatever the target did to
its own process.

A gradient crosses as ``(tag, value)``: ``("array", ndarray)``, ``("none", None)``,
``("constant", None)`` (an engine left that input no gradient) or
``("unreadable", "what it was")``.
"""

from __future__ import annotations

import io
import pickle
from fractions import Fraction

import numpy as np

__all__ = ["loads_reply", "dumps", "encode_value", "decode_value", "Unreadable", "ReplyError"]

PROTOCOL = 5

_NUMPY = {("numpy", "dtype"), ("numpy", "ndarray"),
          ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
          ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
          ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer")}
_BUILTINS = {"complex", "set", "frozenset", "slice", "range"}


class ReplyError(Exception):
    """A worker's reply that is not one the checker can read."""


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _NUMPY or module.startswith("numpy.dtypes"):
            return super().find_class(module, name)
        if module == "builtins" and name in _BUILTINS:
            return super().find_class(module, name)
        if (module, name) == ("fractions", "Fraction"):
            return Fraction
        if module == "sympy" or module.startswith("sympy."):
            import sympy
            obj = super().find_class(module, name)
            if isinstance(obj, type) and issubclass(obj, sympy.Basic):
                return obj
        raise ReplyError(f"a reply may not build {module}.{name}")


def loads_reply(data):
    """Read a worker's reply; :class:`ReplyError` for anything but data."""
    try:
        return _SafeUnpickler(io.BytesIO(data)).load()
    except ReplyError:
        raise
    except Exception as exc:  # noqa: BLE001  a broken stream is the worker's fault
        raise ReplyError(f"unreadable reply ({type(exc).__name__}: {exc})") from None


def dumps(obj):
    return pickle.dumps(obj, protocol=PROTOCOL)


class Unreadable:
    """A value the target returned that cannot cross as data (a tensor of objects, a generator...)."""

    def __init__(self, type_name, what):
        self.type_name, self.what = type_name, what

    def __array__(self, *args, **kwargs):
        raise TypeError(self.what)

    def __repr__(self):
        return f"<{self.type_name}: {self.what}>"


_SCALARS = (int, float, complex, bool, Fraction, np.number, np.bool_)


def _plain(array):
    """Whether an object array holds only numbers and SymPy expressions."""
    import sympy
    return all(isinstance(v, _SCALARS) or isinstance(v, sympy.Basic) for v in array.ravel())


def encode_value(value, to_array, constant):
    """One gradient or output, as ``(tag, value)`` (runs in the worker)."""
    if value is None:
        return ("none", None)
    if value is constant:
        return ("constant", None)
    try:
        array = to_array(value)
    except Exception as exc:  # noqa: BLE001  shown as "not an array"
        return ("unreadable", (type(value).__name__, f"{type(exc).__name__}: {exc}"))
    if not isinstance(array, np.ndarray) or array.dtype.hasobject and not _plain(array):
        return ("unreadable", (type(value).__name__, "holds objects that are not numbers"))
    return ("array", array)


def decode_value(item, constant):
    """The checker's side of :func:`encode_value`."""
    tag, value = item
    if tag == "array" and isinstance(value, np.ndarray):
        return value
    if tag == "none":
        return None
    if tag == "constant":
        return constant
    if tag == "unreadable":
        type_name, what = value
        return Unreadable(str(type_name), str(what))
    raise ReplyError(f"unknown value tag {tag!r}")
