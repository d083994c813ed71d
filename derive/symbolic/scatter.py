"""The gradient of a strided read, scattered: the chain-rule sum evaluated forwards.

Where an op reads its input at affine positions (a convolution's
``X[n, c, stride*y + dilation*u - padding]``, a pooling window, a padded or
strided slice), the contracted gradient has to solve the read for the output
index: a divisibility bracket and a gather of ``G`` over every kernel offset.
The chain-rule sum itself needs no solving.  Each read ``X[e(k)]`` of the
output formula sends ``G[o] * dz/dX[e(k)]`` to the position ``e(k)``:

    dl/dX = scatter-add over (o, j) of  G[o] * (the read's coefficient)  at  e(o, j)

so :class:`Scatter` contracts ``G`` with the read's coefficient over the
indices the position does not use (one einsum), computes the positions, drops
those outside ``X`` (padding) and adds the rest up with ``np.bincount``: the
col2im of a convolution, with no loop over entries.

It is a second evaluation of the same chain-rule sum, not the derivation: the
first time it is used it is checked against the contracted index formula (see
:func:`derive.symbolic.expected._cross_checked`), like any closed form.

>>> import derive
>>> grad = derive.vjp("conv1d", ("N", "C", "L"), ("F", "C", "K"), ("F",), stride=2, padding=1)["X"]
>>> print(grad.closed_form)
scatter-add: dX[k, r, 2*n + s - 1] += sum(m: G[k, m, n]*W[m, r, s])
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..vocabulary.evaluate import IndexFormula
from ..vocabulary.expressions import Bracket, expand_products

__all__ = ["Scatter", "scatter_form"]


class Scatter:
    """``dl/dX`` as the scatter-add of ``G`` times each read's coefficient.

    Parameters
    ----------
    reads : list of (IndexFormula, list of IndexFormula)
        One per read of ``X``: its contribution over the indices the read uses, and
        its position along each axis of ``X`` over the same indices.
    X : SymArray
        The input, for the shape of its gradient (read off ``env`` by name).
    """

    needs_cross_check = True  # a second evaluation of the chain-rule sum, not the derived formula

    def __init__(self, reads, X):
        self.reads = reads
        self.name = X.name

    def __call__(self, env):
        shape = np.shape(env[self.name])
        size = int(np.prod(shape, dtype=np.int64))
        total = None
        for contribution, positions in self.reads:
            value = np.asarray(contribution(env))
            # the flat position, and size (one bin past the end) where the read falls outside X;
            # every index array stays as small as its own axes until they are added up
            flat, outside = np.int64(0), np.bool_(False)
            for p, n in zip(positions, shape):
                where = np.asarray(p(env, broadcast=False), dtype=np.int64)
                outside = outside | (where < 0) | (where >= n)
                flat = flat * n + where
            flat = np.broadcast_to(np.where(outside, size, flat), value.shape).ravel()
            if value.dtype == object:  # exact values: Fractions, SymPy numbers
                part = np.zeros(size + 1, dtype=object)
                part[...] = 0
                np.add.at(part, flat, value.ravel())
            else:
                part = np.bincount(flat, weights=value.ravel(), minlength=size + 1)
            total = part[:size] if total is None else total + part[:size]
        return total.reshape(shape)


def scatter_form(z, out_index, out_shape, X, G, layout):
    """``(text, Scatter)`` for the gradient of ``X`` in the output entry ``z``, or ``None``.

    ``z`` must be linear in ``X``: a sum of terms, each (under its sums) a
    product with exactly one read of ``X`` at index expressions that are not
    all bare indices (a bare read gains nothing from scattering).
    """
    dims, params = layout
    reads, texts = [], []
    for limits, body in _products(z, ()):
        factors = sp.Mul.make_args(body)
        mine = [f for f in factors if _reads(f, X)]
        if not mine:
            continue
        if len(mine) != 1 or not _is_read(mine[0], X):
            return None
        read = mine[0]
        if any(e.has(sp.Indexed) for e in read.indices) or all(e.is_Symbol for e in read.indices):
            return None
        if any(lo != 0 for _, lo, _ in limits):
            return None
        axes = list(out_index) + [k for k, _, _ in limits]
        ranges = dict(zip(out_index, out_shape))
        ranges.update({k: hi + 1 for k, _, hi in limits})
        used = tuple(k for k in axes if any(k in e.free_symbols for e in read.indices))
        rest = [(k, 0, ranges[k] - 1) for k in axes if k not in used]
        summand = G[out_index] * sp.Mul(*[f for f in factors if f is not read and not _guards(f, read, X)])
        contribution = sp.Sum(summand, *rest) if rest else summand
        shape = tuple(ranges[k] for k in used)
        reads.append((IndexFormula(contribution, used, shape, dims, params),
                      [IndexFormula(e, used, shape, dims, params) for e in read.indices]))
        inner = f"sum({', '.join(str(k) for k, _, _ in rest)}: {summand})" if rest else str(summand)
        texts.append(f"d{X.name}[{', '.join(str(e) for e in read.indices)}] += {inner}")
    if not reads:
        return None
    return "scatter-add: " + "; ".join(texts), Scatter(reads, X)


def _products(expr, limits):
    """``(limits, product)`` for each term of ``expr``: sums peeled off (a factor outside a sum
    moved in), sums of terms split."""
    expr = expand_products(expr)
    if isinstance(expr, sp.Add):
        for term in expr.args:
            yield from _products(term, limits)
        return
    if isinstance(expr, sp.Sum):
        yield from _products(expr.function, tuple(limits) + tuple(expr.limits))
        return
    if isinstance(expr, sp.Mul):
        sums = [f for f in expr.args if isinstance(f, sp.Sum)]
        if len(sums) == 1:
            inner = sums[0]
            others = sp.Mul(*[f for f in expr.args if f is not inner])
            if not {k for k, _, _ in inner.limits} & others.free_symbols:
                yield from _products(sp.Sum(others * inner.function, *inner.limits), limits)
                return
    yield tuple(limits), expr


def _guards(factor, read, X):
    """Is ``factor`` a bracket that keeps the read inside ``X`` (the scatter drops those positions)?"""
    if not isinstance(factor, Bracket) or not isinstance(factor.args[0], sp.Le):
        return False
    lo, hi = factor.args[0].args
    return any((lo == 0 and hi == e) or (lo == e and hi == n - 1) for e, n in zip(read.indices, X.shape))


def _reads(expr, X):
    return any(str(e.base) == X.name for e in expr.atoms(sp.Indexed))


def _is_read(expr, X):
    return isinstance(expr, sp.Indexed) and str(expr.base) == X.name
