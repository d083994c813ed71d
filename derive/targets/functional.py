"""Function transforms (HIPS autograd, JAX): ``vjp(f, *inputs) -> (output, vjp_fn)``.

The op is spelled with the library's NumPy (``autograd.numpy``, ``jax.numpy``).
The forward is first evaluated plainly, outside any trace, so an error raised
while the library builds its VJPs is never mistaken for a forward error.
"""

from __future__ import annotations

import numpy as np

from .base import ForwardError, Outcome, after_forward, each_piece, output_value
from .spelling import ProbedTarget, call_forward


def _as_output(seed, traced):
    """G in the traced output's own shape and dtype, as JAX's vjp insists: a scalar op's output
    of shape (1,), which the forward's check accepts, gets G of shape (1,); a float64 output of
    a float32 run (a constant made in float64) gets G in float64."""
    shape, dtype = getattr(traced, "shape", None), getattr(traced, "dtype", None)
    if shape is None or not hasattr(seed, "reshape"):
        return seed
    if tuple(seed.shape) != tuple(shape) and int(np.prod(shape, dtype=np.int64)) == int(np.size(seed)):
        seed = seed.reshape(shape)
    if dtype is not None and getattr(seed, "dtype", dtype) != dtype and hasattr(seed, "astype"):
        seed = seed.astype(dtype)
    return seed


class FunctionalTarget(ProbedTarget):
    """A VJP transform over a NumPy-like namespace.

    Parameters
    ----------
    name : str
    api : module
        The namespace the ops are spelled in.
    vjp : callable
        ``vjp(fn, inputs) -> (output, vjp_fn)`` with ``vjp_fn(G) -> tuple of gradients``.
    spellings : dict
        Op name -> ``spell(api, *arrays, **params)`` (None: not there).
    to_input : callable
        ``ndarray -> the library's array`` (``jnp.asarray``...).
    """

    style = "functional"

    def __init__(self, name, api, vjp, spellings=None, to_input=None, unwrap=np.asarray, exact_capable=True):
        self.name, self.api, self.vjp = name, api, vjp
        self.spellings = dict(spellings or {})
        self.to_input = to_input or (lambda a: a)
        self.unwrap = unwrap
        self.exact_capable = exact_capable
        self.seeding = "vjp(f, *inputs), then vjp_fn(G)"

    def _function(self, op, case, inputs):
        params = op.with_defaults(case.params)
        spell, api = self.spelling(op), self.api
        diff = [k for k, spec in enumerate(op.inputs) if spec.differentiable]
        fixed = [self.to_input(a) if not spec.data else a for spec, a in zip(op.inputs, inputs)]

        def fn(*xs):
            args = list(fixed)
            for k, x in zip(diff, xs):
                args[k] = x
            return call_forward(op, spell, api, args, params)

        return fn, [fixed[k] for k in diff], diff

    def forward(self, op, case, inputs):
        """The forward evaluated plainly, outside any trace."""
        fn, xs, _ = self._function(op, case, inputs)
        out = fn(*xs)
        try:
            return output_value(op, out, self.unwrap)
        except Exception as exc:  # noqa: BLE001
            raise ForwardError(exc) from exc

    def run(self, op, case, inputs, G):
        output = self.forward(op, case, inputs)
        fn, xs, diff = self._function(op, case, inputs)
        with after_forward(output):
            try:
                traced, vjp_fn = self.vjp(fn, xs)
            except ForwardError as exc:
                # the plain forward ran: what raised under the trace is the library building its VJP
                raise exc.exc from None
            seed = each_piece(lambda g: self.to_input(g) if np.asarray(g).dtype != object else g, G)
            if isinstance(seed, list) and isinstance(traced, tuple):
                seed = tuple(seed)  # JAX wants G in the output's own container (unstack's tuple)
            elif not isinstance(seed, list):
                seed = _as_output(seed, traced)
            grads = vjp_fn(seed)
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        out = [None] * len(op.inputs)
        for k, g in zip(diff, grads):
            out[k] = None if g is None else self.unwrap(g)
        return Outcome(output, tuple(out))

    def run_graph(self, graph, leaf_values, G):
        """A generated graph as one function of its leaves, through the transform: the leaves'
        gradients, and None for a second pass and a zeroed one (a function transform keeps no state
        between calls)."""
        from ..catalog.registry import get_op

        def fn(*xs):
            values, it = [], iter(xs)
            for node in graph.nodes:
                if node.op == "leaf":
                    values.append(next(it))
                    continue
                op = get_op(node.op)
                values.append(call_forward(op, self.spelling(op), self.api, [values[a] for a in node.args],
                                           op.with_defaults({})))
            return values[-1]

        xs = [self.to_input(np.asarray(v, dtype=float)) for v in leaf_values]
        fn(*xs)  # the plain forward first: what raises here is a forward's error
        try:
            _, vjp_fn = self.vjp(fn, xs)
        except ForwardError as exc:
            raise exc.exc from None
        grads = vjp_fn(self.to_input(np.asarray(G, dtype=float)))
        grads = list(grads) if isinstance(grads, (tuple, list)) else [grads]
        return [None if g is None else np.asarray(self.unwrap(g), dtype=float) for g in grads], None, None
