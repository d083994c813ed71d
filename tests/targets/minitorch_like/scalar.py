"""Scalars and their Function classes (MiniTorch module 1): same class names as the tensor ones."""

import math

from .autodiff import Context


class ScalarFunction:
    @classmethod
    def apply(cls, *vals):
        raw = [v.data if isinstance(v, Scalar) else float(v) for v in vals]
        ctx = Context()
        out = Scalar(cls.forward(ctx, *raw))
        out.history = (cls, ctx, [v if isinstance(v, Scalar) else Scalar(v, constant=True) for v in vals])
        return out


class Scalar:
    def __init__(self, v, constant=False):
        self.data = float(v)
        self.derivative = None
        self.history = None
        self.constant = constant

    def __add__(self, b):
        return Add.apply(self, b)

    def __mul__(self, b):
        return Mul.apply(self, b)

    def exp(self):
        return Exp.apply(self)


class Add(ScalarFunction):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, d_output):
        return d_output, d_output


class Mul(ScalarFunction):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, d_output):
        a, b = ctx.saved_values
        return b * d_output, a * d_output


class Exp(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        out = math.exp(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, d_output):
        (out,) = ctx.saved_values
        return out * d_output


class Neg(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, d_output):
        return -d_output
