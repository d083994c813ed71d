"""Graph engines: a Tensor (or Variable) class whose ops build a graph and whose output has ``backward()``.

The ops are reached through spellings (operators, methods, module functions,
Function-class calls).  How the upstream gradient G reaches the engine is
settled once, at load time, by :func:`discover_seeding`: each way that the
signature of ``backward`` allows is tried on small ops, and the first whose
gradients scale with G is kept.  Ones are never seeded in G's place.
"""

from __future__ import annotations

import inspect

import numpy as np

from .base import (CONSTANT, ForwardError, Outcome, ProtocolError, TargetError, Unsupported, after_forward,
                   output_value, same_values, to_array)
from ..catalog.spelling import PASSED_OVER, SPELLED
from .spelling import ProbedTarget, call_forward, looks_linear, probe_inputs

#: at most this many spellings of one op besides the first are checked (torch's add, Tensor.add, torch.add)
MAX_SPELLINGS = 3
#: where engines keep a leaf's gradient, in the order they are looked for
GRAD_ATTRIBUTES = ("grad", "backwards_grad", "gradient", "_grad", "derivative")  # MiniTorch's Scalar: derivative
#: names of backward() parameters that are flags, never the upstream gradient
FLAG_PARAMETERS = {"retain_graph", "create_graph", "retain_grad", "reset_grad", "zero_grad", "inputs",
                   "accumulate", "keep_graph", "clear_graph", "enable_higher_order", "higher_order"}
#: names of backward() parameters that are the upstream gradient
GRADIENT_PARAMETERS = {"grad", "gradient", "grad_output", "grad_out", "out_grad", "upstream", "seed", "g",
                       "dy", "gy", "dout", "grad_tensor", "gradients", "grad_tensors", "output_grad", "initial"}


class Seeding:
    """One way to start an engine's backward pass from G."""

    def __init__(self, description, fn):
        self.description, self.fn = description, fn

    def __call__(self, target, out, G):
        return self.fn(target, out, G)

    def __repr__(self):
        return f"<Seeding {self.description}>"


def _steps(target, out, G):
    order = out._get_graph(zero_grad=True)
    out.backwards_grad = G
    for node in reversed(order):
        node._backward_step()


def _scalar(target, out, G):
    from ..catalog.registry import get_op
    weighted = call_forward(get_op("multiply"), target.spelling("multiply"), target.api,
                            [out, target.constant(G)], {})
    loss = call_forward(get_op("sum"), target.spelling("sum"), target.api, [weighted], {"axis": None})
    loss.backward()


ARGUMENT = Seeding("backward(G)", lambda t, o, G: o.backward(G))
ARGUMENT_TENSOR = Seeding("backward(Tensor(G))", lambda t, o, G: o.backward(t.constant(G)))
STEPS = Seeding("its own _get_graph/_backward_step from G (backward() seeds ones)", _steps)
SCALAR = Seeding("a scalar sum(Z * G) through the target's own multiply and sum, then backward() "
                 "(the route was verified first)", _scalar)


def keyword(name, wrap=False):
    """``backward(name=G)`` (or ``name=Tensor(G)``)."""
    if wrap:
        return Seeding(f"backward({name}=Tensor(G))", lambda t, o, G: o.backward(**{name: t.constant(G)}))
    return Seeding(f"backward({name}=G)", lambda t, o, G: o.backward(**{name: G}))


def assign(attr, wrap=False):
    """``out.attr = G`` (or ``Tensor(G)``), then ``backward()``."""
    def seed(target, out, G):
        setattr(out, attr, target.constant(G) if wrap else G)
        out.backward()
    return Seeding(f"out.{attr} = {'Tensor(G)' if wrap else 'G'}, then backward()", seed)


