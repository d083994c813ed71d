"""The concrete oracle, and evaluation of derived formulas on concrete arrays.

:func:`oracle_gradients` builds inputs as arrays of SymPy symbols of a concrete
shape, computes every output entry from the op's definition and differentiates
the chain-rule sum ``l = Sum G[k] Z[k]`` directly, entry by entry, with no
delta contraction: the independent check of the generic derivation and the
exact reference for small shapes.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ..catalog.registry import get_op
from .derivation import G_NAME, define
from ..vocabulary.expressions import SymArray, unroll

__all__ = ["symbol_array", "oracle_gradients", "instantiate", "evaluate_closed_form", "exact_inputs",
           "SymbolValues"]


def symbol_array(name, shape):
    """An object array of SymPy symbols ``name[i,j]`` (0-d: the symbol ``name``)."""
    shape = tuple(int(n) for n in shape)
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        label = f"{name}[{','.join(map(str, idx))}]" if idx else name
        out[idx] = sp.Symbol(label)
    return out


def exact_inputs(op, case):
    """Symbol arrays for every input of ``case`` (labels stay integers) and for G."""
    op = get_op(op)
    arrays = []
    for spec, shape in zip(op.inputs, case.shapes):
        if spec.domain == "labels":
            classes = case.shapes[0][-1]
            arrays.append(np.arange(int(np.prod(shape, dtype=int))).reshape(shape) % classes)
        elif spec.domain == "indices":  # every value, and repeats once there are more entries than values
            upper = spec.upper(case.shapes, op.with_defaults(case.params))
            arrays.append(np.arange(int(np.prod(shape, dtype=int))).reshape(shape) % upper)
        elif spec.domain == "mask":
            arrays.append((np.arange(int(np.prod(shape, dtype=int))).reshape(shape) % 3 != 1).astype(np.int64))
        else:
            arrays.append(symbol_array(spec.name, shape))
    return arrays


class _Concrete(SymArray):
    """A SymArray whose entries are given symbols (or numbers)."""

    def __init__(self, name, values):
        super().__init__(name, values.shape)
        self.values = values

    def __getitem__(self, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        if not idx:
            return self.values[()]
        if all(sp.sympify(i).is_Integer for i in idx):
            idx = tuple(int(i) for i in idx)
            if any(not 0 <= i < n for i, n in zip(idx, self.values.shape)):
                return sp.Integer(0)  # a read outside an array is zero (padding), never a wrap-around
            return self.values[idx]
        return self.base[idx]  # inside a sum: looked up once the sum is expanded

    def lookup(self, expr):
        def value(e):
            if not all(i.is_Integer for i in e.indices):  # never truncated to an integer
                raise ValueError(f"the oracle reads {e}: an index that is not an integer")
            return self.values[tuple(int(i) for i in e.indices)]
        return expr.replace(lambda e: isinstance(e, sp.Indexed) and e.base == self.base, value)


def output_entry(out, idx):
    """The output entry at the concrete index ``idx``, its sums written out term by term.

    Not ``Sum.doit()``: SymPy sums a Kronecker delta by solving its argument for the summation
    index and never asks whether the solution is an integer, so ``sum(i: [3*i == 1] X[i])`` came
    out ``X[1/3]`` (read as ``X[0]``) instead of 0.
    """
    return unroll(sp.sympify(out.entry(*[sp.Integer(i) for i in idx]))).doit()


def _onehot(labels, classes):
    out = np.zeros(labels.shape + (classes,), dtype=object)
    for idx in np.ndindex(*labels.shape):
        out[idx + (int(labels[idx]),)] = sp.Integer(1)
    out[out == 0] = sp.Integer(0)
    return out


def oracle_gradients(op, case, inputs=None, G=None):
    """Exact gradients by direct differentiation of the chain-rule sum.

    Parameters
    ----------
    op : str or Op
    case : Case
        Concrete shapes and params.
    inputs, G : object arrays, optional
        Symbol arrays to use (default: fresh ones named after the inputs and ``G``).

    Returns
    -------
    dict
        Input name -> object array of SymPy expressions.
    """
    op = get_op(op)
    params = op.with_defaults(case.params)
    inputs = exact_inputs(op, case) if inputs is None else inputs
    arrays = []
    for spec, value in zip(op.inputs, inputs):
        if spec.domain == "labels":
            arrays.append(_Concrete("onehot", _onehot(np.asarray(value), int(case.shapes[0][-1]))))
        elif spec.domain == "mask":
            arrays.append(_Concrete(spec.name, np.asarray(value).astype(int).astype(object)))
        else:
            arrays.append(_Concrete(spec.name, value))
    out = define(op, arrays, params)
    out_shape = tuple(int(n) for n in out.shape)
    G = symbol_array(G_NAME, out_shape) if G is None else G
    loss = sp.Integer(0)
    for idx in np.ndindex(*out_shape):
        entry = output_entry(out, idx)
        for arr in arrays:
            entry = arr.lookup(entry)
        loss += G[idx] * entry
    grads = {}
    for spec, arr in zip(op.inputs, arrays):
        if not spec.differentiable:
            continue
        g = np.empty(arr.values.shape, dtype=object)
        for idx in np.ndindex(*arr.values.shape):
            g[idx] = sp.expand(sp.diff(loss, arr.values[idx]))
        grads[spec.name] = g
    return grads


def instantiate(gradient, sizes, inputs, G):
    """The generic index formula evaluated at every index, with concrete sizes and arrays.

    ``sizes`` maps size symbols to ints; ``inputs`` maps names to object arrays.
    """
    formula = gradient.index_formula.subs(sizes)
    shape = tuple(int(sp.sympify(n).subs(sizes)) for n in gradient.shape)
    tables = dict(inputs)
    tables[G_NAME] = G

    def entry(e):
        table = tables[str(e.base)]
        idx = tuple(int(i) for i in e.indices)
        if any(not 0 <= i < n for i, n in zip(idx, np.shape(table))):
            return sp.Integer(0)  # a read outside an array is zero (never NumPy's wrap-around)
        return table[idx]

    def put_in(expr):
        return expr.replace(lambda e: isinstance(e, sp.Indexed) and all(i.is_Integer for i in e.indices), entry)

    # what does not depend on the entry's index is written out once: a max over twelve symbols costs
    # SymPy a comparison of every pair each time it is built
    formula = put_in(unroll(formula))
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        expr = unroll(formula.subs(dict(zip(gradient.index, idx))))
        if expr.has(sp.Sum, sp.Derivative):
            expr = expr.doit()
        expr = put_in(expr)
        if G.shape == ():
            expr = expr.subs(sp.Symbol(G_NAME), G[()])
        for name, value in inputs.items():
            if np.shape(value) == ():
                expr = expr.subs(sp.Symbol(name), value[()])
        out[idx] = sp.expand(expr)
    return out


class SymbolValues:
    """Floats for symbolic arrays: every SymPy symbol gets one fixed random value.

    The same instance gives the same value to a symbol in every array it
    evaluates, so expected and returned gradients stay comparable.
    """

    def __init__(self, seed=0, low=-1.0, high=1.0):
        self.rng = np.random.default_rng(seed)
        self.low, self.high = low, high
        self.values = {}

    def evaluate(self, a):
        """``a`` as a float array (symbolic entries evaluated at this instance's values)."""
        a = np.asarray(a)
        if a.dtype != object:
            return a.astype(float)
        out = np.empty(a.shape)
        for idx in np.ndindex(*a.shape):
            e = sp.sympify(a[idx])
            for sym in sorted(e.free_symbols, key=str):
                if sym not in self.values:
                    self.values[sym] = sp.Float(self.rng.uniform(self.low, self.high))
            out[idx] = float(e.xreplace(self.values))
        return out


def evaluate_closed_form(gradient, env):
    """Evaluate ``gradient.closed_form`` with ``np`` and ``env`` (G, inputs, params) bound."""
    if gradient.evaluator is not None:
        return gradient.evaluator(env)
    scope = {"np": np, "math": math, **env}
    return np.asarray(eval(gradient.closed_form, scope))  # noqa: S307  (our own generated code)

