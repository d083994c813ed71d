"""Differentiate one array entry by another, and contract the Kronecker deltas that come out.

``dZ[k, l]/dX[i, j]`` of an elementwise definition is a product of Kronecker
deltas between index expressions; :func:`contract` sums them out of the chain-rule
sum knowing each index's range, so the result has neither a delta nor a
``Piecewise`` range guard: ``Sum(G[k, l]*KroneckerDelta(i, k)*Y[j, l], ...)``
becomes ``Sum(G[i, l]*Y[j, l], (l, 0, r - 1))``.
"""

from __future__ import annotations

import sympy as sp

from .symbolic import Unravel, ravel

__all__ = ["entry_derivative", "contract", "tidy"]


# ----------------------------------------------------------------------------------------------
# differentiation of one entry by another
# ----------------------------------------------------------------------------------------------

def entry_derivative(expr, wrt):
    """``d expr / d wrt`` for an array entry ``wrt`` (an Indexed, or the symbol of a 0-d array).

    The same as ``sympy.diff`` on the forms op definitions are made of (entries,
    sums, products, powers, functions of one argument), without SymPy's general
    derivative machinery; anything else is handed to ``sympy.diff``.
    """
    if not expr.has(wrt.base if isinstance(wrt, sp.Indexed) else wrt):
        return sp.Integer(0)
    if isinstance(expr, sp.Indexed):
        if isinstance(wrt, sp.Indexed) and expr.base == wrt.base:
            return sp.Mul(*[sp.KroneckerDelta(a, b) for a, b in zip(expr.indices, wrt.indices)])
        return sp.Integer(0)
    if isinstance(expr, sp.Symbol):
        return sp.Integer(1 if expr == wrt else 0)
    if isinstance(expr, sp.Add):
        return sp.Add(*[entry_derivative(a, wrt) for a in expr.args])
    if isinstance(expr, sp.Mul):
        args = expr.args
        terms = []
        for k, a in enumerate(args):
            da = entry_derivative(a, wrt)
            if da != 0:
                terms.append(sp.Mul(*args[:k], da, *args[k + 1:]))
        return sp.Add(*terms)
    if isinstance(expr, sp.Pow):
        b, e = expr.args
        db, de = entry_derivative(b, wrt), entry_derivative(e, wrt)
        out = sp.Integer(0)
        if db != 0:
            out += e * b ** (e - 1) * db
        if de != 0:
            out += expr * sp.log(b) * de
        return out
    if isinstance(expr, sp.Sum):
        return sp.Sum(entry_derivative(expr.function, wrt), *expr.limits)
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        return expr.fdiff(1) * entry_derivative(expr.args[0], wrt)
    return sp.diff(expr, wrt)


# ----------------------------------------------------------------------------------------------
# Kronecker-delta contraction
# ----------------------------------------------------------------------------------------------

def _expand_products(expr):
    return sp.expand(expr, deep=False, mul=True, multinomial=False, power_exp=False,
                     power_base=False, log=False)


def contract(expr, ranges):
    """Contract every Kronecker delta of ``expr`` against the sums it sits in.

    ``ranges`` maps free index symbols to their sizes.  A delta ``δ(k, e)`` in
    the body of ``Sum(..., (k, 0, n - 1))`` substitutes ``k = e`` and drops the
    sum when ``e`` provably lies in ``[0, n)`` (a free index of the same size,
    or 0); a sum whose body does not mention its index becomes a product with
    its size; a delta of a free index of size 1 with 0 is 1.
    """
    if isinstance(expr, sp.Sum):
        limits = list(expr.limits)
        inner = dict(ranges)
        for k, lo, hi in limits:
            inner[k] = hi - lo + 1
        body = contract(expr.function, inner)
        terms = sp.Add.make_args(_expand_products(body))
        return sp.Add(*[_contract_term(t, limits, ranges) for t in terms])
    if isinstance(expr, sp.KroneckerDelta):
        return _delta_value(expr, ranges)
    if isinstance(expr, (sp.Indexed, sp.Symbol, sp.Number)) or not expr.args:
        return expr
    return expr.func(*[contract(a, ranges) for a in expr.args])


def _delta_value(delta, ranges):
    a, b = delta.args
    if (a - b).is_zero:
        return sp.Integer(1)
    for u, v in ((a, b), (b, a)):
        if u in ranges and ranges[u] == 1 and v == 0:
            return sp.Integer(1)
    return delta


def _in_range(value, size, ranges):
    """Whether ``value`` provably lies in ``[0, size)``."""
    if value.is_Integer:
        return int(value) >= 0 and (size.is_Integer and int(value) < int(size) or
                                    (size - value - 1).is_nonnegative is True or int(value) == 0)
    if value in ranges:
        return _same_size(ranges[value], size)
    if isinstance(value, Unravel):
        f, shape, t = value.args
        return _same_size(shape[int(t)], size)
    return False


