"""Graph checks of an autograd engine: whole expressions, not one op at a time.

The classic engine bugs never show in a one-op check: a tensor used twice whose
gradient is overwritten instead of accumulated, a backward pass that visits a node
before all its consumers are done, gradients that go stale between two
``backward()`` calls, a leaf that loses its gradient through a broadcast, a node
reached twice and counted twice.  Here Hypothesis draws expression graphs over the
catalog's ops (fan-out, diamonds, shared leaves, deep chains, size-1 axes that
broadcast between branches), the expected gradient of every leaf is composed from
the per-op derivations (reverse mode through the graph, each step
:func:`~derive.symbolic.expected.expected_gradients`), and the engine computes its own
through its normal ``backward()``.  A failure shrinks to the smallest graph, printed
as an expression with the leaf and entry that is wrong.

>>> g = Graph((Node("leaf", (), (2, 3)), Node("leaf", (), (3,)), Node("multiply", (0, 1), (2, 3)),
...            Node("add", (2, 0), (2, 3)), Node("tanh", (3,), (2, 3))))
>>> g.expression()
'tanh(X0 * X1 + X0)'
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as hst

from ..catalog.registry import Case, get_op, ops
from ..targets.base import ForwardError, Unsupported
from ..symbolic.expected import derivation_for, expected_gradients
from .report import Status

__all__ = ["Node", "Graph", "graph_ops", "graphs", "expected_leaf_gradients", "check_graphs", "GraphReport"]

#: ops printed as operators; the others as calls
_OPERATORS = {"add": "+", "subtract": "-", "multiply": "*", "matmul": "@"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "@": 2}


@dataclass(frozen=True)
class Node:
    """A leaf (``op == "leaf"``) or an op applied to earlier nodes (``args``: their positions)."""

    op: str
    args: tuple
    shape: tuple


@dataclass(frozen=True)
class Graph:
    """Nodes in order, leaves first; the last one is the output."""

    nodes: tuple

    @property
    def leaves(self):
        return [k for k, n in enumerate(self.nodes) if n.op == "leaf"]

    def expression(self, at=None):
        """The graph as an expression: leaves are ``X0, X1, ...``; a node used twice is written twice."""
        text, _ = self._text(len(self.nodes) - 1 if at is None else at)
        return text

    def _text(self, k):
        node = self.nodes[k]
        if node.op == "leaf":
            return f"X{self.leaves.index(k)}", 3
        parts = [self._text(a) for a in node.args]
        symbol = _OPERATORS.get(node.op)
        if symbol and len(parts) == 2:
            level = _PRECEDENCE[symbol]
            left = parts[0][0] if parts[0][1] >= level else f"({parts[0][0]})"
            right = parts[1][0] if parts[1][1] > level else f"({parts[1][0]})"
            return f"{left} {symbol} {right}", level
        return f"{node.op}({', '.join(p for p, _ in parts)})", 3

    def uses(self):
        """How many consumers each node has (fan-out)."""
        count = [0] * len(self.nodes)
        for n in self.nodes:
            for a in n.args:
                count[a] += 1
        return count


def graph_ops(supported=None):
    """The catalog's ops a graph may use: one output, one or two inputs, every one differentiable and drawn from all
    reals, and a derivative with no kink or tie in it (no bracket, max or piecewise of an input's
    value), so that any value a graph computes is a fair point; each at its default parameters."""
    out = []
    for op in ops():
        if op.pieces is not None or not 1 <= len(op.inputs) <= 2 or any(s.data or not s.differentiable or s.domain != "real"
                                                for s in op.inputs):
            continue
        if not _smooth(op) or (supported is not None and not supported(op)):
            continue
        out.append(op)
    return out


def _smooth(op):
    """Whether the op's derived gradients are smooth in its inputs' values (index brackets allowed)."""
    from ..symbolic.derivation import vjp
    from ..vocabulary.expressions import Bracket, MaxOver, MinOver
    names = {s.name for s in op.inputs}
    kinks = (Bracket, MaxOver, MinOver, sp.Piecewise, sp.Heaviside, sp.sign, sp.Abs, sp.Max, sp.Min)
    for grad in vjp(op):
        for e in grad.index_formula.atoms(*kinks):
            if any(str(r.base) in names for r in e.atoms(sp.Indexed)):
                return False
    return True


def _output_shape(op, shapes):
    """The op's output shape at its default parameters, or None where the shapes do not fit the
    forward or the declaration (``reshape`` needs its ``shape``; ``squeeze`` a size-1 axis)."""
    try:
        with np.errstate(all="ignore"):
            out = op.forward(*[np.full(s, 0.5) for s in shapes], **op.with_defaults({}))
        derivation_for(op, Case(tuple(shapes), {}))
    except Exception:  # noqa: BLE001  shapes the op does not take
        return None
    return tuple(np.shape(out))


@hst.composite
def graphs(draw, candidates, max_leaves=3, max_ops=6):
    """Expression graphs over ``candidates`` (ops): fan-out, diamonds, shared leaves, chains, broadcasting."""
    base = draw(hst.lists(hst.integers(1, 3), min_size=1, max_size=2))
    nodes = []
    for _ in range(draw(hst.integers(1, max_leaves))):
        shape = [n if draw(hst.integers(0, 3)) else 1 for n in base]  # size-1 axes broadcast between branches
        shape = shape[draw(hst.integers(0, len(shape) - 1)):] if draw(hst.integers(0, 4)) == 0 else shape
        nodes.append(Node("leaf", (), tuple(shape)))
    n_ops = draw(hst.integers(1, max_ops))
    for _ in range(n_ops * 3):  # some draws do not fit; a few more tries
        if sum(n.op != "leaf" for n in nodes) >= n_ops:
            break
        op = draw(hst.sampled_from(candidates))
        # recent nodes first (chains); any earlier one may be taken again (fan-out, diamonds)
        args = tuple(len(nodes) - 1 - draw(hst.integers(0, len(nodes) - 1)) for _ in op.inputs)
        if len(args) == 2 and draw(hst.integers(0, 2)) == 0:
            args = (args[0], args[0])  # one tensor, two uses: x * x, x + x
        elif len(args) == 2 and draw(hst.integers(0, 2)) == 0:
            # a fresh leaf that broadcasts against the other operand: its gradient must be summed back
            full = nodes[args[0]].shape
            small = tuple(1 if draw(hst.booleans()) else n for n in full)[draw(hst.integers(0, len(full))):]
            nodes.append(Node("leaf", (), small))
            args = (args[0], len(nodes) - 1) if draw(hst.booleans()) else (len(nodes) - 1, args[0])
        shape = _output_shape(op, [nodes[a].shape for a in args])
        if shape is not None:
            nodes.append(Node(op.name, args, shape))
    if all(n.op == "leaf" for n in nodes):
        op = get_op("multiply")
        nodes.append(Node(op.name, (0, 0), nodes[0].shape))
    return _reached(Graph(tuple(nodes)))


def _reached(graph):
    """The graph without the nodes the output does not depend on."""
    keep, stack = set(), [len(graph.nodes) - 1]
    while stack:
        k = stack.pop()
        if k not in keep:
            keep.add(k)
            stack.extend(graph.nodes[k].args)
    order = sorted(keep)
    new = {old: i for i, old in enumerate(order)}
    return Graph(tuple(Node(graph.nodes[k].op, tuple(new[a] for a in graph.nodes[k].args), graph.nodes[k].shape)
                       for k in order))


def forward_values(graph, leaf_values):
    """Every node's value by the catalog's NumPy forwards."""
    values, leaves = [], iter(leaf_values)
    for node in graph.nodes:
        if node.op == "leaf":
            values.append(np.asarray(next(leaves)))
        else:
            op = get_op(node.op)
            values.append(np.asarray(op.forward(*[values[a] for a in node.args], **op.with_defaults({}))))
    return values


def expected_leaf_gradients(graph, leaf_values, G):
    """The gradient of every leaf, composed from the per-op derivations in reverse order.

    Each node's gradient is the sum of what its consumers send it (the chain rule through
    the intermediate tensors); each op's contribution is its derived VJP.
    """
    _, grads = _expected_everywhere(graph, leaf_values, G)
    return [grads[k] for k in graph.leaves]


def _expected_everywhere(graph, leaf_values, G):
    """Every node's value and expected gradient."""
    values = forward_values(graph, leaf_values)
    grads = [np.zeros(np.shape(v)) for v in values]
    grads[-1] = np.asarray(G, dtype=float)
    for k in range(len(graph.nodes) - 1, -1, -1):
        node = graph.nodes[k]
        if node.op == "leaf":
            continue
        op = get_op(node.op)
        case = Case(tuple(graph.nodes[a].shape for a in node.args), {})
        derivation, _ = derivation_for(op, case)
        sent = expected_gradients(op, case, [values[a] for a in node.args], grads[k], derivation)
        for spec, a in zip(op.inputs, node.args):
            grads[a] = grads[a] + np.asarray(sent[spec.name], dtype=float)
    return values, grads


