"""What crosses between the checker and a worker, and how the checker reads it safely.

Requests (checker to worker) are plain pickles: the worker trusts the checker.
Replies (worker to checker) are read by :func:`loads_reply`, an unpickler that
builds only NumPy arrays and scalars, fractions, SymPy expressions and builtin
containers: a reply cannot run code in the checker, whatever the target did to
its own process.

A gradient crosses as ``(tag, value)``: ``("array", ndarray)``, ``("none", None)``,
``("constant", None)`` (an engine left that input no gradient) or
``("unreadable", "what it was")``; a forward's list of outputs (split's) as
``("pieces", [(tag, value), ...])``.
"""

from __future__ import annotations

import io
import pickle
import struct
from fractions import Fraction

import numpy as np

__all__ = ["loads_reply", "dumps", "send", "receive", "encode_value", "decode_value", "Unreadable", "ReplyError"]

PROTOCOL = 5
#: arrays from this many bytes on cross as their own messages, never copied into the pickle
OUT_OF_BAND = 64 * 2 ** 10
#: the most a message may carry, buffers included
MAX_MESSAGE = 2 ** 31

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


def loads_reply(data, buffers=()):
    """Read a worker's reply; :class:`ReplyError` for anything but data."""
    try:
        return _SafeUnpickler(io.BytesIO(data), buffers=buffers).load()
    except ReplyError:
        raise
    except Exception as exc:  # noqa: BLE001  a broken stream is the worker's fault
        raise ReplyError(f"unreadable reply ({type(exc).__name__}: {exc})") from None


def dumps(obj):
    return pickle.dumps(obj, protocol=PROTOCOL)


def send(conn, obj):
    """Send ``obj``: a small pickle, then each large array buffer as it is (no copy on this side)."""
    buffers = []

    def out_of_band(buffer):
        raw = buffer.raw()
        if raw.nbytes < OUT_OF_BAND:
            return True
        buffers.append(raw)
        return False

    head = pickle.dumps(obj, protocol=PROTOCOL, buffer_callback=out_of_band)
    sizes = [b.nbytes for b in buffers]
    conn.send_bytes(struct.pack(f"<I{len(sizes)}Q", len(sizes), *sizes) + head)
    for raw in buffers:
        conn.send_bytes(raw)


def receive(conn, loads=None):
    """Receive what :func:`send` sent; ``loads(data, buffers)`` reads it (default: plain pickle).

    Buffers are received into writable memory, so arrays built on them are writable.
    """
    data = conn.recv_bytes(MAX_MESSAGE)
    if len(data) < 4:
        raise ReplyError("a message without its header")
    (count,) = struct.unpack_from("<I", data)
    if count > 4096 or len(data) < 4 + 8 * count:
        raise ReplyError("a message with a broken header")
    sizes = struct.unpack_from(f"<{count}Q", data, 4)
    if sum(sizes) > MAX_MESSAGE:
        raise ReplyError("a message larger than the limit")
    buffers = []
    for size in sizes:
        buffer = bytearray(size)
        if conn.recv_bytes_into(buffer) != size:
            raise ReplyError("a buffer of the wrong size")
        buffers.append(buffer)
    head = data[4 + 8 * count:]
    if loads is None:
        return pickle.loads(head, buffers=buffers)
    return loads(head, buffers)


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
    kinds = {type(v) for v in array.ravel()}
    return all(issubclass(k, _SCALARS) or issubclass(k, sympy.Basic) for k in kinds)


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
    if tag == "pieces" and isinstance(value, list):  # a forward's list of outputs (split's)
        return [decode_value(v, constant) for v in value]
    if tag == "unreadable":
        type_name, what = value
        return Unreadable(str(type_name), str(what))
    raise ReplyError(f"unknown value tag {tag!r}")
