"""Real code, checked the way a newcomer would (no adapter): a correct verdict or one clear
protocol error, never a false alarm.  Every FAIL on a real library is confirmed here with
central finite differences through that library's own API."""

import os
import subprocess
import sys

import numpy as np
import pytest

import derive
from derive.checker.families import families
from derive.targets import FunctionsTarget, TargetError
from derive.isolation import load_target

TARGETS = os.path.join(os.path.dirname(__file__), "targets")


def run(target, ops=None, examples=25, **kw):
    ops = ops or derive.names()
    kw.setdefault("database", None)
    kw.setdefault("seed", 0)
    return {op: derive.check(op, target=target, examples=examples, **kw) for op in ops}


def statuses(reports):
    out = {}
    for op, r in reports.items():
        out.setdefault(r.status, set()).add(op)
    return out


# ---- fixture code for each API pattern ------------------------------------------------------------

# add_scalar and mul_scalar: the operators with a Python number, where the engine takes one
@pytest.mark.parametrize("fixture,passing,seeding", [
    ("dezero_functions.py", {"add", "multiply", "negative", "sum", "exp", "add_scalar", "mul_scalar"}, "out.grad = G"),
    ("dezero_classes.py", {"add", "multiply", "negative", "sum", "exp", "add_scalar", "mul_scalar"}, "out.grad = G"),
    ("ctx_tensor.py", {"multiply", "sum", "exp"}, "backward(ctx, G)"),
    ("scalar_engine.py", {"add", "multiply", "sum", "exp", "split", "add_scalar", "mul_scalar"}, "scalar sum(Z * G)"),
])
def test_each_api_pattern_passes_what_it_has_and_skips_the_rest(fixture, passing, seeding):
    target = load_target(os.path.join(TARGETS, fixture))
    assert seeding in target.seeding
    got = statuses(run(target))
    assert got.get("pass") == passing, got
    assert set(got) <= {"pass", "skipped"}, got  # no FAIL, no DIFFERS, no ERROR


def test_a_missing_operator_is_a_skip_that_costs_nothing():
    target = load_target(os.path.join(TARGETS, "scalar_engine.py"))
    report = derive.check("negative", target=target, database=None)
    assert report.status == "skipped" and report.examples == 0 and report.skipped_cases == 0
    assert "no `negative` in target" in report.message and "unary -" in report.message
    power = derive.check("power", target=target, database=None)
    assert power.status == "skipped" and "**" in power.message


def test_backward_with_flags_only_is_not_given_G_positionally():
    # DeZero's backward(retain_grad=False, create_graph=False): G must not land in retain_grad
    target = load_target(os.path.join(TARGETS, "dezero_functions.py"))
    report = derive.check("multiply", target=target, shapes=[(2, 3), (3,)], database=None)
    assert report and target.seeding == "out.grad = G, then backward()"


def test_a_different_forward_is_its_own_verdict_named_when_known():
    reports = run(os.path.join(TARGETS, "other_forwards.py"), ["matmul", "transpose", "mse_loss"], examples=40)
    for op, r in reports.items():
        assert r.status == "differs" and not r.failures, (op, str(r))
    assert "computes X @ Y.T" in str(reports["matmul"])
    assert "only the last two axes swapped" in str(reports["transpose"])
    assert "divided by the batch size" in str(reports["mse_loss"])


def test_a_forward_that_raises_on_every_case_fails_as_a_forward_never_as_a_gradient():
    import types

    class Broken:
        @staticmethod
        def forward(ctx, x):
            raise RuntimeError("forward not written yet")

        @staticmethod
        def backward(ctx, g):
            return g

    report = derive.check("exp", target=load_target(types.SimpleNamespace(Exp=Broken), "function-class"),
                          database=None, examples=10)
    assert report.status == "fail" and report.examples == 0 and not report
    assert [f.kind for f in report.failures] == ["forward"]  # the op cannot run at all: broken, not limited
    assert "the forward raised RuntimeError: forward not written yet (on every case tried" in str(report)


