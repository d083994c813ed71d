"""Ops whose output is a list of arrays (split, unstack): the backward gets one G per piece, in
every target style, and a forward with the wrong pieces is its own verdict."""

import os
import types

import numpy as np
import pytest

import derive
from derive.targets import FunctionClassTarget, FunctionsTarget

HERE = os.path.dirname(__file__)


def check(op, target, **kw):
    kw.setdefault("examples", 40)
    kw.setdefault("database", None)
    kw.setdefault("seed", 0)
    return derive.check(op, target=target, **kw)


def test_a_split_backward_gets_one_gradient_per_piece_and_passes():
    seen = []

    def split(grad, x, indices_or_sections=2, axis=0):
        seen.append(([np.shape(g) for g in grad], [p.shape for p in np.split(np.asarray(x), indices_or_sections
                                                                             if isinstance(indices_or_sections, int)
                                                                             else list(indices_or_sections), axis)]))
        return np.concatenate(grad, axis=axis)

    report = check("split", FunctionsTarget(types.SimpleNamespace(split=split), "mine"))
    assert report.status == "pass" and report.examples == 40, report.verdict()
    assert report.evidence.get("exact") == 40  # rationals and symbols cross np.split and back
    # the backward got a list with exactly the pieces' shapes, several pieces and unequal ones included
    assert all(got == want for got, want in seen)
    assert any(len(got) > 2 for got, _ in seen)
    assert any(len({s for s in got}) > 1 for got, _ in seen)


def test_a_wrong_join_is_shown_as_a_wrong_entry():
    def split(grad, x, indices_or_sections=2, axis=0):
        return np.concatenate(grad[::-1], axis=axis)

    report = check("split", FunctionsTarget(types.SimpleNamespace(split=split), "reversed"))
    assert report.status == "fail"
    failure = report.failures[0]
    assert failure.kind == "value" and failure.input == "X"
    assert "expected G[" in failure.message  # exact evidence names the joined G's entry


class Split:
    """torch.autograd.Function's convention: ``backward(ctx, *grads)``, one per output."""

    @staticmethod
    def forward(ctx, x, indices_or_sections=2, axis=0):
        ctx.axis = axis
        return tuple(np.split(x, indices_or_sections if isinstance(indices_or_sections, int)
                              else list(indices_or_sections), axis=axis))

    @staticmethod
    def backward(ctx, *grads):
        return np.concatenate(grads, axis=ctx.axis)


class Unstack:
    """A backward that takes the pieces' gradients as one list argument."""

    @staticmethod
    def forward(ctx, x, axis=0):
        ctx.axis = axis
        return [np.take(x, k, axis=axis) for k in range(x.shape[axis])]

    @staticmethod
    def backward(ctx, grads):
        assert isinstance(grads, list)
        return np.stack(grads, axis=ctx.axis)


@pytest.mark.parametrize("op", ["split", "unstack"])
def test_function_classes_get_the_pieces_gradients_their_way(op):
    namespace = types.SimpleNamespace(Split=Split, Unstack=Unstack)
    report = check(op, FunctionClassTarget(namespace, "classes"))
    assert report.status == "pass" and report.examples == 40, report.verdict()


def test_a_forward_with_the_wrong_pieces_is_a_forward_verdict_not_a_gradient_fail():
    class Split:
        @staticmethod
        def forward(ctx, x, indices_or_sections=2, axis=0):
            return tuple(np.array_split(x, 2, axis=axis))  # always two pieces

        @staticmethod
        def backward(ctx, *grads):
            return np.concatenate(grads, axis=0)

    report = check("split", FunctionClassTarget(types.SimpleNamespace(Split=Split), "two"))
    assert report.status != "pass"
    assert not report.failures
    assert report.forward and any("piece" in f.message for f in report.forward)


def test_an_engine_split_is_seeded_one_piece_per_pass():
    # numeric's Tensor resets every gradient at each backward(): seeding the pieces in turn on one
    # graph would keep only the last piece's gradient; one pass per piece on a fresh forward does not
    report = check("split", "numeric")
    assert report.status == "pass", report.verdict()
    assert any("one per backward pass" in n for n in report.notes)
    # an engine reached only through a scalar sum(Z * G) (no backward(G)) gets the same
    engine = os.path.join(HERE, "targets", "scalar_engine.py")
    assert check("split", engine).status == "pass"


def test_split_cannot_appear_in_an_expression_or_a_graph():
    from derive.checker.graphs import graph_ops
    with pytest.raises(ValueError, match="list of arrays"):
        derive.vjp_expression("sum(split(X))", X=(2, 2))
    assert not {"split", "unstack"} & {op.name for op in graph_ops()}


def test_the_derivation_says_how_the_pieces_join():
    text = str(derive.vjp("split"))
    assert "np.concatenate([G_0, G_1, ...], axis)" in text
    assert derive.vjp("unstack")["X"].closed_form == "G"
