"""Tensor Function classes (MiniTorch module 2), each ``forward(ctx, *tensors)`` and
``backward(ctx, grad_output)`` on Tensors.  As in MiniTorch, a backward returns its gradient at the
output's broadcast shape: the engine sums it back to each input's shape (``Tensor.expand``)."""

import numpy as np

from .autodiff import Context

EPS = 1e-6  # the guard of MiniTorch's log, as the course hands it out


def wrap_tuple(x):
    return x if isinstance(x, tuple) else (x,)


class Function:
    @classmethod
    def _backward(cls, ctx, grad_out):
        return wrap_tuple(cls.backward(ctx, grad_out))

    @classmethod
    def apply(cls, *vals):
        from .tensor import Tensor
        vals = [v if isinstance(v, Tensor) else Tensor(np.asarray(v, dtype=float)) for v in vals]
        need_grad = any(not v.is_constant() for v in vals)
        ctx = Context(not need_grad)
        c = cls.forward(ctx, *vals)
        return Tensor(c._storage, (cls, ctx, vals) if need_grad else None)


def _t(array):
    from .tensor import Tensor
    return Tensor(np.asarray(array, dtype=float))


class Neg(Function):
    @staticmethod
    def forward(ctx, t1):
        return _t(-t1._storage)

    @staticmethod
    def backward(ctx, grad_output):
        return _t(-grad_output._storage)


class Inv(Function):
    @staticmethod
    def forward(ctx, t1):
        ctx.save_for_backward(t1)
        return _t(1.0 / t1._storage)

    @staticmethod
    def backward(ctx, grad_output):
        (t1,) = ctx.saved_values
        return _t(-grad_output._storage / t1._storage ** 2)


class Add(Function):
    @staticmethod
    def forward(ctx, t1, t2):
        return _t(t1._storage + t2._storage)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, grad_output


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _t(a._storage * b._storage)

    @staticmethod
    def backward(ctx, grad_output):
        a, b = ctx.saved_values
        return _t(grad_output._storage * b._storage), _t(grad_output._storage * a._storage)


class Sigmoid(Function):
    @staticmethod
    def forward(ctx, t1):
        out = 1.0 / (1.0 + np.exp(-t1._storage))
        ctx.save_for_backward(out)
        return _t(out)

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_values
        return _t(grad_output._storage * out * (1.0 - out))


class ReLU(Function):
    @staticmethod
    def forward(ctx, t1):
        ctx.save_for_backward(t1)
        return _t(np.maximum(t1._storage, 0.0))

    @staticmethod
    def backward(ctx, grad_output):
        (t1,) = ctx.saved_values
        return _t(grad_output._storage * (t1._storage > 0))


class Log(Function):
    @staticmethod
    def forward(ctx, t1):
        ctx.save_for_backward(t1)
        return _t(np.log(t1._storage + EPS))

    @staticmethod
    def backward(ctx, grad_output):
        (t1,) = ctx.saved_values
        return _t(grad_output._storage / (t1._storage + EPS))


class Exp(Function):
    @staticmethod
    def forward(ctx, t1):
        out = np.exp(t1._storage)
        ctx.save_for_backward(out)
        return _t(out)

    @staticmethod
    def backward(ctx, grad_output):
        (out,) = ctx.saved_values
        return _t(grad_output._storage * out)


class Sum(Function):
    """MiniTorch's reduction keeps the reduced dimension (size 1)."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.save_for_backward(a._storage.shape)
        return _t(a._storage.sum(axis=int(dim._storage), keepdims=True))

    @staticmethod
    def backward(ctx, grad_output):
        (shape,) = ctx.saved_values
        return _t(np.broadcast_to(grad_output._storage, shape)), 0.0


class MatMul(Function):
    @staticmethod
    def forward(ctx, t1, t2):
        if t1._storage.ndim < 2 or t2._storage.ndim < 2:  # as MiniTorch's matrix_multiply
            raise ValueError("matrix multiply needs 2-D or batched operands")
        ctx.save_for_backward(t1, t2)
        return _t(t1._storage @ t2._storage)

    @staticmethod
    def backward(ctx, grad_output):
        t1, t2 = ctx.saved_values
        g = grad_output._storage
        return _t(g @ np.swapaxes(t2._storage, -1, -2)), _t(np.swapaxes(t1._storage, -1, -2) @ g)


class Permute(Function):
    @staticmethod
    def forward(ctx, a, order):
        order = [int(o) for o in order._storage]
        ctx.save_for_backward(order)
        return _t(np.transpose(a._storage, order))

    @staticmethod
    def backward(ctx, grad_output):
        (order,) = ctx.saved_values
        return _t(np.transpose(grad_output._storage, np.argsort(order))), 0.0


class View(Function):
    @staticmethod
    def forward(ctx, a, shape):
        shape = [int(s) for s in shape._storage]
        assert int(np.prod(shape)) == a._storage.size  # as MiniTorch's view: no -1 inferred
        ctx.save_for_backward(a._storage.shape)
        return _t(a._storage.reshape(shape))

    @staticmethod
    def backward(ctx, grad_output):
        (original,) = ctx.saved_values
        return _t(grad_output._storage.reshape(original)), 0.0


class LT(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _t(a._storage < b._storage)

    @staticmethod
    def backward(ctx, grad_output):
        return _t(np.zeros(grad_output.shape)), _t(np.zeros(grad_output.shape))


class EQ(Function):
    @staticmethod
    def forward(ctx, a, b):
        return _t(a._storage == b._storage)

    @staticmethod
    def backward(ctx, grad_output):
        return _t(np.zeros(grad_output.shape)), _t(np.zeros(grad_output.shape))
