"""Engine mutants: numeric's Tensor with one classic mistake of the backward pass each.

Each is a context manager that patches ``numeric`` in this process for the time of a
check (the target is then loaded with ``isolate=False``).  One-op checks cannot see
any of them; generated graphs (:mod:`derive.checker.graphs`) must.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

import numeric
from numeric import ops as numeric_ops
from numeric.tensor import Tensor


@dataclass
class EngineMutant:
    name: str
    mistake: str
    patch: Callable  # () -> context manager

    def __repr__(self):
        return self.name


ENGINE_MUTANTS: list = []


def engine_mutant(mistake):
    def register(fn):
        ENGINE_MUTANTS.append(EngineMutant(fn.__name__, mistake, contextlib.contextmanager(fn)))
        return fn
    return register


@contextlib.contextmanager
def _replaced(owner, name, value):
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


def _seed(node, grad):
    grad = np.ones_like(node.value) if grad is None else np.asarray(grad)
    node.backwards_grad = grad


def _contribution(edge, node):
    return edge.backward_fn(node.backwards_grad, **(edge.local_grad or {}))


@engine_mutant("overwrites a tensor's gradient with each consumer's contribution instead of adding it up")
def overwrite_instead_of_accumulate():
    def backward(self, grad=None):
        order = self._topological_order()
        for node in order:
            node.backwards_grad = np.zeros_like(node.value)
        _seed(self, grad)
        for node in reversed(order):
            for edge in node.prevs:
                edge.prev.backwards_grad = _contribution(edge, node)
    with _replaced(Tensor, "backward", backward):
        yield


@engine_mutant("recursive DFS that passes each node's gradient on as soon as it is reached (no topological "
               "order): a node reached twice passes its partial gradient, then the whole, on again")
def dfs_without_topological_order():
    def visit(node):
        for edge in node.prevs:
            edge.prev.backwards_grad = edge.prev.backwards_grad + _contribution(edge, node)
            visit(edge.prev)

    def backward(self, grad=None):
        for node in self._topological_order():
            node.backwards_grad = np.zeros_like(node.value)
        _seed(self, grad)
        visit(self)
    with _replaced(Tensor, "backward", backward):
        yield


@engine_mutant("zeroes no gradient before a pass: a second backward() adds to the stale gradients of the "
               "intermediate tensors")
def no_zero_grad_between_calls():
    def backward(self, grad=None):
        order = self._topological_order()
        _seed(self, grad)
        for node in reversed(order):
            for edge in node.prevs:
                edge.prev.backwards_grad = edge.prev.backwards_grad + _contribution(edge, node)
    with _replaced(Tensor, "backward", backward):
        yield


@engine_mutant("broadcasts an operand of a binary op as a constant: a leaf reached through a broadcast "
               "gets no gradient from there")
def gradient_lost_through_broadcast():
    def broadcast_to(x, shape):
        x = x if isinstance(x, Tensor) else Tensor(x)
        return Tensor(np.broadcast_to(x.value, tuple(shape)))
    with _replaced(numeric_ops, "broadcast_to", broadcast_to):
        yield


@engine_mutant("lists a node once per path in its topological order (no visited set): a node reached "
               "twice is propagated twice")
def double_counts_a_node_reached_twice():
    def order(self):
        out = []

        def walk(node):
            for edge in node.prevs:
                walk(edge.prev)
            out.append(node)
        walk(self)
        return out
    with _replaced(Tensor, "_topological_order", order):
        yield


@engine_mutant("accumulates into the leaves across backward() calls (torch's way), but its zero_grad() "
               "zeroes the output tensor's own gradient only: after zeroing, the leaves still hold the old sums")
def zero_grad_misses_the_leaves():
    def backward(self, grad=None):
        order = self._topological_order()
        for node in order:
            if node.prevs:  # intermediates start from zero; leaves keep what they hold
                node.backwards_grad = np.zeros_like(node.value)
        _seed(self, grad)
        for node in reversed(order):
            for edge in node.prevs:
                edge.prev.backwards_grad = edge.prev.backwards_grad + _contribution(edge, node)

    def zero_grad(self):
        self.backwards_grad = np.zeros_like(self.value)
    with _replaced(Tensor, "backward", backward), _replaced(Tensor, "zero_grad", zero_grad):
        yield


assert numeric.Tensor is Tensor