def _wrong_alone(target, graph, leaf_values, G):
    """The first op node of a failing graph that is already wrong on its own (its inputs as fresh
    leaves, its expected upstream gradient as G), as a one-node graph; None if every node is right
    alone, so that the failure is the engine's."""
    with np.errstate(all="ignore"):
        values, grads = _expected_everywhere(graph, leaf_values, G)
    for k, node in enumerate(graph.nodes):
        if node.op != "leaf":
            alone = _alone(target, node.op, [graph.nodes[a].shape for a in node.args], node.shape,
                           [values[a] for a in node.args], grads[k])
            if alone is not None:
                return alone
    return None


def _alone(target, name, shapes, out, inputs, G):
    """The one-node graph of op ``name`` on fresh leaves if the target is wrong on it by itself, else None
    (a forward that raises is the one-op check's to judge)."""
    graph = Graph(tuple(Node("leaf", (), s) for s in shapes) + (Node(name, tuple(range(len(shapes))), out),))
    with np.errstate(all="ignore"):
        want = expected_leaf_gradients(graph, inputs, G)
    try:
        first = target.run_graph(graph, inputs, G)[0]
    except (Unsupported, ForwardError):
        return None
    except Exception:  # noqa: BLE001  its backward raises by itself
        return graph
    return graph if _compare(graph, first, want, "alone") is not None else None