def test_a_forward_left_as_a_stub_is_skipped_as_not_implemented_never_failed():
    """MiniTorch's module 2 keeps the course's matmul stub (``NotImplementedError("Not implemented in
    this assignment")``): nothing can be checked, and it is not a wrong gradient."""
    import types

    class Stub:
        @staticmethod
        def forward(ctx, x, y):
            raise NotImplementedError("Not implemented in this assignment")

        @staticmethod
        def backward(ctx, g):
            return g, g

    report = derive.check("matmul", target=load_target(types.SimpleNamespace(MatMul=Stub), "function-class"),
                          database=None, examples=10)
    assert report.status == "skipped" and not report.failures and not report, report
    assert report.message.startswith("not implemented: forward raised NotImplementedError: Not implemented in "
                                     "this assignment"), report.message


def test_no_protocol_is_one_clear_error_naming_what_was_tried(tmp_path):
    (tmp_path / "opaque.py").write_text("def frobnicate(x):\n    return x\n")
    with pytest.raises(TargetError, match="looked for backward functions.*Binding"):
        load_target(str(tmp_path / "opaque.py"))


# ---- messages -----------------------------------------------------------------------------------------

def test_a_float32_gradient_for_float64_inputs_is_named_not_failed():
    import types
    ns = types.SimpleNamespace(exp=lambda grad, x: (grad * np.exp(x)).astype(np.float32))
    report = derive.check("exp", target=FunctionsTarget(ns, "f32"), database=None, examples=10, seed=0)
    assert report, str(report)
    assert any("comes back as float32 for float64 inputs" in n for n in report.notes)


def test_values_are_printed_with_the_digits_that_differ():
    from derive.checker.report import format_pair
    se, sg, rel = format_pair(0.027539312345, 0.0275393006)
    assert se != sg and rel == pytest.approx(abs(0.0275393006 - 0.027539312345) / 0.027539312345)


def test_the_most_ordinary_failing_case_is_reported_first():
    import types

    def sum(grad, x, axis=None, keepdims=False):  # wrong everywhere (half), and crashes on 0-d
        if x.ndim == 0:
            raise ValueError("0-d not handled")
        g = grad if keepdims or axis is None and False else np.expand_dims(
            grad, tuple(range(x.ndim)) if axis is None else axis)
        return 0.5 * np.broadcast_to(g, x.shape)

    report = derive.check("sum", target=FunctionsTarget(types.SimpleNamespace(sum=sum), "half"),
                          database=None, seed=0, examples=100)
    assert report.status == "fail"
    first = report.failures[0]
    assert families(first.case) == [], first.case
    assert any("0-d input" in a for a in first.also), first.also


# ---- installed libraries, out of the box --------------------------------------------------------------

def _central_fd(f, arrays, k, G, h=1e-6):
    """Central differences of sum(G * f(*arrays)) with respect to arrays[k]."""
    g = np.zeros_like(arrays[k])
    for idx in np.ndindex(*arrays[k].shape):
        plus = [a.copy() for a in arrays]
        minus = [a.copy() for a in arrays]
        plus[k][idx] += h
        minus[k][idx] -= h
        g[idx] = (np.sum(G * f(*plus)) - np.sum(G * f(*minus))) / (2 * h)
    return g


def test_mygrad_passes_everything_it_has():
    pytest.importorskip("mygrad")
    import mygrad as mg
    got = statuses(run("mygrad"))
    assert set(got) <= {"pass", "skipped", "fail"}, got
    assert len(got["pass"]) >= 18
    # the one difference is a convention: at a tie MyGrad gives neither operand of maximum/minimum
    # any gradient, outside max's subdifferential ({(t, 1 - t)}); derive declares torch's (G/2 each)
    assert got.get("fail", set()) == {"maximum", "minimum"}, got
    for name in ("maximum", "minimum"):
        report = derive.check(name, target="mygrad", database=None, seed=0)
        assert "wrong only where X = Y (ties)" in report.failures[0].diagnosis
    # max and min: MyGrad gives a tied extreme's G to the first one (argmax's convention, a valid
    # subgradient): a pass that names the convention; pinned to the declared one (torch's amax,
    # shared evenly), a failure
    for name in ("max", "min"):
        report = derive.check(name, target="mygrad", database=None, seed=0)
        assert report.status == "pass" and report.evidence["another subgradient at ties"] > 0
        assert any("argmax's convention" in n and "--ties declared" in n for n in report.notes)
        pinned = derive.check(name, target="mygrad", database=None, seed=0, ties="declared")
        assert "wrong only at tied" in pinned.failures[0].diagnosis
    x = mg.tensor([1.0, 1.0, 0.5])
    mg.max(x).backward()
    assert list(x.grad) == [1.0, 0.0, 0.0]
    # confirmed through MyGrad's own API: central differences at a tie give 1/2, MyGrad's backward 0
    x, y = mg.tensor(1.0), mg.tensor(1.0)
    mg.maximum(x, y).backward(1.0)
    assert float(x.grad) == 0.0 and float(y.grad) == 0.0
    h = 1e-6
    fd = (float(mg.maximum(mg.tensor(1.0 + h), mg.tensor(1.0)).data)
          - float(mg.maximum(mg.tensor(1.0 - h), mg.tensor(1.0)).data)) / (2 * h)
    assert abs(fd - 0.5) < 1e-6


