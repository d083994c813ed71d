"""The gradient of a whole expression over catalog ops, derived from one chain-rule sum.

``"mean((X @ W + b - y)**2)"`` is parsed into a graph of catalog ops; the
composition of their elementwise definitions is itself an op definition (each
intermediate tensor's entry is the expression its op defines, read by the next op),
so the chain-rule sum ``dl/dW[i, j] = Sum G dZ/dW[i, j]`` runs through the
intermediates in one derivation, down to the index formula.  Next to it, the
backward pass in closed forms: the intermediates named ``Z1, Z2, ...`` and each
one's gradient from the per-op closed forms, the way a person writes it out; and that pass
inlined into one NumPy closed form per input, kept only where it evaluates to the derived
gradient at random values.

>>> import derive
>>> e = derive.vjp_expression("sum(tanh(X @ W))", X=("n", "d"), W=("d", "m"))
>>> e["W"].index_formula
G*(-Sum(tanh(Sum(W[t, j]*X[r, t], (t, 0, d - 1)))**2*X[r, i], (r, 0, n - 1)) + Sum(X[r, i], (r, 0, n - 1)))
>>> print(e.program())
Z1 = X @ W
Z2 = tanh(Z1)
l = sum(Z2)
dZ2 = np.broadcast_to(G, (n, m))
dZ1 = (1 - np.tanh(Z1)**2)*dZ2
dX = dZ1 @ W.T
dW = X.T @ dZ1
>>> e.closed_form("W")
'G * X.T @ (1 - np.tanh(X @ W) ** 2)'
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

import numpy as np
import sympy as sp

from ..catalog.registry import Case, Input, Op, get_op
from .derivation import vjp
from .simplify_form import tidy

__all__ = ["vjp_expression", "CompositeDerivation"]

_BINARY = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide", ast.MatMult: "matmul"}
_SYMBOLS = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/", "matmul": "@"}


@dataclass(frozen=True)
class _Step:
    """One node: a leaf (``op`` None, ``name``), a constant (``value``) or an op applied to nodes."""

    op: object = None
    args: tuple = ()
    params: tuple = ()
    name: str = ""
    value: float = None


def _parse(text):
    """The steps of ``text`` (leaves and constants first where they appear), and the leaf names."""
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ValueError(f"cannot parse the expression {text!r}: {exc.msg}") from None
    steps, leaves, seen = [], [], {}

    def add(step):
        if step not in seen:
            seen[step] = len(steps)
            steps.append(step)
        return seen[step]

    def visit(node):
        if isinstance(node, ast.Name):
            if node.id not in leaves:
                leaves.append(node.id)
            return add(_Step(name=node.id))
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return add(_Step(value=node.value))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return add(_Step(op="negative", args=(visit(node.operand),)))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
            if isinstance(node.right, ast.Constant) and isinstance(node.right.value, (int, float)):
                return add(_Step(op="power_scalar", args=(visit(node.left),), params=(("exponent", node.right.value),)))
            return add(_Step(op="power", args=(visit(node.left), visit(node.right))))
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return add(_Step(op=_BINARY[type(node.op)], args=(visit(node.left), visit(node.right))))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            op = get_op(node.func.id)
            if op.pieces is not None:
                raise ValueError(f"{op.name} gives a list of arrays; an expression needs ops with one output")
            args = list(node.args)
            params = {}
            if op.name == "einsum" and args and isinstance(args[0], ast.Constant):
                params["subscripts"] = args.pop(0).value
            for kw in node.keywords:
                params[kw.arg] = ast.literal_eval(kw.value)
            if len(args) != len(op.inputs):
                raise ValueError(f"{op.name} takes {len(op.inputs)} array(s), got {len(args)} in {text!r}")
            op.with_defaults(params)  # unknown parameters: a clear error now
            return add(_Step(op=op.name, args=tuple(visit(a) for a in args), params=tuple(sorted(params.items()))))
        raise ValueError(f"{ast.unparse(node)!r} in {text!r} is not an op of the catalog, an operator, "
                         "a name or a number")

    visit(tree)
    return steps, leaves


class _Intermediate:
    """An intermediate tensor as the next op's definition reads it: its entries are expressions."""

    def __init__(self, out):
        self.shape = tuple(out.shape)
        self._entry = out.entry

    @property
    def ndim(self):
        return len(self.shape)

    def __getitem__(self, idx):
        idx = idx if isinstance(idx, tuple) else (idx,)
        return sp.sympify(self._entry(*idx))


