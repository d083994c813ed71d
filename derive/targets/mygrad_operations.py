"""MyGrad ``Operation`` subclasses, run the way MyGrad runs them: ``mygrad.execute_op(Op, *tensors,
op_kwargs=params)``, then ``out.backward(G)``, so that the author's ``__call__`` and
``backward_var(grad, index)`` are reached through MyGrad's own graph.  A class is named after
its op (``Silu`` or ``SiLU`` for silu); the op's parameters go to ``__call__`` by name."""

from __future__ import annotations

import inspect

import numpy as np

from .base import ForwardError, Outcome, Target, Unsupported, after_forward, fit_params, missing_because
from .function_class import _norm, class_for

__all__ = ["is_mygrad_operation", "mygrad_operations", "MyGradOperationTarget"]


def is_mygrad_operation(obj):
    """Whether ``obj`` is a subclass of ``mygrad.operation_base.Operation`` (told without importing mygrad)."""
    return inspect.isclass(obj) and any(base.__name__ == "Operation" and base.__module__.split(".")[0] == "mygrad"
                                        for base in obj.__mro__[1:])


def mygrad_operations(namespace):
    """The Operation subclasses ``namespace`` defines, by normalised name (MyGrad's own are not the author's)."""
    return {_norm(name): obj for name, obj in vars(namespace).items()
            if is_mygrad_operation(obj) and obj.__module__.split(".")[0] != "mygrad"}


class MyGradOperationTarget(Target):
    """The Operation classes of a module, each named after a catalog op."""

    style = "function-class"
    exact_capable = False  # MyGrad's tensors hold floats
    seeding = "mygrad.execute_op(Op, *tensors), then out.backward(G)"

    def __init__(self, namespace, name, operations=None):
        import mygrad
        self.mygrad, self.namespace, self.name = mygrad, namespace, name
        self.operations = mygrad_operations(namespace) if operations is None else operations

    def supports(self, op):
        if class_for(self.operations, op) is None:
            return False, f"no Operation for `{op.name}` in {self.name}{missing_because(self.namespace)}"
        return True, ""

    def run(self, op, case, inputs, G):
        mg = self.mygrad
        cls = class_for(self.operations, op)
        if cls is None:
            raise Unsupported(f"no Operation for `{op.name}` in {self.name}")
        if op.pieces is not None:
            raise Unsupported(f"{cls.__name__}: an op with several outputs is not checked through execute_op")
        params = op.with_defaults(case.params)
        kwargs = fit_params(cls.__call__, params, op.params, cls.__name__, per_axis=op.per_axis) if params else {}
        tensors = [np.asarray(a) if spec.data else mg.tensor(np.asarray(a), constant=not spec.differentiable)
                   for spec, a in zip(op.inputs, inputs)]
        try:
            out = mg.execute_op(cls, *tensors, op_kwargs=kwargs)
            output = np.asarray(out.data)
        except Exception as exc:  # noqa: BLE001  the author's __call__
            raise ForwardError(exc) from exc
        with after_forward(output):
            out.backward(np.asarray(G))
        grads = tuple(None if not spec.differentiable else
                      (None if t.grad is None else np.asarray(t.grad))
                      for spec, t in zip(op.inputs, tensors))
        return Outcome(output, grads)
