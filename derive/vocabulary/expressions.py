"""The symbolic vocabulary op definitions are written in.

An op's elementwise definition receives one :class:`SymArray` per input and
returns an :class:`Output`: the output's (symbolic) shape and a function from
output indices to the output entry, a SymPy expression of input entries.

>>> import sympy as sp
>>> X = SymArray("X", (sp.Symbol("n"), 3))
>>> X[sp.Symbol("k"), 0]
X[k, 0]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp
from sympy.concrete.expr_with_limits import ExprWithLimits

__all__ = ["SymArray", "Output", "summation", "nested_sum", "index", "dim", "broadcast_shapes",
           "broadcast_index", "normalize_axes", "Relu", "Sigmoid", "Bracket", "bracket", "NegInfUnless", "MaxOver", "MinOver", "expand_products", "unroll", "Unravel", "ravel", "unravel"]


def index(name):
    """An integer index symbol."""
    return sp.Symbol(name, integer=True)


def dim(value):
    """A dimension size: an int, or a symbol (``str`` or SymPy symbol), positive."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, str):
        return sp.Symbol(value, positive=True, integer=True)
    if isinstance(value, bool) or not isinstance(value, int) and not hasattr(value, "__index__"):
        raise ValueError(f"a dimension must be an int or a symbol name, got {value!r}")
    value = int(value)
    if value < 0:
        raise ValueError(f"a dimension cannot be negative, got {value}")
    return sp.Integer(value)


class SymArray:
    """An input array of an op, as SymPy sees it: a name and a shape.

    Indexing with index symbols (or ints) gives the entry, ``X[k, l]``.  A 0-d
    array's only entry is ``X[()]``, a plain symbol.
    """

    def __init__(self, name, shape, base=None):
        self.name = name
        self.shape = tuple(dim(n) for n in shape)
        self.base = base if base is not None else sp.IndexedBase(name)
        self.scalar = sp.Symbol(name)

    @property
    def ndim(self):
        return len(self.shape)

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        if len(idx) != self.ndim:
            raise ValueError(f"{self.name} has {self.ndim} dimensions, indexed with {len(idx)}")
        if not idx:
            return self.scalar
        return self.base[idx]

    def __repr__(self):
        return f"SymArray({self.name!r}, {self.shape})"


@dataclass(frozen=True)
class Output:
    """What an op definition returns: the output's shape and its entries.

    Attributes
    ----------
    shape : tuple
        The output shape (ints or SymPy expressions).
    entry : callable
        ``entry(*output_indices) -> sympy.Expr``, the output entry at those indices.
    """

    shape: tuple
    entry: Callable


class NamePool:
    """Readable, unused index names, taken in order from a preferred list."""

    def __init__(self, preferred, reserved=()):
        self.preferred = list(preferred)
        self.reserved = set(reserved)

    def reset(self, reserved=()):
        self.reserved = set(reserved)

    def take(self):
        for name in self.preferred:
            if name not in self.reserved:
                self.reserved.add(name)
                return index(name)
        k = 1
        while f"{self.preferred[0]}{k}" in self.reserved:
            k += 1
        self.reserved.add(f"{self.preferred[0]}{k}")
        return index(f"{self.preferred[0]}{k}")


_fresh = NamePool("r s t u v w".split())


def summation(body, size):
    """``Sum(body(r), (r, 0, size - 1))`` with a fresh index ``r``."""
    r = _fresh.take()
    return sp.Sum(body(r), (r, 0, dim(size) - 1))


def nested_sum(body, sizes, chosen=()):
    """``Sum_{r1} ... Sum_{rn} body((r1, ..., rn))``: one fresh index per size."""
    if not sizes:
        return body(chosen)
    return summation(lambda s: nested_sum(body, sizes[1:], chosen + (s,)), sizes[0])