class _Constant(_Intermediate):
    def __init__(self, value):
        self.shape = ()
        self._entry = lambda: sp.nsimplify(value)


def _composed(steps, leaves):
    """The composite op's definition and NumPy forward."""
    def define(*arrays, **_):
        values = []
        for step in steps:
            if step.name:
                values.append(arrays[leaves.index(step.name)])
            elif step.value is not None:
                values.append(_Constant(step.value))
            else:
                out = get_op(step.op).define(*[values[a] for a in step.args], **dict(step.params))
                values.append(_Intermediate(out))
        return _as_output(values[-1])

    def forward(*arrays, **_):
        values = []
        for step in steps:
            if step.name:
                values.append(np.asarray(arrays[leaves.index(step.name)]))
            elif step.value is not None:
                values.append(np.asarray(float(step.value)))
            else:
                op = get_op(step.op)
                values.append(np.asarray(op.forward(*[values[a] for a in step.args],
                                                    **op.with_defaults(dict(step.params)))))
        return values[-1]
    return define, forward


def _as_output(value):
    from ..vocabulary.expressions import Output
    if isinstance(value, _Intermediate):
        return Output(value.shape, lambda *k: value[k])
    return Output(tuple(value.shape), lambda *k: value[k])


@dataclass
class CompositeDerivation:
    """The derivation of a whole expression: ``d[name]`` per input, and the backward pass in closed forms."""

    text: str
    derivation: object
    steps: tuple
    leaves: tuple
    shapes: dict

    def __getitem__(self, name):
        return self.derivation[name]

    @property
    def op(self):
        """The expression as an op (not in the catalog): it can be checked like one."""
        return self.derivation.op

    def evaluate(self, G=1.0, **arrays):
        """Every input's gradient at concrete ``arrays`` (by name) and upstream ``G``, from the derivation."""
        from .expected import derivation_for, expected_gradients
        missing = [n for n in self.leaves if n not in arrays]
        if missing:
            raise ValueError(f"give the value of {', '.join(missing)}")
        values = [np.asarray(arrays[n], dtype=float) for n in self.leaves]
        case = Case(tuple(v.shape for v in values))
        out = np.shape(self.op.forward(*values))
        return expected_gradients(self.op, case, values, np.broadcast_to(np.asarray(G, dtype=float), out),
                                  derivation_for(self.op, case)[0])

    def __iter__(self):
        return iter(self.derivation)

    def closed_form(self, name):
        """One NumPy closed form of ``name``'s gradient: the backward pass inlined (shapes as sizes),
        then checked against the derivation at random values; None where a step has no NumPy
        closed form or the check does not hold."""
        fwd, contributions = {}, {len(self.steps) - 1: ["G"]}
        for i, step in enumerate(self.steps):
            if step.name or step.value is not None:
                fwd[i] = step.name or repr(step.value)
            else:
                fwd[i] = _call_text(get_op(step.op), [fwd[a] for a in step.args], dict(step.params), wrap=True)
        for i, op, forms in self._per_op_forms():
            rename = {spec.name: _wrap(fwd[a]) for spec, a in zip(op.inputs, self.steps[i].args)}
            rename.update(G=_wrap(" + ".join(contributions.get(i, ["0"]))), Z=_wrap(fwd[i]))
            for a, form, numpy in forms:
                if not numpy:
                    return None
                contributions.setdefault(a, []).append(_renamed(form, rename))
        k = next(i for i, st in enumerate(self.steps) if st.name == name)
        text = " + ".join(contributions.get(k, ["0"]))
        if not self._holds(name, text):
            return None
        env, scalars = self._values()
        tidied = tidy(text, {"np": np, **env}, scalars)
        return tidied if tidied != text and self._holds(name, tidied) else text

    def _per_op_forms(self):
        """For each op node, the last first, ``(i, op, [(a, form, numpy)])``: each non-constant argument
        ``a``'s gradient contribution as the op's own closed form (in its input names, ``G`` and ``Z``;
        shapes written as sizes), or its index formula where it has none (``numpy`` False)."""
        for i in range(len(self.steps) - 1, -1, -1):
            step = self.steps[i]
            if step.op is None:
                continue
            op = get_op(step.op)
            arg_shapes = [self._shape(a) for a in step.args]
            d = vjp(op, *arg_shapes, **dict(step.params))
            sizes = {spec.name: shape for spec, shape in zip(op.inputs, arg_shapes)}
            sizes["G"] = sizes["Z"] = self._shape(i)
            forms = []
            for spec, a in zip(op.inputs, step.args):
                if self.steps[a].value is None and spec.name in d.gradients:
                    form = d[spec.name].closed_form
                    numpy = not form.startswith(("the index formula", "scatter-add"))
                    forms.append((a, _sizes_in(form if numpy else str(d[spec.name].index_formula), sizes), numpy))
            yield i, op, forms

    def _values(self):
        """Random values of every input, ``G`` and the sizes (each size name its own value), by name;
        and the names among them that hold scalars."""
        size_values, rng = {}, np.random.default_rng(5)
        shapes = {n: tuple(size_values.setdefault(str(d), 2 + len(size_values)) if not isinstance(d, int) else d
                           for d in shape) for n, shape in self.shapes.items()}
        arrays = {n: rng.uniform(-1, 1, size=sh) for n, sh in shapes.items()}
        out = np.shape(self.op.forward(*[arrays[n] for n in self.leaves]))
        G = rng.uniform(0.5, 1.5, size=out)
        scalars = set(size_values) | {n for n, sh in shapes.items() if sh == ()} | ({"G"} if out == () else set())
        return {"G": G, **arrays, **size_values}, scalars

    def _holds(self, name, text):
        """Does ``text`` evaluate to the derived gradient of ``name`` at random values?"""
        env, _ = self._values()
        arrays = {n: env[n] for n in self.leaves}
        try:
            with np.errstate(all="ignore"):
                got = eval(text, {"np": np, **env, "__builtins__": {}})  # noqa: S307
            want = self.evaluate(G=env["G"], **arrays)[name]
            return np.shape(got) == np.shape(want) and bool(np.allclose(got, want, rtol=1e-9, atol=1e-12))
        except Exception:  # noqa: BLE001  an inlined form that does not run is no closed form
            return False

    def __str__(self):
        inlined = [(n, self.closed_form(n)) for n in self.leaves]
        return f"{self.derivation}\n\nthe backward pass, step by step:\n" + \
            "\n".join(f"  {line}" for line in self.program().splitlines()) + \
            "\n\ninlined:\n" + "\n".join(f"  d{n} = {text}" for n, text in inlined if text)

    def _names(self):
        names, k = [], 0
        for i, step in enumerate(self.steps):
            if step.name:
                names.append(step.name)
            elif step.value is not None:
                names.append(repr(step.value))
            else:
                k += 1
                names.append(f"Z{k}" if i < len(self.steps) - 1 else "l")
        return names

    def program(self):
        """The forward pass with its intermediates named, then each gradient from the per-op closed forms."""
        names = self._names()
        lines = [f"{names[i]} = {_call_text(get_op(step.op), [names[a] for a in step.args], dict(step.params))}"
                 for i, step in enumerate(self.steps) if step.op is not None]
        contributions = {len(self.steps) - 1: ["G"]}
        for i, op, forms in self._per_op_forms():
            grad_name = "G" if i == len(self.steps) - 1 else f"d{names[i]}"
            if i != len(self.steps) - 1:
                lines.append(f"{grad_name} = {' + '.join(contributions.get(i, []))}")
            rename = {spec.name: names[a] for spec, a in zip(op.inputs, self.steps[i].args)}
            rename.update(G=grad_name, Z=names[i])
            for a, form, _ in forms:
                contributions.setdefault(a, []).append(_renamed(form, rename))
        for name in self.leaves:
            i = next(k for k, s in enumerate(self.steps) if s.name == name)
            lines.append(f"d{name} = {' + '.join(contributions.get(i, ['0']))}")
        return "\n".join(lines)

    def _shape(self, k):
        step = self.steps[k]
        if step.name:
            return self.shapes[step.name]
        if step.value is not None:
            return ()
        d = vjp(get_op(step.op), *[self._shape(a) for a in step.args], **dict(step.params))
        return tuple(d.output_shape)


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2}


