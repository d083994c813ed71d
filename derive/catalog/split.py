"""Ops whose output is a list of arrays: split (``np.split``) and unstack (``torch.unbind``).

Their backward gets one upstream gradient per piece, ``G_0, G_1, ...``, and
must put each back where its piece came from:
``dl/dX = np.concatenate([G_0, G_1, ...], axis)`` for split,
``np.stack([G_0, G_1, ...], axis)`` for unstack.  The classic mistakes are
joining along the wrong axis, in the wrong order, or assuming equal pieces.

The derivation works with one ``Z``, the pieces joined back (which is ``X``
itself: ``dl/dX = G``); the target's forward answers with the list, and its
backward is called with ``G`` cut into the pieces' gradients
(:class:`~derive.catalog.registry.Pieces`).
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as hst

from . import strategies as st
from .indexing import _axis
from .registry import Case, Input, Op, Pieces, register
from .spelling import call_function
from ..vocabulary.expressions import Output

X_ = Input("X")


def _same(X, **_):
    """The pieces joined back are ``X`` itself."""
    return Output(X.shape, lambda *k: X[k])


# ---- split ---------------------------------------------------------------------------------------

def _split_pieces(A, indices_or_sections=2, axis=0):
    how = indices_or_sections if isinstance(indices_or_sections, int) else list(indices_or_sections)
    return np.split(A, how, axis=axis)


def _split_forward(X, indices_or_sections=2, axis=0):
    return np.concatenate(_split_pieces(X, indices_or_sections, axis), axis=axis)


def define_split(X, indices_or_sections=2, axis=0):
    a = _axis(axis, X.ndim, "split")
    if isinstance(indices_or_sections, int) and X.shape[a].is_Integer and X.shape[a] % indices_or_sections:
        raise ValueError(f"split: {indices_or_sections} sections do not divide an axis of {X.shape[a]}")
    if not isinstance(indices_or_sections, int):
        n = X.shape[a]
        at = [min(int(i) % n if int(i) < 0 else int(i), n) for i in indices_or_sections] if n.is_Integer else []
        if at != sorted(at):
            raise ValueError(f"split: indices {tuple(indices_or_sections)} are not in order: the pieces "
                             "would not join back")
    return _same(X)


@hst.composite
def split_case(draw):
    """A shape, an axis and where to cut: equal sections (one, and one per entry, included), or cut
    indices in order, repeated (an empty piece), negative, at 0 and past the end."""
    shape = list(draw(st._shape(min_dims=1)))
    axis = draw(hst.integers(-len(shape), len(shape) - 1))
    if draw(hst.booleans()):  # a longer axis: room for pieces of different lengths
        shape[axis] = draw(hst.integers(1, 2 * st.MAX_SIDE))
    n = shape[axis]
    if draw(hst.booleans()):
        how = draw(hst.sampled_from([d for d in range(1, n + 1) if n % d == 0]))
    else:
        at = sorted(draw(hst.lists(hst.integers(0, n + 1), min_size=1, max_size=3)))
        how = tuple(p - n if p < n and draw(hst.integers(0, 3)) == 0 else p for p in at)
    return Case((tuple(shape),), {"indices_or_sections": how, "axis": axis})


def _call_split(api, x, indices_or_sections=2, axis=0):
    """``api.split(x, indices_or_sections, axis=axis)``: the second argument positional, as code calls it
    (HIPS autograd's VJP of split names it ``idxs`` and fails when it comes by keyword)."""
    fn = getattr(api, "split", None) if api is not None else None
    return fn(x, indices_or_sections, axis=axis) if callable(fn) else None


register(Op(
    name="split", aliases=("tensor_split",), inputs=(X_,), params={"indices_or_sections": 2, "axis": 0},
    define=define_split, forward=_split_forward, cases=split_case, exact=True, shape_generic=False,
    canonical=Case((("n", "m"),), {"indices_or_sections": (1,), "axis": 0}),
    call=_call_split,
    pieces=Pieces(_split_pieces, lambda pieces, indices_or_sections=2, axis=0: np.concatenate(pieces, axis),
                  "np.concatenate([Z_0, Z_1, ...], axis)"),
    doc="[Z_0, Z_1, ...] = np.split(X, indices_or_sections, axis): a list; dl/dX = concatenate(G_0, G_1, ...)"))


# ---- unstack -------------------------------------------------------------------------------------

def _unstack_pieces(A, axis=0):
    return [np.take(A, k, axis=axis) for k in range(np.shape(A)[axis])]


def define_unstack(X, axis=0):
    _axis(axis, X.ndim, "unstack")
    return _same(X)


register(Op(
    name="unstack", aliases=("unbind",), inputs=(X_,), params={"axis": 0},
    define=define_unstack, forward=lambda X, axis=0: np.stack(_unstack_pieces(X, axis), axis),
    cases=lambda: st._shape(min_dims=1).flatmap(lambda s: hst.integers(-len(s), len(s) - 1).map(
        lambda a: Case((s,), {"axis": a}))),
    exact=True, shape_generic=False, canonical=Case((("n", "m"),), {"axis": 1}),
    call=functools.partial(call_function, name="unstack"),
    pieces=Pieces(_unstack_pieces, lambda pieces, axis=0: np.stack(pieces, axis), "np.stack([Z_0, Z_1, ...], axis)"),
    doc="[Z_0, Z_1, ...] = np.unstack(X, axis): the slices along axis, a list; dl/dX = stack(G_0, G_1, ...)"))