def test_autograd_ready_binding_finds_its_eight_bugs_and_nothing_else():
    pytest.importorskip("autograd")
    got = statuses(run("autograd"))
    assert got.get("fail") == {"broadcast_to", "where", "flip", "pad", "take_along_axis", "take", "einsum",
                               "unstack"}, got
    assert set(got) <= {"pass", "skipped", "fail"}
    report = derive.check("broadcast_to", target="autograd", database=None, seed=0)
    assert "Can't handle extra leading dims" in report.failures[0].message
    # confirmed through autograd's own API: the VJP of a broadcast with a new leading axis raises
    import autograd
    import autograd.numpy as anp
    with pytest.raises(AssertionError, match="extra leading dims"):
        autograd.make_vjp(lambda a: anp.broadcast_to(a, (2, 3)))(np.ones(3))
    # and an ordinary broadcast without new axes is right
    vjp, _ = autograd.make_vjp(lambda a: anp.broadcast_to(a, (2, 3)))(np.ones((1, 3)))
    G = np.arange(6.0).reshape(2, 3)
    assert np.allclose(vjp(G), G.sum(axis=0, keepdims=True))
    # where: the gradient of a branch that the other branch broadcasts is not summed back to its shape
    c, x, y = np.array([[True]]), np.array([[0.5]]), np.array([[1.0, 2.0]])
    got_x = autograd.grad(lambda a: anp.sum(anp.where(c, a, y)))(x)
    h = 1e-6
    fd = (np.sum(np.where(c, x + h, y)) - np.sum(np.where(c, x - h, y))) / (2 * h)
    assert got_x.shape == (1, 2) and abs(fd - 2.0) < 1e-6
    # take: no VJP at all, confirmed through autograd's own API
    with pytest.raises(NotImplementedError, match="VJP of take"):
        autograd.grad(lambda a: anp.sum(anp.take(a, np.array([0, 0, 1]), axis=0)))(np.ones(3))
    # pad: its VJP needs `mode`, which np.pad's callers may leave out
    with pytest.raises(TypeError, match="mode"):
        autograd.grad(lambda a: anp.sum(anp.pad(a, ((1, 0),))))(np.ones(2))
    assert np.allclose(autograd.grad(lambda a: anp.sum(anp.pad(a, ((1, 0),), "constant")))(np.ones(2)), 1.0)
    # flip: autograd has no VJP for it
    with pytest.raises(NotImplementedError, match="VJP of flip"):
        autograd.grad(lambda a: anp.sum(anp.flip(a, 0) * np.arange(2.0)))(np.ones(2))
    # take_along_axis: nor for it
    with pytest.raises(NotImplementedError, match="VJP of take_along_axis"):
        autograd.grad(lambda a: anp.sum(anp.take_along_axis(a, np.array([[1, 1]]), -1)))(np.ones((1, 2)))
    # unstack (numpy 2's, wrapped by autograd.numpy): nor for it; its split is right
    with pytest.raises(NotImplementedError, match="VJP of unstack"):
        autograd.grad(lambda a: anp.sum(anp.unstack(a, axis=1)[0] * 2.0))(np.ones((2, 3)))
    G0, G1 = np.array([[1.0], [2.0]]), np.array([[3.0, 4.0], [5.0, 6.0]])
    got = autograd.grad(lambda a: sum(anp.sum(p * g) for p, g in zip(anp.split(a, [1], axis=1), (G0, G1))))(
        np.ones((2, 3)))
    assert np.array_equal(got, np.concatenate([G0, G1], axis=1))
    # einsum: the VJP swaps the subscripts, so a repeated letter (a diagonal) of the operand raises;
    # central differences give the gradient: d/dA sum_ij A[i, i] Y[i, j] = diag(Y.sum(1))
    report = derive.check("einsum", target="autograd", database=None, seed=0)
    assert "includes output subscript" in report.failures[0].message
    Y = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="output subscript 'i' multiple times"):
        autograd.grad(lambda a: anp.einsum("ii,ij->", a, Y))(np.ones((2, 2)))
    fd = np.array([[(np.einsum("ii,ij->", np.ones((2, 2)) + h * e, Y) - np.einsum("ii,ij->", np.ones((2, 2)) - h * e, Y))
                    / (2 * h) for e in np.eye(4).reshape(4, 2, 2)]]).reshape(2, 2)
    assert np.allclose(fd, np.diag(Y.sum(axis=1)))
    # and without a repeated letter its einsum gradient is right
    assert np.allclose(autograd.grad(lambda a: anp.einsum("ij,jk->", a, Y))(np.ones((2, 2))), [[3.0, 7.0], [3.0, 7.0]])