def _finite_differences_agree(graph, leaf_values, G, want, h=1e-6):
    """Central differences of ``sum(G * Z)`` through the NumPy forwards agree with ``want``: an
    independent guard on the composed derivation, and on the point being a smooth one."""
    def loss(values):
        with np.errstate(all="ignore"):
            return float(np.sum(np.asarray(G) * forward_values(graph, values)[-1]))
    for i, x in enumerate(leaf_values):
        for idx in np.ndindex(*np.shape(x)):
            step = h * max(1.0, abs(float(x[idx])))
            up = [np.array(v, dtype=float, copy=True) for v in leaf_values]
            down = [np.array(v, dtype=float, copy=True) for v in leaf_values]
            up[i][idx] += step
            down[i][idx] -= step
            fd = (loss(up) - loss(down)) / (2 * step)
            scale = max(1.0, float(np.max(np.abs(want[i]))) if want[i].size else 1.0)
            if not np.isfinite(fd) or abs(fd - want[i][idx]) > 1e-4 * abs(want[i][idx]) + 1e-5 * scale:
                return False
    return True


@dataclass
class GraphFailure:
    graph: Graph
    message: str
    leaf_shapes: tuple = ()

    def __str__(self):
        return f"{self.graph.expression()}  [{', '.join(f'X{i}{s}' for i, s in enumerate(self.leaf_shapes))}]\n" \
               f"  {self.message}"


@dataclass
class GraphReport:
    """The outcome of :func:`check_graphs`: graphs run, the first (shrunk) failure, notes."""

    target: str
    examples: int = 0
    failure: GraphFailure = None
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    ops: tuple = ()

    @property
    def status(self):
        if self.failure is not None:
            return Status.FAIL
        return Status.PASS if self.examples > 0 else Status.ERROR

    def __bool__(self):
        return self.status == Status.PASS

    def __str__(self):
        head = self.status.label
        lines = [f"{head} graphs: {self.examples} generated graph(s) over {len(self.ops)} op(s) "
                 f"in {self.seconds:.1f}s (target {self.target})"]
        if self.failure is not None:
            lines.append(str(self.failure))
        elif self.examples == 0 and not self.notes:
            lines.append("  no graph was run: the target has none of the graph ops")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _compare(graph, got, want, what):
    """None, or what is wrong with the leaf gradients ``got`` (``what``: which call)."""
    for i, (g, w) in enumerate(zip(got, want)):
        if g is None:
            return f"{what}: leaf X{i} got no gradient (expected {_entry(w, np.unravel_index(0, w.shape))} ...)"
        try:
            g = np.asarray(g, dtype=float)
        except (TypeError, ValueError):
            return f"{what}: leaf X{i}'s gradient is not an array of numbers: {str(g)[:100]}"
        if g.shape != w.shape:
            return f"{what}: leaf X{i}'s gradient has shape {g.shape}, the leaf has shape {w.shape}"
        scale = max(1.0, float(np.max(np.abs(w))) if w.size else 1.0)
        bad = ~np.isclose(g, w, rtol=1e-7, atol=1e-9 * scale)
        if np.any(bad):
            idx = tuple(int(v) for v in np.argwhere(bad)[0])
            return (f"{what}: dl/dX{i}{list(idx)}: expected {_entry(w, idx)}, got {_entry(g, idx)}"
                    f"{_hint(g, w)}")
    return None


