"""Showing derivations and failures in notebooks: steps as LaTeX, pictures with matplotlib.

matplotlib is only needed for the plotting functions (``pip install matplotlib``,
part of the ``test`` extra).
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .catalog.registry import Case, get_op
from .symbolic.derivation import vjp
from .symbolic.oracle import SymbolValues, output_entry

__all__ = ["Steps", "steps", "local_jacobian", "plot_jacobian", "plot_failure", "table"]


class Steps:
    """The derivation of one input's gradient, step by step (renders as LaTeX in Jupyter)."""

    def __init__(self, gradient):
        self.gradient = gradient

    def _rows(self):
        for name, value in self.gradient.steps:
            if isinstance(value, str):
                body = r"\texttt{" + value.replace("_", r"\_") + "}"
            else:
                body = sp.latex(value)
            yield name, body

    def _repr_latex_(self):
        rows = [rf"\text{{{name}:}} & \quad {body}" for name, body in self._rows()]
        return r"$\displaystyle \begin{aligned}" + r"\\[4pt] ".join(rows) + r"\end{aligned}$"

    def __str__(self):
        return "\n".join(f"{name}:\n    {value}" for name, value in self.gradient.steps)

    __repr__ = __str__


def steps(op, input_name=None, *shapes, **params):
    """The teaching steps of ``vjp(op, *shapes, **params)[input_name]`` (first input by default)."""
    d = vjp(op, *shapes, **params)
    return Steps(d[input_name or d.inputs[0]])


def table(ops=None):
    """A Markdown table of ops with their derived index formulas and closed forms."""
    from .catalog.registry import ops as all_ops
    rows = ["| op | gradient | index formula | closed form |", "|---|---|---|---|"]
    for op in (ops or all_ops()):
        d = vjp(getattr(op, "name", op))
        for g in d:
            rows.append(f"| `{d.op.name}` | {g.lhs} | `{g.index_formula}` | `{g.closed_form}` |")

    class _Markdown(str):
        def _repr_markdown_(self):
            return str(self)
    return _Markdown("\n".join(rows))


def local_jacobian(op, shapes, params=None, wrt=None):
    """The local Jacobian ``dZ/dX`` of a concrete case as a 2-D 0/1 sparsity pattern and values.

    Returns ``(pattern, labels_out, labels_in)``: ``pattern[r, c]`` is the
    derivative of output entry ``r`` (C order) by input entry ``c``.
    """
    from .symbolic.oracle import _Concrete, exact_inputs
    from .symbolic.derivation import define
    op = get_op(op)
    case = Case(tuple(tuple(s) for s in shapes), dict(params or {}))
    inputs = exact_inputs(op, case)
    arrays = [_Concrete(spec.name, a) for spec, a in zip(op.inputs, inputs)]
    out = define(op, arrays, op.with_defaults(case.params))
    out_shape = tuple(int(n) for n in out.shape)
    k = op.input_names.index(wrt) if wrt else 0
    x = inputs[k]
    rows, labels_out = [], []
    for idx in np.ndindex(*out_shape):
        z = output_entry(out, idx)
        for a in arrays:
            z = a.lookup(z)
        rows.append([sp.diff(z, s) for s in x.ravel()])
        labels_out.append(f"Z{list(idx)}")
    labels_in = [f"{op.inputs[k].name}{list(i)}" for i in np.ndindex(*x.shape)]
    return np.array(rows, dtype=object), labels_out, labels_in


def plot_jacobian(op, shapes, params=None, wrt=None, ax=None):
    """Plot the sparsity pattern of the local Jacobian: most entries are zero."""
    import matplotlib.pyplot as plt
    J, labels_out, labels_in = local_jacobian(op, shapes, params, wrt)
    pattern = np.vectorize(lambda e: e != 0)(J).astype(float)
    ax = ax or plt.subplots(figsize=(0.35 * len(labels_in) + 2, 0.35 * len(labels_out) + 1.5))[1]
    ax.imshow(pattern, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels_in)), labels_in, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels_out)), labels_out, fontsize=7)
    ax.set_title(f"d{get_op(op).name}/d{wrt or get_op(op).inputs[0].name}: "
                 f"{int(pattern.sum())} of {pattern.size} entries non-zero")
    return ax


def plot_failure(failure, axes=None):
    """Heat maps of the expected and the returned gradient of a (numeric) failure, and their difference."""
    import matplotlib.pyplot as plt
    if failure.expected_array is None or failure.got_array is None:
        raise ValueError("this failure has no arrays to plot (a structural failure or an exception)")
    values = SymbolValues(seed=0)
    exp, got = values.evaluate(failure.expected_array), values.evaluate(failure.got_array)
    exp, got = np.atleast_2d(exp), np.atleast_2d(got)
    if exp.ndim > 2:
        exp, got = exp.reshape(exp.shape[0], -1), got.reshape(got.shape[0], -1)
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(10, 3))
    lim = max(np.abs(exp).max(), np.abs(got).max(), 1e-12)
    for ax, data, title in zip(axes, (exp, got, got - exp), ("expected", "returned", "returned - expected")):
        im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(title)
        ax.set_xticks([])
        ax.set_yticks([])
    plt.colorbar(im, ax=list(axes), shrink=0.8)
    axes[0].figure.suptitle(f"dl/d{failure.input} for {failure.op}({failure.case.describe(get_op(failure.op))})")
    return axes
