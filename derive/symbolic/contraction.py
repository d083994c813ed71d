"""Differentiate one array entry by another, and contract the Kronecker deltas that come out.

``dZ[k, l]/dX[i, j]`` of an elementwise definition is a product of Kronecker
deltas between index expressions; :func:`contract` sums them out of the chain-rule
sum knowing each index's range, so the result has neither a delta nor a
``Piecewise`` range guard: ``Sum(G[k, m]*KroneckerDelta(i, k)*Y[j, m], ...)``
becomes ``Sum(G[i, m]*Y[j, m], (m, 0, r - 1))``.
"""

from __future__ import annotations

import sympy as sp

from ..vocabulary.brackets import simplify_bracket
from ..vocabulary.expressions import Bracket, Unravel, _ExtremeOver, _fresh, bracket, expand_products, ravel

__all__ = ["entry_derivative", "contract", "tidy", "settle_brackets"]


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
    if isinstance(expr, _ExtremeOver):
        return _extreme_derivative(expr, wrt)
    if isinstance(expr, Bracket):  # [X < Y] is constant in the entries off the measure-zero set X = Y
        return sp.Integer(0)
    if isinstance(expr, sp.Function) and len(expr.args) == 1:
        return expr.fdiff(1) * entry_derivative(expr.args[0], wrt)
    if isinstance(expr, sp.Piecewise):
        return _piecewise_derivative(expr, wrt)
    return sp.diff(expr, wrt)


def _extreme_derivative(expr, wrt):
    """``d max_r f(r)``: ``Sum_t [f(t) = max] df(t) / Sum_t [f(t) = max]``, ties sharing evenly."""
    def over(fresh):
        f = expr.function.xreplace(fresh)
        return f, Bracket(sp.Eq(f, expr)), [(fresh[k], lo, hi) for k, lo, hi in expr.limits]

    f, hit, limits = over({k: _fresh.take() for k, _, _ in expr.limits})
    df = entry_derivative(f, wrt)
    if df == 0:
        return sp.Integer(0)
    # the count of ties has dummies of its own: the contraction solves the numerator's for the
    # entry's position (a window's offset), and must not rename the count's with them
    _, count_hit, count_limits = over({k: _fresh.take() for k, _, _ in expr.limits})
    return sp.Sum(hit * df, *limits) / sp.Sum(count_hit, *count_limits)


def _piecewise_derivative(expr, wrt):
    """Branch by branch (a kink has measure zero), with the deltas every branch shares pulled out."""
    return unfold_piecewise(sp.Piecewise(*[(entry_derivative(e, wrt), c) for e, c in expr.args]))


def unfold_piecewise(expr):
    """``Piecewise((D a, c1), (D b, c2))`` as ``D Piecewise((a, c1), (b, c2))`` for the deltas ``D``
    that every non-zero branch shares, so they meet the sums they contract against.

    SymPy folds every factor of a sum's body into a Piecewise (``Sum`` calls
    ``piecewise_fold``); this undoes it for the deltas.
    """
    if not isinstance(expr, sp.Piecewise):
        return expr
    split = []
    for e, c in expr.args:
        factors = sp.Mul.make_args(e)
        deltas = sp.Mul(*[f for f in factors if isinstance(f, sp.KroneckerDelta)])
        split.append((deltas, sp.Mul(*[f for f in factors if not isinstance(f, sp.KroneckerDelta)]), c))
    shared = {deltas for deltas, rest, _ in split if rest != 0}
    if len(shared) != 1 or shared == {sp.Integer(1)}:
        return expr
    return sp.Mul(shared.pop(), sp.Piecewise(*[(rest, c) for _, rest, c in split]), evaluate=False)


# ----------------------------------------------------------------------------------------------
# Kronecker-delta contraction
# ----------------------------------------------------------------------------------------------

