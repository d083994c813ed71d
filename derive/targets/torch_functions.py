"""``torch.autograd.Function`` subclasses, run the way torch runs them.

A library author's Function is called through ``Fn.apply`` on torch tensors that require
grad (float64, or float32 with ``--dtype float32``), and its backward is reached by torch's
own autograd: ``torch.autograd.grad(Z, inputs, grad_outputs=G)``.  So everything torch does
around a custom rule happens as in the author's code: ``ctx.save_for_backward`` and
``saved_tensors``, ``needs_input_grad``, ``mark_non_differentiable``, ``once_differentiable``,
and the new style's ``setup_context``.  The checker never plays the engine here (compare
:mod:`.function_class`, for homework engines' Function classes on NumPy arrays).

Parameters the op has (``axis``, ``negative_slope``...) are passed by position where
``forward`` names them (torch's ``apply`` takes no keywords), their names matched as
:func:`~derive.catalog.spelling.fit_params` matches any call's.
"""

from __future__ import annotations

import inspect

import numpy as np

from ..catalog.spelling import params_by_position
from .base import ForwardError, Outcome, Target, Unsupported, after_forward, missing_because
from .function_class import class_for, function_classes

__all__ = ["is_torch_function", "torch_function_classes", "TorchFunctionTarget"]


def is_torch_function(obj):
    """Whether ``obj`` is a subclass of ``torch.autograd.Function`` (told without importing torch)."""
    if not inspect.isclass(obj):
        return False
    return any(base.__name__ == "Function" and base.__module__.startswith("torch.autograd")
               for base in obj.__mro__[1:])


def torch_function_classes(namespace):
    """The ``torch.autograd.Function`` subclasses of ``namespace``, by normalised name."""
    return {name: cls for name, cls in function_classes(namespace).items() if is_torch_function(cls)}


def _takes_ctx(cls):
    """Old style ``forward(ctx, *inputs)``; the new style (with ``setup_context``) has no ctx."""
    from torch.autograd import Function
    return getattr(cls, "setup_context", Function.setup_context) is Function.setup_context


class TorchFunctionTarget(Target):
    """The ``torch.autograd.Function`` classes of a module, each named after a catalog op."""

    style = "function-class"
    exact_capable = False  # torch tensors hold floats, not Python fractions
    seeding = "Fn.apply(*tensors), then torch.autograd.grad(Z, inputs, grad_outputs=G)"

    def __init__(self, namespace, name, classes=None):
        import torch
        self.torch, self.namespace, self.name = torch, namespace, name
        self.classes = torch_function_classes(namespace) if classes is None else classes

    def supports(self, op):
        if class_for(self.classes, op) is None:
            return False, f"no Function for `{op.name}` in {self.name}{missing_because(self.namespace)}"
        return True, ""

    def _tensors(self, op, inputs):
        torch = self.torch
        tensors = []
        for spec, a in zip(op.inputs, inputs):
            if spec.data:
                dtype = torch.bool if spec.domain == "mask" else torch.long
                tensors.append(torch.as_tensor(np.asarray(a), dtype=dtype))
            else:
                tensors.append(torch.tensor(np.asarray(a), requires_grad=spec.differentiable))
        return tensors

    def run(self, op, case, inputs, G):
        torch = self.torch
        cls = class_for(self.classes, op)
        if cls is None:
            raise Unsupported(f"no Function for `{op.name}` in {self.name}")
        tensors = self._tensors(op, inputs)
        extra = params_by_position(cls.forward, (1 if _takes_ctx(cls) else 0) + len(tensors),
                                   op.with_defaults(case.params), op, f"{cls.__name__}.forward")
        try:
            out = cls.apply(*tensors, *extra)
        except Exception as exc:  # noqa: BLE001  the author's forward (or torch refusing its answer)
            raise ForwardError(exc) from exc
        pieces = isinstance(G, list)
        outs = list(out) if pieces and isinstance(out, (tuple, list)) else [out]
        try:
            output = [o.detach().numpy() for o in outs] if pieces else outs[0].detach().numpy()
        except Exception as exc:  # noqa: BLE001  not a tensor
            raise ForwardError(TypeError(f"{cls.__name__}.apply returned {type(out).__name__}, not a tensor")) \
                from exc
        # G in each output's own shape: a scalar op's (1,) output, which the forward's check accepts
        seeds = [torch.as_tensor(np.asarray(g), dtype=o.dtype).reshape(o.shape) if np.size(g) == o.numel()
                 else torch.as_tensor(np.asarray(g), dtype=o.dtype) for o, g in zip(outs, G if pieces else [G])]
        wanted = [(k, t) for k, (spec, t) in enumerate(zip(op.inputs, tensors)) if spec.differentiable]
        live = [(o, s) for o, s in zip(outs, seeds) if o.requires_grad]  # mark_non_differentiable's are not
        grads = [None] * len(op.inputs)
        if live:
            with after_forward(output):
                found = torch.autograd.grad([o for o, _ in live], [t for _, t in wanted],
                                            grad_outputs=[s for _, s in live], allow_unused=True)
            for (k, _), g in zip(wanted, found):
                grads[k] = None if g is None else g.detach().numpy()
        return Outcome(output, tuple(grads))
