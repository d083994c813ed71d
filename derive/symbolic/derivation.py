"""Derive gradients from the chain-rule sum, as the seed text does by hand (15.1).

For an op ``Z = f(X, Y, ...)`` and an input ``X``, the derivation

1. forms the chain-rule sum ``dl/dX[i, j] = Sum_{k, m} G[k, m] * dZ[k, m]/dX[i, j]``
   over every output index,
2. differentiates the op's elementwise definition (SymPy turns ``dX[k, r]/dX[i, j]``
   into Kronecker deltas; :mod:`derive.symbolic.contraction`),
3. contracts the deltas knowing each index's range, so no ``Piecewise`` range
   guard and no delta is left: ``dl/dX[i, j] = Sum(G[i, m]*Y[j, m], (m, 0, r - 1))``
   (:mod:`derive.symbolic.contraction`),
4. recovers the closed form (:mod:`derive.symbolic.closed_form`): ``G @ Y.T``.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from . import closed_form as cf, stored
from ..catalog.registry import format_shape, get_op, on_change
from .contraction import contract, entry_derivative, settle_brackets, tidy
from ..vocabulary.evaluate import IndexFormula
from .scatter import Scatter, scatter_form
from ..vocabulary.expressions import Bracket, SymArray, _fresh, dim, index

__all__ = ["vjp", "Derivation", "InputGradient", "clear_cache", "symbolic_case", "G_NAME"]

G_NAME = "G"
_FREE_NAMES = "i j a b c d e f".split()
_OUT_NAMES = "k m n o p q".split()  # no l: dl/dX is the loss
_CACHE: dict = {}
_LOCK = threading.RLock()


@on_change
def clear_cache():
    """Forget every cached derivation (the catalog changed)."""
    with _LOCK:
        _CACHE.clear()
        _GENERAL_CACHE.clear()


@dataclass
class InputGradient:
    """The gradient of the loss with respect to one input.

    Attributes
    ----------
    name : str
        The input's name.
    index : tuple
        The free index symbols, one per dimension of the input.
    index_formula : sympy.Expr
        ``dl/dX[index]`` in terms of ``G``, the inputs and the free indices.
    closed_form : str
        A NumPy expression that evaluates, with ``np``, ``G``, the inputs and
        the params bound, to the whole gradient (``G @ Y.T``).
    einsum : str or None
        The einsum subscripts, where the gradient is one einsum.
    steps : list of (str, sympy.Expr or str)
        The chain-rule sum, after differentiation, after delta contraction, and
        the closed form, for teaching.
    """

    name: str
    index: tuple
    index_formula: sp.Expr
    closed_form: str
    einsum: str | None
    steps: list = field(default_factory=list)
    shape: tuple = ()
    evaluator: object = field(default=None, repr=False, compare=False)
    layout: tuple = field(default=None, repr=False, compare=False)  # (dims, params) for IndexFormula

    def term_magnitude(self, env):
        """``sum_t |T_t|`` over the terms ``T_t`` of the index formula, evaluated at ``env``: what
        rounding errors scale with when the terms cancel (the gradient itself may be far smaller)."""
        terms = _TERMS.get(id(self))
        if terms is None or terms[0] is not self:
            dims, params = self.layout
            terms = (self, [IndexFormula(t, self.index, self.shape, dims, params)
                            for t in sp.Add.make_args(self.index_formula)])
            _TERMS[id(self)] = terms
        total = 0.0
        for term in terms[1]:
            total = total + np.abs(np.asarray(term(env), dtype=np.float64))
        return total

    @property
    def lhs(self):
        idx = ", ".join(str(i) for i in self.index)
        return f"dl/d{self.name}[{idx}]" if self.index else f"dl/d{self.name}"

    def __str__(self):
        return f"{self.lhs} = {self.index_formula}\n    {self.closed_form}"

    def latex(self):
        lhs = (rf"\frac{{\partial l}}{{\partial {self.name}_{{{','.join(map(sp.latex, self.index))}}}}}"
               if self.index else rf"\frac{{\partial l}}{{\partial {self.name}}}")
        return (rf"{lhs} = {sp.latex(self.index_formula)} \qquad "
                rf"\texttt{{{_latex_text(self.closed_form)}}}")


def _latex_text(s):
    return (s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("{", r"\{")
            .replace("}", r"\}").replace("%", r"\%").replace("&", r"\&").replace("#", r"\#")
            .replace("~", r"\textasciitilde{}").replace("^", r"\^{}"))


@dataclass
class Derivation:
    """The derived gradients of one op at one shape pattern and parameters.

    ``d[name]`` is the :class:`InputGradient` of a differentiable input.
    """

    op: object
    shapes: tuple
    params: dict
    output_shape: tuple
    output_index: tuple
    output_entry: sp.Expr
    gradients: dict

    @property
    def inputs(self):
        """The differentiable inputs' names, in call order."""
        return tuple(self.gradients)

    def __getitem__(self, name):
        try:
            return self.gradients[name]
        except KeyError:
            raise KeyError(f"{self.op.name} has no gradient for {name!r}; "
                           f"it has {list(self.gradients)}") from None

    def __iter__(self):
        return iter(self.gradients.values())

    def header(self):
        shapes = ", ".join(f"{n}{format_shape(s)}" for n, s in zip(self.op.input_names, self.shapes))
        symbolic = getattr(self.op, "symbolic_params", {})
        params = "".join(f", {k}={v}" if k in symbolic and str(v) == str(symbolic[k]) else f", {k}={v!r}"
                         for k, v in self.params.items())  # a parameter kept as a symbol prints as one
        return f"{self.op.name}({shapes}{params})"

    def __str__(self):
        lines = [self.header()]
        z = f"Z[{', '.join(map(str, self.output_index))}]" if self.output_index else "Z"
        lines.append(f"  {z} = {self.output_entry}")
        pieces = getattr(self.op, "pieces", None)
        if pieces is not None:  # a list output: Z and G are its pieces joined back
            lines.append(f"  where Z = {pieces.joined} and G = {pieces.joined.replace('Z_', 'G_')}: "
                         "the backward gets G_0, G_1, ...")
        for g in self:
            lines.append(f"  {g.lhs} = {g.index_formula}")
            lines.append(f"  {' ' * len(g.lhs)} = {g.closed_form}")
        return "\n".join(lines)

    def _repr_latex_(self):
        rows = []
        z = (f"Z_{{{','.join(map(sp.latex, self.output_index))}}}" if self.output_index else "Z")
        rows.append(rf"{z} &= {sp.latex(self.output_entry)}")
        for g in self:
            rows.append(g.latex().replace(" = ", " &= ", 1))
        return r"$\begin{aligned}" + r"\\ ".join(rows) + r"\end{aligned}$"

    def __repr__(self):
        return f"<Derivation {self.header()}>"

    def to_dict(self):
        return {g.name: {"index_formula": str(g.index_formula), "closed_form": g.closed_form,
                         "einsum": g.einsum} for g in self}



