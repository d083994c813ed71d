"""The same rules with the classic mistakes of hand-written backwards."""

import torch
from torch.autograd import Function


class SiLU(Function):
    @staticmethod
    def forward(ctx, x):
        s = torch.sigmoid(x)
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_output):
        x, s = ctx.saved_tensors
        return grad_output * s * (1 - s)  # sigmoid's derivative: forgets the product rule's s term


class Linear(Function):
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
        return grad_output @ weight, grad_output.T @ input, grad_output.mean(0)  # mean, not sum, over the batch


class LeakyReLUFunction(Function):  # torch's examples name a Function so
    @staticmethod
    def forward(ctx, x, negative_slope=0.01):
        ctx.save_for_backward(x)
        ctx.negative_slope = negative_slope
        return torch.where(x > 0, x, negative_slope * x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return torch.where(x > 0, grad_output, 0.01 * grad_output), None  # the default slope, not the given one


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axis=None, keepdims=False):
        ctx.shape, ctx.axis, ctx.keepdims = x.shape, axis, keepdims
        if axis is None:
            return x.sum()
        return x.sum(dim=axis, keepdim=keepdims)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output.expand(ctx.shape), None, None  # no unsqueeze: the wrong axis broadcasts
