"""The derivation engine: generic formulas against the concrete oracle, closed forms against
the index formula and finite differences, the seed's worked results, and errors."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.printing.pycode import PythonCodePrinter

import derive
from derive.catalog import strategies as dst
from derive.symbolic.derivation import G_NAME
from derive.vocabulary.expressions import Bracket, unroll
from derive.symbolic.oracle import evaluate_closed_form, exact_inputs, instantiate, oracle_gradients, symbol_array
from derive.checker.verify import derivation_for, expected_gradients

OPS = derive.names()
SMALL = 12  # entries per input, to keep the oracle fast
#: (entries per input, examples) for the ops on images (N, C, H, W) that are not linear: each output entry
#: of a spatial norm reads a whole group, and the symbolic oracle grows steeply with it (8 s for a group
#: of 4 entries, 141 s for 6)
IMAGES = (4, 4)


def _images(op):
    op = derive.get_op(op)
    return len(op.canonical.shapes[0]) >= 4 and not op.exact


def small_case(op):
    small = IMAGES[0] if _images(op) else SMALL
    return dst.cases(op).filter(lambda c: all(int(np.prod(s, dtype=int)) <= small for s in c.shapes))


def _tables(op, case, inputs, G):
    tables = {}
    for spec, a in zip(op.inputs, inputs):
        if spec.domain == "labels":
            onehot = np.zeros(tuple(case.shapes[0]), dtype=object)
            onehot[...] = sp.Integer(0)
            for idx in np.ndindex(*np.shape(a)):  # labels of any shape: (N,), or (N, T) per step
                onehot[idx + (int(a[idx]),)] = sp.Integer(1)
            tables["onehot"] = onehot
        else:
            tables[spec.name] = a
    return tables


def _real(expr):
    """``expr`` for real entries: SymPy's plain symbols are complex, so |X|' comes as re/im parts."""
    expr = sp.sympify(expr)
    if not expr.has(sp.re, sp.im):
        return expr
    return expr.replace(sp.re, lambda e: e).replace(sp.im, lambda e: sp.Integer(0)).doit()


def _identical(a, b):
    """Symbolically equal; where SymPy cannot decide (x**(y-1) vs x**y/x), equal at random positive points."""
    difference = _real(a) - _real(b)
    if difference == 0:
        return True
    piecewise = difference.has(Bracket, sp.Heaviside, sp.Min, sp.Max)
    if not piecewise and sp.count_ops(difference) < 200:  # expand and simplify cost seconds on a big
        difference = sp.expand(difference)                # expression (minutes on Min brackets); points decide too
        if difference == 0 or sp.simplify(difference) == 0:
            return True
    symbols = sorted(difference.free_symbols, key=str)
    if piecewise:  # SymPy compares every pair of a Min's arguments each time it is rebuilt: Python decides
        code = _Code({"fully_qualified_modules": False}).doprint(difference)
        return all(abs(eval(code, {**_PIECES, **_tables_at(point)})) <= 1e-9 for point in _points(symbols, True))
    return all(abs(complex(difference.xreplace(point).evalf())) <= 1e-9 for point in _points(symbols, False))


class _Code(PythonCodePrinter):
    """Python for a difference with brackets, steps and extremes, printed as calls (not as conditionals)."""

    def _call(self, name, e):
        return f"{name}({', '.join(self._print(a) for a in e.args)})"

    def _print_Bracket(self, e):
        return self._call("Bracket", e)

    def _print_Heaviside(self, e):
        return self._call("Heaviside", e)

    def _print_Min(self, e):
        return self._call("min", e)

    def _print_Max(self, e):
        return self._call("max", e)

    def _print_NegInfUnless(self, e):
        return self._call("NegInfUnless", e)


_PIECES = {"Bracket": lambda holds: float(bool(holds)), "NegInfUnless": lambda *holds: 0.0 if all(holds) else -math.inf,
           "Heaviside": lambda x, at_zero=0.5: float(x > 0) if x else at_zero,
           "math": math}


def _tables_at(point):
    """Names for printed code at ``point``: scalar symbols, and each array as a dict of its entries (the
    symbol ``X[0,1]`` prints as a read of ``X`` at ``(0, 1)``)."""
    names = {}
    for s, v in point.items():
        base, _, rest = str(s).partition("[")
        if rest:
            idx = tuple(int(i) for i in rest.rstrip("]").split(","))
            names.setdefault(base, {})[idx if len(idx) > 1 else idx[0]] = float(v)
        else:
            names.setdefault(base, float(v))
    return names


def _points(symbols, piecewise):
    """Random positive points; for piecewise expressions also one where each symbol is the smallest and
    one where it is the largest, so every branch of a max or min is taken (entries distinct: no ties)."""
    rng = np.random.default_rng(0)

    def draw(fixed=None, value=None):
        return {s: sp.Float(value if s == fixed else rng.uniform(0.5, 2.0)) for s in symbols}
    yield from (draw() for _ in range(3))
    if piecewise:
        for s in symbols:
            yield draw(s, 0.25)
            yield draw(s, 2.5)


@pytest.mark.parametrize("name", OPS)
def test_generic_formula_equals_concrete_oracle(name):
    op = derive.get_op(name)

    @settings(max_examples=IMAGES[1] if _images(name) else 8)
    @given(small_case(name))
    def run(case):
        derivation, sizes = derivation_for(op, case)
        inputs = exact_inputs(op, case)
        out_shape = tuple(int(sp.sympify(n).subs(sizes)) for n in derivation.output_shape)
        G = symbol_array(G_NAME, out_shape)
        oracle = oracle_gradients(op, case, inputs, G)
        tables = _tables(op, case, inputs, G)
        assert set(oracle) == set(derivation.inputs)
        for grad in derivation:
            got = instantiate(grad, sizes, tables, G)
            want = oracle[grad.name]
            assert got.shape == want.shape
            for idx in np.ndindex(*want.shape):
                assert _identical(got[idx], want[idx]), (name, case, grad.name, idx, got[idx], want[idx])

    run()


def _index_formula_numeric(grad, sizes, env, shape):
    """The index formula evaluated entry by entry with floats (independent of the closed form)."""
    formula = grad.index_formula.subs(sizes)
    out = np.empty(shape)
    for idx in np.ndindex(*shape):
        def read(e):
            return sp.Float(env[str(e.base)][tuple(int(i) for i in e.indices)])
        # reads written out by the unrolling first, then those of sums over ranges that stayed symbolic
        expr = unroll(formula.subs(dict(zip(grad.index, idx))))
        expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and all(i.is_Integer for i in e.indices), read)
        expr = expr.doit().replace(lambda e: isinstance(e, sp.Indexed), read)
        expr = expr.subs({sp.Symbol(k): sp.Float(float(v)) for k, v in env.items()
                          if isinstance(v, np.ndarray) and v.shape == ()})
        expr = expr.replace(lambda e: isinstance(e, sp.Heaviside), lambda e: sp.Integer(1 if e.args[0] > 0 else 0))
        out[idx] = float(sp.N(expr.rewrite(sp.exp)))
    return out


@pytest.mark.parametrize("name", OPS)
def test_closed_form_equals_index_formula_and_finite_differences(name):
    op = derive.get_op(name)

    # the size filter keeps a quarter of conv2d's cases: filtering that much is the intent here
    @settings(max_examples=6, suppress_health_check=[HealthCheck.filter_too_much])
    @given(small_case(name), st.integers(0, 2**16))
    def run(case, seed):
        derivation, sizes = derivation_for(op, case)
        arrays = dst.make_inputs(op, case, seed)
        out_shape = tuple(int(sp.sympify(n).subs(sizes)) for n in derivation.output_shape)
        G = dst.make_upstream(out_shape, seed)
        closed = expected_gradients(op, case, arrays, G)
        env = {G_NAME: G, **{s.name: a.astype(np.int64) if s.domain == "mask" else a
                             for s, a in zip(op.inputs, arrays)}}  # a mask is 0/1 in the formulas
        for spec, a in zip(op.inputs, arrays):
            if spec.domain == "labels":
                env["onehot"] = np.eye(case.shapes[0][-1])[a]
        params = op.with_defaults(case.params)
        for k, spec in enumerate(op.inputs):
            if not spec.differentiable:
                continue
            grad = derivation[spec.name]
            by_index = _index_formula_numeric(grad, sizes, env, tuple(case.shapes[k]))
            np.testing.assert_allclose(closed[spec.name], by_index, rtol=1e-9, atol=1e-12)
            if op.differentiable_at is not None and not op.differentiable_at(*arrays, **params):
                continue  # a kink (three tied maxima): central differences say nothing here
            fd = np.zeros_like(a := arrays[k])
            for idx in np.ndindex(*a.shape):
                plus = [b.copy() for b in arrays]
                minus = [b.copy() for b in arrays]
                plus[k][idx] += 1e-6
                minus[k][idx] -= 1e-6
                fd[idx] = (np.sum(G * op.forward(*plus, **params)) -
                           np.sum(G * op.forward(*minus, **params))) / 2e-6
            np.testing.assert_allclose(closed[spec.name], fd, rtol=1e-5, atol=1e-6)

    run()


# ---- the seed's worked results -------------------------------------------------------------------

def test_matmul_is_G_Yt_and_Xt_G():
    d = derive.vjp("matmul")
    i, j, m = (sp.Symbol(n, integer=True) for n in "ijm")
    G, Y = sp.IndexedBase("G"), sp.IndexedBase("Y")
    r = sp.Symbol("r", positive=True, integer=True)
    assert d["X"].index_formula == sp.Sum(G[i, m] * Y[j, m], (m, 0, r - 1))
    assert (d["X"].closed_form, d["Y"].closed_form) == ("G @ Y.T", "X.T @ G")
    assert d["X"].einsum == "im,jm->ij"
    assert not d["X"].index_formula.has(sp.KroneckerDelta, sp.Piecewise)


def test_transpose_reshape_broadcast_and_sum_closed_forms():
    assert derive.vjp("transpose")["X"].closed_form == "G.T"
    assert derive.vjp("transpose", ("a", "b", "c"), axes=(1, 2, 0))["X"].closed_form == "G.transpose((2, 0, 1))"
    assert derive.vjp("reshape")["X"].closed_form == "G.reshape(X.shape)"
    assert derive.vjp("broadcast_to", ("n", 1), shape=("n", "m"))["X"].closed_form == \
        "G.sum(axis=1, keepdims=True)"
    assert derive.vjp("add", ("m",), ("n", "m"))["X"].closed_form == "G.sum(axis=0)"
    assert derive.vjp("sum", ("a", "b", "c"), axis=1)["X"].closed_form == \
        "np.broadcast_to(np.expand_dims(G, 1), X.shape)"
    assert derive.vjp("sum", ("a", "b", "c"), axis=1, keepdims=True)["X"].closed_form == \
        "np.broadcast_to(G, X.shape)"


def test_sum_gradient_is_G_expanded_at_the_reduced_axis_even_with_equal_sizes():
    d = derive.vjp("sum", (3, 2, 3), axis=0)
    G = np.arange(6.0).reshape(2, 3)
    X = np.zeros((3, 2, 3))
    got = evaluate_closed_form(d["X"], {"G": G, "X": X, "axis": 0, "keepdims": False})
    np.testing.assert_array_equal(got, np.broadcast_to(G[None], (3, 2, 3)))


def test_steps_and_rendering():
    d = derive.vjp("matmul")
    names = [name for name, _ in d["X"].steps]
    assert names == ["chain-rule sum", "after differentiation", "after contracting the Kronecker deltas",
                     "closed form"]
    assert d["X"].steps[1][1].has(sp.KroneckerDelta)
    text = str(d)
    assert "dl/dX[i, j] = Sum(G[i, m]*Y[j, m], (m, 0, r - 1))" in text and "G @ Y.T" in text
    latex = d._repr_latex_()
    assert latex.startswith("$") and r"\sum" in latex and "G @ Y.T" in latex


def test_derivations_are_cached():
    assert derive.vjp("matmul", ("p", "q"), ("q", "r")) is derive.vjp("matmul", ("p", "q"), ("q", "r"))


def test_user_registered_op_derives_and_checks():
    derive.elementwise("my_silu", lambda x: x / (1 + sp.exp(-x)), lambda X: X / (1 + np.exp(-X)))
    try:
        d = derive.vjp("my_silu")
        X = np.linspace(-2, 2, 6).reshape(2, 3)
        G = np.ones((2, 3))
        got = evaluate_closed_form(d["X"], {"G": G, "X": X})
        s = 1 / (1 + np.exp(-X))
        np.testing.assert_allclose(got, s * (1 + X * (1 - s)))

        def silu_backward(grad, x):
            s = 1 / (1 + np.exp(-x))
            return grad * s * (1 + x * (1 - s))

        import types
        module = types.SimpleNamespace(my_silu=silu_backward)
        report = derive.check("my_silu", target=derive.targets.FunctionsTarget(module, "mine"), examples=20,
                              database=None)
        assert report and report.examples == 20
    finally:
        derive.unregister("my_silu")
    assert "my_silu" not in derive.names()


# ---- errors ------------------------------------------------------------------------------------

def test_unknown_op_names_closest():
    with pytest.raises(ValueError, match=r"unknown op 'matmull'.*matmul"):
        derive.vjp("matmull")


@pytest.mark.parametrize("args,kwargs,match", [
    ((("p", "q"), ("r", "s")), {}, "inner dimensions"),
    ((("n", "m"), ("k", "m")), {}, "cannot be broadcast"),
    ((("n",),), {"shape": ("m",)}, "cannot broadcast"),
    ((("a", "b"),), {"axis": 2}, "out of bounds"),
    ((("a", "b"),), {"axes": (0, 0)}, "not a permutation"),
])
def test_shapes_that_do_not_fit(args, kwargs, match):
    op = {"inner dimensions": "matmul", "cannot be broadcast": "add", "cannot broadcast": "broadcast_to",
          "out of bounds": "sum", "not a permutation": "transpose"}[match]
    with pytest.raises(ValueError, match=match):
        derive.vjp(op, *args, **kwargs)


def test_wrong_number_of_shapes_and_unknown_param():
    with pytest.raises(ValueError, match="takes 2 input"):
        derive.vjp("matmul", ("p", "q"))
    with pytest.raises(ValueError, match="unknown parameter"):
        derive.vjp("exp", ("n",), axis=0)


def test_reshape_size_mismatch():
    with pytest.raises(ValueError, match="cannot reshape"):
        derive.vjp("reshape", (2, 3), shape=(4,))


def test_a_bracket_on_an_index_inside_a_floor_is_kept():
    """``0 <= j - Cg*floor(l/2)`` is not decided by the ranges of j and l one at a time (l sits inside
    a floor, not affinely): it must stay, else a grouped conv's dX reads W at a negative channel."""
    from derive.symbolic.contraction import simplify_bracket
    from derive.vocabulary.expressions import bracket

    j, l, Cg = sp.symbols("j l Cg", integer=True, nonnegative=True)
    ranges = {j: 2 * Cg, l: sp.Integer(4)}
    kept = simplify_bracket(bracket(sp.Le(0, j - Cg * sp.floor(l / 2))), ranges)
    assert kept != 1 and kept.has(sp.floor)
    assert simplify_bracket(bracket(sp.Le(j + 2 * l, 2 * Cg + 5)), ranges) == 1  # affine: decided
    grouped = derive.vjp(derive.get_op("conv1d"), groups=2)["X"].index_formula
    assert "[0 <= -Cg*floor(m/floor(F/2)) + j]" in str(grouped), grouped


@pytest.mark.parametrize("op", OPS)
def test_no_index_is_named_l_the_loss_of_dl_dX(op):
    """``dl/dX`` names the loss ``l``: an index of that name would read as the loss in the printed sums."""
    d = derive.vjp(op)
    names = {str(s) for g in d for s in g.index_formula.free_symbols | set(g.index) | set(d.output_index)}
    names |= {str(limit[0]) for g in d for s in g.index_formula.atoms(sp.Sum) for limit in s.limits}
    assert "l" not in names, str(d)