def _same_size(a, b):
    return a == b or sp.expand(a - b) == 0


def _contract_term(term, limits, ranges):
    factors = list(sp.Mul.make_args(term))
    # a summation index of range {lo} is lo
    single = {k: lo for k, lo, hi in limits if hi - lo == 0}
    if single:
        factors = [_delta_value(f, ranges) if isinstance(f, sp.KroneckerDelta) else f
                   for f in sp.Mul.make_args(sp.Mul(*factors).subs(single))]
    remaining = [lim for lim in limits if lim[0] not in single]
    factors, remaining = _contract_unravel(factors, remaining, ranges)
    changed = True
    while changed:
        changed = False
        for pos, factor in enumerate(factors):
            if not isinstance(factor, sp.KroneckerDelta):
                continue
            solved = _solve_delta(factor, remaining, ranges)
            if solved is None:
                continue
            subs, used = solved
            del factors[pos]
            remaining = [lim for lim in remaining if lim[0] not in used]
            factors = [f.xreplace(subs) for f in factors]
            factors = [_delta_value(f, ranges) if isinstance(f, sp.KroneckerDelta) else f for f in factors]
            changed = True
            break
    body = sp.Mul(*factors)
    for k, lo, hi in reversed(remaining):
        size = hi - lo + 1
        if not body.has(k):
            body = body * size
        elif size == 1:
            body = body.subs(k, lo)
        else:
            # factors that do not depend on k move out of the sum
            outside = [f for f in sp.Mul.make_args(body) if not f.has(k)]
            inside = [f for f in sp.Mul.make_args(body) if f.has(k)]
            body = sp.Mul(*outside) * sp.Sum(sp.Mul(*inside), (k, lo, hi))
    return body


def _solve_delta(delta, limits, ranges):
    """``({k: value}, {k})`` if ``delta`` fixes a summation index ``k`` to an in-range value."""
    a, b = delta.args
    sizes = {k: hi - lo + 1 for k, lo, hi in limits}
    for k, lo, _hi in limits:
        diff = sp.expand(a - b)
        if not diff.has(k):
            continue
        coeff = diff.coeff(k)
        rest = sp.expand(diff - coeff * k)
        if coeff in (1, -1) and not rest.has(k) and not any(rest.has(j) for j in sizes):
            value = -rest / coeff
            if _in_range(value, sizes[k], ranges) and lo == 0:
                return {k: value}, {k}
    return None


def _solve_flat(flat, flat_free, factors, used, remaining):
    """Solve ``flat = flat_free`` when ``flat`` is the C-order ravel of summation indices."""
    sizes = {k: hi - lo + 1 for k, lo, hi in remaining}
    ks = [k for k, lo, hi in remaining if flat.has(k)]
    out_shape = [sizes[k] for k in ks]
    if len(ks) < 1 or sp.expand(ravel(ks, out_shape) - flat) != 0:
        return None
    subs = {k: Unravel(flat_free, sp.Tuple(*out_shape), t) for t, k in enumerate(ks)}
    factors = [f.xreplace(subs) for f in factors if f not in used]
    remaining = [lim for lim in remaining if lim[0] not in ks]
    return factors, remaining


def _contract_unravel(factors, remaining, ranges):
    """Contract the deltas of a reshape: a flat index of summation indices set equal to one of free indices.

    ``δ(i_0, Unravel(F, S, 0)) ... δ(i_n, Unravel(F, S, n))`` together say
    ``F = ravel(i, S)``; a single ``δ(i, F)`` says ``F = i``.  When ``F`` is the
    C-order flat index of summation indices ``ks`` of sizes ``S'``, each ``k_t``
    is fixed to ``Unravel(ravel(i, S), S', t)``.
    """
    summed = {k for k, _, _ in remaining}
    groups = {}
    for f in factors:
        if not isinstance(f, sp.KroneckerDelta):
            continue
        a, b = f.args
        u, v = (a, b) if isinstance(a, Unravel) else (b, a) if isinstance(b, Unravel) else (None, None)
        if u is not None and v in ranges:
            groups.setdefault((u.args[0], u.args[1]), {})[int(u.args[2])] = (f, v)
            continue
        for flat, other in ((a, b), (b, a)):
            if len(flat.free_symbols & summed) >= 2 and not (other.free_symbols & summed):
                solved = _solve_flat(flat, other, factors, {f}, remaining)
                if solved is not None:
                    return solved
    for (flat, shape), by_axis in groups.items():
        if set(by_axis) != set(range(len(shape))):
            continue
        flat_free = ravel([by_axis[t][1] for t in range(len(shape))], shape)
        solved = _solve_flat(flat, flat_free, factors, {f for f, _ in by_axis.values()}, remaining)
        if solved is not None:
            return solved
    return factors, remaining


def tidy(expr):
    """Light simplification that keeps the index structure readable."""
    return sp.factor_terms(expr) if not expr.has(sp.Sum) else expr