# ----------------------------------------------------------------------------------------------
# shapes
# ----------------------------------------------------------------------------------------------

def symbolic_case(op, shapes):
    """Normalise user shapes: ints stay ints, strings become size symbols."""
    op = get_op(op)
    if len(shapes) != len(op.inputs):
        raise ValueError(f"{op.name} takes {len(op.inputs)} input(s) "
                         f"({', '.join(op.input_names)}), got {len(shapes)} shape(s)")
    out = []
    for spec, shape in zip(op.inputs, shapes):
        if isinstance(shape, (int, str, sp.Basic)):
            shape = (shape,)
        try:
            out.append(tuple(dim(n) for n in shape))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{op.name}: shape of {spec.name} {shape!r}: {exc}") from None
    return tuple(out)


def _size_names():
    """Readable names for size symbols, in order: n, m, p, ..."""
    yield from "n m p q r s t u v w".split()
    yield from (f"n{k}" for k in itertools.count(1))


def shape_pattern(shapes):
    """Replace each distinct concrete size > 1 by a size symbol; keep 1s and symbols.

    The formula derived for the pattern holds for every case with the same
    sizes-equal-to-1 and the same equalities between sizes.
    """
    names = _size_names()
    used = {str(n) for s in shapes for n in s if isinstance(n, sp.Symbol)}
    mapping = {}
    out = []
    for shape in shapes:
        row = []
        for n in shape:
            if isinstance(n, sp.Integer) and int(n) > 1:
                if int(n) not in mapping:
                    name = next(names)
                    while name in used:
                        name = next(names)
                    mapping[int(n)] = sp.Symbol(name, positive=True, integer=True)
                row.append(mapping[int(n)])
            else:
                row.append(n)
        out.append(tuple(row))
    return tuple(out), {v: k for k, v in mapping.items()}


