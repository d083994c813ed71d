"""Name the known mistake a wrong gradient matches, when it matches one.

Each candidate rebuilds a classic wrong answer from the expected gradient,
``G`` and the inputs, and compares it with what the backward returned:
sign errors, a missing or extra ``1/N``, entries transposed (a transpose
missing or not inverted), operands swapped, a sum's gradient expanded at the
wrong axis, an un-broadcast over the wrong axes.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..vocabulary.expressions import normalize_axes

__all__ = ["diagnose"]


def _close(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-6, atol=1e-9)


def diagnose(op, case, name, got, expected, env=None, expected_all=None, exact=None):
    """A one-line diagnosis, or None when no known mistake matches."""
    if exact is not None:
        numeric = _exact_to_numeric(exact, env)
        if numeric is not None:
            got, expected, env, expected_all = numeric
        else:
            return _diagnose_exact(*exact)
    if got is None or expected is None:
        return None
    got = np.asarray(got, dtype=np.float64)
    # a constant factor before the axis explanations: with a size-1 axis both can fit, and it is simpler
    for check in (_tie, _sign, _scale, _swapped, _reduction_axis, _permuted):
        message = check(op, case, name, got, expected, env or {}, expected_all or {})
        if message:
            return message
    return None


def _tie(op, case, name, got, expected, env, expected_all):
    """Wrong only where the operands tie (maximum, minimum) or at a tied extreme (max, min)."""
    if op.name in ("max", "min") and env:
        x = np.asarray(env.get(op.input_names[0]), dtype=np.float64)
        axes = normalize_axes(op.with_defaults(case.params).get("axis"), x.ndim)
        extreme = (np.max if op.name == "max" else np.min)(x, axis=axes, keepdims=True)
        hit = x == extreme
        tied = hit & (np.sum(hit, axis=axes, keepdims=True) > 1)
        wrong = ~np.isclose(got, expected, rtol=1e-6, atol=1e-9)
        if got.shape == x.shape and wrong.any() and not (wrong & ~tied).any():
            return (f"wrong only at tied {op.name}ima: the declared convention shares G evenly between "
                    f"tied entries (1/k each, torch's a{op.name}); this backward does not")
        return None
    if op.name not in ("maximum", "minimum") or not env:
        return None
    x, y = (np.asarray(env.get(n), dtype=np.float64) for n in op.input_names[:2])
    try:
        tie = np.broadcast_to(np.broadcast_to(x, np.broadcast_shapes(x.shape, y.shape)) == y,
                              np.broadcast_shapes(x.shape, y.shape))
    except ValueError:
        return None
    if got.shape != expected.shape:
        return None
    if tie.shape != got.shape:  # an un-broadcast input: an entry meets a tie if any position it spreads to does
        from ..catalog.piecewise import sum_to  # imported late: the catalog may still be loading
        tie = sum_to(tie.astype(np.int64), got.shape) > 0
    wrong = ~np.isclose(got, expected, rtol=1e-6, atol=1e-9)
    if wrong.any() and not (wrong & ~tie).any():
        return (f"wrong only where X = Y (ties): the declared convention gives each tied operand half of G "
                f"(torch's, and what central differences give); this backward gives {got[wrong][0]:.6g} "
                f"where {expected[wrong][0]:.6g} was expected")
    return None


def _exact_to_numeric(exact, env):
    """Substitute random values for the symbols of an exact failure, to reuse the numeric checks."""
    from ..symbolic.oracle import SymbolValues
    expected, got, expected_all = exact
    if env is None:
        return None
    num = SymbolValues(seed=12345, low=0.5, high=1.5).evaluate
    try:
        numeric_env = {k: (num(v) if isinstance(v, np.ndarray) and v.dtype == object else v)
                       for k, v in env.items()}
        numeric_all = {k: num(v) for k, v in expected_all.items()}
        return num(got), num(expected), numeric_env, numeric_all
    except (TypeError, ValueError):
        return None


def _diagnose_exact(expected, got, expected_all=None):
    import sympy as sp
    if sum(sp.count_ops(g) for g in got.ravel() if isinstance(g, sp.Basic)) > 2000:
        return None  # expanding and simplifying an answer that large could take any time
    if all(sp.expand(e + g) == 0 for e, g in zip(expected.ravel(), got.ravel())):
        return "sign error: every entry has the opposite sign"
    if expected.ndim >= 2:
        for perm in itertools.permutations(range(expected.ndim)):
            if perm == tuple(range(expected.ndim)):
                continue
            moved = np.transpose(expected, perm)
            if moved.shape == got.shape and all(sp.expand(e - g) == 0 for e, g in zip(moved.ravel(), got.ravel())):
                return (f"entries are transposed: the result equals the right gradient with axes permuted "
                        f"by {perm} (a transpose missing or not inverted)")
    ratios = set()
    for e, g in zip(expected.ravel(), got.ravel()):
        if e != 0:
            ratios.add(sp.simplify(g / e))
    if len(ratios) == 1:
        r = ratios.pop()
        if r.is_Rational and r != 1 and (r.p == 1 or r.q == 1):
            return f"off by a constant factor {r} (a missing or wrong 1/N?)"
    return None


def _sign(op, case, name, got, expected, env, all_):
    if _close(got, -expected) and np.any(expected != 0):
        return "sign error: every entry has the opposite sign"
    return None


def _scale(op, case, name, got, expected, env, all_):
    mask = np.abs(expected) > 1e-12
    if not np.any(mask):
        return None
    ratio = got[mask] / expected[mask]
    r = float(np.median(ratio))
    if np.allclose(ratio, r, rtol=1e-6) and not np.isclose(r, 1.0):
        sizes = _sizes(case)
        for n in range(2, 1000):
            if np.isclose(r, n):
                if n in sizes:
                    return f"off by a factor {n}: a missing 1/N (N = {n}, {sizes[n]})?"
                return f"off by a constant factor {n} (no size in this case is {n}: a stray constant?)"
            if np.isclose(r, 1 / n):
                if n in sizes:
                    return (f"off by a factor 1/{n}: an extra 1/N (N = {n}, {sizes[n]}), or a sum's gradient "
                            "divided by N?")
                return f"off by a constant factor 1/{n} (no size in this case is {n}: a stray constant?)"
    return None


def _sizes(case):
    """Every size a 1/N could come from: an axis, or the product of some axes, of an input."""
    found = {}
    for k, shape in enumerate(case.shapes):
        shape = [int(n) for n in shape]
        for count in range(1, len(shape) + 1):
            for axes in itertools.combinations(range(len(shape)), count):
                n = int(np.prod([shape[a] for a in axes]))
                what = (f"the size of axis {axes[0]}" if count == 1 else
                        f"the size of axes {axes}") + (f" of input {k}" if len(case.shapes) > 1 else "")
                found.setdefault(n, what)
    return found


def _permuted(op, case, name, got, expected, env, all_):
    if expected.ndim < 2:
        return None
    for perm in itertools.permutations(range(expected.ndim)):
        if perm == tuple(range(expected.ndim)):
            continue
        moved = np.transpose(expected, perm)
        if _close(got, moved):
            return (f"entries are transposed: the result equals the right gradient with axes permuted "
                    f"by {perm} (a transpose missing or not inverted)")
    if op.name == "transpose" and "G" in env and env.get("axes") is not None:
        wrong = np.transpose(env["G"], env["axes"])
        if _close(got, wrong):
            return "transpose not inverted: the backward applied `axes` instead of its inverse np.argsort(axes)"
    return None


def _swapped(op, case, name, got, expected, env, all_):
    for other, value in all_.items():
        if other != name and _close(got, value):
            return f"operands swapped: this is the gradient of {other}, not of {name}"
    if op.name in ("multiply", "divide", "matmul") and len(op.inputs) == 2:
        x, y = env.get(op.inputs[0].name), env.get(op.inputs[1].name)
        G = env.get("G")
        if x is not None and y is not None and G is not None:
            candidates = {"multiply": {op.inputs[0].name: lambda: G * x, op.inputs[1].name: lambda: G * y},
                          "matmul": {op.inputs[0].name: lambda: G @ np.swapaxes(x, -1, -2),
                                     op.inputs[1].name: lambda: np.swapaxes(y, -1, -2) @ G}}
            fn = candidates.get(op.name, {}).get(name)
            try:
                if fn is not None and _close(got, fn()):
                    return "operands swapped: the formula uses the input itself where the other operand belongs"
            except ValueError:
                return None
    return None


def _reduction_axis(op, case, name, got, expected, env, all_):
    if op.name not in ("sum", "mean") or "G" not in env:
        return None
    G = np.asarray(env["G"], dtype=np.float64)
    shape = expected.shape
    factor = expected.size / max(G.size, 1) if op.name == "mean" else 1
    reduced = normalize_axes(case.params.get("axis"), len(shape))
    for positions in itertools.permutations(range(len(shape)), len(shape) - G.ndim):
        if tuple(sorted(positions)) == reduced:
            continue
        try:
            candidate = np.broadcast_to(np.expand_dims(G, tuple(sorted(positions))), shape)
        except ValueError:
            continue
        for f in {1.0, 1.0 / factor if factor else 1.0}:
            if _close(got, candidate * f) and not _close(candidate * f, expected):
                return (f"the upstream gradient was expanded at axes {tuple(sorted(positions))} instead of the "
                        "reduced axes (aligning axes by their size goes wrong when two sizes are equal)")
    return None