def seeding_candidates(tensor_type):
    """The ways to seed G that ``tensor_type.backward``'s signature allows, most direct first."""
    try:
        params = list(inspect.signature(tensor_type.backward).parameters.values())[1:]  # without self
    except (TypeError, ValueError):
        params = None
    out = []
    named = [p for p in params or () if p.name.lower() in GRADIENT_PARAMETERS]
    positional = [p for p in params or () if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if params is None or any(p.kind == p.VAR_POSITIONAL for p in params):
        out += [ARGUMENT, ARGUMENT_TENSOR]
    elif named:
        out += [keyword(named[0].name), keyword(named[0].name, wrap=True)]
    elif positional and positional[0].name.lower() not in FLAG_PARAMETERS:
        out += [ARGUMENT, ARGUMENT_TENSOR]
    attributes = _instance_attributes(tensor_type)
    for attr in GRAD_ATTRIBUTES:
        if attr in attributes:
            out += [assign(attr), assign(attr, wrap=True)]
    if callable(getattr(tensor_type, "_get_graph", None)) and callable(getattr(tensor_type, "_backward_step", None)):
        out.append(STEPS)
    out.append(SCALAR)
    return out


def _instance_attributes(tensor_type):
    names = set(dir(tensor_type))
    for base in getattr(tensor_type, "__mro__", (tensor_type,))[:-1]:  # a subclass inherits its parent's
        names |= set(vars(base).get("__annotations__", {}))  # needle's ``grad: "Tensor"`` is one only
        try:
            src = inspect.getsource(base)
        except (OSError, TypeError):
            continue
        names |= {a for a in GRAD_ATTRIBUTES if f".{a}" in src}
    return names


class EngineTarget(ProbedTarget):
    """A graph engine reached through spellings of the catalog's ops.

    Parameters
    ----------
    name : str
        Shown in reports.
    api : object
        The namespace spellings look functions up in (the library's module).
    leaf, constant : callable
        ``array -> tensor``: a leaf that collects a gradient, and a constant.
    spellings : dict
        Op name -> ``spell(api, *tensors, **params)`` (None: the op is not there);
        ops not named use the catalog's ``Op.call``.
    seeding : Seeding, optional
        How G reaches ``backward``; discovered when not given.
    grad : str or callable, optional
        Where a leaf's gradient is read (an attribute name or ``tensor -> array``).
    """

    style = "tensor"

    def __init__(self, name, api, leaf, constant=None, spellings=None, seeding=None, grad=None,
                 unwrap=to_array, tensor_type=None):
        self.name, self.api = name, api
        self.leaf, self._constant = leaf, constant
        self.spellings = dict(spellings or {})
        self.unwrap = unwrap
        self.tensor_type = tensor_type
        self.grad = grad
        self._seeding = seeding
        self._spelled = {}  # op name -> the spelling its last forward went through, for the report
        self._others = {}  # op name -> {label of another spelling: the labels passed over to reach it}
        self._label = None  # the label of the last forward's spelling (None: the catalog's expression)

    #: how its ops are reached, when that is not plain (said in the report's target line)
    via = ""
    #: ``contract(op, case) -> reason or None``: a case outside what the library promises
    #: (needle's elementwise ops on unequal shapes) is skipped with the reason, never run
    contract = None

    def describe(self):
        return super().describe()[:-1] + (f"; {self.via})" if self.via else ")")

    # -- how ---------------------------------------------------------------------------------------
    def constant(self, array):
        return (self._constant or self.leaf)(np.asarray(array))

    @property
    def seeding(self):
        if isinstance(self._seeding, Seeding):
            return self._seeding.description
        return ""

    def read_grad(self, tensor):
        if callable(self.grad):
            value = self.grad(tensor)
        else:
            attrs = (self.grad,) if self.grad else GRAD_ATTRIBUTES
            value = None
            for attr in attrs:
                if hasattr(tensor, attr):
                    value = getattr(tensor, attr)
                    break
        return None if value is None else self.unwrap(value)

    # -- protocol ----------------------------------------------------------------------------------
    def settle(self):
        """Discover the seeding now unless it is known (a :class:`TargetError` when none fits).

        A scalar route given by a binding is verified like a discovered one.
        """
        if self._seeding is None:
            self._seeding = discover_seeding(self)
        elif self._seeding is SCALAR and not getattr(self, "_route_checked", False):
            ok, why = _scalar_route_works(self)
            if not ok:
                raise TargetError(f"{self.name}: the scalar seeding sum(Z * G) does not work: {why}")
            self._route_checked = True
        return self

    def forward(self, op, case, inputs, spelling=None, passed_over=None):
        """The op's forward on fresh leaves: ``(tensors, out)``.  ``spelling`` (a label of
        :meth:`other_spellings`) reaches it through another of the target's spellings; ``passed_over``
        (labels) through the first one not among them."""
        outside = self.contract(op, case) if self.contract is not None else None
        if outside:
            raise Unsupported(outside)
        params = op.with_defaults(case.params)
        tensors = [self.leaf(np.array(a, copy=True)) if not spec.data else a
                   for spec, a in zip(op.inputs, inputs)]
        if passed_over is None:
            passed_over = frozenset() if spelling is None else self._others[op.name][spelling]
        token, passing = SPELLED.set(None), PASSED_OVER.set(frozenset(passed_over))
        try:
            out = call_forward(op, self.spelling(op), self.api, tensors, params)
            how = SPELLED.get()
        finally:
            SPELLED.reset(token)
            PASSED_OVER.reset(passing)
        self._label = how
        self._spelled[op.name] = how or (f"its own spelling of {op.name}" if self.spellings.get(op.name) is not None
                                         else "the operators of " + op.doc.split(";")[0].split(" (")[0])
        return tensors, out

    def supports(self, op):
        found = super().supports(op)
        if found[0] and op.name not in self._others:
            self._others[op.name] = self._find_other_spellings(op)
        return found

    def other_spellings(self, op):
        """Labels of the target's other spellings of ``op`` (``method Tensor.add`` where the first is
        ``operator +``), each checked on every example besides the first; found by :meth:`supports`."""
        return tuple(self._others.get(op.name, ()))

    def _find_other_spellings(self, op):
        """Label -> the labels passed over to reach it: each spelling the target offers besides the
        first.  An operator is kept whatever it computes (``2 + X`` means ``X + 2``); one found by name
        when its forward gives the first one's output on the probe case (a function of the same name
        that computes something else is not a spelling of the op)."""
        if op.pieces is not None:
            return {}
        case, inputs = probe_inputs(op)
        try:
            first = output_value(op, self.forward(op, case, inputs)[1], self.unwrap)
        except Exception:  # noqa: BLE001  the first spelling's troubles are reported case by case
            return {}
        others, passed = {}, {self._label}
        while self._label is not None and len(others) < MAX_SPELLINGS:
            try:
                out = output_value(op, self.forward(op, case, inputs, passed_over=passed)[1], self.unwrap)
            except Exception:  # noqa: BLE001  no other spelling (or one that does not run here)
                break
            if self._label is None or self._label in passed:
                break
            if _agrees(first, out) or self._label.startswith("operator "):  # an operator's meaning is Python's
                others[self._label] = frozenset(passed)
            passed.add(self._label)
        return others

    def run(self, op, case, inputs, G, spelling=None):
        self.settle()
        tensors, out = self.forward(op, case, inputs, spelling)
        try:
            output = output_value(op, out, self.unwrap)
        except Exception as exc:  # noqa: BLE001
            raise ForwardError(exc) from exc
        if isinstance(G, list):
            return self._run_pieces(op, case, inputs, G, tensors, out, output)
        with after_forward(output):
            self._seeding(self, out, G)
        outcome = _outcome(op, output, self._read(op, tensors, inputs))
        outcome.notes.append(f"{op.name}: checked through {self._spelled.get(op.name)}")
        return outcome

    def _run_pieces(self, op, case, inputs, G, tensors, out, output):
        """A list of outputs (split's): one pass per piece, each on a fresh forward with only that piece
        seeded, the passes' gradients summed.  An engine that resets its gradients at every
        ``backward()`` and one that accumulates them both give the sum of the pieces' contributions,
        which is what one backward from a loss that uses every piece gives."""
        if not isinstance(out, (list, tuple)) or len(out) != len(G):
            # the forward is not the op's: that is reported, and these gradients are never read
            return Outcome(output, tuple(None if not spec.differentiable else CONSTANT for spec in op.inputs))
        total = None
        for m, g in enumerate(G):
            if m:
                tensors, out = self.forward(op, case, inputs)
            self._seeding(self, out[m], g)
            grads = self._read(op, tensors, inputs)
            total = grads if total is None else [_add(a, b) for a, b in zip(total, grads)]
        outcome = _outcome(op, output, total)
        outcome.notes.append(f"{op.name}'s pieces were seeded one per backward pass, each on a fresh forward, "
                             "and the passes' gradients summed")
        return outcome

    def _read(self, op, tensors, inputs):
        """The inputs' gradients after a backward pass (CONSTANT where the engine left none)."""
        grads = []
        for spec, t, a in zip(op.inputs, tensors, inputs):
            if spec.data:
                grads.append(None)
                continue
            if not same_values(self.unwrap(t), a):
                raise ProtocolError(f"the backward modified the value of input {spec.name} in place")
            if not spec.differentiable:
                grads.append(None)
                continue
            g = self.read_grad(t)
            grads.append(CONSTANT if g is None else g)
        return grads

    def run_graph(self, graph, leaf_values, G):
        """The leaves' gradients after ``backward()`` from G at the graph's output; after a second
        ``backward()`` on the same graph with no zeroing in between (None where the engine refuses it);
        and after the engine's ``zero_grad()`` then a third (None where it has none: the output
        tensor's ``zero_grad()``, which zeroes its graph, else each leaf's).

        ``graph`` is a :class:`~derive.checker.graphs.Graph`: each node the catalog op of that name,
        spelled as in a one-op check, at its default parameters; a node used twice is the same tensor.
        """
        from ..catalog.registry import get_op
        self.settle()
        leaves = [self.leaf(np.array(v, copy=True)) for v in leaf_values]
        tensors, it = [], iter(leaves)
        for node in graph.nodes:
            if node.op == "leaf":
                tensors.append(next(it))
                continue
            op = get_op(node.op)
            tensors.append(call_forward(op, self.spelling(op), self.api, [tensors[a] for a in node.args],
                                        op.with_defaults({})))

        def backward():  # from a fresh copy of G each time (torch may keep the seed as a leaf's .grad)
            self._seeding(self, tensors[-1], np.array(G, copy=True))

        def grads():
            return [None if g is None else np.array(g, dtype=float, copy=True)
                    for g in (self.read_grad(t) for t in leaves)]

        backward()
        first = grads()
        try:
            backward()
        except Exception:  # noqa: BLE001  an engine that frees its graph (torch) refuses a second pass
            return first, None, None
        second = grads()
        if callable(getattr(tensors[-1], "zero_grad", None)):
            tensors[-1].zero_grad()
        elif all(callable(getattr(t, "zero_grad", None)) for t in leaves):
            for t in leaves:
                t.zero_grad()
        else:
            return first, second, None
        backward()
        return first, second, grads()


def _agrees(a, b):
    """Whether two forward outputs hold the same values (a spelling of the same op on the same inputs)."""
    try:
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=1e-6, atol=1e-9, equal_nan=True))
    except Exception:  # noqa: BLE001  not comparable: not the same op
        return False


