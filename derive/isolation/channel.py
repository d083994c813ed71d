"""What crosses between the checker and a worker, and how the checker reads it safely.

Requests (checker to worker) are pickles: the worker trusts the checker.

Replies (worker to checker) are **data**.  The worker writes them as pickles of
builtins only (tuples, lists, dicts, strings, numbers, bytes), and the checker
reads them with an unpickler that builds no class at all, so a reply cannot run
code in the checker whatever the target did to its own process.  Arrays and
exact values cross as plain descriptions, rebuilt by :func:`decode_value`:

- ``("array", dtype, shape, bytes)``: a numeric dtype (bool, int, uint, float,
  complex; no objects), its shape, its bytes (a large buffer travels out of band);
- ``("exact", shape, [tree, ...])``: the entries of an exact-evidence array, each a
  tree of whitelisted node kinds: a Python int or float, ``("frac", p, q)``,
  ``("sym", name)`` (a symbol the checker sent, looked up, never parsed),
  ``("+", args)``, ``("*", args)``, ``("^", base, n)`` with a small integer ``n``;
- ``("none",)``, ``("constant",)`` (an engine left that input no gradient),
  ``("unreadable", type name, what)`` and, for a forward's list of outputs (split's),
  ``("pieces", [value, ...])``.

Every read is bounded: a frame's size is read first and a reply larger than its
request can hold is refused unread; the whole frame must arrive before a deadline,
not only its first byte; a tree is rebuilt within a node budget.
"""

from __future__ import annotations

import io
import pickle
import re
import select
import socket
import struct
import time
from fractions import Fraction

import numpy as np

__all__ = ["printable", "Channel", "loads_reply", "encode_value", "decode_value", "Unreadable", "ReplyError", "ReplyTimeout",
           "reply_limit", "MAX_MESSAGE"]

PROTOCOL = 5
#: arrays from this many bytes on cross as their own buffers, never copied into the pickle
OUT_OF_BAND = 64 * 2 ** 10
#: the most any message may carry, buffers included
MAX_MESSAGE = 2 ** 31
#: a reply with no arrays in it (a load, a support question) carries at most this much
SMALL_REPLY = 2 ** 20
#: bytes a reply may spend per entry it can legitimately hold (16 for complex128; the rest for exact trees)
BYTES_PER_ENTRY = 4096
#: nodes of exact trees a reply may hold per entry it can legitimately hold, and in any case
NODES_PER_ENTRY, MIN_NODES = 256, 2 ** 16
#: the largest integer (in bits) and power exponent an exact tree may hold
MAX_INT_BITS, MAX_EXPONENT = 4096, 8

_MAGIC = b"DRV1"
_HEADER = struct.Struct("<4sIQ")  # magic, number of buffers, size of the pickle


class ReplyError(Exception):
    """A worker's reply that is not one the checker can read."""


class ReplyTimeout(ReplyError):
    """A reply that did not arrive whole before its deadline."""


_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text):
    """A text from target code made safe to show: terminal escapes and control characters other than
    newline and tab removed (a message cannot recolour, move or rewrite a report's lines).

    >>> printable("ok\\x1b[2K\\rPASS")
    'ok PASS'
    """
    return _CONTROL.sub(" ", _ESCAPE.sub("", str(text)))


def reply_limit(*arrays):
    """The most bytes a reply about ``arrays`` (the inputs and G of one call) may take."""
    entries = 0
    for a in arrays:
        for piece in (a if isinstance(a, list) else [a]):
            entries += int(np.size(piece))
    return SMALL_REPLY + BYTES_PER_ENTRY * entries


