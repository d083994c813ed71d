"""Backward functions that are right for forwards that are not NumPy's: a torch-style ``.T``
(last two axes), a matmul of ``a @ b.T``, and an MSE divided by the batch size.  As function
classes, so that the forward can be compared."""

import numpy as np


class Matmul:
    """Computes a @ b.T (a Linear layer's convention); its backward is right for that."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a @ b.T

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_tensors
        return grad_output @ b, grad_output.T @ a


class Transpose:
    """Swaps the last two axes whatever ``axes`` says."""

    @staticmethod
    def forward(ctx, x, axes=None):
        return np.swapaxes(x, -1, -2)

    @staticmethod
    def backward(ctx, grad_output):
        return np.swapaxes(grad_output, -1, -2)


class MseLoss:
    """sum((p - t)**2) / len(p): the mean over the batch, not over every entry."""

    @staticmethod
    def forward(ctx, p, t):
        ctx.save_for_backward(p, t)
        return np.sum((p - t) ** 2) / len(p)

    @staticmethod
    def backward(ctx, grad_output):
        p, t = ctx.saved_tensors
        g = grad_output * 2 * (p - t) / len(p)
        return g, -g