def _entry(a, idx):
    return f"{float(np.asarray(a)[idx]):.6g}"


def _hint(got, want):
    with np.errstate(all="ignore"):
        ratio = np.divide(got, want, out=np.full(np.shape(want), np.nan), where=np.abs(want) > 1e-12)
    finite = ratio[np.isfinite(ratio)]
    if finite.size and np.allclose(finite, finite[0], rtol=1e-6) and not np.isclose(finite[0], 1.0):
        return f" (every entry {finite[0]:.6g} times the expected)"
    return ""


def _repeated(second, want):
    """After a second ``backward()`` with no zeroing in between, the leaves hold the same gradient
    (the engine resets) or twice it (it accumulates, torch's way), the same way for every leaf.

    A leaf whose gradient is zero fits both ways and decides nothing.
    """
    fits = {1, 2}
    for i, (g, w) in enumerate(zip(second, want)):
        g = None if g is None else np.asarray(g, dtype=float)
        if g is None or g.shape != w.shape:
            return f"second backward() on the same graph: leaf X{i}'s gradient is {g if g is None else g.shape}"
        scale = max(1.0, float(np.max(np.abs(w))) if w.size else 1.0)
        mine = {r for r in (1, 2) if np.allclose(g, r * w, rtol=1e-7, atol=r * 1e-9 * scale)}
        if not mine:
            bad = ~(np.isclose(g, w, rtol=1e-7, atol=1e-9 * scale) | np.isclose(g, 2 * w, rtol=1e-7, atol=2e-9 * scale))
            idx = tuple(int(v) for v in np.argwhere(bad)[0]) if np.any(bad) else (0,) * w.ndim
            return (f"second backward() on the same graph, no zeroing in between: dl/dX{i}{list(idx)} is "
                    f"{_entry(g, idx)}, neither the first pass's {_entry(w, idx)} (reset) nor twice it "
                    f"(accumulated): stale gradients of intermediate tensors?")
        fits &= mine
        if not fits:
            return (f"second backward() on the same graph: leaf X{i} was {'reset' if mine == {1} else 'accumulated'}, "
                    f"an earlier leaf the other way")
    return None


def _fails_alone(target, op):
    """The one-node graph of ``op`` on its canonical shapes if it already fails there (its graphs
    would say nothing about the engine that the one-op check does not), else None."""
    from ..targets.spelling import probe_case
    shapes = [tuple(s) for s in probe_case(op).shapes]
    out = _output_shape(op, shapes)
    if out is None:
        return None
    rng = np.random.default_rng(11)
    return _alone(target, op.name, shapes, out, [rng.uniform(-1.5, 1.5, size=s) for s in shapes],
                  rng.uniform(0.5, 1.5, size=out))


