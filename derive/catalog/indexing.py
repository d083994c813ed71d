"""Ops that select, reorder and join entries: getitem (a basic slice), flip, expand_dims, squeeze,
concatenate, stack, pad, the integer-array indexing of embedding, take and take_along_axis, and
the boolean-mask indexing of masked_select.

``getitem`` takes one basic slice on one axis, Python's semantics: ``start``,
``stop`` and ``step`` may be negative or None, so ``X[::-2]`` and ``X[-1:0:-1]``
are cases.  Its gradient puts ``G`` back where the entries came from and zeros
elsewhere (a slice never repeats an entry).  ``concatenate`` and ``stack`` join
two arrays (``X``, ``Y``) along ``axis``; their gradients split ``G``.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp
from hypothesis import strategies as hst

from . import strategies as st
from .registry import Case, Input, Op, register
from .spelling import call_function, call_joined
from ..vocabulary.expressions import Output, bracket

X_ = Input("X")


def _axis(axis, ndim, name):
    if not -ndim <= int(axis) < ndim:
        raise ValueError(f"{name}: axis {axis} is out of bounds for {ndim} dimensions")
    return int(axis) % ndim


def _spell(name):
    return functools.partial(call_function, name=name)


# ---- getitem -------------------------------------------------------------------------------------

def _slice_range(n, start, stop, step):
    return range(*slice(start, stop, step).indices(int(n)))


def define_getitem(X, axis=0, start=None, stop=None, step=None):
    a = _axis(axis, X.ndim, "getitem")
    picked = _slice_range(X.shape[a], start, stop, step)
    if len(picked) == 0:
        raise ValueError("getitem: the slice selects no entry")
    out = X.shape[:a] + (sp.Integer(len(picked)),) + X.shape[a + 1:]
    return Output(out, lambda *k: X[k[:a] + (picked.start + picked.step * k[a],) + k[a + 1:]])


def _getitem_np(X, axis=0, start=None, stop=None, step=None):
    index = [slice(None)] * X.ndim
    index[axis] = slice(start, stop, step)
    return X[tuple(index)]


@hst.composite
def getitem_case(draw):
    """A shape, an axis and a slice on it: negative starts and steps, None, steps that skip."""
    shape = draw(st._shape(min_dims=1))
    axis = draw(hst.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    bound = hst.one_of(hst.none(), hst.integers(-n - 1, n + 1))
    start, stop = draw(bound), draw(bound)
    step = draw(hst.sampled_from([None, 1, 2, 3, -1, -2]))
    if len(_slice_range(n, start, stop, step)) == 0:
        start, stop = (None, None)
    return Case((shape,), {"axis": axis, "start": start, "stop": stop, "step": step})


register(Op(
    name="getitem", aliases=("slice",), inputs=(X_,),
    params={"axis": 0, "start": None, "stop": None, "step": None},
    define=define_getitem, forward=_getitem_np, cases=getitem_case, shape_generic=False,
    canonical=Case(((6, 2),), {"axis": 0, "start": -1, "stop": None, "step": -2}), exact=True,
    call=_spell("getitem"), doc="Z = X[start:stop:step] along axis (Python's slice; negative steps too)"))


# ---- flip, expand_dims, squeeze -------------------------------------------------------------------

def define_flip(X, axis=0):
    a = _axis(axis, X.ndim, "flip")
    return Output(X.shape, lambda *k: X[k[:a] + (X.shape[a] - 1 - k[a],) + k[a + 1:]])


def _axis_case(min_dims=1):
    return st._shape(min_dims=min_dims).flatmap(
        lambda s: hst.integers(-len(s), len(s) - 1).map(lambda a: Case((s,), {"axis": a})))


register(Op(
    name="flip", inputs=(X_,), params={"axis": 0}, define=define_flip,
    forward=lambda X, axis=0: np.flip(X, axis), cases=_axis_case,
    canonical=Case((("n", "m"),), {"axis": 1}), exact=True, call=_spell("flip"),
    doc="Z = np.flip(X, axis): the entries of one axis in reverse order"))


def define_expand_dims(X, axis=0):
    a = _axis(axis, X.ndim + 1, "expand_dims")
    return Output(X.shape[:a] + (sp.Integer(1),) + X.shape[a:], lambda *k: X[k[:a] + k[a + 1:]])


register(Op(
    name="expand_dims", aliases=("unsqueeze",), inputs=(X_,), params={"axis": 0}, define=define_expand_dims,
    forward=lambda X, axis=0: np.expand_dims(X, axis),
    cases=lambda: st._shape().flatmap(lambda s: hst.integers(-len(s) - 1, len(s)).map(
        lambda a: Case((s,), {"axis": a}))),
    canonical=Case((("n", "m"),), {"axis": 1}), exact=True, call=_spell("expand_dims"),
    doc="Z = np.expand_dims(X, axis): a new axis of size 1"))


def define_squeeze(X, axis=0):
    a = _axis(axis, X.ndim, "squeeze")
    if X.shape[a] != 1:
        raise ValueError(f"squeeze: axis {axis} has size {X.shape[a]}, not 1")
    return Output(X.shape[:a] + X.shape[a + 1:], lambda *k: X[k[:a] + (sp.Integer(0),) + k[a:]])


@hst.composite
def squeeze_case(draw):
    """A shape with a size-1 axis (often next to other size-1 axes) and that axis, negative too."""
    shape = list(draw(st._shape(min_dims=1)))
    a = draw(hst.integers(0, len(shape) - 1))
    shape[a] = 1
    return Case((tuple(shape),), {"axis": draw(hst.sampled_from([a, a - len(shape)]))})


register(Op(
    name="squeeze", inputs=(X_,), params={"axis": 0}, define=define_squeeze,
    forward=lambda X, axis=0: np.squeeze(X, axis), cases=squeeze_case,
    canonical=Case((("n", 1, "m"),), {"axis": 1}), exact=True, call=_spell("squeeze"),
    doc="Z = np.squeeze(X, axis): drop one axis of size 1"))


# ---- concatenate, stack ---------------------------------------------------------------------------

def define_concatenate(X, Y, axis=0):
    a = _axis(axis, X.ndim, "concatenate")
    if X.ndim != Y.ndim or any(X.shape[t] != Y.shape[t] for t in range(X.ndim) if t != a):
        raise ValueError(f"concatenate: shapes {X.shape} and {Y.shape} differ off axis {axis}")
    nx = X.shape[a]
    out = X.shape[:a] + (nx + Y.shape[a],) + X.shape[a + 1:]
    # a read outside X or Y is zero, so each term is its own block
    return Output(out, lambda *k: (X[k] * bracket(k[a] < nx)
                                   + Y[k[:a] + (k[a] - nx,) + k[a + 1:]] * bracket(k[a] >= nx)))


@hst.composite
def concatenate_case(draw):
    """Two shapes that differ only along ``axis`` (negative too)."""
    shape = draw(st._shape(min_dims=1))
    axis = draw(hst.integers(-len(shape), len(shape) - 1))
    other = list(shape)
    other[axis] = draw(hst.integers(1, st.MAX_SIDE))
    return Case((shape, tuple(other)), {"axis": axis})


register(Op(
    name="concatenate", aliases=("cat", "concat"), inputs=(X_, Input("Y")), params={"axis": 0},
    define=define_concatenate, forward=lambda X, Y, axis=0: np.concatenate([X, Y], axis),
    cases=concatenate_case, shape_generic=False, canonical=Case(((2, 3), (4, 3)), {"axis": 0}), exact=True,
    call=functools.partial(call_joined, name="concatenate"), doc="Z = np.concatenate([X, Y], axis)"))


def define_stack(X, Y, axis=0):
    a = _axis(axis, X.ndim + 1, "stack")
    if X.shape != Y.shape:
        raise ValueError(f"stack: shapes {X.shape} and {Y.shape} differ")

    def entry(*k):
        rest = k[:a] + k[a + 1:]
        return X[rest] * sp.KroneckerDelta(k[a], 0) + Y[rest] * sp.KroneckerDelta(k[a], 1)

    return Output(X.shape[:a] + (sp.Integer(2),) + X.shape[a:], entry)


register(Op(
    name="stack", inputs=(X_, Input("Y")), params={"axis": 0}, define=define_stack,
    forward=lambda X, Y, axis=0: np.stack([X, Y], axis),
    cases=lambda: st._shape().flatmap(lambda s: hst.integers(-len(s) - 1, len(s)).map(
        lambda a: Case((s, s), {"axis": a}))),
    canonical=Case((("n", "m"), ("n", "m")), {"axis": 1}), exact=True, call=functools.partial(call_joined, name="stack"),
    doc="Z = np.stack([X, Y], axis): a new axis of size 2"))


# ---- integer-array indexing ------------------------------------------------------------------------

def define_embedding(weight, indices):
    if weight.ndim != 2 or indices.ndim != 1:
        raise ValueError(f"embedding: weight must be (V, D) and indices (N,), got {weight.shape} and {indices.shape}")
    return Output((indices.shape[0], weight.shape[1]), lambda n, d: weight[indices[n], d])


@hst.composite
def embedding_case(draw):
    """A table (V, D) and indices (N,) into its rows; N often exceeds V, so rows repeat."""
    V, D, N = (draw(hst.integers(1, st.MAX_SIDE)) for _ in range(3))
    N = max(N, draw(hst.sampled_from([N, V + 1])))  # more lookups than rows: a repeat is certain
    return Case(((V, D), (N,)))


register(Op(
    name="embedding", aliases=("take_rows",), inputs=(Input("weight"), Input("indices", domain="indices", bound=(0, 0))),
    define=define_embedding, forward=lambda weight, indices: weight[indices], cases=embedding_case,
    canonical=Case((("V", "D"), ("N",))), exact=True, call=_spell("embedding"),
    doc="Z = weight[indices]: rows gathered; a repeated index accumulates its rows' gradients (scatter-add)"))


# ---- pad ------------------------------------------------------------------------------------------

def _pad_width(pad_width, ndim):
    widths = tuple(tuple(int(v) for v in pair) for pair in pad_width)
    if len(widths) != ndim or any(len(p) != 2 or min(p) < 0 for p in widths):
        raise ValueError(f"pad: pad_width must give (before, after) >= 0 for each of {ndim} axes, got {pad_width}")
    return widths


def define_pad(X, pad_width=()):
    widths = _pad_width(pad_width, X.ndim)
    out = tuple(n + a + b for n, (a, b) in zip(X.shape, widths))
    # a read outside X is zero: that is the padding
    return Output(out, lambda *k: X[tuple(i - a for i, (a, _) in zip(k, widths))])


@hst.composite
def pad_case(draw):
    """A shape and (before, after) widths per axis, 0 to 2, often unequal."""
    shape = draw(st._shape(min_dims=1))
    widths = tuple((draw(hst.integers(0, 2)), draw(hst.integers(0, 2))) for _ in shape)
    return Case((shape,), {"pad_width": widths})


register(Op(
    name="pad", inputs=(X_,), params={"pad_width": ()}, define=define_pad,
    forward=lambda X, pad_width=(): np.pad(X, pad_width), cases=pad_case, shape_generic=False,
    canonical=Case(((2, 3),), {"pad_width": ((1, 0), (2, 1))}), exact=True, call=_spell("pad"),
    doc="Z = np.pad(X, pad_width) with zeros; the gradient crops G"))


# ---- take_along_axis ------------------------------------------------------------------------------

def define_take_along_axis(X, indices):
    if X.ndim < 1 or indices.ndim != X.ndim or tuple(indices.shape[:-1]) != tuple(X.shape[:-1]):
        raise ValueError(f"take_along_axis: indices must match X {X.shape} but in the last axis, got {indices.shape}")
    return Output(indices.shape, lambda *k: X[tuple(k[:-1]) + (indices[k],)])


@hst.composite
def take_along_axis_case(draw):
    """X (..., N) and indices (..., M) into its last axis; M often exceeds N, so entries repeat."""
    lead = draw(st._shape(max_dims=2))
    N, M = draw(hst.integers(1, st.MAX_SIDE)), draw(hst.integers(1, st.MAX_SIDE))
    M = max(M, draw(hst.sampled_from([M, N + 1])))  # more picks than entries: a repeat is certain
    return Case((tuple(lead) + (N,), tuple(lead) + (M,)))


register(Op(
    name="take_along_axis", aliases=("gather",),
    inputs=(X_, Input("indices", domain="indices", bound=(0, -1))),
    define=define_take_along_axis, forward=lambda X, indices: np.take_along_axis(X, indices, axis=-1),
    cases=take_along_axis_case, canonical=Case((("a", "n"), ("a", "m"))), exact=True,
    call=_spell("take_along_axis"),
    doc="Z = np.take_along_axis(X, indices, axis=-1) (torch.gather on the last dim); a repeated index "
        "accumulates (scatter-add)"))


# ---- take: integer-array indexing on any axis -----------------------------------------------------

def define_take(X, indices, axis=0):
    a = _axis(axis, X.ndim, "take")
    m = indices.ndim
    out = X.shape[:a] + tuple(indices.shape) + X.shape[a + 1:]
    return Output(out, lambda *k: X[k[:a] + (indices[k[a:a + m]],) + k[a + m:]])


@hst.composite
def take_case(draw):
    """X, an axis and integer indices (1-D mostly, sometimes 0-d or 2-D) into it; often more picks
    than entries on the axis, so entries repeat."""
    shape = draw(st._shape(min_dims=1))
    axis = draw(hst.integers(-len(shape), len(shape) - 1))
    picks = draw(hst.integers(1, st.MAX_SIDE))
    picks = max(picks, draw(hst.sampled_from([picks, shape[axis] + 1])))  # a repeat is certain
    indices = draw(hst.sampled_from([(picks,), (picks,), (), (2, picks)]))
    return Case((shape, indices), {"axis": axis})


register(Op(
    name="take", aliases=("index_select",),
    inputs=(X_, Input("indices", domain="indices", bound=(0, "axis"))), params={"axis": 0},
    define=define_take, forward=lambda X, indices, axis=0: np.take(X, indices, axis=axis), cases=take_case,
    shape_generic=False, canonical=Case(((3, 4), (5,)), {"axis": 1}), exact=True, call=_spell("take"),
    doc="Z = np.take(X, indices, axis) (X[:, indices] on axis 1; torch.index_select); a repeated index "
        "accumulates (scatter-add)"))


# ---- masked_select: boolean-mask indexing ---------------------------------------------------------

def define_masked_select(X, mask=()):
    """``Z[t] = X[p_t]``, ``p_0, p_1, ...`` the positions where ``mask`` is True in row-major order:
    written as ``sum_t [k = t] X[p_t]``, so the derivation sees which entry each output reads."""
    m = np.asarray(mask, dtype=bool)
    if m.shape != tuple(int(n) for n in X.shape):
        raise ValueError(f"masked_select: the mask's shape {m.shape} is not X's {tuple(X.shape)}")
    picked = [tuple(sp.Integer(int(i)) for i in p) for p in np.argwhere(m)]
    return Output((sp.Integer(len(picked)),),
                  lambda k: sp.Add(*[sp.KroneckerDelta(k, t) * X[p] for t, p in enumerate(picked)]))


def _nested(a):
    return tuple(_nested(v) for v in a) if isinstance(a, list) else bool(a)


@hst.composite
def masked_select_case(draw):
    """A shape and a boolean mask of that shape, a parameter (the output's length depends on it):
    often mixed, sometimes with no True (an empty Z: all of dX is 0) or no False."""
    shape = draw(st._shape(min_dims=1))
    n = int(np.prod(shape))
    kind = draw(hst.sampled_from(["mixed", "mixed", "mixed", "no True", "no False"]))
    flat = ([kind == "no False"] * n if kind != "mixed"
            else draw(hst.lists(hst.booleans(), min_size=n, max_size=n)))
    return Case((shape,), {"mask": _nested(np.array(flat, dtype=bool).reshape(shape).tolist())})


register(Op(
    name="masked_select", aliases=("boolean_mask",), inputs=(X_,), params={"mask": ()},
    define=define_masked_select, forward=lambda X, mask=(): X[np.asarray(mask, dtype=bool)],
    cases=masked_select_case, shape_generic=False,
    canonical=Case(((2, 3),), {"mask": ((True, False, True), (False, True, True))}), exact=True,
    call=_spell("masked_select"),
    doc="Z = X[mask], mask a boolean array of X's shape (a parameter): the True entries in row-major order "
        "(torch.masked_select); a mask with no True gives an empty Z"))
