"""Products: matmul (1-D, 2-D, batched) and einsum (two operands, any subscripts)."""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import strategies as hst

from . import strategies as st
from .registry import Case, Input, Op, format_shape, register
from .spelling import operator_else
from ..vocabulary.expressions import Output, broadcast_index, broadcast_shapes, nested_sum, summation

X_ = Input("X")


def define_matmul(X, Y):
    if X.ndim == 0 or Y.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got {format_shape(X.shape)} "
                         f"and {format_shape(Y.shape)}")
    n_x = X.shape[-1]
    n_y = Y.shape[-2] if Y.ndim > 1 else Y.shape[0]
    if n_x != n_y:
        raise ValueError(f"matmul: inner dimensions differ: X{format_shape(X.shape)} has {n_x}, "
                         f"Y{format_shape(Y.shape)} has {n_y}")
    x_batch, y_batch = X.shape[:-2], Y.shape[:-2]
    batch = broadcast_shapes(x_batch, y_batch, op="matmul")
    out = batch + (X.shape[-2:-1] if X.ndim > 1 else ()) + (Y.shape[-1:] if Y.ndim > 1 else ())
    nb = len(batch)

    def entry(*k):
        kb, rest = k[:nb], list(k[nb:])
        row = (rest.pop(0),) if X.ndim > 1 else ()
        col = (rest.pop(0),) if Y.ndim > 1 else ()
        xb = broadcast_index(x_batch, batch, kb)
        yb = broadcast_index(y_batch, batch, kb)
        return summation(lambda s: X[xb + row + (s,)] * Y[yb + (s,) + col], n_x)

    return Output(out, entry)


register(Op(
    name="matmul", aliases=("mm", "dot", "matrix_multiply"), inputs=(Input("X"), Input("Y")),
    define=define_matmul, forward=np.matmul, cases=st.matmul_pair,
    canonical=Case((("p", "q"), ("q", "r"))), exact=True, call=operator_else("@", lambda x, y: x @ y, "matmul"),
    doc="Z = X @ Y (1-D, 2-D, batched with broadcasting)",
    variants=(("X @ Y.T", lambda X, Y: X @ np.swapaxes(Y, -1, -2)),
              ("X.T @ Y", lambda X, Y: np.swapaxes(X, -1, -2) @ Y),
              ("X * Y (elementwise)", np.multiply))))


# ---- einsum ----------------------------------------------------------------------------------------

_ELLIPSIS = "."  # the label of an ellipsis dimension is (".", position in the broadcast batch)


def _split_labels(term, rank, operand):
    """The labels of one operand (or the output) of ``term``: letters, the ellipsis expanded.

    ``rank`` is the operand's number of dimensions (None for the output: its ellipsis is
    the whole batch, filled in by the caller).
    """
    if term.count("...") > 1 or term.replace("...", "").count("."):
        raise ValueError(f"einsum: {operand} {term!r} has more than one ellipsis or a stray '.'")
    head, dots, tail = term.partition("...")
    for c in head + tail:
        if not c.isalpha() or not c.isascii():
            raise ValueError(f"einsum: {operand} {term!r}: {c!r} is not a letter")
    if not dots:
        if rank is not None and rank != len(term):
            raise ValueError(f"einsum: {operand} {term!r} names {len(term)} dimensions of an array with {rank}")
        return list(term), None
    if rank is not None and rank < len(head) + len(tail):
        raise ValueError(f"einsum: {operand} {term!r} names more dimensions than its array's {rank}")
    return list(head), list(tail)


def parse_einsum(subscripts, ranks):
    """Operand and output labels of ``np.einsum(subscripts, X, Y)``, NumPy's rules.

    Each label is a letter or ``(".", b)``, the ``b``-th dimension of the broadcast
    ellipsis batch (operands' ellipses are aligned on the right, as NumPy broadcasts).
    Without ``->`` the output is the batch, then the letters that occur once, sorted.

    >>> parse_einsum("ij,jk->ik", (2, 2))
    ([['i', 'j'], ['j', 'k']], ['i', 'k'])
    >>> parse_einsum("...i,i", (3, 1))
    ([[('.', 0), ('.', 1), 'i'], ['i']], [('.', 0), ('.', 1)])
    """
    text = str(subscripts).replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    if len(terms) != len(ranks):
        raise ValueError(f"einsum: {subscripts!r} has {len(terms)} operands, the op takes {len(ranks)} (X, Y)")
    split = [_split_labels(t, r, f"operand {n}") for n, (t, r) in enumerate(zip(terms, ranks))]
    batch = max((r - len(h) - len(t) for (h, t), r in zip(split, ranks) if t is not None), default=0)
    labels = []
    for (head, tail), rank in zip(split, ranks):
        if tail is None:
            labels.append(head)
            continue
        nb = rank - len(head) - len(tail)
        labels.append(head + [(_ELLIPSIS, batch - nb + b) for b in range(nb)] + tail)
    batch_labels = [(_ELLIPSIS, b) for b in range(batch)]
    letters = [c for term in labels for c in term if isinstance(c, str)]
    if not arrow:
        return labels, batch_labels + sorted(c for c in set(letters) if letters.count(c) == 1)
    head, tail = _split_labels(output, None, "output")
    if tail is None and batch:
        raise ValueError(f"einsum: the output of {subscripts!r} needs '...' for the operands' broadcast dimensions")
    out = head + (batch_labels + tail if tail is not None else [])
    for c in out:
        if isinstance(c, str) and (c not in letters or out.count(c) > 1):
            raise ValueError(f"einsum: output letter {c!r} of {subscripts!r} is repeated or names no input dimension")
    return labels, out