def contract(expr, ranges, bound=frozenset()):
    """Contract every Kronecker delta of ``expr`` against the sums it sits in.

    ``ranges`` maps free index symbols to their sizes.  A delta ``δ(k, e)`` in
    the body of ``Sum(..., (k, 0, n - 1))`` substitutes ``k = e`` and drops the
    sum when ``e`` provably lies in ``[0, n)`` (a free index of the same size,
    or 0); a sum whose body does not mention its index becomes a product with
    its size; a delta of a free index of size 1 with 0 is 1.

    Affine deltas with strides, ``δ(s*o + d*j - p, b)``, are solved for the
    outermost summation index they mention, ``o = (b + p - d*j)/s``, and leave
    Iverson brackets behind: the stride divides (``[Mod(b + p - d*j, s) = 0]``)
    and the solution lies in the sum's range.  ``bound`` holds the indices of
    the enclosing sums: a delta that mentions one of them waits for that sum,
    so it is solved for the outer index (a sum over the kernel, not over every
    output position).
    """
    if isinstance(expr, sp.Sum):
        limits = list(expr.limits)
        inner = dict(ranges)
        for k, lo, hi in limits:
            inner[k] = hi - lo + 1
        inner_bound = frozenset(bound | {k for k, _, _ in limits})
        body = _split_sums(contract(unfold_piecewise(expr.function), inner, inner_bound))
        return sp.Add(*[_contract_term(t, limits, ranges, bound) for t in _delta_terms(body)])
    if isinstance(expr, sp.KroneckerDelta):
        return _delta_value(expr, ranges)
    if isinstance(expr, (sp.Indexed, sp.Symbol, sp.Number)) or not expr.args:
        return expr
    return expr.func(*[contract(a, ranges, bound) for a in expr.args])


def _delta_terms(body):
    """The terms of ``body`` with every sum of deltas multiplied out: no factor of a term is
    an Add that holds a delta (those would hide the delta from the sum it contracts against)."""
    pending, out = list(sp.Add.make_args(expand_products(body))), []
    while pending:
        term = pending.pop()
        factors = sp.Mul.make_args(term)
        hidden = next((k for k, f in enumerate(factors) if isinstance(f, sp.Add) and f.has(sp.KroneckerDelta)), None)
        if hidden is None:
            out.append(term)
            continue
        rest = factors[:hidden] + factors[hidden + 1:]
        pending.extend(sp.Mul(*rest, a) for a in factors[hidden].args)
    return out[::-1]


def _split_sums(expr):
    """``Sum(a + b)`` as ``Sum(a) + Sum(b)`` where a delta waits inside for an enclosing sum,
    so each product can be pulled into that sum (layer norm's ``Sum_l (δ(i,k) δ(j,l) - δ(i,k)/D) ...``)."""
    def split(e):
        terms = sp.Add.make_args(expand_products(e.function))
        return sp.Add(*[sp.Sum(t, *e.limits) for t in terms])
    return expr.replace(lambda e: isinstance(e, sp.Sum) and e.function.has(sp.KroneckerDelta)
                        and len(sp.Add.make_args(expand_products(e.function))) > 1, split)


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


def _flatten_sums(factors, limits):
    """Pull a factor ``Sum(product with a delta, inner limits)`` into the enclosing sum."""
    limits = list(limits)
    pending, out = list(factors), []
    while pending:
        f = pending.pop(0)
        current = {k for k, _, _ in limits}
        if (isinstance(f, sp.Sum) and f.function.has(sp.KroneckerDelta) and not isinstance(f.function, sp.Add)
                and not any((lo.free_symbols | hi.free_symbols) & current for _, lo, hi in f.limits)):
            pending.extend(sp.Mul.make_args(f.function))  # nested sums come out too
            limits.extend(f.limits)
        else:
            out.append(f)
    return out, limits


def _contract_term(term, limits, ranges, bound=frozenset()):
    factors = list(sp.Mul.make_args(term))
    factors, limits = _flatten_sums(factors, limits)
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
            solved = _solve_delta(factor, remaining, ranges, bound)
            if solved is None:
                continue
            subs, used, conditions = solved
            del factors[pos]
            inner_ranges = {**ranges, **{k: hi - lo + 1 for k, lo, hi in remaining if k not in used}}
            remaining = [lim for lim in remaining if lim[0] not in used]
            factors = [f.xreplace(subs) for f in factors] + list(sp.Mul.make_args(bracket(*conditions)))
            factors = [_delta_value(f, ranges) if isinstance(f, sp.KroneckerDelta)
                       else simplify_bracket(f, inner_ranges) if isinstance(f, Bracket) else f for f in factors]
            if any(f == 0 for f in factors):
                return sp.Integer(0)
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