_GENERAL_CACHE: dict = {}


def general_pattern(op, pattern, params):
    """Drop the equalities between sizes that the op does not need.

    ``pattern`` (from :func:`shape_pattern`) shares one symbol between all
    sizes of the same value; a square ``(3, 3) @ (3, 3)`` would need its own
    derivation.  Each size position in turn gets a fresh symbol when the op's
    definition still accepts the shapes, so that case derives as the general
    ``(n, m) @ (m, p)``.  The formula of a more general pattern holds for every
    case of the narrower one.  Returns ``(shapes, params, origin)`` where
    ``origin`` maps each new symbol to the pattern's symbol (or the 1) it replaces.
    """
    op = get_op(op)
    key = (op.name, pattern, _freeze(params))
    with _LOCK:
        if key in _GENERAL_CACHE:
            return _GENERAL_CACHE[key]
    target = params.get("shape")
    target = tuple(target) if isinstance(target, (tuple, list)) else None
    slots = [n for s in pattern for n in s] + list(target or ())
    # sizes of 1 too: a size-1 axis that does not broadcast derives like any other size
    symbolic = [k for k, n in enumerate(slots) if isinstance(n, sp.Symbol) or n == 1]

    def build(values):
        it = iter(values)
        shapes = tuple(tuple(next(it) for _ in s) for s in pattern)
        rest = {**params, "shape": tuple(next(it) for _ in target)} if target is not None else dict(params)
        return shapes, rest

    def fits(values):
        shapes, rest = build(values)
        try:
            define(op, _sym_inputs(op, shapes), rest)
        except (ValueError, TypeError, IndexError):
            return False
        return True

    current = list(slots)
    for n, k in enumerate(symbolic):
        trial = list(current)
        trial[k] = sp.Symbol(f"_g{n}", positive=True, integer=True)
        if fits(trial):
            current = trial
    # readable, canonical names in order of appearance
    names = _size_names()
    rename, origin = {}, {}
    for k in symbolic:
        sym = current[k]
        if not isinstance(sym, sp.Symbol):
            continue  # a size 1 that broadcasts stays 1
        if sym not in rename:
            rename[sym] = sp.Symbol(next(names), positive=True, integer=True)
            origin[rename[sym]] = slots[k]
        current[k] = rename[sym]
    shapes, rest = build(current)
    result = (shapes, rest, origin)
    with _LOCK:
        _GENERAL_CACHE[key] = result
    return result


def _freeze(value):
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


def _params_symbolic(params):
    def conv(v):
        if isinstance(v, str):
            return dim(v)
        if isinstance(v, (list, tuple)):
            return tuple(conv(x) for x in v)
        return v
    return {k: (conv(v) if k == "shape" else v) for k, v in params.items()}


# ----------------------------------------------------------------------------------------------
# the derivation
# ----------------------------------------------------------------------------------------------

