"""Declare an op by its index formula, the way it is written on the whiteboard.

>>> import derive
>>> op = derive.define(
...     "Z[n, o] = sum(j: W[j] * X[n, stride*o + j - padding])",
...     inputs="X[N, L], W[K]", name="my_conv1d",
...     sizes={"o": "(L + 2*padding - K) // stride + 1"},
...     params={"stride": 1, "padding": 0})
>>> d = derive.vjp("my_conv1d", ("N", "L"), ("K",))
>>> d["W"].index_formula
Sum(G[k, m]*X[k, i + m], (m, 0, -K + L), (k, 0, N - 1))
>>> derive.unregister("my_conv1d")

The formula is ``Out[indices] = expression``.  In the expression:

- ``A[e0, e1, ...]`` reads input ``A``; an index may be any affine expression of
  indices and parameters (``stride*o + dilation*j - padding``), and a read
  outside ``A`` is zero (that is what padding means);
- ``sum(j, k: body)`` sums ``body`` over ``j`` and ``k``; ``max(j, k: body)`` and ``min(j, k: body)``
  take its largest and smallest value (tied extremes share ``G`` evenly);
- ``bracket(cond)`` is 1 where ``cond`` holds and 0 elsewhere, ``where(cond, a, b)``
  picks, ``neg_inf_unless(cond, ...)`` is 0 where every ``cond`` holds and ``-inf``
  elsewhere (added to a read, it keeps a padded position out of a max), ``max(a, b)``, ``min(a, b)``, ``exp``, ``log``, ``sqrt``, ``tanh``,
  ``sigmoid``, ``relu``, ``abs``, ``sin``, ``cos``, ``erf`` are the functions;
- every index's range is read off a bare read (``j`` in ``W[j]`` ranges over ``K``),
  or given in ``sizes`` as a formula of size names and parameters;
- parameters (``params``) are integers, kept as symbols in the derivation, so
  one derivation covers every stride and padding.

The op gets everything a catalog op has: the derivation, a NumPy forward (the
formula evaluated vectorized, unless ``forward`` is given), Hypothesis cases
(every size 1 to 4 and parameters near their defaults, unless ``cases`` is
given), the checks, the CLI and the notebook display.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp

from .registry import Case, Input, Op, register
from .spelling import call_by_name
from ..vocabulary.brackets import simplify_bracket
from ..vocabulary.expressions import Bracket, MaxOver, MinOver, NegInfUnless, Output, Relu, Sigmoid, _fresh, dim, index

__all__ = ["define", "Formula", "parse"]

_FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "tanh": sp.tanh, "sigmoid": Sigmoid, "relu": Relu,
    "abs": sp.Abs, "sin": sp.sin, "cos": sp.cos, "erf": sp.erf, "max": sp.Max, "min": sp.Min,
    "bracket": lambda cond: _bracket(cond), "pi": sp.pi, "neg_inf_unless": NegInfUnless,
    "Eq": sp.Eq, "Ne": sp.Ne, "Lt": sp.Lt, "Le": sp.Le, "Gt": sp.Gt, "Ge": sp.Ge, "And": sp.And,
}
_SUM = re.compile(r"\b(sum|max|min)\(\s*([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*:")


_RELATIONS = {ast.Eq: "Eq", ast.NotEq: "Ne", ast.Lt: "Lt", ast.LtE: "Le", ast.Gt: "Gt", ast.GtE: "Ge"}


class _Comparisons(ast.NodeTransformer):
    """``a == b`` as ``Eq(a, b)`` (Python's ``==`` on two SymPy expressions is a structural
    ``True``/``False``, which made ``bracket(i == j)`` a constant 0), every comparison likewise,
    and a chain ``a <= b < c`` as ``And(Le(a, b), Lt(b, c))``."""

    def visit_Compare(self, node):
        self.generic_visit(node)
        terms = [node.left, *node.comparators]
        pairs = [ast.Call(ast.Name(_RELATIONS[type(op)], ast.Load()), [a, b], [])
                 for op, a, b in zip(node.ops, terms, terms[1:]) if type(op) in _RELATIONS]
        if len(pairs) != len(node.ops):
            raise ValueError(f"unsupported comparison in {ast.unparse(node)!r} (==, !=, <, <=, >, >= only)")
        return pairs[0] if len(pairs) == 1 else ast.Call(ast.Name("And", ast.Load()), pairs, [])


def _bracket(cond):
    """``[cond]``; an equality of two integer (index) expressions is a Kronecker delta, which the
    contraction sums away (``sum(m: [stride*i + j = m] G[m])`` becomes ``G[stride*i + j]``)."""
    if isinstance(cond, sp.Eq) and all(side.is_integer for side in cond.args):
        return sp.KroneckerDelta(*cond.args)
    return Bracket(cond)


def _where(cond, a, b):
    return sp.Piecewise((a, cond), (b, True))


@dataclass(frozen=True)
class Formula:
    """A parsed index formula: ``out[lhs] = rhs``, with the inputs' declared shapes."""

    text: str
    out: str
    lhs: tuple
    rhs: str
    inputs: tuple   # ((name, (size names...)), ...)
    binders: tuple  # names bound by sum(...)
    bare: dict      # index name -> [(input, axis)] where it is read bare

    @property
    def input_names(self):
        return tuple(n for n, _ in self.inputs)

    def size_names(self):
        return tuple(dict.fromkeys(s for _, sizes in self.inputs for s in sizes))