def test_mlfz_bugs_are_found_out_of_the_box_and_confirmed_by_finite_differences():
    pytest.importorskip("mlfz")
    from mlfz.nn.tensor import Tensor, sum as mlfz_sum  # noqa: F401
    reports = run("mlfz.nn.tensor", examples=60)
    got = statuses(reports)
    # divide_scalar is x / 2.0, through the same wrong division
    assert got.get("fail") == {"divide", "divide_scalar", "matmul", "sum", "mean"}, got
    assert set(got) <= {"pass", "skipped", "fail", "differs"}

    def mlfz_grads(build, arrays, G):
        leaves = [Tensor(a.copy()) for a in arrays]
        out = build(*leaves)
        order = out._get_graph(zero_grad=True)
        out.backwards_grad = G
        for node in reversed(order):
            node._backward_step()
        return [np.asarray(t.backwards_grad, dtype=float) for t in leaves]

    rng = np.random.default_rng(0)
    # divide: the gradient of X is wrong (1/X instead of 1/Y)
    X, Y = rng.uniform(0.5, 2, (2, 3)), rng.uniform(0.5, 2, (2, 3))
    G = rng.uniform(-1, 1, (2, 3))
    lib = mlfz_grads(lambda a, b: a / b, [X, Y], G)
    fd = _central_fd(lambda a, b: (Tensor(a) / Tensor(b)).value, [X, Y], 0, G)
    assert not np.allclose(lib[0], fd, rtol=1e-4)
    # sum over axis 0 of a (2, 2): G is expanded at the wrong axis when two sizes are equal
    X = rng.uniform(-1, 1, (2, 2))
    G = np.array([1.0, 3.0])
    lib = mlfz_grads(lambda a: a.sum(axis=0), [X], G)
    fd = _central_fd(lambda a: Tensor(a).sum(axis=0).value, [X], 0, G)
    assert not np.allclose(lib[0], fd, rtol=1e-4) and np.allclose(fd, [[1, 3], [1, 3]], rtol=1e-6)
    # mean: the same misaligned expansion, with the 1/N
    lib = mlfz_grads(lambda a: a.mean(axis=0), [X], G)
    fd = _central_fd(lambda a: Tensor(a).mean(axis=0).value, [X], 0, G)
    assert not np.allclose(lib[0], fd, rtol=1e-4) and np.allclose(fd, [[0.5, 1.5], [0.5, 1.5]], rtol=1e-6)
    # batched matmul: the gradient of a 2-D Y against a 3-D X has the wrong shape
    X, Y = rng.uniform(-1, 1, (1, 1, 3)), rng.uniform(-1, 1, (3, 2))
    G = rng.uniform(-1, 1, (1, 1, 2))
    lib = mlfz_grads(lambda a, b: a @ b, [X, Y], G)
    fd = _central_fd(lambda a, b: (Tensor(a) @ Tensor(b)).value, [X, Y], 1, G)
    assert lib[1].shape != fd.shape == (3, 2)
    # 1-D matmul: its backward raises where NumPy's forward is defined
    with pytest.raises(ValueError):
        mlfz_grads(lambda a, b: a @ b, [rng.uniform(-1, 1, 3), rng.uniform(-1, 1, 3)], np.array(0.7))


