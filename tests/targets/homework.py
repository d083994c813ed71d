"""Function classes in the style of torch.autograd.Function and the homework engines."""

import numpy as np


def unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Add:
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a + b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return unbroadcast(grad_output, a.shape), unbroadcast(grad_output, b.shape)


class Mul:
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        a_b, b_b = np.broadcast_arrays(a, b)
        return unbroadcast(grad_output * b_b, a.shape), unbroadcast(grad_output * a_b, b.shape)


class Div:
    """Bug: the quotient rule lost its minus sign."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        a_b, b_b = np.broadcast_arrays(a, b)
        return (unbroadcast(grad_output / b_b, a.shape),
                unbroadcast(grad_output * a_b / b_b ** 2, b.shape))
