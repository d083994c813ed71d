"""Recover a NumPy closed form from a contracted index formula.

Recognisers are tried in order, the most idiomatic first:

1. remap: one elementwise body whose array entries share one index tuple,
   summed over some of it: reductions (``G.sum(axis=0)``), broadcasting,
   transposition (``G.T``), elementwise functions (``G * (1 - np.tanh(X)**2)``);
2. reshape: ``G[Unravel(ravel(i, X.shape), Z.shape, t)]`` is ``G.reshape(X.shape)``;
3. contraction: a product of array entries summed over shared indices: SymPy's
   array-expression converters give the matrix form (``G @ Y.T``) where they
   work, an einsum otherwise (``np.einsum('kil,kjl->kij', G, Y)``);
4. anything else: an executable NumPy expression that evaluates the index
   formula with broadcasting, one axis per index.

The result always evaluates, with ``np``, ``G``, the inputs and the params
bound, to the full gradient of the input's shape.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from ..vocabulary.expressions import Unravel, ravel

__all__ = ["ClosedForm", "closed_form", "ClosedFormError"]


class ClosedFormError(ValueError):
    """The index formula has a shape no recogniser or the fallback can express."""


@dataclass(frozen=True)
class ClosedForm:
    expression: str
    einsum: str | None = None
    kind: str = "generic"


class _Names:
    """How bases and dimension symbols are spelled in NumPy code."""

    def __init__(self, arrays, G, op):
        self.arrays = {a.name: a for a in arrays}
        self.G = G
        self.base = {a.name: a.name for a in arrays}
        self.base[G.name] = G.name
        if op is not None:
            labels = [spec.name for spec in op.inputs if spec.domain == "labels"]
            if labels:
                first = op.inputs[0].name
                self.base["onehot"] = f"np.eye({first}.shape[-1])[{labels[0]}]"
        self.dims = {}
        for a in list(arrays) + [G]:
            if a.name == "onehot":
                continue
            for p, n in enumerate(a.shape):
                if isinstance(n, sp.Symbol) and n not in self.dims:
                    self.dims[n] = f"{a.name}.shape[{p}]"

    def array(self, name):
        return self.base[str(name)]


class _Printer(NumPyPrinter):
    """NumPy code with ``np.``, our bases and dims, and our layout-aware entries."""

    def __init__(self, names, layout=(), placement=True):
        super().__init__({"fully_qualified_modules": True, "allow_unknown_functions": False})
        self.names = names
        self.layout = list(layout)
        self.placement = placement

    def _module_format(self, fqn, register=True):
        out = super()._module_format(fqn, register)
        return "np." + out[len("numpy."):] if out.startswith("numpy.") else out

    def _print_Symbol(self, expr):
        if expr in self.names.dims:
            return self.names.dims[expr]
        if expr.name in self.names.base:
            return self.names.array(expr.name)
        raise ClosedFormError(f"cannot spell {expr} in NumPy")

    def _print_Indexed(self, expr):
        name = self.names.array(expr.base)
        if not self.placement:
            return name
        return _place(name, expr.indices, self.layout)

    def _print_Sum(self, expr):
        function, limits = expr.function, expr.limits
        if len(limits) > 1:
            function = sp.Sum(function, *limits[1:])
        k, lo, hi = limits[0]
        if lo != 0:
            raise ClosedFormError("sums must start at 0")
        inner = _Printer(self.names, self.layout + [k])
        return f"({inner.doprint(function)}).sum(axis=-1)"

    def _print_Heaviside(self, expr):
        at0 = float(expr.args[1]) if len(expr.args) > 1 else 0.5  # SymPy's Heaviside(0) is 1/2
        return f"np.heaviside({self._print(expr.args[0])}, {at0!r})"

    def _print_erf(self, expr):
        return f"np.vectorize(math.erf, otypes=[float])({self._print(expr.args[0])})"

    def _print_Relu(self, expr):
        return f"np.maximum({self._print(expr.args[0])}, 0)"

    def _print_Sigmoid(self, expr):
        return f"(1/(1 + np.exp(-{self.parenthesize(expr.args[0], 100)})))"

    def _print_KroneckerDelta(self, expr):
        raise ClosedFormError("a Kronecker delta was left uncontracted")

    def _print_Unravel(self, expr):
        raise ClosedFormError("an index map was left unsolved")


def _place(name, indices, layout):
    """``name`` indexed by ``indices`` as an array laid out along ``layout`` (broadcastable)."""
    symbols, take = [], []
    for idx in indices:
        if idx.is_Integer:
            take.append(str(int(idx)))
        elif idx in layout:
            take.append(":")
            symbols.append(idx)
        else:
            raise ClosedFormError(f"index {idx} of {name} is not an axis here")
    expr = name if all(t == ":" for t in take) else f"{name}[{', '.join(take)}]"
    if len(set(symbols)) != len(symbols) or symbols != sorted(symbols, key=layout.index):
        uniq = sorted(set(symbols), key=layout.index)
        letters = {s: chr(ord("a") + n) for n, s in enumerate(uniq)}
        subs = "".join(letters[s] for s in symbols) + "->" + "".join(letters[s] for s in uniq)
        expr = f"np.einsum('{subs}', {expr})"
        symbols = uniq
    positions = [layout.index(s) for s in symbols]
    if not positions:
        return expr
    first = positions[0]
    needs_new = [p for p in range(first, len(layout)) if p not in positions]
    if needs_new:
        # trailing Nones are needed too: broadcasting aligns from the right
        view = ", ".join(":" if p in positions else "None" for p in range(first, len(layout)))
        expr = f"{expr}[{view}]"
    return expr


# ----------------------------------------------------------------------------------------------

def closed_form(formula, free, X, arrays, G, op=None):
    """The NumPy closed form of ``formula`` = ``dl/dX[free]``.

    Returns
    -------
    ClosedForm
    """
    if formula == 0:  # a step's (a comparison's): no entry of G reaches X
        return ClosedForm(f"np.zeros({X.name}.shape)" if free else "0", None, "zero")
    names = _Names(arrays, G, op)
    for recognise in (_remap_form, _reshape_form, _contraction_form):
        try:
            found = recognise(formula, free, X, names)
        except ClosedFormError:
            found = None
        if found is not None:
            return found
    return _generic_form(formula, free, X, names)


def _ranges(free, X):
    return {i: n for i, n in zip(free, X.shape)}


def _finish(core, present, free, X):
    """Lay ``core`` (axes = the free indices in ``present``, in that order) out as X."""
    expr = core
    order = [free.index(s) for s in present]
    if order != sorted(order):
        perm = sorted(range(len(order)), key=lambda t: order[t])
        if len(order) == 2:
            expr = f"{_atom(expr)}.T"
        else:
            expr = f"{_atom(expr)}.transpose({tuple(perm)})"
        order = sorted(order)
    missing = [p for p in range(len(free)) if p not in order]
    if not missing:
        return expr
    ranges = _ranges(free, X)
    stretched = any(ranges[free[p]] != 1 for p in missing)
    if not order:
        return f"np.broadcast_to({expr}, {X.name}.shape)"
    first = order[0]
    inner = [p - first for p in missing if p > first]
    if inner:
        axis = inner[0] if len(inner) == 1 else tuple(inner)
        expr = f"np.expand_dims({expr}, {axis})"
    if stretched or first > 0:
        expr = f"np.broadcast_to({expr}, {X.name}.shape)"
    return expr


def _atom(expr):
    """Parenthesise ``expr`` unless it is a name, call or subscript."""
    depth = 0
    for ch in expr:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch in " +-*/@":
            return f"({expr})"
    return expr


def _split_coefficient(formula, free):
    """``(coefficient, rest)``: the factors without array entries and free indices, and the rest."""
    coeff, rest = [], []
    for f in sp.Mul.make_args(formula):
        if f.has(sp.Indexed) or any(f.has(i) for i in free) or any(
                isinstance(s, sp.Symbol) and s.name in ("G",) for s in f.free_symbols):
            rest.append(f)
        else:
            coeff.append(f)
    return sp.Mul(*coeff), sp.Mul(*rest)


def _with_coefficient(coeff, expr, names):
    if coeff == 1:
        return expr
    if coeff == -1:
        return f"-{_atom(expr)}"
    printer = _Printer(names, placement=False)
    num, den = sp.fraction(coeff)
    out = _atom(expr)
    if num != 1:
        out = f"{_atom(printer.doprint(num))} * {out}" if num != -1 else f"-{out}"
    if den != 1:
        out = f"{out} / {_atom(printer.doprint(den))}"
    return out


def _peel_sums(expr):
    limits = []
    while isinstance(expr, sp.Sum):
        limits.extend(expr.limits)
        expr = expr.function
    return expr, limits


# ---- reshape ---------------------------------------------------------------------------------

def _reshape_form(formula, free, X, names):
    coeff, rest = _split_coefficient(formula, free)
    if not isinstance(rest, sp.Indexed) or str(rest.base) != names.G.name:
        return None
    flat = ravel([0 if n == 1 else i for i, n in zip(free, X.shape)], X.shape)
    if not flat.free_symbols:
        return None  # a single entry: the remap form reads better
    # axes of size 1 are read at 0; the others form the multi-index of the flat index
    indices = [idx for idx, n in zip(rest.indices, names.G.shape) if not (n == 1 and idx == 0)]
    if not indices:
        return None
    for t, idx in enumerate(indices):
        if len(indices) == 1 and sp.expand(idx - flat) == 0:
            continue  # a flat index is its own multi-index in one dimension
        if not (isinstance(idx, Unravel) and int(idx.args[2]) == t and sp.expand(idx.args[0] - flat) == 0):
            return None
    return ClosedForm(_with_coefficient(coeff, f"G.reshape({X.name}.shape)", names), None, "reshape")


# ---- remap: sums, broadcasting, transposition, elementwise --------------------------------

def _remap_form(formula, free, X, names):
    coeff, rest = _split_coefficient(formula, free)
    body, limits = _peel_sums(rest)
    if body.has(sp.Sum):
        return None
    entries = list(body.atoms(sp.Indexed))
    summed = [k for k, _, _ in limits]
    if entries:
        length = {len(e.indices) for e in entries}
        if len(length) != 1:
            return None
        tuples = {e.indices for e in entries}
        ref = []
        for pos in range(length.pop()):
            column = {t[pos] for t in tuples}
            symbols = {c for c in column if not c.is_Integer}
            if len(symbols) > 1 or any(c.is_Integer and c != 0 for c in column):
                return None
            ref.append(symbols.pop() if symbols else sp.Integer(0))
    else:
        ref = []
    if any(not (s.is_Integer or s in free or s in summed) for s in ref):
        return None
    shapes = {**{n: a.shape for n, a in names.arrays.items()}, names.G.name: names.G.shape}
    for e in entries:  # an entry read at 0 is a broadcast (size-1) axis here, never a pick
        shape = shapes.get(str(e.base))
        if shape is None or any(idx.is_Integer and shape[p] != 1 for p, idx in enumerate(e.indices)):
            return None
    if len({s for s in ref if not s.is_Integer}) != len([s for s in ref if not s.is_Integer]):
        return None  # a diagonal
    if set(summed) - set(ref):
        return None
    core = _Printer(names, placement=False).doprint(body)
    sum_axes = [p for p, s in enumerate(ref) if s in summed]
    remaining = [s for s in ref if s not in summed]
    aligned = len(ref) == len(free) and all(
        s == free[p] or (s in summed and X.shape[p] == 1) or (s.is_Integer and s == 0)
        for p, s in enumerate(ref))
    if aligned:
        expr = core
        if sum_axes:
            axis = sum_axes[0] if len(sum_axes) == 1 else tuple(sum_axes)
            expr = f"{_atom(core)}.sum(axis={axis}, keepdims=True)"
        expr = _with_coefficient(coeff, expr, names)
        needs_broadcast = any(not (ref[p] == free[p]) and X.shape[p] != 1 for p in range(len(free)))
        if needs_broadcast:
            expr = f"np.broadcast_to({expr}, {X.name}.shape)"
        return ClosedForm(expr, None, "remap")
    expr = core
    drop = sum_axes + [p for p, s in enumerate(ref) if s.is_Integer]
    if drop:
        # size-1 axes go with the summed ones: summing a size-1 axis drops it
        axis = drop[0] if len(drop) == 1 else tuple(sorted(drop))
        expr = f"{_atom(core)}.sum(axis={axis})"
    present = [s for s in remaining if not s.is_Integer]
    expr = _with_coefficient(coeff, expr, names)
    return ClosedForm(_finish(expr, present, list(free), X), None, "remap")


# ---- contraction ------------------------------------------------------------------------------

def _contraction_form(formula, free, X, names):
    coeff, rest = _split_coefficient(formula, free)
    body, limits = _peel_sums(rest)
    factors = sp.Mul.make_args(body)
    if not limits or not all(isinstance(f, sp.Indexed) for f in factors) or len(factors) < 2:
        return None
    summed = [k for k, _, _ in limits]
    letters, operands, subs = {}, [], []
    for f in factors:
        take, sub = [], ""
        for idx in f.indices:
            if idx.is_Integer:
                take.append(str(int(idx)))
                continue
            if idx not in free and idx not in summed:
                return None
            take.append(":")
            letters.setdefault(idx, _letter(idx, letters))
            sub += letters[idx]
        name = names.array(f.base)
        operands.append(name if all(t == ":" for t in take) else f"{name}[{', '.join(take)}]")
        subs.append(sub)
    present = [i for i in free if i in letters]
    spec = ",".join(subs) + "->" + "".join(letters[i] for i in present)
    matrix = _matrix_form(factors, present, limits, names)
    core = matrix if matrix is not None else f"np.einsum('{spec}', {', '.join(operands)})"
    expr = _with_coefficient(coeff, core, names)
    return ClosedForm(_finish(expr, present, list(free), X), spec,
                      "matrix" if matrix is not None else "einsum")


def _letter(idx, taken):
    used = set(taken.values())
    name = str(idx)
    if len(name) == 1 and name not in used:
        return name
    for c in "abcdefghijklmnopqrstuvwxyz":
        if c not in used:
            return c
    raise ClosedFormError("too many indices for einsum")


def _matrix_form(factors, present, limits, names):
    """``G @ Y.T`` through SymPy's array-expression converters, for 2-D operands."""
    if len(factors) != 2 or len(present) != 2 or len(limits) != 1:
        return None
    if any(len(f.indices) != 2 or any(i.is_Integer for i in f.indices) for f in factors):
        return None
    from sympy.tensor.array.expressions import convert_array_to_matrix, convert_indexed_to_array
    shapes = {}
    for f in factors:
        arr = names.arrays.get(str(f.base)) or (names.G if str(f.base) == names.G.name else None)
        if arr is None:
            return None
        shapes[str(f.base)] = arr.shape
    mats = {b: sp.MatrixSymbol(b, *s) for b, s in shapes.items()}
    expr = sp.Mul(*[mats[str(f.base)][f.indices] for f in factors])
    try:
        matrix = convert_array_to_matrix(convert_indexed_to_array(sp.Sum(expr, *limits),
                                                                  first_indices=list(present)))
    except Exception:  # the converters are not total; fall back to einsum
        return None
    return _print_matrix(matrix, names)


def _print_matrix(m, names):
    if isinstance(m, sp.MatrixSymbol):
        return names.array(m.name)
    if isinstance(m, sp.Transpose) and isinstance(m.arg, sp.MatrixSymbol):
        return f"{names.array(m.arg.name)}.T"
    if isinstance(m, sp.MatMul) and all(isinstance(a, (sp.MatrixSymbol, sp.Transpose)) for a in m.args):
        parts = [_print_matrix(a, names) for a in m.args]
        if any(p is None for p in parts):
            return None
        return " @ ".join(parts)
    return None


# ---- anything else ------------------------------------------------------------------------------

def _generic_form(formula, free, X, names):
    expr = _Printer(names, list(free)).doprint(formula)
    return ClosedForm(f"np.broadcast_to({expr}, {X.name}.shape)" if free else expr, None, "generic")