def broadcast_shapes(*shapes, op="broadcast"):
    """NumPy's broadcast rule on symbolic shapes; ValueError if they do not fit."""
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for axis in range(ndim):
        sizes = [s[axis - ndim + len(s)] for s in shapes if axis - ndim + len(s) >= 0]
        non_one = {n for n in sizes if n != 1}
        if len(non_one) > 1:
            raise ValueError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                             "cannot be broadcast together")
        out.append(non_one.pop() if non_one else sp.Integer(1))
    return tuple(out)


def normalize_axes(axis, ndim, op="reduce"):
    """NumPy's ``axis`` (None, int or tuple, negatives allowed) as a sorted tuple; ValueError if invalid."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= int(a) < ndim:
            raise ValueError(f"{op}: axis {a} is out of bounds for {ndim} dimensions")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: repeated axis in {axis}")
    return tuple(sorted(out))


def broadcast_index(shape, out_shape, out_idx):
    """The index of an input of ``shape`` read at output index ``out_idx`` under broadcasting."""
    lead = len(out_shape) - len(shape)
    return tuple(sp.Integer(0) if n == 1 and out_shape[lead + a] != 1 else out_idx[lead + a]
                 for a, n in enumerate(shape))


class Relu(sp.Function):
    """``max(x, 0)``, whose derivative is taken as ``Heaviside(x, 0)`` (0 at 0)."""

    def fdiff(self, argindex=1):
        return sp.Heaviside(self.args[0], 0)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sp.Max(x, 0)


class NegInfUnless(sp.Function):
    """0 where every condition holds, ``-inf`` elsewhere: added to a read, a position outside the
    input (max-pooling's padding, which torch fills with ``-inf``) never wins a max.

    It holds no input, so it has no derivative; it stays symbolic (``0 * -inf`` never forms) and is
    evaluated as ``np.where(conditions, 0, -inf)``.
    """

    is_real = False  # it may be -inf: SymPy must not treat it as a finite real in simplifications

    @classmethod
    def eval(cls, *conditions):
        if any(c is sp.false for c in conditions):
            return -sp.oo
        if all(c is sp.true for c in conditions):
            return sp.Integer(0)

    def _latex(self, printer):
        return r"(-\infty)\,[\lnot(" + r") \wedge (".join(printer._print(c) for c in self.args) + ")]"


class Sigmoid(sp.Function):
    """The logistic function ``1 / (1 + exp(-x))``."""

    def fdiff(self, argindex=1):
        return Sigmoid(self.args[0]) * (1 - Sigmoid(self.args[0]))

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sp.exp(-x))

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sp.exp(-x))


class Bracket(sp.Function):
    """The Iverson bracket ``[cond]``: 1 where ``cond`` holds, 0 elsewhere.

    Index formulas use it for what a delta or a read leaves behind: a read
    outside the array (padding reads zero), a stride that must divide
    (``[Mod(b + p - j, s) = 0]``), a comparison of entries (``[X[k] < Y[k]]``).  Its
    derivative with respect to array entries is 0: a condition of indices does not
    depend on them, one of entries is constant off the ties where it flips.

    >>> i = index("i")
    >>> Bracket(sp.Le(0, i - 1))
    [0 <= i - 1]
    >>> Bracket(sp.Le(0, i - 1)).subs(i, 0)
    0
    """

    is_integer = True
    is_nonnegative = True

    def _eval_derivative(self, s):
        # a condition on entries ([X < Y], a comparison's) flips only where they tie: 0 elsewhere
        return sp.Integer(0)

    @classmethod
    def eval(cls, cond):
        if cond is sp.true or cond == True:  # noqa: E712  SymPy's true, or a Python bool
            return sp.Integer(1)
        if cond is sp.false or cond == False:  # noqa: E712
            return sp.Integer(0)

    def _sympystr(self, printer):
        cond = self.args[0]
        if isinstance(cond, sp.Eq):
            return f"[{printer.doprint(cond.lhs)} = {printer.doprint(cond.rhs)}]"
        return f"[{printer.doprint(cond)}]"

    def _latex(self, printer):
        return rf"\left[{printer.doprint(self.args[0])}\right]"


class _ExtremeOver(ExprWithLimits):
    """The largest (or smallest) value of ``function`` over the limits, like a ``Sum`` that takes a max.

    Its derivative shares ``G`` evenly between tied extremes (torch's ``amax``):
    ``d/dx_k = [x_k = max] / #{j: x_j = max}`` (see :mod:`derive.symbolic.contraction`).
    """

    pick = None  # sp.Max or sp.Min

    def doit(self, **hints):
        function = self.function.doit(**hints) if hints.get("deep", True) else self.function
        if not _concrete(self):
            return self.func(function, *self.limits)
        return self.pick(*_written_out(function, self.limits))


class MaxOver(_ExtremeOver):
    """``max`` of an expression over index ranges: ``MaxOver(X[k, r], (r, 0, n - 1))``."""

    pick = sp.Max


class MinOver(_ExtremeOver):
    """``min`` of an expression over index ranges."""

    pick = sp.Min


def bracket(*conditions):
    """``[c1 and c2 ...]``, as a product of brackets (1 when there are none)."""
    return sp.Mul(*[Bracket(c) for c in conditions])


class Unravel(sp.Function):
    """``Unravel(f, shape, t)``: axis ``t`` of the C-order multi-index of flat index ``f``.

    Stays symbolic until ``f`` and ``shape`` are integers.
    """

    is_integer = True
    is_nonnegative = True

    @classmethod
    def eval(cls, f, shape, t):
        if len(shape) == 1:
            return f  # a flat index is its own multi-index in one dimension
        if f.is_Integer and all(n.is_Integer for n in shape) and t.is_Integer:
            stride = 1
            for n in shape[int(t) + 1:]:
                stride *= int(n)
            return sp.Integer((int(f) // stride) % int(shape[int(t)]))


def ravel(idx, shape):
    """The C-order flat index of multi-index ``idx`` in ``shape``."""
    flat = sp.Integer(0)
    for i, n in zip(idx, shape):
        flat = flat * n + i
    return flat


def unravel(flat, shape):
    """The C-order multi-index of ``flat`` in ``shape`` (a tuple of :class:`Unravel`)."""
    shape_t = sp.Tuple(*shape)
    return tuple(Unravel(flat, shape_t, t) for t in range(len(shape)))


def expand_products(expr):
    """``expr`` as a sum of products, its top level multiplied out (powers, logs and the inside of
    sums and functions left as they are)."""
    return sp.expand(expr, deep=False, mul=True, multinomial=False, power_exp=False, power_base=False, log=False)


def unroll(expr):
    """Sums (and max/min) over concrete ranges written out term by term: what ``doit`` gives for them,
    without SymPy's search for a closed-form sum (seconds on a sum of brackets).

    Outer ranges are written out first, so an inner max is still a ``MaxOver`` when the outer index
    is put in; a written-out max of symbolic terms is left unevaluated (SymPy's search for dominated
    arguments is quadratic in them with a costly comparison each: minutes for a padded 3x3 window,
    rebuilt at every substitution); ``doit`` evaluates it once the values are in.
    """
    if isinstance(expr, (sp.Sum, _ExtremeOver)) and _concrete(expr):
        values = [unroll(v) for v in _written_out(expr.function, expr.limits)]
        return sp.Add(*values) if isinstance(expr, sp.Sum) else expr.pick(*values, evaluate=False)
    if not expr.args or not expr.has(sp.Sum, _ExtremeOver):
        return expr
    args = [unroll(a) for a in expr.args]
    return expr if all(a is b for a, b in zip(args, expr.args)) else expr.func(*args)


def _concrete(e):
    """Are all the ranges of ``e`` (a sum or an extreme) integers?"""
    return all(lo.is_Integer and hi.is_Integer for _, lo, hi in e.limits)


def _written_out(function, limits):
    """``function`` at every point of the (integer) ranges ``limits``, in order."""
    values = [function]
    for k, lo, hi in limits:
        values = [v.xreplace({k: sp.Integer(i)}) for v in values for i in range(int(lo), int(hi) + 1)]
    return values