def vjp(op, *shapes, **params):
    """Derive the vector-Jacobian product of ``op`` for every differentiable input.

    Parameters
    ----------
    op : str or Op
        The op's name or alias (``"matmul"``, ``"mul"``...).
    *shapes : tuple
        One shape per input; sizes are ints, strings (symbol names) or SymPy
        symbols.  Omitted: the op's canonical symbolic shapes.
    **params
        The op's parameters, NumPy's names (``axis``, ``keepdims``, ``shape``, ``axes``).

    Returns
    -------
    Derivation

    Raises
    ------
    ValueError
        Unknown op (naming the closest names), or shapes/params that do not fit it.

    Examples
    --------
    >>> d = vjp("matmul")
    >>> d["X"].index_formula
    Sum(G[i, m]*Y[j, m], (m, 0, r - 1))
    >>> d["X"].closed_form, d["Y"].closed_form
    ('G @ Y.T', 'X.T @ G')
    >>> vjp("sum", ("a", "b", "c"), axis=1)["X"].closed_form
    'np.broadcast_to(np.expand_dims(G, 1), X.shape)'
    """
    op = get_op(op)
    if not shapes:
        shapes = op.canonical.shapes
        params = {**op.canonical.params, **params}
        if hasattr(op.define, "unify"):  # sizes a requirement makes equal, once params are given
            shapes = op.define.unify(shapes, params)
    params = op.with_defaults(params)
    sym_shapes = symbolic_case(op, shapes)
    key = (op.name, sym_shapes, _freeze(params))
    with _LOCK:
        cached = _CACHE.get(key)
        if cached is None:
            kept = stored.load(op, sym_shapes, key[2])
            if kept is not None:
                cached = _compiled(*kept)
            else:
                cached = _derive(op, sym_shapes, _params_symbolic(params))
                kinds = {g.name: evaluator_kind(g.evaluator) for g in cached}
                if None not in kinds.values():
                    stored.save(cached, kinds, sym_shapes, key[2])
            _CACHE[key] = cached
    return cached


def _sym_inputs(op, shapes):
    arrays = []
    for spec, shape in zip(op.inputs, shapes):
        if spec.domain == "labels":
            arrays.append(SymArray("onehot", shapes[0]))
        else:
            arrays.append(SymArray(spec.name, shape))
    return arrays


def define(op, arrays, params):
    """Run ``op``'s definition on ``arrays`` (fresh summation names each time)."""
    reserved = {str(n) for a in arrays for n in a.shape if isinstance(n, sp.Symbol)}
    reserved |= set(_FREE_NAMES) | set(_OUT_NAMES) | {a.name for a in arrays} | {G_NAME}
    _fresh.reset(reserved)
    return op.define(*arrays, **params)


def _derive(op, shapes, params):
    arrays = _sym_inputs(op, shapes)
    out = define(op, arrays, params)
    dims = {str(n) for s in shapes for n in s if isinstance(n, sp.Symbol)}
    out_names = [n for n in _OUT_NAMES if n not in dims]
    out_index = tuple(index(out_names[t] if t < len(out_names) else f"k{t}") for t in range(len(out.shape)))
    z = out.entry(*out_index)
    G = SymArray(G_NAME, out.shape)
    gradients = {}
    free_pool = [n for n in _FREE_NAMES if n not in dims]
    for spec, X in zip(op.inputs, arrays):
        if not spec.differentiable:
            continue
        free = tuple(index(free_pool[t] if t < len(free_pool) else f"i{t}") for t in range(X.ndim))
        gradients[spec.name] = _derive_input(op, spec.name, X, free, G, out, out_index, z, arrays, params)
    return Derivation(op=op, shapes=shapes, params=params, output_shape=out.shape,
                      output_index=out_index, output_entry=z, gradients=gradients)