def _top_operator(text):
    """The precedence of ``text``'s top-level binary operator (3: none, one term)."""
    depth, found = 0, 3
    for a, b, c in zip(" " + text, text, text[1:] + " "):
        depth += b in "([{"
        depth -= b in ")]}"
        if depth == 0 and a == " " and c == " " and b in _PRECEDENCE:
            found = min(found, _PRECEDENCE[b])
    return found


def _call_text(op, args, params, wrap=False):
    """``op`` applied to the texts ``args``; with ``wrap``, operands in parentheses where precedence needs."""
    if op.name in _SYMBOLS and len(args) == 2:
        symbol = _SYMBOLS[op.name]
        level = _PRECEDENCE[symbol]
        left, right = args
        if wrap:
            left = f"({left})" if _top_operator(left) < level else left
            right = f"({right})" if _top_operator(right) < level or (
                _top_operator(right) == level and symbol in "-/@") else right
        return f"{left} {symbol} {right}"
    if op.name == "negative":
        return f"-{_wrap(args[0]) if wrap else args[0]}"
    if op.name == "power_scalar":
        return f"{_wrap(args[0]) if wrap else args[0]}**{params.get('exponent')}"
    extra = [f"{k}={v!r}" for k, v in params.items()]
    return f"{op.name}({', '.join(list(args) + extra)})"


