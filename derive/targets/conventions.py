"""What a Tensor library means by an op's name where it is not what NumPy means, settled by a
trial call at load time, and the spelling that asks it for the catalog's op:

- a ``transpose()`` that swaps the last two axes (needle's, torch's ``transpose(dim0, dim1)``)
  rather than reversing them all: a permutation that swaps two axes is checked through it;
- a ``sum(dim)`` that keeps the reduced axis (MiniTorch's): cases that keep one reduced axis
  are checked through it, and the rest are skipped;
- a ``view``/``reshape`` that does not infer a ``-1`` size (MiniTorch's ``view``): the shape is
  passed with every size written out, so those cases are still checked.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..catalog.spelling import spelled
from .base import Unsupported


def _leaf(target, shape):
    """A leaf of zeros, or None where the target cannot make one of ``shape``."""
    try:
        return target.leaf(np.zeros(shape))
    except Exception:  # noqa: BLE001  then no convention is tried on it
        return None


def swaps_two_axes(target):
    """Whether the target's ``transpose()`` swaps the last two axes (needle's) rather than reversing
    them all (NumPy's), tried on a (2, 3, 4) leaf."""
    x = _leaf(target, (2, 3, 4))
    if x is None:
        return False
    method = getattr(x, "transpose", None)
    fn = method if callable(method) else getattr(target.api, "transpose", None)
    if not callable(fn):
        return False
    try:
        out = fn() if fn is method else fn(x)
        return tuple(np.shape(target.unwrap(out))) == (2, 4, 3)
    except Exception:  # noqa: BLE001  a transpose that wants its axes: not needle's
        return False


def transpose_as_swap(api, x, axes=None):
    """The catalog's ``transpose(X, axes)`` through a transpose that swaps two axes: a permutation
    that swaps exactly two is passed as that pair; any other is :class:`Unsupported`."""
    ndim = len(x.shape)
    order = tuple(reversed(range(ndim))) if axes is None else tuple(a % ndim for a in axes)
    moved = [a for a in range(ndim) if order[a] != a]
    if len(moved) != 2:
        raise Unsupported("the library's transpose swaps two axes; orders that are not one swap are skipped")
    pair = tuple(moved)
    method = getattr(x, "transpose", None)
    spelled(*(("method", type(x)) if callable(method) else ("function", api)), "transpose")
    return method(pair) if callable(method) else api.transpose(x, pair)


def keeps_reduced_dims(target, name):
    """Whether the target's ``x.<name>(dim=1)`` keeps the reduced axis (MiniTorch's ``sum(dim)``) and its
    method names neither ``axis`` nor ``keepdims``, tried on a (2, 3, 4) leaf."""
    x = _leaf(target, (2, 3, 4))
    method = getattr(x, name, None)
    if x is None or not callable(method):
        return False
    try:
        taken = inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False
    if "dim" not in taken or {"axis", "axes", "keepdims", "keepdim"} & set(taken):
        return False
    try:
        return tuple(np.shape(target.unwrap(method(dim=1)))) == (2, 1, 4)
    except Exception:  # noqa: BLE001  not this convention
        return False


def reduce_keeping_dims(name):
    """The catalog's ``<name>(X, axis, keepdims)`` through a ``<name>(dim)`` that keeps the reduced axis:
    a full reduction as ``<name>()``, one kept axis as ``<name>(dim=axis)``; other cases are
    :class:`Unsupported`."""
    def spell(api, x, axis=None, keepdims=False):
        method = getattr(x, name)
        spelled("method", type(x), name)
        if axis is None and not keepdims:
            return method()
        axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        if axis is None or not keepdims or len(axes) != 1:
            raise Unsupported(f"the library's {name}(dim) keeps one reduced axis: cases that drop it, or "
                              "reduce several, are skipped")
        return method(dim=int(axes[0]) % len(x.shape))
    spell.__name__ = f"{name}_keeping_dims"
    return spell


def infers_minus_one(target):
    """Whether the target's reshape, asked for ``(-1,)`` of a (2, 3) leaf, gives 6 entries (NumPy's
    ``-1``); True where it cannot be tried, so that nothing is changed."""
    x = _leaf(target, (2, 3))
    if x is None:
        return True
    try:
        out = target.spelling("reshape")(target.api, x, shape=(-1,))
        return out is None or tuple(np.shape(target.unwrap(out))) == (6,)
    except Exception:  # noqa: BLE001  a reshape that refuses -1 does not infer it
        return False


def sizes_in_full(spell):
    """``spell`` with a ``-1`` in ``shape`` replaced by the size it stands for."""
    def spelled_out(api, x, shape):
        shape = tuple(int(n) for n in shape)
        if -1 in shape:
            known = int(np.prod([n for n in shape if n != -1]))
            size = int(np.prod(x.shape))
            shape = tuple(size // known if n == -1 and known else n for n in shape)
        return spell(api, x, shape=shape)
    spelled_out.__name__ = getattr(spell, "__name__", "spell")
    return spelled_out


def settle_conventions(engine):
    """Install on ``engine`` the spellings its library's conventions need; what was found, in words."""
    found = []
    if swaps_two_axes(engine):
        engine.spellings["transpose"] = transpose_as_swap
        found.append("transpose swaps two axes")
    for name in ("sum", "mean"):
        if keeps_reduced_dims(engine, name):
            engine.spellings[name] = reduce_keeping_dims(name)
            found.append(f"{name}(dim) keeps the reduced axis")
    if not infers_minus_one(engine):
        engine.spellings["reshape"] = sizes_in_full(engine.spelling("reshape"))
        found.append("reshape does not infer a -1 size: shapes are passed in full")
    return found