def _derive_input(op, name, X, free, G, out, out_index, z, arrays, params):
    ranges = {i: n for i, n in zip(free, X.shape)}
    limits = [(k, 0, n - 1) for k, n in zip(out_index, out.shape)]
    term = G[out_index] * sp.Derivative(z, X[free])
    chain = sp.Sum(term, *limits) if limits else term
    differentiated_body = G[out_index] * entry_derivative(z, X[free])
    differentiated = sp.Sum(differentiated_body, *limits) if limits else differentiated_body
    contracted = contract(differentiated, ranges)
    # a free index whose range is {0} can only be 0
    contracted = contracted.subs({i: 0 for i, n in ranges.items() if n == 1})
    contracted = tidy(settle_brackets(contracted, ranges))
    # a delta of a data-dependent index (idx[k] = i) has no solution to substitute: it is a bracket
    contracted = contracted.replace(
        lambda e: isinstance(e, sp.KroneckerDelta) and e.has(sp.Indexed),
        lambda e: Bracket(sp.Eq(*sorted(e.args, key=lambda a: not a.has(sp.Indexed)))))
    layout = _layout(op, arrays, G)
    form, evaluator = _closed_form_or_evaluator(op, contracted, free, X, arrays, G, layout)
    if evaluator is not None:  # a strided read scatters faster than its solved gather evaluates
        scattered = scatter_form(z, out_index, out.shape, X, G, layout)
        if scattered is not None:
            form, evaluator = cf.ClosedForm(scattered[0], None, "scatter"), scattered[1]
    steps = [("chain-rule sum", chain), ("after differentiation", differentiated),
             ("after contracting the Kronecker deltas", contracted), ("closed form", form.expression)]
    return InputGradient(name=name, index=free, index_formula=contracted, closed_form=form.expression,
                         einsum=form.einsum, steps=steps, shape=X.shape, evaluator=evaluator,
                         layout=layout)


INDEX_EVALUATION = "the index formula, evaluated vectorized"


def evaluator_kind(evaluator):
    """``"closed form"`` (no evaluator), ``"index formula"``, ``"scatter"``, or None (another)."""
    if evaluator is None:
        return "closed form"
    return {IndexFormula: "index formula", Scatter: "scatter"}.get(type(evaluator))


def _compiled(derivation, kinds):
    """``derivation`` (stored, without evaluators) with each input's evaluator compiled as
    :func:`_derive_input` made it: ``kinds`` says which."""
    gradients = {}
    for name, g in derivation.gradients.items():
        evaluator = None
        if kinds[name] == "index formula":
            evaluator = IndexFormula(g.index_formula, g.index, g.shape, *g.layout)
        elif kinds[name] == "scatter":
            evaluator = scatter_form(derivation.output_entry, derivation.output_index, derivation.output_shape,
                                     SymArray(name, g.shape), SymArray(G_NAME, derivation.output_shape),
                                     g.layout)[1]
        gradients[name] = dataclasses.replace(g, evaluator=evaluator)
    return dataclasses.replace(derivation, gradients=gradients)


_TERMS: dict = {}


def _layout(op, arrays, G):
    """Where an index formula's size symbols and parameter symbols are read from."""
    dims = {}
    for a in list(arrays) + [G]:
        for axis, n in enumerate(a.shape):
            if isinstance(n, sp.Symbol) and n not in dims:
                dims[n] = (a.name if a.name != "onehot" else op.inputs[0].name, axis)
    return dims, {v: k for k, v in getattr(op, "symbolic_params", {}).items()}


def _closed_form_or_evaluator(op, formula, free, X, arrays, G, layout):
    """``(ClosedForm, None)``, or ``(INDEX_EVALUATION, IndexFormula)`` where no closed form is known."""
    if not formula.has(Bracket, sp.Mod, sp.floor, sp.KroneckerDelta):
        try:
            return cf.closed_form(formula, free, X, arrays, G, op=op), None
        except cf.ClosedFormError:
            pass
    return cf.ClosedForm(INDEX_EVALUATION, None, "index"), IndexFormula(formula, free, X.shape, *layout)
