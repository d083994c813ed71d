"""Custom rules as a library author writes them, in torch.autograd.Function's documented forms:
the old style forward(ctx, ...), the new style with setup_context, save_for_backward,
needs_input_grad, mark_non_differentiable and once_differentiable."""

import torch
from torch.autograd import Function
from torch.autograd.function import once_differentiable


class SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * s * (1 + x * (1 - s))


class Linear(Function):
    """The new style: forward has no ctx; setup_context saves what backward needs."""

    @staticmethod
    def forward(input, weight, bias):
        return input @ weight.T + bias

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output @ weight
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.T @ input
        if ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


class LeakyReLUFunction(Function):  # torch's examples name a Function so
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return torch.where(x > 0, x, negative_slope * x)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, ctx.negative_slope * grad_output), None


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        axes = range(x.dim()) if axis is None else (axis,) if isinstance(axis, int) else axis
        ctx.shape, ctx.keepdims = x.shape, keepdims
        ctx.axes = sorted(a % x.dim() for a in axes)
        if not ctx.axes:  # torch's sum(dim=()) would sum every axis
            return x.clone()
        return x.sum(dim=tuple(ctx.axes), keepdim=keepdims)

    @staticmethod
    def backward(ctx, grad_output):
        g = grad_output
        if not ctx.keepdims:
            for a in ctx.axes:
                g = g.unsqueeze(a)
        return g.expand(ctx.shape), None, None


class Greater(Function):
    """A step: its output is marked non-differentiable, so no gradient flows (zero)."""

    @staticmethod
    def forward(ctx, x, y):
        out = (x > y).to(x.dtype)
        ctx.mark_non_differentiable(out)
        return out

    @staticmethod
    def backward(ctx, grad_output):
        return None, None
