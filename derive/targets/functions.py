"""Backward functions: an attribute per op, ``matmul(grad, x, y) -> (grad_x, grad_y)``.

They have no forward, so there is no forward to compare; parameters come as
keywords with NumPy's names unless a binding renames them.
"""

from __future__ import annotations

import inspect

from .base import Outcome, ProtocolError, Target, Missing, fit_params, missing_because, to_array

#: first-parameter names that mark a function as a backward (VJP) function
GRAD_FIRST = {"grad", "g", "grad_output", "grad_out", "out_grad", "dout", "upstream", "gy", "dy", "dz",
              "delta", "dl", "dl_dz", "grad_z", "gz", "gradient", "grads", "dldz", "output_grad", "G"}


def lookup(namespace, op, predicate=callable):
    """The attribute of ``namespace`` named after ``op`` (or an alias)."""
    for name in (op.name, *op.aliases):
        obj = getattr(namespace, name, None)
        if obj is not None and predicate(obj):
            return obj
    return None


def first_parameter(fn):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return None
    return params[0].name if params else None


def takes_grad_first(fn):
    """Whether ``fn``'s first parameter is named like an upstream gradient."""
    first = first_parameter(fn)
    return first is not None and (first in GRAD_FIRST or first.lower() in GRAD_FIRST)


def as_tuple(result, op):
    """A backward's answer as one entry per input."""
    if isinstance(result, tuple) or (isinstance(result, list) and len(op.differentiable) > 1):
        return tuple(to_array(g) if g is not None else None for g in result)
    if len(op.differentiable) == 1:
        return tuple((None if result is None else to_array(result)) if spec.differentiable else None
                     for spec in op.inputs)
    raise ProtocolError(f"returned a single gradient where a tuple of {len(op.inputs)} was expected "
                        f"({', '.join('dl/d' + n for n in op.input_names)})")


class FunctionsTarget(Target):
    """Backward functions looked up by op name (or alias) on ``namespace``."""

    style = "functions"

    def __init__(self, namespace, name, params=None):
        self.namespace, self.name = namespace, name
        self.renames = dict(params or {})

    #: op name -> the backward function a binding names for it (None: the library has none)
    overrides = {}

    def function_for(self, op):
        return self.overrides[op.name] if op.name in self.overrides else lookup(self.namespace, op)

    def supports(self, op):
        if self.function_for(op) is None:
            return False, f"no `{op.name}` in {self.name}{missing_because(self.namespace)}"
        return True, ""

    def run(self, op, case, inputs, G):
        fn = self.function_for(op)
        if fn is None:
            raise Missing(f"no `{op.name}` in {self.name}")
        params = {self.renames.get(k, k): v for k, v in op.with_defaults(case.params).items()}
        defaults = {self.renames.get(k, k): v for k, v in op.params.items()}
        params = fit_params(fn, params, defaults, f"{self.name}: {getattr(fn, '__name__', op.name)}",
                            per_axis=tuple(self.renames.get(k, k) for k in op.per_axis))
        return Outcome(None, as_tuple(fn(G, *inputs, **params), op))
