"""Hypothesis strategies for ops: shapes and parameters, inputs in the op's domain, and G.

Shape strategies are built on :mod:`hypothesis.extra.numpy` and favour what
breaks hand-written backward functions: size-1 dimensions, several dimensions
of the same size, 0-d arrays, broadcasting pairs, 1-D and batched matmul,
every axis form with keepdims, reshape targets with ``-1``, and permutations
that are not their own inverse.  They shrink towards small shapes.

Use them in your own tests:

>>> from hypothesis import given
>>> import derive.catalog.strategies as dst
>>> @given(dst.cases("matmul"))
... def test_shapes(case):
...     x_shape, y_shape = case.shapes
...     assert x_shape[-1] == y_shape[0 if len(y_shape) == 1 else -2]
>>> test_shapes()
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from .registry import Case, get_op

__all__ = ["cases", "inputs", "upstream", "examples", "one_array", "broadcast_pair", "same_shape_pair",
           "matmul_pair", "transpose_case", "reshape_case", "broadcast_to_case", "reduction_case",
           "softmax_case", "cross_entropy_case", "linear_case", "param_choices", "broadcast_triple", "MAX_SIDE"]

MAX_SIDE = 4
MAX_DIMS = 3


def _shape(min_dims=0, max_dims=MAX_DIMS):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=MAX_SIDE)


# ---- shape/parameter strategies, referenced from the catalog ---------------------------

def one_array(min_dims=0):
    """One array of up to 3 dims, sides 1..4 (0-d included by default)."""
    return _shape(min_dims).map(lambda s: Case((s,)))


@st.composite
def broadcast_pair(draw):
    """Two mutually broadcastable shapes, 0-d to 3-d; one draw in four an operand that lacks leading axes
    of sides above 1 (``(2, 3)`` and ``(3,)``), in either order: an un-broadcast that sums the trailing
    axes instead of the leading ones keeps the right shape only there, and plain draws rarely make one."""
    if draw(st.integers(0, 3)):
        b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=MAX_DIMS,
                                                   min_side=1, max_side=MAX_SIDE))
        return Case(tuple(b.input_shapes))
    full = draw(hnp.array_shapes(min_dims=2, max_dims=MAX_DIMS, min_side=2, max_side=MAX_SIDE))
    short = full[draw(st.integers(1, len(full) - 1)):]
    return Case((full, short) if draw(st.booleans()) else (short, full))


def same_shape_pair():
    """Two arrays of the same shape."""
    return _shape().map(lambda s: Case((s, s)))


def matmul_pair():
    """Operands of ``np.matmul``: 1-D, 2-D and batched with broadcast batch dimensions."""
    return hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2,
                                             min_side=1, max_side=MAX_SIDE).map(
        lambda b: Case(tuple(b.input_shapes)))


@st.composite
def transpose_case(draw):
    """A shape and ``axes``: None (reverse) or a permutation, often a rotation (not its own inverse)."""
    shape = draw(_shape(min_dims=1))
    kind = draw(st.sampled_from(["rotation", "permutation", "none"]))
    if kind == "none":
        return Case((shape,), {"axes": None})
    n = len(shape)
    if kind == "rotation" and n >= 3:
        k = draw(st.integers(1, n - 1))
        return Case((shape,), {"axes": tuple((a + k) % n for a in range(n))})
    return Case((shape,), {"axes": tuple(draw(st.permutations(range(n))))})


@st.composite
def reshape_case(draw):
    """A shape and a C-order reshape target of the same size, possibly with one ``-1``."""
    shape = draw(_shape())
    size = math.prod(shape)
    factors = []
    rest = size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0]
        d = draw(st.sampled_from(divisors))
        factors.append(d)
        rest //= d
    factors.append(rest)
    factors = draw(st.permutations(factors))
    if factors and draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    return Case((shape,), {"shape": tuple(factors)})


@st.composite
def broadcast_to_case(draw):
    """A shape and a target it broadcasts to (new leading axes and stretched size-1 axes)."""
    target = draw(_shape())
    keep = draw(st.integers(0, len(target)))
    tail = target[len(target) - keep:]
    shape = tuple(1 if draw(st.booleans()) else n for n in tail)
    return Case((shape,), {"shape": target})


@st.composite
def _shape_with_repeats(draw, min_dims=0):
    """A shape that, most of the time, has two axes of the same size (> 1); and those two axes."""
    shape = list(draw(_shape(min_dims)))
    pair = ()
    if len(shape) >= 2 and draw(st.integers(0, 3)):
        a, b = draw(st.permutations(range(len(shape))))[:2]
        shape[b] = shape[a] = max(shape[a], 2)
        pair = (a, b)
    return tuple(shape), pair


@st.composite
def reduction_case(draw):
    """A shape and ``axis`` in every form (None, int, negative int, tuple) with ``keepdims``.

    When two axes have the same size, an int ``axis`` is usually one of them: that is where
    code that finds the reduced axis by its size goes wrong.
    """
    shape, pair = draw(_shape_with_repeats())
    ndim = len(shape)
    keepdims = draw(st.booleans())
    kind = draw(st.sampled_from(["int", "tuple", "none"] if ndim else ["none", "tuple"]))
    if kind == "none":
        axis = None
    elif kind == "int" and pair and draw(st.integers(0, 3)):
        axis = draw(st.sampled_from(pair))
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = draw(hnp.valid_tuple_axes(ndim))
    return Case((shape,), {"axis": axis, "keepdims": keepdims})


@st.composite
def softmax_case(draw):
    """A shape of at least one dimension and an ``axis`` (negative allowed)."""
    shape = draw(_shape(min_dims=1))
    return Case((shape,), {"axis": draw(st.integers(-len(shape), len(shape) - 1))})


def cross_entropy_case():
    """Logits (N, C) and labels (N,)."""
    return st.tuples(st.integers(1, MAX_SIDE), st.integers(1, MAX_SIDE)).map(
        lambda nc: Case(((nc[0], nc[1]), (nc[0],))))


def linear_case():
    """x (N, in), weight (out, in), bias (out,)."""
    return st.tuples(*[st.integers(1, MAX_SIDE)] * 3).map(
        lambda s: Case(((s[0], s[1]), (s[2], s[1]), (s[2],))))


def affine_case():
    """x (N, d_1[, d_2[, d_3]]), w (d_1*...*d_k, M), b (M,): x of rank 2 to 4, so that a gradient
    not reshaped back to x's shape is seen."""
    side = st.integers(1, MAX_SIDE)
    return st.tuples(side, st.lists(side, min_size=1, max_size=3), side).map(
        lambda s: Case(((s[0], *s[1]), (int(np.prod(s[1])), s[2]), (s[2],))))


