"""Graph checks of an engine: generated expression graphs against the composed derivation."""

import re
import os
import subprocess
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from mutants.engines import ENGINE_MUTANTS  # noqa: E402

from derive.checker.graphs import Graph, Node, check_graphs, expected_leaf_gradients, graph_ops  # noqa: E402
from derive.isolation import load_target  # noqa: E402


def test_the_composed_gradient_of_a_diamond_is_the_chain_rule_by_hand():
    # Z = tanh(X0 * X1 + X0): X0 reached twice, X1 broadcast along the rows
    g = Graph((Node("leaf", (), (2, 3)), Node("leaf", (), (3,)), Node("multiply", (0, 1), (2, 3)),
               Node("add", (2, 0), (2, 3)), Node("tanh", (3,), (2, 3))))
    rng = np.random.default_rng(0)
    x0, x1, G = rng.normal(size=(2, 3)), rng.normal(size=3), rng.normal(size=(2, 3))
    d = G * (1 - np.tanh(x0 * x1 + x0) ** 2)
    got = expected_leaf_gradients(g, [x0, x1], G)
    assert np.allclose(got[0], d * (x1 + 1)) and np.allclose(got[1], (d * x0).sum(axis=0))


def test_graph_ops_come_from_the_catalog_and_leave_out_kinks():
    names = {op.name for op in graph_ops()}
    assert {"add", "multiply", "matmul", "tanh", "sum", "softmax", "einsum"} <= names
    assert not names & {"relu", "abs", "max", "maximum", "clip", "max_pool2d", "log", "divide"}


def test_numeric_passes_every_generated_graph():
    report = check_graphs(load_target("numeric", isolate=False), examples=150)
    assert report and report.examples >= 150 and report.failure is None, str(report)
    # its zero_grad() was exercised: no note says zeroing went unchecked
    assert not any("zero_grad" in n for n in report.notes), report.notes


def test_torch_passes_every_generated_graph():
    pytest.importorskip("torch")
    report = check_graphs("torch", examples=60)
    assert report and report.examples >= 60, str(report)
    assert not any("zero_grad" in n or "second backward" in n for n in report.notes), report.notes


@pytest.mark.parametrize("mutant", ENGINE_MUTANTS, ids=[m.name for m in ENGINE_MUTANTS])
def test_engine_mutant_is_caught_on_a_small_graph(mutant):
    with mutant.patch():
        report = check_graphs(load_target("numeric", isolate=False), examples=100)
    assert report.status == "fail", f"{mutant.name} ({mutant.mistake}) survived: {report}"
    failure = report.failure
    assert any(word in failure.message for word in ("dl/dX", "gradient", "wrong on its own", "wrong on their own")), str(report)
    assert sum(n.op != "leaf" for n in failure.graph.nodes) <= 4, str(report)  # shrunk
    assert failure.graph.expression() in str(report)


def test_a_target_that_is_not_an_engine_is_no_pass():
    report = check_graphs("numeric.backward", examples=5)
    assert report.status == "error" and not report and report.examples == 0
    assert "not a graph engine" in str(report)


def test_cli_graphs_exit_codes(tmp_path):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "derive.check", "--graphs", *args], capture_output=True,
                              text=True, timeout=600, cwd=tmp_path)
    ok = run("--examples", "30")
    assert ok.returncode == 0 and ok.stdout.startswith("PASS graphs: 30"), ok.stdout + ok.stderr
    assert run("--target", "numeric.backward", "--examples", "5").returncode == 1
    bad = run("frobnicate")
    assert bad.returncode == 2 and "unknown op" in bad.stderr and "Traceback" not in bad.stderr
    some = run("add", "tanh", "--examples", "10")
    assert some.returncode == 0 and "over 2 op(s)" in some.stdout, some.stdout + some.stderr


def test_a_function_transform_runs_graphs_and_an_op_wrong_alone_is_no_pass():
    pytest.importorskip("autograd")
    report = check_graphs("autograd", examples=60)
    assert report.status == "fail" and report.examples >= 60, str(report)
    assert "flip" not in report.ops and any("left out of the graphs: flip" in n for n in report.notes)
    assert report.failure.graph.expression() == "flip(X0)" and "flip is wrong on its own" in report.failure.message
    ops = [name for name in report.ops]  # everything but flip: autograd composes them right
    report = check_graphs("autograd", examples=60, ops=ops)
    assert report and report.examples >= 60, str(report)


def test_an_op_wrong_alone_inside_a_graph_is_reported_as_the_ops_not_the_engines():
    sys.path.insert(0, os.path.dirname(__file__))
    broken = [m for m in ENGINE_MUTANTS if m.name == "gradient_lost_through_broadcast"][0]
    with broken.patch():  # numeric's add and multiply lose a broadcast operand's gradient, alone too
        report = check_graphs(load_target("numeric", isolate=False), examples=100)
    assert report.status == "fail" and re.search("wrong on (its|their) own", report.failure.message), str(report)
    assert len([n for n in report.failure.graph.nodes if n.op != "leaf"]) == 1


def test_graphs_over_named_ops_only():
    report = check_graphs(load_target("numeric", isolate=False), examples=30, ops=["add", "tanh"])
    assert report and report.ops == ("add", "tanh")


def test_zeroing_that_misses_the_leaves_is_reported_as_such():
    mutant = [m for m in ENGINE_MUTANTS if m.name == "zero_grad_misses_the_leaves"][0]
    with mutant.patch():
        report = check_graphs(load_target("numeric", isolate=False), examples=100)
    assert report.status == "fail" and "zero_grad() after two backward() calls" in report.failure.message, str(report)
    assert "3 times the expected" in report.failure.message, str(report)
