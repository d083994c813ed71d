"""torch.autograd as a trusted reference: NumPy's spellings on torch tensors, ``torch.autograd.grad`` with G."""

from __future__ import annotations

import numpy as np

from ..targets.base import Outcome, Target, TargetError, Unsupported
from ..targets.spelling import call_forward


class TorchTarget(Target):
    """torch.autograd, reached through :class:`derive.bindings._torch_api.TorchTensor`."""

    name = "torch"
    style = "reference"
    exact_capable = False
    seeding = "torch.autograd.grad(Z, inputs, grad_outputs=G)"

    def __init__(self):
        try:
            import torch
        except ImportError:
            raise TargetError("the torch target needs torch: pip install torch "
                              "(or pip install -e \".[torch]\")") from None
        from . import _torch_api
        self.torch, self.api = torch, _torch_api

    def supports(self, op):
        return (op.call is not None), ("" if op.call is not None else f"no `{op.name}` spelling for torch")

    def run(self, op, case, inputs, G):
        torch = self.torch
        params = op.with_defaults(case.params)
        leaves, wrapped = [], []
        for spec, a in zip(op.inputs, inputs):
            if spec.data:
                dtype = torch.bool if spec.domain == "mask" else torch.long
                wrapped.append(torch.as_tensor(np.asarray(a), dtype=dtype))
                continue
            t = torch.tensor(np.asarray(a), requires_grad=spec.differentiable)
            leaves.append((spec, t))
            wrapped.append(self.api.TorchTensor(t))
        out = call_forward(op, op.call, self.api, wrapped, params)
        pieces = isinstance(G, list)  # split's: a list of outputs, one G each
        outs = [o.t if isinstance(o, self.api.TorchTensor) else o for o in (out if pieces else [out])]
        seeds = [torch.as_tensor(np.asarray(g), dtype=o.dtype) for o, g in zip(outs, G if pieces else [G])]
        diff = [t for spec, t in leaves if spec.differentiable]
        grads = iter(torch.autograd.grad(outs, diff, grad_outputs=seeds, allow_unused=True))
        result = []
        for spec, a in zip(op.inputs, inputs):
            if not spec.differentiable:
                result.append(None)
                continue
            g = next(grads)
            result.append(np.zeros(np.shape(a)) if g is None else g.detach().numpy())
        output = [o.detach().numpy() for o in outs] if pieces else outs[0].detach().numpy()
        return Outcome(output, tuple(result))


    def run_graph(self, graph, leaf_values, G):
        """A generated graph through torch's engine: ``backward(G, retain_graph=True)``, then again
        (torch accumulates into ``.grad``), then once more after zeroing (``.grad = None``, what
        ``optimizer.zero_grad()`` does)."""
        from ..catalog.registry import get_op
        torch = self.torch
        leaves = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in leaf_values]
        tensors, it = [], iter(leaves)
        for node in graph.nodes:
            if node.op == "leaf":
                tensors.append(self.api.TorchTensor(next(it)))
                continue
            op = get_op(node.op)
            tensors.append(call_forward(op, op.call, self.api, [tensors[a] for a in node.args], op.with_defaults({})))
        out = tensors[-1].t if isinstance(tensors[-1], self.api.TorchTensor) else tensors[-1]
        seed = torch.as_tensor(np.asarray(G), dtype=out.dtype)
        grads = []
        for retain in (True, True, False):
            if len(grads) == 2:
                for t in leaves:
                    t.grad = None
            # a fresh seed each time: torch may keep the seed itself as a leaf's .grad and add into it
            out.backward(seed.clone(), retain_graph=retain)
            grads.append([None if t.grad is None else t.grad.detach().numpy().copy() for t in leaves])
        return tuple(grads)


def target():
    return TorchTarget()


__all__ = ["TorchTarget", "target", "Unsupported"]
