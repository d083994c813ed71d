"""Scalars and their Function classes (MiniTorch module 1): same class names as the tensor ones.

As in MiniTorch, ``Scalar.backward(d_output=None)`` backpropagates through each Function's
``backward(ctx, d_output)`` and leaves the result in ``derivative``."""

import math

from .autodiff import Context, backpropagate

EPS = 1e-6  # MiniTorch's operators.log guards log(0) with it, in the code the course hands out


class ScalarFunction:
    @classmethod
    def _backward(cls, ctx, d_out):
        d = cls.backward(ctx, d_out)
        return d if isinstance(d, tuple) else (d,)

    @classmethod
    def apply(cls, *vals):
        scalars = [v if isinstance(v, Scalar) else Scalar(v) for v in vals]
        ctx = Context(not any(not s.is_constant() or s.history for s in scalars))
        out = Scalar(cls.forward(ctx, *[s.data for s in scalars]))
        out.history = (cls, ctx, scalars)
        return out


class Scalar:
    def __init__(self, v, back=None):
        self.data = float(v)
        self.history = back
        self.derivative = None

    def __repr__(self):
        return f"Scalar({self.data})"

    # -- autodiff --------------------------------------------------------------------------
    def is_leaf(self):
        return self.history is None

    def is_constant(self):
        return False

    @property
    def parents(self):
        return [] if self.history is None else self.history[2]

    def accumulate_derivative(self, d):
        self.derivative = d if self.derivative is None else self.derivative + d

    def chain_rule(self, d_output):
        cls, ctx, inputs = self.history
        return list(zip(inputs, cls._backward(ctx, d_output)))

    def backward(self, d_output=None):
        backpropagate(self, 1.0 if d_output is None else d_output)

    # -- ops ---------------------------------------------------------------------------------
    def __add__(self, b):
        return Add.apply(self, b)

    def __radd__(self, b):
        return Add.apply(b, self)

    def __sub__(self, b):
        return Add.apply(self, Neg.apply(b))

    def __rsub__(self, b):
        return Add.apply(b, Neg.apply(self))

    def __mul__(self, b):
        return Mul.apply(self, b)

    def __rmul__(self, b):
        return Mul.apply(b, self)

    def __truediv__(self, b):
        return Mul.apply(self, Inv.apply(b))

    def __rtruediv__(self, b):
        return Mul.apply(b, Inv.apply(self))

    def __neg__(self):
        return Neg.apply(self)

    def __lt__(self, b):
        return LT.apply(self, b)

    def __gt__(self, b):
        return LT.apply(b, self)

    def __eq__(self, b):
        return EQ.apply(self, b)

    __hash__ = object.__hash__

    def __bool__(self):
        return bool(self.data)

    def exp(self):
        return Exp.apply(self)

    def log(self):
        return Log.apply(self)

    def sigmoid(self):
        return Sigmoid.apply(self)

    def relu(self):
        return ReLU.apply(self)


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


class Inv(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return 1.0 / a

    @staticmethod
    def backward(ctx, d_output):
        (a,) = ctx.saved_values
        return -d_output / a ** 2


class Neg(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, d_output):
        return -d_output


class Log(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return math.log(a + EPS)

    @staticmethod
    def backward(ctx, d_output):
        (a,) = ctx.saved_values
        return d_output / a


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


class Sigmoid(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        out = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, d_output):
        (out,) = ctx.saved_values
        return out * (1.0 - out) * d_output


class ReLU(ScalarFunction):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a if a > 0 else 0.0

    @staticmethod
    def backward(ctx, d_output):
        (a,) = ctx.saved_values
        return d_output if a > 0 else 0.0


class LT(ScalarFunction):
    @staticmethod
    def forward(ctx, a, b):
        return 1.0 if a < b else 0.0

    @staticmethod
    def backward(ctx, d_output):
        return 0.0, 0.0


class EQ(ScalarFunction):
    @staticmethod
    def forward(ctx, a, b):
        return 1.0 if a == b else 0.0

    @staticmethod
    def backward(ctx, d_output):
        return 0.0, 0.0
