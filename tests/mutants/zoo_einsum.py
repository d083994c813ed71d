"""Mutants of einsum's backward: the classic mistakes of "swap the subscripts"."""

from __future__ import annotations

import numpy as np

from numeric.einsum import _labels

from .zoo import mutant


def _grad(grad, x, y, subscripts, which, *, diagonal=True, only_mine="broadcast", unbroadcast="sum",
          output_order=None):
    """einsum's operand gradient with one step done the wrong way (the keywords say which)."""
    arrays = (np.asarray(x), np.asarray(y))
    labels, out = _labels(subscripts, [a.ndim for a in arrays])
    mine, other = labels[which], labels[1 - which]
    sizes = {}
    for term, array in zip(labels, arrays):
        for c, n in zip(term, array.shape):
            sizes[c] = max(sizes.get(c, 1), n)
    if output_order == "sorted":  # reads G's axes as if the output letters were in alphabetical order
        grad = np.asarray(grad).reshape([sizes[c] for c in sorted(out)])
        out = "".join(sorted(out))
    partner = np.broadcast_to(arrays[1 - which], [sizes[c] for c in other])
    unique = "".join(dict.fromkeys(mine))
    present = "".join(c for c in unique if c in out or c in other)
    g = np.einsum(f"{out},{other}->{present}", grad, partner)
    g = g.reshape([sizes[c] if c in present else 1 for c in unique])
    if only_mine == "mean":  # a letter summed only here is treated as a mean
        g = g / np.prod([sizes[c] for c in unique if c not in present], dtype=float)
    g = np.broadcast_to(g, [sizes[c] for c in unique])
    if len(unique) == len(mine):
        full = np.array(g)
    elif diagonal:
        full = np.zeros([sizes[c] for c in mine])
        grid = np.indices(g.shape, sparse=True)
        full[tuple(grid[unique.index(c)] for c in mine)] = g
    else:  # a repeated letter treated as two independent letters: G spread over the whole block
        first = [sizes[c] if k == mine.index(c) else 1 for k, c in enumerate(mine)]
        full = np.array(np.broadcast_to(g.reshape(first), [sizes[c] for c in mine]))
    axes = tuple(d for d, (c, n) in enumerate(zip(mine, arrays[which].shape)) if n == 1 and sizes[c] != 1)
    if axes:
        full = full.sum(axis=axes, keepdims=True) if unbroadcast == "sum" else full[
            tuple(slice(0, 1) if d in axes else slice(None) for d in range(full.ndim))]
    return full


def _both(name, mistake, **wrong):
    def backward(grad, x, y, subscripts="ij,jk->ik"):
        return _grad(grad, x, y, subscripts, 0, **wrong), _grad(grad, x, y, subscripts, 1, **wrong)
    backward.__name__ = backward.__qualname__ = name
    return mutant("einsum", "einsum", mistake)(backward)


@mutant("einsum", "einsum", "swaps the subscripts naively: einsum('z,y->x', G, Y), which cannot write a "
                            "diagonal or a letter only X has")
def einsum_naive_swap(grad, x, y, subscripts="ij,jk->ik"):
    (lx, ly), out = _labels(subscripts, [np.ndim(x), np.ndim(y)])
    return np.einsum(f"{out},{ly}->{lx}", grad, y), np.einsum(f"{out},{lx}->{ly}", grad, x)


einsum_diagonal_spread = _both("einsum_diagonal_spread", "a repeated letter ('ii') gets G on its whole block, "
                               "not only on the diagonal", diagonal=False)
einsum_only_mine_mean = _both("einsum_only_mine_mean", "a letter only one operand sums is treated as a mean "
                              "(G divided by its size)", only_mine="mean")
einsum_broadcast_first_entry = _both("einsum_broadcast_first_entry", "a dimension that broadcast takes the "
                                     "gradient of its first entry instead of the sum", unbroadcast="first")
einsum_output_sorted = _both("einsum_output_sorted", "reads G's axes in alphabetical order of the output letters "
                             "(wrong for '->ki')", output_order="sorted")