def _label_sizes(labels, shapes, subscripts):
    """Each label's size: a letter repeated in one operand must agree; across operands size 1 broadcasts."""
    sizes = {}
    for term, shape in zip(labels, shapes):
        seen = {}
        for label, n in zip(term, shape):
            if seen.setdefault(label, n) != n:
                raise ValueError(f"einsum: {subscripts!r}: {label!r} repeated in one operand with sizes "
                                 f"{seen[label]} and {n}")
        for label, n in seen.items():
            known = sizes.get(label, sp.Integer(1))
            if n != 1 and known != 1 and n != known:
                raise ValueError(f"einsum: {subscripts!r}: {label!r} has sizes {known} and {n}")
            sizes[label] = known if n == 1 else n
    return sizes


def define_einsum(X, Y, subscripts="ij,jk->ik"):
    (lx, ly), out = parse_einsum(subscripts, (X.ndim, Y.ndim))
    sizes = _label_sizes((lx, ly), (X.shape, Y.shape), subscripts)
    summed = [c for c in dict.fromkeys(lx + ly) if c not in out]

    def read(A, term, at):
        # a dimension of size 1 under a longer label is broadcast: always entry 0
        return A[tuple(sp.Integer(0) if n == 1 and sizes[c] != 1 else at[c] for c, n in zip(term, A.shape))]

    def entry(*k):
        def body(s):
            at = dict(zip(out, k)) | dict(zip(summed, s))
            return read(X, lx, at) * read(Y, ly, at)
        return nested_sum(body, [sizes[c] for c in summed])

    return Output(tuple(sizes[c] for c in out), entry)


def _call_einsum(api, x, y, subscripts="ij,jk->ik"):
    """``api.einsum(subscripts, x, y)``, NumPy's argument order (torch, autograd, MyGrad, JAX share it)."""
    fn = getattr(api, "einsum", None) if api is not None else None
    return fn(subscripts, x, y) if callable(fn) else None


@hst.composite
def einsum_case(draw):
    """Two operands and subscripts: repeated letters (diagonals), letters only one operand sums,
    outer products, transposed outputs, an ellipsis that broadcasts, size-1 letters that broadcast,
    implicit output."""
    pool = "ijkl"[:draw(hst.integers(1, 4))]
    # one in four: a transposed output ('ik->ki') of letters longer than 1, so G's axes are not sorted
    transposed = draw(hst.integers(0, 3)) == 0
    size = {c: draw(hst.integers(2 if transposed else 1, st.MAX_SIDE)) for c in pool}
    terms = [draw(hst.lists(hst.sampled_from(pool), max_size=3)) for _ in range(2)]
    batch = draw(hst.lists(hst.integers(1, 3), max_size=2)) if draw(hst.booleans()) else None
    # one in three: a letter both operands read is size 1 in one of them and broadcasts against the
    # other (added to the terms where needed: left to chance it came up in one draw in twenty)
    ones, thin = set(), draw(hst.integers(0, 1))
    if draw(hst.integers(0, 2)) == 0:
        c = draw(hst.sampled_from(pool))
        for term in terms:
            if c not in term:
                term.insert(draw(hst.integers(0, len(term))), c)
        if terms[thin].count(c) == 1:  # a repeated letter is a diagonal: not a broadcast
            size[c], ones = max(size[c], 2), {c}
    shapes, texts = [], []
    for n, term in enumerate(terms):
        labels = list(term)
        if batch is not None and (n == 0 or draw(hst.booleans())):
            labels.insert(draw(hst.integers(0, len(term))), "...")
        nb = draw(hst.integers(0, len(batch))) if batch is not None else 0
        mine = [b if draw(hst.integers(0, 3)) else 1 for b in batch[len(batch) - nb:]] if nb else []
        shape = []
        for c in labels:
            shape += mine if c == "..." else [1 if n == thin and c in ones else size[c]]
        shapes.append(shape)
        texts.append("".join(labels))
    subscripts = ",".join(texts)
    letters = sorted(set(terms[0] + terms[1]))
    if transposed or draw(hst.integers(0, 3)):
        out = letters[::-1] if transposed else draw(hst.permutations(letters))[:draw(hst.integers(0, len(letters)))]
        text = "".join(out)
        if batch is not None:
            at = draw(hst.integers(0, len(text)))
            text = text[:at] + "..." + text[at:]
        subscripts += "->" + text
    return Case((tuple(shapes[0]), tuple(shapes[1])), {"subscripts": subscripts})


register(Op(
    name="einsum", inputs=(X_, Input("Y")), params={"subscripts": "ij,jk->ik"}, define=define_einsum,
    forward=lambda X, Y, subscripts="ij,jk->ik": np.einsum(subscripts, X, Y), cases=einsum_case,
    shape_generic=False, canonical=Case((("p", "q"), ("q", "r")), {"subscripts": "ij,jk->ik"}), exact=True,
    call=_call_einsum,
    doc="Z = np.einsum(subscripts, X, Y): any subscripts, a repeated letter reads a diagonal, '...' "
        "broadcasts; a letter's size 1 broadcasts as in NumPy"))