def _wrap(text):
    """``text`` in parentheses unless it is one term (a name, a number, a call)."""
    depth = 0
    for c in text:
        depth += c in "([{"
        depth -= c in ")]}"
        if depth == 0 and c in " +-*/@":
            return f"({text})"
    return text


def _sizes_in(form, shapes):
    """``X.shape[1]`` and ``X.shape`` in a per-op closed form written with the sizes themselves."""
    def size(m):
        return str(shapes[m.group(1)][int(m.group(2))])

    def whole(m):
        dims = [str(n) for n in shapes[m.group(1)]]
        return f"({dims[0]},)" if len(dims) == 1 else f"({', '.join(dims)})"
    names = "|".join(re.escape(n) for n in shapes)
    form = re.sub(rf"\b({names})\.shape\[(\d+)\]", size, form)
    return re.sub(rf"\b({names})\.shape\b", whole, form)


def _renamed(form, rename):
    """``form`` (a per-op closed form in the op's own names) in the expression's names; a wrapped
    text that stands alone between a call's parentheses loses its own."""
    def one(m):
        text = rename.get(m.group(0), m.group(0))
        before, after = form[m.start() - 1:m.start()], form[m.end():m.end() + 1]
        if text.startswith("(") and text.endswith(")") and before == "(" and after in (")", ",") \
                and _wrap(text[1:-1]) == text:
            return text[1:-1]
        return text
    return re.sub(r"\b[A-Za-z_]\w*\b", one, form)


def _cases(shapes):
    """Concrete cases of symbolic ``shapes``: every size name 1 to 4, the same wherever it appears."""
    from hypothesis import strategies as hst
    names = sorted({str(n) for shape in shapes for n in shape if not isinstance(n, int)})
    return hst.fixed_dictionaries({n: hst.integers(1, 4) for n in names}).map(
        lambda size: Case(tuple(tuple(n if isinstance(n, int) else size[str(n)] for n in shape) for shape in shapes)))


def vjp_expression(text, **shapes):
    """Derive the gradient of every input of a whole expression over catalog ops.

    Parameters
    ----------
    text : str
        Catalog ops as functions (``tanh(...)``, ``sum(..., axis=0)``,
        ``einsum('ij,ji->', A, B)``), the operators ``+ - * / @ **`` and ``-x``,
        names for the inputs and numbers.
    **shapes
        Each input's shape: sizes are ints or names (``X=("N", "D")``).

    Returns
    -------
    CompositeDerivation
        ``e["W"]`` is W's :class:`~derive.symbolic.derivation.InputGradient` (index
        formula, closed form, teaching steps); ``e.program()`` the backward pass
        through the named intermediates; ``e.op`` the expression as an op that
        :func:`derive.check` and :func:`derive.testing.assert_vjp` check a
        hand-written gradient ``fn(grad, *inputs) -> gradients`` against, on drawn sizes.
    """
    steps, leaves = _parse(text)
    missing = [n for n in leaves if n not in shapes]
    if missing:
        raise ValueError(f"give the shape of {', '.join(missing)} (e.g. {missing[0]}=('n', 'm'))")
    extra = sorted(set(shapes) - set(leaves))
    if extra:
        raise ValueError(f"{', '.join(extra)} do not appear in {text!r}")
    define, forward = _composed(steps, leaves)
    shape_list = tuple(tuple(shapes[n]) for n in leaves)
    op = Op(name=text.strip(), inputs=tuple(Input(n) for n in leaves), define=define, forward=forward,
            cases=functools.partial(_cases, shape_list), canonical=Case(shape_list), shape_generic=False,
            doc=f"the expression {text.strip()}")
    return CompositeDerivation(text.strip(), vjp(op, *shape_list), tuple(steps), tuple(leaves),
                               {n: tuple(shapes[n]) for n in leaves})