def _parse_shapes(inputs):
    out = []
    for part in re.findall(r"[A-Za-z_]\w*\s*\[[^\]]*\]|[A-Za-z_]\w*", inputs):
        m = re.fullmatch(r"([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?", part.strip())
        name, sizes = m.group(1), m.group(2)
        out.append((name, tuple(s.strip() for s in sizes.split(",") if s.strip()) if sizes else ()))
    return tuple(out)


def parse(text, inputs):
    """Parse ``text`` (``Z[n, o] = ...``) with ``inputs`` (``"X[N, L], W[K]"``); ValueError if malformed."""
    if len(re.findall(r"(?<![<>=!])=(?!=)", text)) != 1:  # one `=`, besides ==, <=, >=, !=
        raise ValueError(f"an index formula is `Out[indices] = expression`, got {text!r}")
    left, right = re.split(r"(?<![<>=!])=(?!=)", text, maxsplit=1)
    m = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?\s*", left)
    if not m:
        raise ValueError(f"the left side must be `Out[i, j, ...]`, got {left.strip()!r}")
    lhs = tuple(s.strip() for s in (m.group(2) or "").split(",") if s.strip())
    if len(set(lhs)) != len(lhs):
        raise ValueError(f"repeated index on the left side of {text!r}")
    shapes = _parse_shapes(inputs)
    names = [n for n, _ in shapes]
    binders = tuple(b.strip() for _, group in _SUM.findall(right) for b in group.split(","))
    rhs = _SUM.sub(lambda g: f"__{g.group(1)}__(({','.join(repr(b.strip()) for b in g.group(2).split(','))},), "
                            f"lambda {g.group(2)}:", right)
    try:
        tree = ast.parse(rhs.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse the right side of {text!r}: {exc.msg}") from None
    tree = ast.fix_missing_locations(_Comparisons().visit(tree))
    rhs = ast.unparse(tree)
    indices = set(lhs) | set(binders)
    bare = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names:
            elts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            rank = len(dict(shapes)[node.value.id])
            if len(elts) != rank:
                raise ValueError(f"{node.value.id} is declared with {rank} dimension(s) but read with "
                                 f"{len(elts)} in {text!r}")
            for axis, e in enumerate(elts):
                if isinstance(e, ast.Name) and e.id in indices:
                    bare.setdefault(e.id, []).append((node.value.id, axis))
        if isinstance(node, ast.Name) and node.id not in indices | set(names) | set(_FUNCTIONS) \
                and node.id not in ("where", "__sum__", "__max__", "__min__"):
            pass  # a parameter or a size: checked when the op is defined
    return Formula(text=text.strip(), out=m.group(1), lhs=lhs, rhs=rhs.strip(), inputs=shapes,
                   binders=binders, bare=bare)


def _is_real(default):
    """A parameter whose default is a float (``eps=1e-5``) is a real number, not an integer."""
    return isinstance(default, float)


def _param_symbol(name, default):
    if _is_real(default):
        return sp.Symbol(name, real=True, positive=True) if default > 0 else sp.Symbol(name, real=True)
    return sp.Symbol(name, integer=True, positive=True) if default >= 1 else \
        sp.Symbol(name, integer=True, nonnegative=True)


def param_value(symbol, value):
    """``value`` as the number a parameter symbol stands for: an int, or a float for a real one."""
    return int(value) if symbol.is_integer else float(value)


class _Definition:
    """``define(*arrays, **params) -> Output`` for a parsed formula (picklable by value)."""

    def __init__(self, formula, sizes, params, name, require=()):
        self.formula = formula
        self.require = tuple(require)
        self.sizes = dict(sizes)
        self.params = dict(params)
        self.name = name
        self.__name__ = f"define_{name}"
        self.__module__ = __name__

    def _dims(self, arrays):
        dims = {}
        for (name, sizes), a in zip(self.formula.inputs, arrays):
            if a.ndim != len(sizes):
                raise ValueError(f"{self.name}: {name} must have {len(sizes)} dimension(s) "
                                 f"({', '.join(sizes)}), got shape {tuple(a.shape)}")
            for s, n in zip(sizes, a.shape):
                if s in dims and dims[s] != n and sp.expand(dims[s] - n) != 0:
                    raise ValueError(f"{self.name}: size {s} is {dims[s]} in one input and {n} in {name}")
                dims.setdefault(s, n)
        return dims

    def _param_values(self, params):
        out = {}
        for k, default in self.params.items():
            v = params.get(k, default)
            if isinstance(v, str):
                v = _param_symbol(k, default)
            if isinstance(v, sp.Basic) and not v.is_Number:
                out[k] = v
                continue
            if _is_real(default):
                if default > 0 and not float(v) > 0:
                    raise ValueError(f"{self.name}: {k} must be positive, got {v}")
                out[k] = sp.Float(float(v))
                continue
            v = int(v)
            if v < (1 if default >= 1 else 0):
                raise ValueError(f"{self.name}: {k} must be {'positive' if default >= 1 else 'non-negative'}, "
                                 f"got {v}")
            out[k] = sp.Integer(v)
        return out

    def ranges(self, arrays, params):
        """Every index name's range, and the scope of sizes and params."""
        dims = self._dims(arrays)
        values = self._param_values(params)
        scope = {**{k: v for k, v in dims.items()}, **values}
        ranges = {}
        for idx, reads in self.formula.bare.items():
            for arr, axis in reads:
                n = dict(zip(self.formula.input_names, arrays))[arr].shape[axis]
                if idx in ranges and ranges[idx] != n and sp.expand(ranges[idx] - n) != 0:
                    raise ValueError(f"{self.name}: index {idx} reads axes of sizes {ranges[idx]} and {n}")
                ranges.setdefault(idx, n)
        for idx, text in self.sizes.items():
            value = self._parsed(text, scope).xreplace({sp.Symbol(k): v for k, v in scope.items()})
            if value.is_Integer and int(value) < 1:
                raise ValueError(f"{self.name}: the range of {idx}, {text}, is {value} here: no output")
            ranges[idx] = value
        for text in self.require:
            holds = self._parsed(text, scope).xreplace({sp.Symbol(k): v for k, v in scope.items()})
            if holds is sp.false:
                raise ValueError(f"{self.name}: needs {text}, got {_describe(scope, text)}")
        for idx in self.formula.lhs + self.formula.binders:
            if idx not in ranges:
                raise ValueError(f"{self.name}: the range of index {idx} is not read off an input; "
                                 f"give it in sizes={{'{idx}': ...}}")
        return ranges, scope

    def _parsed(self, text, names):
        """``text`` (a size formula or a requirement, ``a == b`` as ``Eq(a, b)``) as SymPy, its names
        plain symbols; parsed once per text and set of names."""
        cache = self.__dict__.setdefault("_parsed_cache", {})
        key = (text, frozenset(names))
        if key not in cache:
            relation = ast.unparse(_Comparisons().visit(ast.parse(text.strip(), mode="eval")))
            cache[key] = sp.sympify(relation, locals={**{k: sp.Symbol(k) for k in names}, **_FUNCTIONS})
        return cache[key]

    def unify(self, shapes, params):
        """Declared ``shapes`` (size names) with a size that a requirement makes equal to another,
        once the given integer ``params`` are put in, written as that other (``C == Cg*groups`` with
        one group: ``Cg`` is ``C``)."""
        sizes = {s for shape in shapes for s in shape if isinstance(s, str)}
        given = {k: sp.Integer(int(v)) for k, v in params.items()
                 if k in self.params and not isinstance(v, (str, sp.Basic))}
        rename = {}
        for text in self.require:
            holds = self._parsed(text, sizes | set(self.params)).xreplace({sp.Symbol(k): v for k, v in given.items()})
            if isinstance(holds, sp.Eq) and all(isinstance(a, sp.Symbol) and str(a) in sizes for a in holds.args):
                keep, other = (str(a) for a in holds.args)
                rename[other] = rename.get(keep, keep)
        return tuple(tuple(rename.get(s, s) if isinstance(s, str) else s for s in shape) for shape in shapes)

    def __call__(self, *arrays, **params):
        ranges, scope = self.ranges(arrays, params)
        by_name = dict(zip(self.formula.input_names, arrays))
        lhs = tuple(index(f"_{n}") for n in self.formula.lhs)
        known = {s: ranges[n] for s, n in zip(lhs, self.formula.lhs)}

        def read(name):
            array = by_name[name]

            class Reader:
                def __getitem__(self, idx):
                    idx = idx if isinstance(idx, tuple) else (idx,)
                    idx = tuple(_floor_in_range(sp.sympify(e), known) for e in idx)
                    conditions = []
                    for e, n in zip(idx, array.shape):
                        if e in known and sp.simplify(known[e] - n) == 0:
                            continue
                        conditions += [sp.Le(0, e), sp.Le(e, n - 1)]
                    brackets = [Bracket(c) for c in conditions]  # a constant index's bounds decide at once
                    guard = sp.Mul(*[simplify_bracket(b, known) if isinstance(b, Bracket) else b for b in brackets])
                    return guard * array[idx] if guard != 1 else array[idx]
            return Reader()

        def reduction(over):
            def reduce(names, body):
                symbols = []
                for n in names:
                    k = _fresh.take()
                    known[k] = ranges[n]
                    symbols.append(k)
                return over(body(*symbols), *[(k, 0, ranges[n] - 1) for k, n in zip(symbols, names)])
            return reduce

        namespace = {**_FUNCTIONS, "where": _where, "__sum__": reduction(sp.Sum), "__max__": reduction(MaxOver),
                     "__min__": reduction(MinOver), "__builtins__": {}}
        namespace.update({n: read(n) for n in by_name})
        namespace.update(scope)
        namespace.update({n: s for n, s in zip(self.formula.lhs, lhs)})
        try:
            body = sp.sympify(eval(self.formula.rhs, namespace))  # noqa: S307  the user's own formula
        except NameError as exc:
            raise ValueError(f"{self.name}: unknown name in {self.formula.text!r}: {exc}") from None
        shape = tuple(dim(ranges[n]) if not isinstance(ranges[n], sp.Basic) else ranges[n]
                      for n in self.formula.lhs)
        return Output(shape, lambda *k: body.xreplace(dict(zip(lhs, k))))


def _floor_in_range(e, known):
    """``e`` with ``floor(i / n)`` written 0 where the index ``i`` runs over ``0 .. n-1`` (a grouped
    conv's group of filter ``f``, ``f // (F // groups)``, with one group)."""
    def below(f):
        num, den = sp.fraction(sp.together(f.args[0]))
        return num in known and sp.simplify(known[num] - den) == 0
    return e.replace(lambda x: isinstance(x, sp.floor) and below(x), lambda x: sp.Integer(0))


def _describe(scope, text):
    return ", ".join(f"{k}={v}" for k, v in scope.items() if re.search(rf"\b{k}\b", text))


def _forward(definition, formula, params, fixed=()):
    """The formula itself, evaluated vectorized on float arrays: the op's NumPy forward.

    Compiled once, in the declared sizes and symbolic parameters (once per value of
    the ``fixed`` ones); each call reads the sizes off the arrays and the parameters
    off the keywords.
    """
    from ..vocabulary.evaluate import IndexFormula
    from ..vocabulary.expressions import SymArray

    compiled = {}

    def forward(*arrays, **values):
        key = tuple(int(values.get(k, params[k])) for k in fixed)
        if key not in compiled:
            syms = [SymArray(n, sizes) for n, sizes in formula.inputs]
            symbols = {k: _param_symbol(k, v) for k, v in params.items() if k not in fixed}
            out = definition(*syms, **symbols, **dict(zip(fixed, key)))
            free = tuple(index(f"_o{t}") for t in range(len(out.shape)))
            dims = {}
            for (name, sizes), a in zip(formula.inputs, syms):
                for axis, n in enumerate(a.shape):
                    dims.setdefault(n, (name, axis))
            compiled[key] = IndexFormula(out.entry(*free), free, out.shape, dims,
                                         {v: k for k, v in symbols.items()})
        env = dict(zip(formula.input_names, (np.asarray(a) for a in arrays)))
        env.update({k: float(values.get(k, v)) if _is_real(v) else int(values.get(k, v))
                    for k, v in params.items() if k not in fixed})
        return compiled[key](env)
    forward.__name__ = f"forward_{definition.name}"
    return forward


def _default_cases(formula, definition, params):
    from hypothesis import strategies as st

    names = formula.size_names()

    @st.composite
    def cases(draw):
        values = {n: draw(st.integers(1, 4)) for n in names}
        chosen = {k: draw(st.sampled_from([v, v / 2, 2 * v] if v > 0 else [v, v - 0.5, v + 0.5])) if _is_real(v)
                  else draw(st.integers(max(0 if v == 0 else 1, v - 1), v + 2)) for k, v in params.items()}
        shapes = tuple(tuple(values[s] for s in sizes) for _, sizes in formula.inputs)
        return Case(shapes, chosen)

    def valid(case):
        from ..vocabulary.expressions import SymArray
        try:
            ranges, _ = definition.ranges([SymArray(n, s) for n, s in zip(formula.input_names, case.shapes)],
                                          case.params)
        except ValueError:
            return False
        return all(int(ranges[i]) >= 1 for i in formula.lhs + formula.binders)

    return lambda: cases().filter(valid)


def define(formula, *, inputs, name=None, sizes=None, params=None, require=(), forward=None, cases=None,
           domains=None, differentiable=None, aliases=(), doc=None, exact=None, call=None,
           replace=False, register_op=True, fixed=(), per_axis=()):
    """Declare an op by its index formula and add it to the catalog.

    Parameters
    ----------
    formula : str
        ``"Z[n, o] = sum(j: W[j] * X[n, stride*o + j - padding])"``; see :mod:`derive.catalog.notation`.
    inputs : str
        The inputs in call order with named sizes: ``"X[N, L], W[K]"`` (a bare
        name is a 0-d input).
    name : str, optional
        The op's name (default: the formula's output name, lower-cased).
    sizes : dict, optional
        Index name -> range formula of sizes and parameters, for indices not read bare.
    params : dict, optional
        Integer parameters and their defaults (``{"stride": 1, "padding": 0}``);
        a default of 1 or more makes it positive, 0 non-negative.
    require : iterable of str
        Conditions on sizes and parameters a case must meet (``"2*padding <= kernel"``).
    forward : callable, optional
        A NumPy reference (default: the formula evaluated vectorized).
    cases : callable, optional
        ``cases() -> SearchStrategy[Case]`` (default: sizes 1 to 4, params near defaults).
    domains : dict, optional
        Input name -> domain (``positive``, ``nonzero``...), default ``real``.
    differentiable : iterable of str, optional
        The inputs with a gradient (default: every input).
    exact : bool, optional
        Check with exact arithmetic (default: the formula is a polynomial).
    call : callable, optional
        How tensor-style targets spell it (default: a method or function named ``name``).
    replace : bool
        Redefine an op of that name.
    fixed : iterable of str
        Parameters derived at their value, never as a symbol: each value its own
        derivation, the default's shown (``groups``: with one group the channel
        index ``f // (F // groups) * Cg + c`` is just ``c``).
    per_axis : iterable of str
        Parameters that hold for every spatial axis at once (a square kernel's
        ``stride``): a target function whose default for one is a tuple gets a tuple.

    Returns
    -------
    Op
    """
    parsed = parse(formula, inputs)
    name = name or parsed.out.lower()
    params = dict(params or {})
    definition = _Definition(parsed, sizes or {}, params, name, require)
    domains = dict(domains or {})
    wanted = set(differentiable) if differentiable is not None else set(parsed.input_names)
    op_inputs = tuple(Input(n, differentiable=n in wanted, domain=domains.get(n, "real"))
                      for n in parsed.input_names)
    if exact is None:  # a polynomial (floor division of indices is no division of values)
        exact = not any(f in parsed.rhs for f in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs",
                                                   "sin", "cos", "erf", "max", "min", "where")) \
            and "/" not in parsed.rhs.replace("//", "")
    fixed, per_axis = tuple(fixed), tuple(per_axis)
    for what, names in (("fixed", fixed), ("per_axis", per_axis)):
        unknown = sorted(set(names) - set(params))
        if unknown:
            raise ValueError(f"{name}: {what} names {unknown}, which are not parameters")
    canonical = Case(tuple(tuple(sizes_) for _, sizes_ in parsed.inputs),
                     {k: (v if k in fixed else k) for k, v in params.items()})
    op = Op(name=name, inputs=op_inputs, define=definition,
            forward=forward or _forward(definition, parsed, params, fixed),
            cases=cases or _default_cases(parsed, definition, params), canonical=canonical,
            aliases=tuple(aliases), params=params, exact=exact, shape_generic=True,
            call=call or _named_call(name), doc=doc or parsed.text, notation=parsed.text,
            symbolic_params={k: _param_symbol(k, v) for k, v in params.items() if k not in fixed},
            per_axis=per_axis)
    return register(op, replace=replace) if register_op else op


def _named_call(name):
    import functools
    return functools.partial(call_by_name, name=name)