def _solve_delta(delta, limits, ranges, bound=frozenset()):
    """``({k: value}, {k}, conditions)`` if ``delta`` fixes a summation index ``k``.

    First choice: a unit coefficient and a value provably in range (no
    condition).  Otherwise the outermost index the delta mentions, with the
    conditions under which the solution exists: the coefficient divides, and
    the value lies in ``[0, size)``.  A delta that mentions an index of an
    enclosing sum is left for that sum.
    """
    a, b = delta.args
    diff = sp.expand(a - b)
    sizes = {k: hi - lo + 1 for k, lo, hi in limits}
    candidates = []
    for k, lo, _hi in limits:
        if not diff.has(k) or lo != 0:
            continue
        coeff = diff.coeff(k)
        rest = sp.expand(diff - coeff * k)
        if coeff.has(k) or rest.has(k) or coeff.free_symbols & set(sizes):
            continue
        if coeff.could_extract_minus_sign():  # k = (b + p - d*j)/s reads better than -(-b - p + d*j)/s
            coeff, rest = -coeff, sp.expand(-rest)
        value = sp.expand(-rest) / coeff
        if coeff in (1, -1) and not any(rest.has(j) for j in sizes) and _in_range(value, sizes[k], ranges):
            return {k: value}, {k}, ()
        candidates.append((k, coeff, rest, value))
    if not candidates or diff.free_symbols & (bound - set(sizes)):
        return None
    k, coeff, rest, value = candidates[0]
    conditions = []
    if coeff not in (1, -1):
        conditions.append(sp.Eq(sp.Mod(sp.expand(-rest), coeff), 0))
    conditions += [sp.Le(0, value), sp.Le(value, sizes[k] - 1)]
    return {k: value}, {k}, conditions


def _solve_flat(flat, flat_free, factors, used, remaining, flat_size):
    """Solve ``flat = flat_free`` when ``flat`` is the C-order ravel of summation indices.

    Only when ``flat_free`` ranges over exactly as many values (``flat_size``) as
    the summation indices together: otherwise (a stride equal to a window, not
    dividing the input) the unravelled indices would wrap around.
    """
    sizes = {k: hi - lo + 1 for k, lo, hi in remaining}
    ks = [k for k, lo, hi in remaining if flat.has(k)]
    out_shape = [sizes[k] for k in ks]
    if len(ks) < 1 or sp.expand(ravel(ks, out_shape) - flat) != 0:
        return None
    if flat_size is None or sp.expand(sp.Mul(*out_shape) - flat_size) != 0:
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
                solved = _solve_flat(flat, other, factors, {f}, remaining, ranges.get(other))
                if solved is not None:
                    return solved
    for (flat, shape), by_axis in groups.items():
        if set(by_axis) != set(range(len(shape))):
            continue
        flat_free = ravel([by_axis[t][1] for t in range(len(shape))], shape)
        solved = _solve_flat(flat, flat_free, factors, {f for f, _ in by_axis.values()}, remaining,
                             sp.Mul(*shape))
        if solved is not None:
            return solved
    return factors, remaining


def tidy(expr):
    """Light simplification that keeps the index structure readable."""
    return sp.factor_terms(expr) if not expr.has(sp.Sum) else expr


def settle_brackets(expr, ranges):
    """Drop every bracket condition the index ranges decide, inside sums too."""
    if not expr.has(Bracket):
        return expr
    if isinstance(expr, Bracket):
        return simplify_bracket(expr, ranges)
    if isinstance(expr, sp.Sum):
        inner = dict(ranges)
        for k, lo, hi in expr.limits:
            inner[k] = hi - lo + 1
        body = settle_brackets(expr.function, inner)
        return sp.Sum(body, *expr.limits) if body != 0 else sp.Integer(0)
    if not expr.args:
        return expr
    return expr.func(*[settle_brackets(a, ranges) for a in expr.args])