def param_choices(case, **choices):
    """``case`` with each parameter drawn from its list of values (shrinking towards the first)."""
    names = sorted(choices)
    return st.tuples(*[st.sampled_from(choices[n]) for n in names]).map(
        lambda values: Case(case.shapes, {**case.params, **dict(zip(names, values))}))


def broadcast_triple():
    """Three mutually broadcastable shapes, 0-d to 3-d (``where``'s condition and branches)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=MAX_DIMS,
                                             min_side=1, max_side=MAX_SIDE).map(
        lambda b: Case(tuple(b.input_shapes)))


# ---- public entry points ---------------------------------------------------------------------

def cases(op):
    """Shapes and parameters (a :class:`~derive.catalog.registry.Case`) for ``op``, from the catalog."""
    return get_op(op).cases()


def _values(rng, shape, domain, labels_of=None):
    if domain in ("labels", "indices"):  # few distinct values: repeated indices are common
        return np.asarray(rng.integers(0, labels_of, size=shape))
    if domain == "mask":  # one in ten has no True (all of G is dropped), one in ten no False
        kind = rng.random()
        return np.full(shape, kind >= 0.1) if kind < 0.2 else np.asarray(rng.random(size=shape) < 0.6)
    x = rng.uniform(-2.0, 2.0, size=shape)
    if domain == "positive":
        return np.abs(x) + 0.25
    if domain == "ties" and np.size(x) > 1:
        x = np.array(x)
        x[rng.random(size=shape) < 0.35] = x.max()
        x[rng.random(size=shape) < 0.35] = x.min()
        return x
    if domain == "grid":
        return rng.integers(-4, 5, size=shape) / 2.0
    if domain in ("nonzero", "away_from_zero"):
        return np.where(x < 0, x - 0.25, x + 0.25)
    return x


def make_inputs(op, case, seed, dtype=np.float64):
    """Float inputs for ``case`` of ``op`` in its domain, from a NumPy generator seeded by ``seed``."""
    op = get_op(op)
    rng = np.random.default_rng(seed)
    arrays = []
    for spec, shape in zip(op.inputs, case.shapes):
        if spec.data:
            upper = spec.upper(case.shapes, op.with_defaults(case.params)) if spec.domain != "mask" else None
            arrays.append(_values(rng, shape, spec.domain, upper))
        else:
            arrays.append(np.asarray(_values(rng, shape, spec.domain), dtype=dtype))
    return arrays


def make_upstream(shape, seed, dtype=np.float64):
    """An arbitrary upstream gradient G (never all ones) of ``shape``."""
    rng = np.random.default_rng(seed + 7919)
    return np.asarray(rng.uniform(-1.5, 1.5, size=shape) + 0.1, dtype=dtype)


def _rationals(rng, shape, integers=False):
    """Random non-zero integers from a large range, as Fractions (exact arithmetic, object dtype), or
    as Python ints with ``integers`` (exact too while nothing divides, and several times faster)."""
    values = rng.integers(1, 10**6, size=shape) * rng.choice([-1, 1], size=shape)
    out = np.empty(shape, dtype=object)
    kind = int if integers else Fraction
    for idx in np.ndindex(*shape):
        out[idx] = kind(int(values[idx]))
    return out


def make_rational_inputs(op, case, seed, integers=False):
    """Exact inputs for ``case``: arrays of random rationals (labels stay integers); Python ints with
    ``integers``."""
    op = get_op(op)
    rng = np.random.default_rng(seed + 104729)
    arrays = []
    for spec, shape in zip(op.inputs, case.shapes):
        if spec.data:
            upper = spec.upper(case.shapes, op.with_defaults(case.params)) if spec.domain != "mask" else None
            arrays.append(_values(rng, shape, spec.domain, upper))
        else:
            arrays.append(_rationals(rng, tuple(shape), integers))
    return arrays


def make_rational_upstream(shape, seed, integers=False):
    """An exact upstream gradient: random rationals of ``shape`` (Python ints with ``integers``)."""
    return _rationals(np.random.default_rng(seed + 1299709), tuple(shape), integers)


def inputs(op, case):
    """Strategy of float64 input arrays for ``case`` of ``op``, inside the op's domain."""
    return st.integers(0, 2**32 - 1).map(lambda seed: make_inputs(op, case, seed))


def upstream(shape):
    """Strategy of upstream gradients ``G`` of ``shape`` (arbitrary values, never ones)."""
    return st.integers(0, 2**32 - 1).map(lambda seed: make_upstream(shape, seed))


def examples(op):
    """Strategy of ``(case, seed)``: a case of ``op`` and the seed of its values and G."""
    return st.tuples(cases(op), st.integers(0, 2**32 - 1))
