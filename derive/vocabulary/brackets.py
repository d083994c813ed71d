"""Brackets ``[condition]`` settled by the index ranges: what a range already guarantees is dropped,
and a condition it rules out makes the bracket 0."""

from __future__ import annotations

import sympy as sp

from .expressions import bracket

__all__ = ["simplify_bracket", "decide"]


def _affine_bounds(expr, ranges):
    """``(low, high)`` of an affine ``expr`` over the index ranges, or None."""
    expr = sp.expand(expr)
    low = high = expr
    for i, n in ranges.items():
        if not expr.has(i):
            continue
        c = expr.coeff(i)
        if c.has(i) or any(c.has(j) for j in ranges) or sp.expand(expr - c * i).has(i):
            return None  # not affine in i (i inside a floor, a product of indices): no bounds
        if c.is_nonnegative:
            low, high = low.subs(i, 0), high.subs(i, n - 1)
        elif c.is_nonpositive:
            low, high = low.subs(i, n - 1), high.subs(i, 0)
        else:
            return None
    if any(low.has(i) or high.has(i) for i in ranges):
        return None
    return low, high


def decide(cond, ranges):
    """True or False when the index ranges decide ``cond``, else None."""
    if isinstance(cond, sp.And):
        parts = [decide(c, ranges) for c in cond.args]
        return False if False in parts else True if all(parts) else None
    if isinstance(cond, (sp.Le, sp.Lt, sp.Ge, sp.Gt)):
        big, small = (cond.rhs, cond.lhs) if isinstance(cond, (sp.Le, sp.Lt)) else (cond.lhs, cond.rhs)
        margin = big - small - (1 if isinstance(cond, (sp.Lt, sp.Gt)) else 0)  # holds iff margin >= 0
        bounds = _affine_bounds(margin, ranges)
        if bounds is None:
            return None
        if sp.expand(bounds[0]).is_nonnegative:
            return True
        if sp.expand(bounds[1]).is_negative:
            return False
    return None


def simplify_bracket(factor, ranges):
    """``[c1][c2]...`` without the conditions the index ranges already guarantee (0 if one fails)."""
    cond = factor.args[0]
    parts = cond.args if isinstance(cond, sp.And) else (cond,)
    kept = []
    for c in parts:
        decided = decide(c, ranges)
        if decided is False:
            return sp.Integer(0)
        if decided is None:
            kept.append(c)
    return bracket(*kept)
