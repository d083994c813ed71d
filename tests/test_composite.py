"""The derivation of a whole expression: the chain-rule sum through the intermediates."""

import numpy as np
import pytest
import sympy as sp

import derive
from derive.checker.graphs import Graph, Node, expected_leaf_gradients

RNG = np.random.default_rng(7)


def _central(f, arrays, name, h=1e-6):
    x = arrays[name]
    g = np.zeros_like(x)
    for idx in np.ndindex(*x.shape):
        up, down = dict(arrays), dict(arrays)
        up[name], down[name] = x.copy(), x.copy()
        up[name][idx] += h
        down[name][idx] -= h
        g[idx] = (f(**up) - f(**down)) / (2 * h)
    return g


# a published table (The Matrix Cookbook, eqs. 100, 81, 84, 88/89): expression, shapes, and the identity
IDENTITIES = [
    ("einsum('ij,ji->', A @ X, B)", dict(A=(2, 3), X=(3, 4), B=(4, 2)), "X",
     lambda A, X, B: A.T @ B.T),                                      # d tr(A X B) / dX = A^T B^T
    ("x @ A @ x", dict(x=(3,), A=(3, 3)), "x", lambda x, A: (A + A.T) @ x),   # d x^T A x / dx = (A + A^T) x
    ("a @ X @ b", dict(a=(2,), X=(2, 3), b=(3,)), "X", lambda a, X, b: np.outer(a, b)),  # d a^T X b / dX = a b^T
    ("sum((X @ A) * X)", dict(X=(2, 3), A=(3, 3)), "X", lambda X, A: X @ A + X @ A.T),  # d tr(X A X^T)/dX
    ("sum((A @ X - b)**2)", dict(A=(3, 2), X=(2,), b=(3,)), "X",
     lambda A, X, b: 2 * A.T @ (A @ X - b)),                         # d ||A x - b||^2 / dx = 2 A^T (A x - b)
]


@pytest.mark.parametrize("text, shapes, wrt, identity", IDENTITIES, ids=[t for t, *_ in IDENTITIES])
def test_a_published_identity_comes_out_of_the_composite_derivation(text, shapes, wrt, identity):
    e = derive.vjp_expression(text, **shapes)
    arrays = {n: RNG.normal(size=s) for n, s in shapes.items()}
    got = e.evaluate(**arrays)[wrt]
    assert np.allclose(got, identity(**arrays), rtol=1e-10, atol=1e-12)


def test_trace_identity_in_the_same_closed_form_with_symbolic_sizes():
    e = derive.vjp_expression("einsum('ij,ji->', A @ X, B)", A=("p", "q"), X=("q", "r"), B=("r", "p"))
    i, j = e["X"].index
    s = sp.Symbol("s", integer=True)
    p = sp.Symbol("p", integer=True, positive=True)
    formula = e["X"].index_formula
    want = sp.Symbol("G") * sp.Sum(sp.IndexedBase("A")[s, i] * sp.IndexedBase("B")[j, s], (s, 0, p - 1))
    assert sp.srepr(formula).count("Sum") == 1 and str(formula).replace(" ", "") == str(want).replace(" ", "")
    assert "dX = A.T @ dZ1" in e.program() and "dZ1 = (G*B).T" in e.program()
    assert e.closed_form("X") == "G * A.T @ B.T"  # A^T B^T, G the scalar upstream gradient


def test_an_inlined_closed_form_that_does_not_hold_is_not_shown():
    e = derive.vjp_expression("sum(X * X)", X=(2, 3))
    assert e.closed_form("X") is not None
    assert not e._holds("X", "X")  # a wrong form is refused by the numeric check
    assert not e._holds("X", "undefined_name * 2")


def test_linear_regression_loss_end_to_end():
    text = "mean((X @ W + b - y)**2)"
    e = derive.vjp_expression(text, X=("N", "D"), W=("D", "M"), b=("M",), y=("N", "M"))
    program = e.program()
    for line in ("Z1 = X @ W", "Z4 = Z3**2", "l = mean(Z4)", "dW = X.T @ dZ1", "db = dZ2.sum(axis=0)", "dy = -dZ3"):
        assert line in program, program
    # the pass inlined: what a person writes, 2/(N M) X.T @ (X @ W + b - y), checked at random values
    assert e.closed_form("W") == "2*G/(M*N) * X.T @ (X @ W + b - y)"
    assert e.closed_form("b") == "2*G/(M*N) * (X @ W + b - y).sum(axis=0)"
    assert e.closed_form("y") == "-2*G/(M*N) * (X @ W + b - y)"
    arrays = {"X": RNG.normal(size=(4, 3)), "W": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2),
              "y": RNG.normal(size=(4, 2))}
    got = e.evaluate(**arrays)
    loss = lambda X, W, b, y: float(np.mean((X @ W + b - y) ** 2))  # noqa: E731
    residual = arrays["X"] @ arrays["W"] + arrays["b"] - arrays["y"]
    assert np.allclose(got["W"], 2 / residual.size * arrays["X"].T @ residual)
    for name in arrays:
        assert np.allclose(got[name], _central(loss, arrays, name), rtol=1e-6, atol=1e-8), name