# -- frames -------------------------------------------------------------------------------
class Channel:
    """One end of a stream socket carrying frames: a header, a pickle, its large buffers."""

    def __init__(self, sock):
        self.sock = sock

    def fileno(self):
        return self.sock.fileno()

    def close(self):
        self.sock.close()

    def poll(self, timeout):
        """Whether something can be read within ``timeout`` seconds."""
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        return bool(ready)

    def send(self, obj):
        """Send ``obj`` as a pickle, each large array buffer after it as it is (no copy on this side)."""
        buffers = []

        def out_of_band(buffer):
            raw = buffer.raw()
            if raw.nbytes < OUT_OF_BAND:
                return True
            buffers.append(raw)
            return False

        head = pickle.dumps(obj, protocol=PROTOCOL, buffer_callback=out_of_band)
        sizes = [b.nbytes for b in buffers]
        self.sock.sendall(_HEADER.pack(_MAGIC, len(sizes), len(head)) + struct.pack(f"<{len(sizes)}Q", *sizes)
                          + head)
        for raw in buffers:
            self.sock.sendall(raw)

    def receive(self, loads=None, deadline=None, limit=MAX_MESSAGE):
        """The next frame, read by ``loads(head, buffers)`` (default: plain pickle).

        The whole frame must arrive before ``deadline`` (a ``time.monotonic()`` value;
        None waits as long as it takes): :class:`ReplyTimeout` otherwise.  A frame
        announcing more than ``limit`` bytes is refused before anything is allocated
        for it (:class:`ReplyError`).  Buffers are read into writable memory.
        """
        magic, count, head_size = _HEADER.unpack(self._read(_HEADER.size, deadline))
        if magic != _MAGIC or count > 4096:
            raise ReplyError("a message with a broken header")
        sizes = struct.unpack(f"<{count}Q", self._read(8 * count, deadline)) if count else ()
        total = head_size + sum(sizes)
        if total > limit:
            raise ReplyError(f"a reply of {total} bytes, more than this call can hold ({limit} bytes)")
        head = self._read(head_size, deadline)
        buffers = [self._read(size, deadline) for size in sizes]
        return (loads or _plain_loads)(bytes(head), buffers)

    def _read(self, size, deadline):
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            if deadline is None:
                self.sock.settimeout(None)
            else:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ReplyTimeout("the reply did not arrive whole in time")
                self.sock.settimeout(remaining)
            try:
                n = self.sock.recv_into(view[got:])
            except socket.timeout:
                raise ReplyTimeout("the reply did not arrive whole in time") from None
            if n == 0:
                raise EOFError("the other end closed the channel")
            got += n
        return buffer


def _plain_loads(head, buffers):
    return pickle.loads(head, buffers=buffers)


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        raise ReplyError(f"a reply may not build {module}.{name}")

    def persistent_load(self, pid):
        raise ReplyError("a reply may not refer to outside objects")


def loads_reply(data, buffers=()):
    """Read a worker's reply: builtins only, :class:`ReplyError` for anything else."""
    try:
        return _DataUnpickler(io.BytesIO(data), buffers=buffers).load()
    except ReplyError:
        raise
    except Exception as exc:  # noqa: BLE001  a broken stream is the worker's fault
        raise ReplyError(f"unreadable reply ({type(exc).__name__}: {exc})") from None


# -- values: the worker's side ------------------------------------------------------------
class Unreadable:
    """A value the target returned that cannot cross as data (a tensor of objects, a generator...)."""

    def __init__(self, type_name, what):
        self.type_name, self.what = type_name, what

    def __array__(self, *args, **kwargs):
        raise TypeError(self.what)

    def __repr__(self):
        return f"<{self.type_name}: {self.what}>"


class _NotData(Exception):
    pass