# ---- the CLI ----------------------------------------------------------------------------------------------

def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "derive.check", *args], capture_output=True, text=True,
                          cwd=cwd or TARGETS, timeout=600)


def test_cli_skips_are_not_failures_unless_strict():
    out = cli("add", "negative", "--target", "scalar_engine.py", "--examples", "10", "--no-database")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SKIP negative" in out.stdout and "1 passed, 0 failed, 1 skipped" in out.stdout
    strict = cli("add", "negative", "--target", "scalar_engine.py", "--examples", "10", "--no-database",
                 "--strict")
    assert strict.returncode == 1


def test_cli_checks_one_given_case():
    out = cli("sum", "--target", "mlfz.nn.tensor" if _has("mlfz") else "numeric", "--shapes", "(2,2)",
              "--param", "axis=0", "--no-database")
    if _has("mlfz"):
        assert out.returncode == 1 and "sum(X(2, 2); axis=0)" in out.stdout
    ok = cli("matmul", "--shapes", "(2,3),(3,4)", "--no-database")
    assert ok.returncode == 0 and "PASS matmul: 1 examples" in ok.stdout
    bad = cli("matmul", "--shapes", "(2,3),(4,5)", "--no-database")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "inner dimensions differ" in bad.stderr
    assert "matmul: matmul:" not in bad.stderr
    worse = cli("matmul", "--shapes", "two by three")
    assert worse.returncode == 2 and "--shapes" in worse.stderr


def test_cli_protocol_error_is_one_line_exit_2(tmp_path):
    (tmp_path / "opaque.py").write_text("def frobnicate(x):\n    return x\n")
    out = cli("matmul", "--target", str(tmp_path / "opaque.py"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def _has(name):
    import importlib.util
    return importlib.util.find_spec(name) is not None


def test_a_binding_scalar_seeding_is_verified_before_it_is_trusted():
    import importlib.util
    spec = importlib.util.spec_from_file_location("scalar_engine_b", os.path.join(TARGETS, "scalar_engine.py"))
    engine = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(engine)
    good = derive.Binding(engine, tensor=engine.Tensor, seed="scalar")
    assert derive.check("exp", target=good, shapes=[(2, 3)], database=None)
    doubled = derive.Binding(engine, tensor=engine.Tensor, seed="scalar",
                             ops={"sum": lambda api, x, axis=None, keepdims=False: x.sum(axis, keepdims) * 2.0})
    with pytest.raises(TargetError, match="scalar seeding sum"):
        load_target(doubled)


def test_mlfz_engine_fails_a_scalar_used_twice_found_only_by_a_graph():
    """One-op checks pass mlfz's add; a generated graph finds that its engine crashes when a 0-d tensor
    feeds two consumers (x.sum() + x.sum()), confirmed through mlfz's own backward()."""
    pytest.importorskip("mlfz")
    from derive.checker.graphs import check_graphs
    from mlfz.nn.tensor import Tensor
    # the ops mlfz gets right on their own here (its matmul is wrong on 1-D: the graphs would report that first)
    report = check_graphs("mlfz", examples=100, ops=["add", "multiply", "negative", "sum", "tanh", "exp"])
    assert report.status == "fail", str(report)
    assert report.failure.graph.expression() == "sum(X0) + sum(X0)", str(report)
    assert "engine raised" in report.failure.message
    x = Tensor(np.array([0.5, 1.0]))
    y = x.sum() + x.sum()
    with pytest.raises(AttributeError, match="'float' object has no attribute 'reshape'"):
        y.backward()
    # the same function with the scalar used once is differentiated right, and central differences agree
    x = Tensor(np.array([0.5, 1.0]))
    (x.sum() * 2.0).backward()
    fd = _central_fd(lambda a: np.asarray((Tensor(a).sum() + Tensor(a).sum()).value), [np.array([0.5, 1.0])], 0,
                     np.array(1.0))
    assert np.allclose(x.backwards_grad, [2.0, 2.0]) and np.allclose(fd, [2.0, 2.0], rtol=1e-6)