def test_the_one_chain_rule_sum_agrees_with_composing_the_per_op_gradients():
    e = derive.vjp_expression("sum(tanh(X @ W) * X)", X=(3, 3), W=(3, 3))
    arrays = {"X": RNG.normal(size=(3, 3)), "W": RNG.normal(size=(3, 3))}
    graph = Graph((Node("leaf", (), (3, 3)), Node("leaf", (), (3, 3)), Node("matmul", (0, 1), (3, 3)),
                   Node("tanh", (2,), (3, 3)), Node("multiply", (3, 0), (3, 3)), Node("sum", (4,), ())))
    composed = expected_leaf_gradients(graph, [arrays["X"], arrays["W"]], np.array(1.0))
    got = e.evaluate(**arrays)
    assert np.allclose(got["X"], composed[0]) and np.allclose(got["W"], composed[1])


@pytest.mark.parametrize("text, shapes, message", [
    ("sum(X @ Y)", dict(X=(2, 2)), "give the shape of Y"),
    ("frobnicate(X)", dict(X=(2,)), "unknown op"),
    ("X[0]", dict(X=(2,)), "not an op of the catalog"),
    ("sum(X,", dict(X=(2,)), "cannot parse"),
    ("sum(X)", dict(X=(2,), Y=(2,)), "do not appear"),
])
def test_a_bad_expression_is_one_clear_error(text, shapes, message):
    with pytest.raises(ValueError, match=message):
        derive.vjp_expression(text, **shapes)


def test_cli_derives_an_expression(tmp_path):
    import subprocess
    import sys

    def run(*args):
        return subprocess.run([sys.executable, "-m", "derive.check", *args], capture_output=True, text=True,
                              timeout=300, cwd=tmp_path)
    ok = run("--expression", "mean((X @ W + b - y)**2)", "--input", "X=N,D", "--input", "W=D,M",
             "--input", "b=M", "--input", "y=N,M")
    assert ok.returncode == 0, ok.stderr
    assert "dl/dW[i, j] =" in ok.stdout and "dW = X.T @ dZ1" in ok.stdout
    bad = run("--expression", "sum(X @ W)", "--input", "X=2,3")
    assert bad.returncode == 2 and "give the shape of W" in bad.stderr and "Traceback" not in bad.stderr


def test_a_hand_written_gradient_of_an_expression_is_checked_in_pytest():
    from derive.testing import assert_vjp
    e = derive.vjp_expression("mean((X @ W + b - y)**2)", X=("N", "D"), W=("D", "M"), b=("M",), y=("N", "M"))

    def linear_regression(grad, X, W, b, y):
        r = 2 * grad * (X @ W + b - y) / (X.shape[0] * W.shape[1])
        return r @ W.T, X.T @ r, r.sum(axis=0), -r

    report = assert_vjp(e.op, linear_regression, examples=30)
    assert report.examples == 30

    def forgot_the_two(grad, X, W, b, y):
        r = grad * (X @ W + b - y) / (X.shape[0] * W.shape[1])
        return r @ W.T, X.T @ r, r.sum(axis=0), -r

    with pytest.raises(AssertionError, match="FAIL") as failed:
        assert_vjp(e.op, forgot_the_two, examples=30)
    # the smallest failing sizes, named by the expression's own inputs
    assert "(X(1, 1), W(1, 1), b(1,), y(1, 1))" in str(failed.value), str(failed.value)
    assert "off by a constant factor 1/2" in str(failed.value)


def test_tidy_moves_scalars_out_but_keeps_a_broadcast_that_changes_the_shape():
    from derive.symbolic.simplify_form import tidy
    env = {"np": np, "G": np.float64(2.0), "n": 3, "x": RNG.normal(size=3), "X": RNG.normal(size=(3, 4))}
    # G broadcast to x's shape and multiplied by x: the broadcast adds nothing
    assert tidy("np.broadcast_to(G / n, (n,))*x", env, {"G", "n"}) == "G/n * x"
    # broadcast to (2, 3): a new axis, so it must stay
    assert tidy("np.broadcast_to(G, (2, n))*x", env, {"G", "n"}) == "G * np.ones((2, n)) * x"
    assert tidy("-(3 * (x @ X)).sum()", env, {"G", "n"}) == "-3 * (x @ X).sum()"
    assert tidy("np.tanh(2 * x)", env, {"G", "n"}) == "np.tanh(2 * x)"  # not linear: the factor stays inside
    assert tidy("x +", env, set()) == "x +"  # not a form: returned as it was


def test_tidied_forms_are_shown_only_where_they_hold():
    e = derive.vjp_expression("sum(tanh(X @ W))", X=("n", "d"), W=("d", "m"))
    assert e.closed_form("W") == "G * X.T @ (1 - np.tanh(X @ W) ** 2)"
    for name in e.leaves:
        assert e._holds(name, e.closed_form(name))
