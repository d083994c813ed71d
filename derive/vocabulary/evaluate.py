"""Vectorized evaluation of an index formula on concrete arrays.

Where no closed form is recognised (strided reads, padding brackets, windows),
the contracted index formula itself is the reference.  :class:`IndexFormula`
compiles it once into NumPy operations with one axis per index, and evaluates
it with no Python loop over entries:

- a read ``A[e0, e1]`` gathers with integer index arrays (zero where an index
  falls outside ``A``: padding reads zero);
- an Iverson bracket ``[cond]`` is a boolean mask;
- a sum of a product of factors is one ``np.einsum`` over the factors' axes,
  so a convolution's gradient costs a tensor contraction, not a loop.

It works on float arrays and on object arrays (SymPy symbols, fractions), so
the exact checks use the same code.

>>> import numpy as np, sympy as sp
>>> from derive.vocabulary.expressions import SymArray, index
>>> i, j, n = index("i"), index("j"), sp.Symbol("n", positive=True, integer=True)
>>> G = SymArray("G", (n,))
>>> f = IndexFormula(G[n - 1 - i], (i,), (n,), {n: ("G", 0)})
>>> f({"G": np.array([1.0, 2.0, 3.0])})
array([3., 2., 1.])
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .expressions import Bracket, MaxOver, MinOver, NegInfUnless, Relu, Sigmoid, Unravel, _ExtremeOver, expand_products

__all__ = ["IndexFormula"]

_FUNCTIONS = {
    sp.exp: np.exp, sp.log: np.log, sp.tanh: np.tanh, sp.sin: np.sin, sp.cos: np.cos,
    sp.Abs: np.abs, sp.sign: np.sign, sp.sinh: np.sinh, sp.cosh: np.cosh,
    sp.erf: np.vectorize(math.erf, otypes=[float]),
    Relu: lambda x: np.maximum(x, 0), Sigmoid: lambda x: 1 / (1 + np.exp(-x)),
}


class IndexFormula:
    """A compiled index formula: ``f(env)`` is the array of its values at every free index.

    Parameters
    ----------
    formula : sympy.Expr
        Reads of arrays (``Indexed``), sums, brackets, arithmetic and the
        elementwise functions of the catalog.
    free : tuple of Symbol
        The free indices, one per axis of the result.
    shape : tuple
        Their ranges, expressions of size symbols and params.
    dims : dict
        Size symbol -> ``(array name, axis)``: where its value is read.
    params : dict, optional
        Parameter symbol -> name in ``env``.
    """

    def __init__(self, formula, free, shape, dims, params=None):
        formula = _merge_sums(formula)
        self.formula = formula
        self.free = tuple(free)
        self.dims = dict(dims)
        self.params = dict(params or {})
        self.shape = tuple(shape)
        self.axis = {i: t for t, i in enumerate(self.free)}
        self.sizes = {i: n for i, n in zip(self.free, self.shape)}
        self._collect_sums(formula)
        self.ndim = len(self.axis)
        self.size_functions = {}
        for k, n in self.sizes.items():  # each range, as a function of the sizes and params it needs
            n = sp.sympify(n)
            args = sorted(n.free_symbols, key=str)
            self.size_functions[k] = (sp.lambdify(args, n, "math"), args)
        self.size_symbols = {s for _, args in self.size_functions.values() for s in args}
        self.run = self._compile(formula)

    def _collect_sums(self, expr):
        for s in expr.atoms(sp.Sum, MaxOver, MinOver):
            for k, lo, hi in s.limits:
                if lo != 0:
                    raise ValueError(f"sums must start at 0, got {s}")
                if k not in self.axis:
                    self.axis[k] = len(self.axis)
                    self.sizes[k] = hi + 1

    # ---- evaluation --------------------------------------------------------------------------

    def __call__(self, env, broadcast=True):
        """The values at every free index; ``broadcast=False`` keeps the axes a value does not
        depend on at size 1 (an index array that varies along one axis stays that small)."""
        ctx = _Context(self, env)
        out = np.asarray(self.run(ctx))
        if out.ndim > len(self.free):  # the trailing axes are the sums', of size 1 out here
            out = out.reshape(out.shape[:len(self.free)])
        if not broadcast:
            return out.reshape(out.shape + (1,) * (len(self.free) - out.ndim)) if out.ndim else out
        return np.array(np.broadcast_to(out, tuple(ctx.size(i) for i in self.free)))

    # ---- compilation -------------------------------------------------------------------------

    def _compile(self, expr):
        if isinstance(expr, sp.Sum):
            return self._compile_sum(expr)
        if isinstance(expr, _ExtremeOver):
            return self._compile_extreme(expr)
        if isinstance(expr, sp.Indexed):
            return self._compile_read(expr)
        if isinstance(expr, sp.KroneckerDelta):  # a delta no sum contracted: an equality mask
            expr = Bracket(sp.Eq(*expr.args))
        if isinstance(expr, Bracket):
            cond = self._compile_condition(expr.args[0])
            return lambda ctx: cond(ctx).astype(np.int64)
        if isinstance(expr, NegInfUnless):
            conds = [self._compile_condition(c) for c in expr.args]
            return lambda ctx: np.where(_fold(np.logical_and, [c(ctx) for c in conds]), 0.0, -np.inf)
        if isinstance(expr, sp.Symbol):
            return self._compile_symbol(expr)
        if expr.is_Integer:
            value = int(expr)
            return lambda ctx: value
        if expr.is_Rational:
            value = sp.Rational(expr)
            p, q = int(value.p), int(value.q)
            return lambda ctx: ctx.rational(p, q)
        if expr.is_Number:
            value = float(expr)
            return lambda ctx: value
        if isinstance(expr, sp.Add):
            parts = [self._compile(a) for a in expr.args]
            return lambda ctx: _total(p(ctx) for p in parts)
        if isinstance(expr, sp.Mul):
            return self._compile_product(expr.args)
        if isinstance(expr, sp.Pow):
            base, exp = self._compile(expr.base), expr.exp
            if exp.is_Integer:
                e = int(exp)
                if e < 0:
                    return lambda ctx: 1 / base(ctx) ** (-e) if ctx.floating else _inverse(base(ctx)) ** (-e)
                return lambda ctx: base(ctx) ** e
            if exp == sp.Rational(1, 2):
                return lambda ctx: np.sqrt(base(ctx))
            power = self._compile(exp)
            return lambda ctx: np.power(base(ctx), power(ctx))
        if isinstance(expr, sp.Heaviside):
            arg = self._compile(expr.args[0])
            at0 = float(expr.args[1]) if len(expr.args) > 1 else 0.5
            return lambda ctx: np.heaviside(arg(ctx), at0)
        if isinstance(expr, (sp.Max, sp.Min)):
            args = [self._compile(a) for a in expr.args]
            fn = np.maximum if isinstance(expr, sp.Max) else np.minimum
            return lambda ctx: _fold(fn, [a(ctx) for a in args])
        if isinstance(expr, sp.Piecewise):
            pieces = [(self._compile(v), self._compile_condition(c)) for v, c in expr.args]
            return lambda ctx: _piecewise(ctx, pieces)
        if isinstance(expr, (sp.Mod, sp.floor)):
            return self._compile_integer(expr)
        fn = _FUNCTIONS.get(expr.func)
        if fn is not None and len(expr.args) == 1:
            arg = self._compile(expr.args[0])
            return lambda ctx: fn(arg(ctx))
        raise ValueError(f"cannot evaluate {expr} ({type(expr).__name__}) in an index formula")

    def _compile_symbol(self, sym):
        if sym in self.axis:
            t = self.axis[sym]
            return lambda ctx: ctx.arange(t)
        if sym in self.dims:
            name, axis = self.dims[sym]
            return lambda ctx: np.shape(ctx.env[name])[axis]
        if sym in self.params:
            name = self.params[sym]
            return lambda ctx: ctx.env[name]
        name = sym.name
        return lambda ctx: np.asarray(ctx.env[name])[()]  # a 0-d array's entry

    def _compile_integer(self, expr):
        """An integer-valued index expression: exact integer arithmetic."""
        if isinstance(expr, sp.Mod):
            a, b = self._compile_integer(expr.args[0]), self._compile_integer(expr.args[1])
            return lambda ctx: np.mod(a(ctx), b(ctx))
        if isinstance(expr, sp.floor):
            num, den = sp.fraction(sp.together(expr.args[0]))
            n, d = self._compile_integer(num), self._compile_integer(den)
            return lambda ctx: np.floor_divide(n(ctx), d(ctx))
        if isinstance(expr, Unravel):  # axis t of the C-order multi-index of a flat index
            flat, shape, t = expr.args
            f = self._compile_integer(flat)
            sizes = [self._compile_integer(n) for n in shape]
            t = int(t)
            return lambda ctx: np.mod(np.floor_divide(f(ctx), _fold(np.multiply, [1] + [n(ctx) for n in sizes[t + 1:]])),
                                      sizes[t](ctx))
        num, den = sp.fraction(sp.together(expr))
        if den != 1:
            n, d = self._compile_integer(num), self._compile_integer(den)
            return lambda ctx: np.floor_divide(n(ctx), d(ctx))  # exact where a bracket keeps it
        if isinstance(expr, sp.Add):
            parts = [self._compile_integer(a) for a in expr.args]
            return lambda ctx: _total(p(ctx) for p in parts)
        if isinstance(expr, sp.Mul):
            parts = [self._compile_integer(a) for a in expr.args]
            return lambda ctx: _fold(np.multiply, [p(ctx) for p in parts])
        if expr.is_Integer:
            value = int(expr)
            return lambda ctx: value
        if isinstance(expr, sp.Symbol):
            sym = self._compile_symbol(expr)
            return lambda ctx: np.asarray(sym(ctx), dtype=np.int64)
        if isinstance(expr, sp.Pow) and expr.exp.is_Integer and expr.exp > 0:
            base, e = self._compile_integer(expr.base), int(expr.exp)
            return lambda ctx: base(ctx) ** e
        raise ValueError(f"cannot evaluate the index {expr}")

    def _compile_condition(self, cond):
        if cond is sp.true:
            return lambda ctx: np.bool_(True)
        if isinstance(cond, sp.And):
            parts = [self._compile_condition(c) for c in cond.args]
            return lambda ctx: _fold(np.logical_and, [p(ctx) for p in parts])
        if isinstance(cond, sp.Or):
            parts = [self._compile_condition(c) for c in cond.args]
            return lambda ctx: _fold(np.logical_or, [p(ctx) for p in parts])
        if isinstance(cond, sp.Not):
            inner = self._compile_condition(cond.args[0])
            return lambda ctx: np.logical_not(inner(ctx))
        ops = {sp.Eq: np.equal, sp.Ne: np.not_equal, sp.Le: np.less_equal, sp.Lt: np.less,
               sp.Ge: np.greater_equal, sp.Gt: np.greater}
        if type(cond) in ops:
            fn = ops[type(cond)]
            integer = not (cond.lhs.has(sp.Indexed) or cond.rhs.has(sp.Indexed)) and all(
                sym.is_integer for sym in cond.free_symbols)  # a 0-d input's entry is a plain symbol
            compile_side = self._compile_integer if integer else self._compile
            a, b = compile_side(cond.lhs), compile_side(cond.rhs)
            return lambda ctx: fn(a(ctx), b(ctx))
        raise ValueError(f"cannot evaluate the condition {cond}")

    def _compile_read(self, expr):
        name = str(expr.base)
        idx = [self._compile_integer(e) for e in expr.indices]
        return lambda ctx: ctx.read(name, [f(ctx) for f in idx])

    def _compile_product(self, args):
        parts = [self._compile(a) for a in args]
        return lambda ctx: _fold(np.multiply, [p(ctx) for p in parts])

    def _compile_extreme(self, expr):
        """``max`` (``min``) over the limits' axes, kept as size-1 axes like a sum's."""
        body = self._compile(expr.function)
        axes = tuple(self.axis[k] for k, _, _ in expr.limits)
        reduce = np.max if isinstance(expr, MaxOver) else np.min

        def run(ctx):
            value = _pad(body(ctx), ctx.ndim)
            full = [ctx._sizes[t] if t in axes else n for t, n in enumerate(np.shape(value) or (1,) * ctx.ndim)]
            return reduce(np.broadcast_to(value, full), axis=axes, keepdims=True)
        return run

    def _compile_sum(self, expr):
        body = expr.function
        summed = [self.axis[k] for k, _, _ in expr.limits]
        terms = sp.Add.make_args(expand_products(body))
        compiled = []
        for term in terms:
            factors = sp.Mul.make_args(term)
            involved = [sorted({self.axis[s] for s in f.free_symbols if s in self.axis}) for f in factors]
            compiled.append(([self._compile(f) for f in factors], involved))
        return lambda ctx: _total(_einsum_sum(ctx, parts, involved, summed) for parts, involved in compiled)


class _Context:
    """One evaluation: the environment and the concrete size of every axis."""

    def __init__(self, formula, env):
        self.formula = formula
        self.env = env
        self.floating = not any(np.asarray(v).dtype == object for v in env.values()
                                if isinstance(v, np.ndarray))
        self.ndim = formula.ndim
        values = {}
        for sym in formula.size_symbols:
            if sym in formula.dims:
                name, axis = formula.dims[sym]
                values[sym] = int(np.shape(env[name])[axis])
            elif sym in formula.params:
                values[sym] = int(env[formula.params[sym]])
        self._sizes = {formula.axis[k]: int(fn(*[values[s] for s in args]))
                       for k, (fn, args) in formula.size_functions.items()}

    def size(self, index):
        return self._sizes[self.formula.axis[index]]

    def arange(self, axis):
        shape = [1] * self.ndim
        shape[axis] = self._sizes[axis]
        return np.arange(self._sizes[axis]).reshape(shape)

    def rational(self, p, q):
        if self.floating:
            return p / q
        from fractions import Fraction
        return Fraction(p, q)

    def read(self, name, idx):
        array = np.asarray(self.env[name])
        idx = [np.asarray(i, dtype=np.int64) for i in idx]
        if not idx:
            return array[()]
        view = _strided_view(array, idx, self.ndim)
        if view is not None:
            return view
        inside = None
        clipped = []
        for i, n in zip(idx, array.shape):
            ok = (i >= 0) & (i < n)
            if not np.all(ok):
                inside = ok if inside is None else inside & ok
                i = np.clip(i, 0, n - 1)
            clipped.append(i)
        # pad every index to the full number of axes so the gathered array lines up
        clipped = [i.reshape(i.shape + (1,) * (self.ndim - i.ndim)) if i.ndim < self.ndim else i
                   for i in clipped]
        value = array[tuple(clipped)]
        if inside is not None:
            inside = inside.reshape(inside.shape + (1,) * (self.ndim - inside.ndim))
            value = np.where(inside, value, 0)
        return value


def _affine(i, ndim):
    """``(offset, {axis: step})`` if the index array ``i`` is ``offset + sum step * arange(axis)``."""
    i = i.reshape(i.shape + (1,) * (ndim - i.ndim)) if i.ndim < ndim else i
    offset = int(i.flat[0]) if i.size else 0
    steps = {}
    for axis, n in enumerate(i.shape):
        if n > 1:
            steps[axis] = int(i[(0,) * axis + (1,) + (0,) * (ndim - axis - 1)]) - offset
    rebuilt = offset
    for axis, step in steps.items():
        shape = [1] * ndim
        shape[axis] = i.shape[axis]
        rebuilt = rebuilt + step * np.arange(i.shape[axis]).reshape(shape)
    if not np.array_equal(np.broadcast_to(rebuilt, i.shape), i):
        return None
    return offset, steps, i.shape


#: gathers of at least this many entries are read as strided views where they can be
_VIEW_FROM = 4096


def _strided_view(array, idx, ndim):
    """``array`` read at affine, separable positions (a convolution's ``X[n, c, s*y + d*u - p]``) as a
    strided view of the zero-padded array instead of a gather; None where the read is not of that kind.

    Each array axis must be read at ``offset + sum step * arange(axis)`` over formula axes that no
    other array axis uses, with steps >= 0: then every position is ``base + sum step * stride``.
    """
    if array.dtype == object or len(idx) != array.ndim:
        return None
    entries = np.prod(np.broadcast_shapes(*[np.shape(i) for i in idx]), dtype=np.int64)
    if entries < _VIEW_FROM:
        return None  # a small gather is cheaper than working out the view
    forms = [_affine(i, ndim) for i in idx]
    if any(f is None for f in forms):
        return None
    used = [a for _, steps, _ in forms for a in steps]
    if len(used) != len(set(used)) or any(step < 0 for _, steps, _ in forms for step in steps.values()):
        return None
    pads = []
    for (offset, steps, shape), n in zip(forms, array.shape):
        last = offset + sum(step * (shape[a] - 1) for a, step in steps.items())
        pads.append((max(0, -offset), max(0, last - (n - 1))))
    padded = np.pad(array, pads) if any(a or b for a, b in pads) else array
    base = sum((offset + lo) * stride for (offset, _, _), (lo, _), stride in zip(forms, pads, padded.strides))
    shape, strides = [1] * ndim, [0] * ndim
    for (_, steps, ishape), stride in zip(forms, padded.strides):
        for a, step in steps.items():
            shape[a], strides[a] = ishape[a], step * stride
    start = padded.reshape(-1)[base // padded.itemsize:] if padded.flags.c_contiguous else None
    if start is None:
        return None
    return np.lib.stride_tricks.as_strided(start, shape=tuple(shape), strides=tuple(strides), writeable=False)


def _merge_sums(expr):
    """Nested sums as one: ``Sum(A * Sum(B, t), s)`` is ``Sum(A * B, t, s)`` where ``A`` and the
    inner ranges do not mention ``t`` or ``s``.  One einsum then contracts every summed index
    together (a convolution's gradient as one matrix product) instead of carrying the outer
    factors' axes through the inner sum (an array a hundred times larger)."""
    if not isinstance(expr, sp.Basic) or not expr.args:
        return expr
    expr = expr.func(*[_merge_sums(a) for a in expr.args]) if not isinstance(expr, sp.Sum) else \
        sp.Sum(_merge_sums(expr.function), *expr.limits)
    if not isinstance(expr, sp.Sum):
        return expr
    outer = [k for k, _, _ in expr.limits]
    factors = list(sp.Mul.make_args(expr.function))
    for t, inner in enumerate(factors):
        if not isinstance(inner, sp.Sum):
            continue
        variables = {k for k, _, _ in inner.limits}
        rest = factors[:t] + factors[t + 1:]
        bounds = set().union(*(sp.Tuple(lo, hi).free_symbols for _, lo, hi in inner.limits))
        if variables & set().union(set(outer), *(f.free_symbols for f in rest)) or bounds & set(outer):
            continue
        return _merge_sums(sp.Sum(sp.Mul(*rest) * inner.function, *inner.limits, *expr.limits))
    return expr


def _pad(a, ndim):
    a = np.asarray(a)
    if a.ndim == 0:
        return a
    return a.reshape(a.shape + (1,) * (ndim - a.ndim))


def _total(values):
    out = 0
    for v in values:
        out = out + v
    return out


def _fold(fn, values):
    out = values[0]
    for v in values[1:]:
        out = fn(out, v)
    return out


def _inverse(a):
    a = np.asarray(a)
    if a.dtype == object:
        return np.vectorize(lambda v: 1 / v if not isinstance(v, int) else sp.Rational(1, v), otypes=[object])(a)
    return 1 / a


def _piecewise(ctx, pieces):
    out, decided = 0, np.bool_(False)
    for value, cond in pieces:
        c = np.logical_and(cond(ctx), np.logical_not(decided))
        out = np.where(c, value(ctx), out)
        decided = np.logical_or(decided, c)
    return out


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_sum(ctx, parts, involved, summed):
    """``Sum`` over the ``summed`` axes of a product of factors, as one einsum."""
    arrays, subscripts = [], []
    scalar = 1
    for part, axes in zip(parts, involved):
        value = part(ctx)
        if not axes:
            scalar = scalar * np.asarray(value)[()] if np.ndim(value) else scalar * value
            continue
        full = [ctx._sizes[t] if t in axes else 1 for t in range(ctx.ndim)]
        arrays.append(np.broadcast_to(_pad(value, ctx.ndim), full).reshape([ctx._sizes[t] for t in axes]))
        subscripts.append("".join(_LETTERS[t] for t in axes))
    every = sorted({t for axes in involved for t in axes})
    kept = [t for t in every if t not in summed]
    missing = [t for t in summed if t not in every]
    factor = scalar
    for t in missing:  # a summed index no factor mentions: its range times the rest
        factor = factor * ctx._sizes[t]
    if not arrays:
        return factor
    spec = ",".join(subscripts) + "->" + "".join(_LETTERS[t] for t in kept)
    obj = any(a.dtype == object for a in arrays)
    big = len(arrays) > 1 and sum(a.size for a in arrays) > 4096  # optimize: BLAS for the products
    out = np.einsum(spec, *arrays, optimize=big and not obj)
    shape = [ctx._sizes[t] if t in kept else 1 for t in range(ctx.ndim)]
    out = np.asarray(out).reshape(shape)
    return out * factor if not (isinstance(factor, int) and factor == 1) else out