def _add(a, b):
    """Two passes' gradients of one input summed (a pass that left it none adds nothing)."""
    if a is None or b is None:
        return None
    if a is CONSTANT or b is CONSTANT:
        return b if a is CONSTANT else a
    return np.asarray(a) + np.asarray(b)


def _outcome(op, output, grads):
    if all(g is CONSTANT for g in grads if g is not None):
        raise ProtocolError("no gradient reached any input (every leaf's gradient is None after backward)")
    notes = [f"the target treats {spec.name} as a constant (it gets no gradient)"
             for spec, g in zip(op.inputs, grads) if g is CONSTANT]
    return Outcome(output, tuple(grads), notes)


def discover_seeding(target, probe_ops=("add", "multiply", "exp", "tanh", "negative", "sum", "matmul")):
    """The first seeding whose gradients scale with G on every one of a few small ops (else the one
    that does on the most of them).

    A seeding that ignores G (and starts from ones) gives the same gradients
    for G and 2.5 G, so it is never taken.  One that works on ``add`` alone (whose backward passes
    G through untouched) but breaks the others (a raw array where the library's Tensor is wanted)
    loses to one that works on all.  The scalar route ``sum(Z * G)`` is taken only after checking
    that it gives exactly G as the gradient of Z.
    """
    from ..catalog.registry import get_op
    tried, best = [], (0, None)
    tensor_type = target.tensor_type or type(target.leaf(np.zeros(2)))
    for seeding in seeding_candidates(tensor_type):
        if seeding is SCALAR:
            ok, why = _scalar_route_works(target)
            if not ok:
                tried.append(f"{seeding.description.split(' (')[0]}: {why}")
                continue
        problems, works = [], 0
        for name in probe_ops:
            op = get_op(name)
            if not target.supports(op)[0]:
                continue
            ok, why = _linear_under(target, op, seeding)
            if ok:
                works += 1
            else:
                problems.append(f"{name}: {why}")
            if works + len(problems) >= 4 or len(problems) >= 3:
                break
        if works and not problems:
            return seeding
        if works > best[0]:
            best = (works, seeding)
        tried.append(f"{seeding.description}: " + ("; ".join(problems) or "no small op to try it on"))
    if best[1] is not None:
        return best[1]
    raise TargetError(f"cannot seed an upstream gradient G into {target.name}'s backward; tried "
                      + " | ".join(tried)
                      + ". A Binding(seed=...) can say how (see the README, 'Bindings')")


