"""Declaring an op in one line: an elementwise op from a SymPy function of one entry."""

from __future__ import annotations

import functools

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import call_by_name
from ..vocabulary.expressions import Output

__all__ = ["elementwise"]


def elementwise(name, fn, forward, *, domain="real", aliases=(), exact=False, doc="", replace=False):
    """Register an elementwise op ``Z = fn(X)`` from a SymPy function of one entry.

    Parameters
    ----------
    name : str
        The op's name.
    fn : callable
        ``fn(x) -> sympy.Expr`` for one entry ``x``.
    forward : callable
        NumPy reference, ``forward(X) -> ndarray``.
    domain : str
        Input domain (see :class:`Input`).

    Examples
    --------
    >>> import numpy as np, sympy as sp
    >>> import derive
    >>> my_silu = derive.elementwise("my_silu", lambda x: x / (1 + sp.exp(-x)),
    ...                              lambda X: X / (1 + np.exp(-X)))
    >>> print(derive.vjp("my_silu")["X"].index_formula)
    (1 + exp(-X[i, j])*X[i, j]/(1 + exp(-X[i, j])))*G[i, j]/(1 + exp(-X[i, j]))
    >>> derive.unregister("my_silu")
    """
    def define(X):
        return Output(X.shape, lambda *k: fn(X[k]))

    op = Op(name=name, inputs=(Input("X", domain=domain),), define=define, forward=forward,
            cases=st.one_array, canonical=Case((("n", "m"),)), aliases=tuple(aliases), exact=exact,
            call=functools.partial(call_by_name, name=name), doc=doc or f"elementwise {name}")
    return register(op, replace=replace)
