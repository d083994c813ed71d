"""``np.einsum`` of two operands: the forward and its hand-written backward functions.

The gradient of one operand is the einsum of ``G`` with the other operand, written
to the operand's own subscripts: ``Z = einsum('ij,jk->ik', X, Y)`` gives
``dl/dX = einsum('ik,jk->ij', G, Y)``.  Three things make it more than swapping
subscripts:

- a letter repeated in the operand (``'ii'``, a diagonal) puts the gradient back on
  that diagonal, zeros elsewhere (einsum cannot write a repeated output letter);
- a letter that only this operand has, summed away in ``Z``, gets ``G``'s value at
  every entry along it (einsum cannot output a letter no input has);
- a dimension that broadcast (an ellipsis's, or a letter of size 1 against a longer
  one) sums the gradient back to size 1.

This module imports NumPy only, and parses the subscripts itself.
"""

from __future__ import annotations

import string

import numpy as np

__all__ = ["einsum_forward", "einsum_grad_x", "einsum_grad_y"]


def _labels(subscripts, ranks):
    """One label list per operand and the output's, the ellipsis written as spare letters.

    Operands' ellipses are aligned on the right (NumPy broadcasting); without ``->`` the
    output is the ellipsis, then the letters that occur once, sorted.
    """
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    spare = [c for c in string.ascii_letters if c not in text]
    batch = max((r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t), default=0)
    batch_letters = "".join(spare[:batch])

    def expand(term, rank):
        if "..." not in term:
            return term
        nb = rank - len(term.replace("...", ""))
        return term.replace("...", batch_letters[batch - nb:])

    labels = [expand(t, r) for t, r in zip(terms, ranks)]
    if arrow:
        return labels, output.replace("...", batch_letters)
    once = sorted(c for c in set(inputs) if c.isalpha() and inputs.count(c) == 1)
    return labels, batch_letters + "".join(once)


def einsum_forward(x, y, subscripts="ij,jk->ik"):
    """``np.einsum(subscripts, x, y)``."""
    return np.asarray(np.einsum(subscripts, x, y))


def _operand_grad(grad, x, y, subscripts, which):
    """``dl/d(operand which)``: ``G`` einsummed with the other operand, back to this operand's subscripts."""
    arrays = (np.asarray(x), np.asarray(y))
    labels, out = _labels(subscripts, [a.ndim for a in arrays])
    mine, other = labels[which], labels[1 - which]
    sizes = {}
    for term, array in zip(labels, arrays):
        for c, n in zip(term, array.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    partner = np.broadcast_to(arrays[1 - which], [sizes[c] for c in other])  # its size-1 letters at full size
    unique = "".join(dict.fromkeys(mine))
    present = "".join(c for c in unique if c in out or c in other)
    grad_unique = np.asarray(np.einsum(f"{out},{other}->{present}", grad, partner))  # 0-d: an array, not a scalar
    # a letter only this operand has: the same value all along it
    grad_unique = np.broadcast_to(grad_unique.reshape([sizes[c] if c in present else 1 for c in unique]),
                                  [sizes[c] for c in unique])
    if len(unique) == len(mine):
        full = grad_unique
    else:  # a repeated letter: back on the diagonal, zeros off it
        full = np.zeros([sizes[c] for c in mine], dtype=grad_unique.dtype)
        grid = np.indices(grad_unique.shape, sparse=True)
        full[tuple(grid[unique.index(c)] for c in mine)] = grad_unique
    broadcast = tuple(d for d, (c, n) in enumerate(zip(mine, arrays[which].shape)) if n == 1 and sizes[c] != 1)
    return full.sum(axis=broadcast, keepdims=True) if broadcast else np.array(full)


def einsum_grad_x(grad, x, y, subscripts="ij,jk->ik"):
    """``Z = einsum('x,y->z', X, Y)``: ``dl/dX = einsum('z,y->x', G, Y)``, a repeated letter of
    ``x`` on its diagonal, a letter only ``x`` has broadcast, broadcast dimensions summed back."""
    return _operand_grad(grad, x, y, subscripts, 0)


def einsum_grad_y(grad, x, y, subscripts="ij,jk->ik"):
    """``Z = einsum('x,y->z', X, Y)``: ``dl/dY = einsum('z,x->y', G, X)``, as for ``X``."""
    return _operand_grad(grad, x, y, subscripts, 1)