def _linear_under(target, op, seeding):
    case, inputs = probe_inputs(op, seed=1)
    G = None
    runs = []
    for factor in (1.0, 2.5):
        try:
            tensors, out = target.forward(op, case, inputs)
            if G is None:
                G = np.random.default_rng(7).uniform(0.5, 1.5, size=np.shape(target.unwrap(out)))
            seeding(target, out, factor * G)
            runs.append([target.read_grad(t) for spec, t in zip(op.inputs, tensors) if spec.differentiable])
        except Exception as exc:  # noqa: BLE001  this seeding does not work here
            return False, f"raised {type(exc).__name__}: {exc}"[:160]
    if looks_linear(runs[0], runs[1], 2.5):
        return True, ""
    return False, "the gradient did not scale with G (G ignored?)"


def _scalar_route_works(target):
    """Whether ``sum(X * G)`` through the target gives exactly G as X's gradient."""
    rng = np.random.default_rng(3)
    for shape in [(2, 3), (3,), ()]:
        G = rng.uniform(0.5, 1.5, size=shape)
        x = target.leaf(rng.uniform(-1, 1, size=shape))
        try:
            _scalar(target, x, G)
            got = target.read_grad(x)
        except Unsupported as exc:
            return False, f"the target lacks an op it needs ({exc})"
        except Exception as exc:  # noqa: BLE001
            return False, f"raised {type(exc).__name__}: {exc}"[:160]
        if got is None or np.shape(got) != shape or not np.allclose(got, G, rtol=1e-6):
            return False, f"sum(X * G) did not give G as X's gradient on shape {shape}"
    return True, ""