def check_graphs(target="numeric", examples=100, seed=None, max_ops=6, timeout=None, ops=None):
    """Check an engine's ``backward()`` on generated expression graphs.

    Parameters
    ----------
    target : str or Target
        A tensor-style target (an engine), as for :func:`derive.check`.
    examples : int
        How many graphs to draw.
    seed : int, optional
        Hypothesis seed (derandomized from it).
    max_ops : int
        The most op nodes in one graph.
    ops : iterable of str, optional
        Draw only from these ops (default: every op of the catalog the engine has and a graph can use).

    Returns
    -------
    GraphReport
    """
    from ..isolation import load_target
    start = time.perf_counter()
    loaded = load_target(target, timeout=timeout) if isinstance(target, str) else target
    report = GraphReport(target=str(getattr(loaded, "describe", lambda: loaded.name)()))
    if getattr(loaded, "style", None) not in ("tensor", "reference", "functional") \
            or not callable(getattr(loaded, "run_graph", None)):
        report.notes.append(f"{loaded.name} is not a graph engine (style {loaded.style}): graphs need an engine "
                            "(a tensor-style or functional target)")
        report.seconds = time.perf_counter() - start
        return report
    candidates = graph_ops(lambda op: loaded.supports(op)[0] and (ops is None or op.name in ops))
    wrong_alone = {}  # op name -> one-node graphs on which it is wrong by itself
    for op in candidates:
        graph = _fails_alone(loaded, op)
        if graph is not None:
            wrong_alone[op.name] = [graph]
    if wrong_alone:
        report.notes.append(f"left out of the graphs: {', '.join(wrong_alone)}, wrong on a graph of that op alone")
        candidates = [op for op in candidates if op.name not in wrong_alone]
    report.ops = tuple(op.name for op in candidates)
    if not candidates:
        report.seconds = time.perf_counter() - start
        return report
    seen = {"second": False, "zeroed": False}
    discarded = {}

    @settings(max_examples=examples, database=None, deadline=None, derandomize=seed is None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink],
              report_multiple_bugs=False)
    @given(graph=graphs(candidates, max_ops=max_ops), data_seed=hst.integers(0, 2**31 - 1))
    def run(graph, data_seed):
        rng = np.random.default_rng(data_seed)
        leaf_values = [rng.uniform(-1.5, 1.5, size=graph.nodes[k].shape) for k in graph.leaves]
        G = rng.uniform(0.5, 1.5, size=graph.nodes[-1].shape) * rng.choice([-1, 1], size=graph.nodes[-1].shape)
        with np.errstate(all="ignore"):
            want = expected_leaf_gradients(graph, leaf_values, G)
            values = forward_values(graph, leaf_values)
        # a point where the graph overflows, or is not differentiable, is not a fair point
        assume(all(np.all(np.isfinite(v)) and np.max(np.abs(v), initial=0) < 1e6 for v in values + want))
        if not _finite_differences_agree(graph, leaf_values, G, want):
            reason = "finite differences disagree with the composed derivation there: not a smooth point"
            discarded[reason] = discarded.get(reason, 0) + 1
            assume(False)
        report.examples += 1
        try:
            first, second, zeroed = loaded.run_graph(graph, leaf_values, G)
        except (Unsupported, ForwardError) as exc:  # a forward is the one-op check's to judge, not the engine's
            reason = str(exc.exc) if isinstance(exc, ForwardError) else str(exc)
            reason = f"a forward raised ({reason[:160]}); the one-op checks judge forwards"
            discarded[reason] = discarded.get(reason, 0) + 1
            report.examples -= 1
            assume(False)
        except Exception as exc:  # noqa: BLE001  the engine raised in backward(): a failure of this graph
            problem = f"the engine raised {type(exc).__name__}: {str(exc)[:300]}"
        else:
            problem = _compare(graph, first, want, "backward()")
            if problem is None and second is not None:
                seen["second"] = True
                problem = _repeated(second, want)
            if problem is None and zeroed is not None:
                seen["zeroed"] = True
                problem = _compare(graph, zeroed, want, "zero_grad() after two backward() calls, then backward()")
        if problem is not None and not problem.startswith(("second", "zero_grad")):
            alone = _wrong_alone(loaded, graph, leaf_values, G)
            if alone is not None:  # an op's own bug: reported below, not as the engine's
                wrong_alone.setdefault(alone.nodes[-1].op, []).append(alone)
                report.examples -= 1
                assume(False)
        if problem is not None:
            report.failure = GraphFailure(graph, problem, tuple(graph.nodes[k].shape for k in graph.leaves))
            raise AssertionError(problem)

    if seed is not None:
        run = hypothesis_seed(seed)(run)
    try:
        run()
    except AssertionError:
        pass  # the last failure recorded is the shrunk one (Hypothesis replays it last)
    if report.failure is None and wrong_alone:
        # nothing wrong in how the engine composes; but an op is wrong by itself: never a pass
        smallest = min((g for found in wrong_alone.values() for g in found),
                       key=lambda g: sum(int(np.prod(n.shape)) for n in g.nodes))
        names = ", ".join(wrong_alone)
        report.failure = GraphFailure(smallest, f"{names} {'is' if len(wrong_alone) == 1 else 'are'} wrong on "
                                      f"{'its' if len(wrong_alone) == 1 else 'their'} own (the one-op check says "
                                      f"how: python -m derive.check {' '.join(wrong_alone)}); no graph showed a "
                                      "mistake in how the engine puts ops together",
                                      tuple(n.shape for n in smallest.nodes if n.op == "leaf"))
    elif wrong_alone:
        report.notes.append(f"graphs on which {', '.join(wrong_alone)} {'is' if len(wrong_alone) == 1 else 'are'} "
                            "wrong on its own were left out; the one-op check says how")
    for reason, count in discarded.items():
        report.notes.append(f"{count} graph(s) left out: {reason}")
    if report.failure is None and report.examples and not seen["second"]:
        report.notes.append("no second backward() on the same graph (the engine frees its graph, or keeps no "
                            "state between calls); stale gradients between calls were not checked")
    elif report.failure is None and report.examples and not seen["zeroed"]:
        report.notes.append("no zero_grad() on the output tensor or the leaves: zeroing between calls was not checked")
    report.seconds = time.perf_counter() - start
    return report