def _tree(v):
    """One entry of an object array as a tree of builtins (worker side)."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v)
    if isinstance(v, Fraction):
        return ("frac", v.numerator, v.denominator)
    import sympy as sp
    if isinstance(v, sp.Symbol):
        return ("sym", v.name)
    if isinstance(v, sp.Integer):
        return int(v)
    if isinstance(v, sp.Rational):
        return ("frac", int(v.p), int(v.q))
    if isinstance(v, sp.Float):
        return float(v)
    if isinstance(v, sp.Add):
        return ("+", [_tree(a) for a in v.args])
    if isinstance(v, sp.Mul):
        return ("*", [_tree(a) for a in v.args])
    if isinstance(v, sp.Pow) and isinstance(v.exp, sp.Integer):
        return ("^", _tree(v.base), int(v.exp))
    raise _NotData(type(v).__name__)


def encode_value(value, to_array, constant):
    """One gradient or output as a description made of builtins (runs in the worker)."""
    if value is None:
        return ("none",)
    if value is constant:
        return ("constant",)
    try:
        array = to_array(value)
    except Exception as exc:  # noqa: BLE001  shown as "not an array"
        return ("unreadable", type(value).__name__, f"{type(exc).__name__}: {exc}"[:2000])
    if not isinstance(array, np.ndarray):
        return ("unreadable", type(value).__name__, "not an array")
    if array.dtype.hasobject:
        try:
            return ("exact", list(array.shape), [_tree(v) for v in array.ravel()])
        except (_NotData, RecursionError) as exc:
            return ("unreadable", type(value).__name__, f"holds objects that are not numbers ({exc})")
    if array.dtype.kind not in _KINDS:
        return ("unreadable", type(value).__name__, f"an array of dtype {array.dtype}")
    array = np.asarray(array, dtype=array.dtype.newbyteorder("="), order="C")  # keeps a 0-d array 0-d
    return ("array", array.dtype.str, list(array.shape), pickle.PickleBuffer(array))


# -- values: the checker's side -----------------------------------------------------------
_KINDS = "biufc"
_DTYPES = {np.dtype(c).str: np.dtype(c) for c in "?bBhHiIlLqQefdgFDG"}


class Budget:
    """How many tree nodes a reply may still make the checker build."""

    def __init__(self, nodes):
        self.nodes = int(nodes)

    def spend(self, n=1):
        self.nodes -= n
        if self.nodes < 0:
            raise ReplyError("a reply with more terms than its case can hold")


def _int(v):
    if type(v) is not int or v.bit_length() > MAX_INT_BITS:
        raise ReplyError("a reply with a number that is not a bounded integer")
    return v


def _rebuild(node, symbols, budget, sp):
    """A tree of whitelisted kinds back into a number or SymPy expression (no parsing, no eval)."""
    budget.spend()
    kind = type(node)
    if kind is int:
        return _int(node)
    if kind is float:
        return node
    if kind is not tuple or not node or type(node[0]) is not str:
        raise ReplyError("a reply with an entry that is not a number or a polynomial")
    tag = node[0]
    if tag == "frac" and len(node) == 3:
        p, q = _int(node[1]), _int(node[2])
        if q <= 0:
            raise ReplyError("a reply with a fraction whose denominator is not positive")
        return Fraction(p, q)
    if tag == "sym" and len(node) == 2:
        symbol = symbols.get(node[1]) if type(node[1]) is str else None
        if symbol is None:
            raise ReplyError("a reply with a symbol that its case does not have")
        return symbol
    if tag in ("+", "*") and len(node) == 2 and type(node[1]) is list:
        budget.spend(len(node[1]))
        args = [_sympy_number(_rebuild(a, symbols, budget, sp), sp) for a in node[1]]
        return sp.Add(*args) if tag == "+" else sp.Mul(*args)
    if tag == "^" and len(node) == 3 and type(node[2]) is int and abs(node[2]) <= MAX_EXPONENT:
        return sp.Pow(_sympy_number(_rebuild(node[1], symbols, budget, sp), sp), node[2])
    raise ReplyError("a reply with an entry that is not a number or a polynomial")


def _sympy_number(v, sp):
    if isinstance(v, Fraction):
        return sp.Rational(v.numerator, v.denominator)
    if isinstance(v, float):
        return sp.Float(v)
    return v


def decode_value(item, constant, symbols=None, budget=None):
    """The checker's side of :func:`encode_value`: an ndarray, None, ``constant``, an
    :class:`Unreadable` or a list of those; :class:`ReplyError` for anything else.

    ``symbols`` maps the names of the symbols the checker sent to the symbols themselves
    (only those may come back); ``budget`` bounds the tree nodes rebuilt.
    """
    budget = Budget(MIN_NODES) if budget is None else budget
    if type(item) is not tuple or not item or type(item[0]) is not str:
        raise ReplyError("a reply value without its tag")
    tag, rest = item[0], item[1:]
    if tag == "array" and len(rest) == 3:
        return _array(*rest)
    if tag == "exact" and len(rest) == 2:
        shape, entries = _shape(rest[0]), rest[1]
        if type(entries) is not list or len(entries) != int(np.prod(shape, dtype=np.int64)):
            raise ReplyError("a reply whose entries do not fill its shape")
        import sympy as sp
        out = np.empty(len(entries), dtype=object)
        for k, node in enumerate(entries):
            out[k] = _rebuild(node, symbols or {}, budget, sp)
        return out.reshape(shape)
    if tag == "none" and not rest:
        return None
    if tag == "constant" and not rest:
        return constant
    if tag == "pieces" and len(rest) == 1 and type(rest[0]) is list:
        budget.spend(len(rest[0]))
        return [decode_value(v, constant, symbols, budget) for v in rest[0]]
    if tag == "unreadable" and len(rest) == 2:
        return Unreadable(str(rest[0])[:200], str(rest[1])[:2000])
    raise ReplyError(f"unknown value tag {tag!r}")


def _shape(shape):
    if type(shape) is not list or len(shape) > 32 or any(type(n) is not int or n < 0 for n in shape):
        raise ReplyError("a reply with a shape that is not a list of sizes")
    if int(np.prod(shape, dtype=np.float64)) > MAX_MESSAGE:
        raise ReplyError("a reply with a shape larger than any reply")
    return tuple(shape)


def _array(dtype, shape, data):
    dtype = _DTYPES.get(dtype) if type(dtype) is str else None
    if dtype is None:
        raise ReplyError("a reply with an array of a dtype that is not numeric")
    shape = _shape(shape)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ReplyError("a reply with an array without its bytes")
    data = memoryview(data).cast("B")
    if data.nbytes != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise ReplyError("a reply with an array whose bytes do not fill its shape")
    if data.readonly:
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
    return np.frombuffer(data, dtype=dtype).reshape(shape)


def symbols_of(*arrays):
    """The SymPy symbols in object arrays (inputs and G sent to a worker), by name."""
    import sympy as sp
    found = {}
    for a in arrays:
        for piece in (a if isinstance(a, list) else [a]):
            piece = np.asarray(piece)
            if piece.dtype == object:
                for v in piece.ravel():
                    if isinstance(v, sp.Symbol):
                        found[v.name] = v
    return found
