"""NumPy-named spellings of the catalog's ops on torch tensors, for the torch reference target.

:class:`TorchTensor` wraps a ``torch.Tensor`` and offers the operators and
methods the catalog's ``call`` uses (NumPy's names and semantics: ``axis``,
``keepdims``, ``.T`` reversing every axis, ``transpose(axes)`` permuting).
"""

from __future__ import annotations

import torch  # noqa: F401
import torch.nn.functional as F


def _t(x):
    return x.t if isinstance(x, TorchTensor) else torch.as_tensor(x)


class TorchTensor:
    def __init__(self, t):
        self.t = t

    @property
    def shape(self):
        return tuple(self.t.shape)

    def __add__(self, o):
        return TorchTensor(self.t + _t(o))

    def __sub__(self, o):
        return TorchTensor(self.t - _t(o))

    def __mul__(self, o):
        return TorchTensor(self.t * _t(o))

    def __truediv__(self, o):
        return TorchTensor(self.t / _t(o))

    def __pow__(self, o):
        return TorchTensor(self.t ** _t(o))

    def __neg__(self):
        return TorchTensor(-self.t)

    def __matmul__(self, o):
        return TorchTensor(torch.matmul(self.t, _t(o)))

    @property
    def T(self):
        return TorchTensor(self.t.permute(*reversed(range(self.t.ndim))))

    def transpose(self, axes):
        return TorchTensor(self.t.permute(*axes))

    def reshape(self, shape):
        return TorchTensor(self.t.reshape(tuple(shape)))

    def broadcast_to(self, shape):
        return TorchTensor(self.t.broadcast_to(tuple(shape)))

    def _reduce(self, fn, axis, keepdims):
        if axis is None:
            axis = tuple(range(self.t.ndim))
        axis = (axis,) if isinstance(axis, int) else tuple(axis)
        if not axis:  # NumPy reduces over nothing; torch's dim=() would reduce over everything
            return TorchTensor(self.t.clone())
        return TorchTensor(fn(self.t, dim=axis, keepdim=keepdims))

    def sum(self, axis=None, keepdims=False):
        return self._reduce(torch.sum, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return self._reduce(torch.mean, axis, keepdims)

    def exp(self):
        return TorchTensor(self.t.exp())

    def log(self):
        return TorchTensor(self.t.log())

    def tanh(self):
        return TorchTensor(self.t.tanh())

    def sigmoid(self):
        return TorchTensor(self.t.sigmoid())

    def relu(self):
        return TorchTensor(self.t.relu())

    def sqrt(self):
        return TorchTensor(self.t.sqrt())

    def sin(self):
        return TorchTensor(self.t.sin())

    def cos(self):
        return TorchTensor(self.t.cos())

    def abs(self):
        return TorchTensor(self.t.abs())

    def softmax(self, axis=-1):
        return TorchTensor(torch.softmax(self.t, dim=axis))

    def log_softmax(self, axis=-1):
        return TorchTensor(torch.log_softmax(self.t, dim=axis))


def mse_loss(pred, target):
    return TorchTensor(F.mse_loss(_t(pred), _t(target)))


def cross_entropy(logits, labels):
    return TorchTensor(F.cross_entropy(_t(logits), _t(labels).long()))


def linear(x, weight, bias):
    return TorchTensor(F.linear(_t(x), _t(weight), _t(bias)))


def conv1d(x, weight, bias, stride=1, padding=0, dilation=1):
    return TorchTensor(F.conv1d(_t(x), _t(weight), _t(bias), stride=stride, padding=padding, dilation=dilation))


def conv2d(x, weight, bias, stride=1, padding=0, dilation=1):
    return TorchTensor(F.conv2d(_t(x), _t(weight), _t(bias), stride=stride, padding=padding, dilation=dilation))


def avg_pool2d(x, kernel=2, stride=2, padding=0):
    return TorchTensor(F.avg_pool2d(_t(x), kernel, stride=stride, padding=padding, count_include_pad=True))


def gelu(x):
    return TorchTensor(F.gelu(_t(x)))


def silu(x):
    return TorchTensor(F.silu(_t(x)))


def softplus(x):
    return TorchTensor(F.softplus(_t(x)))


def power_scalar(x, exponent=2.0):
    return TorchTensor(torch.pow(_t(x), exponent))


def leaky_relu(x, negative_slope=0.01):
    return TorchTensor(F.leaky_relu(_t(x), negative_slope))


def clip(x, a_min=-1.0, a_max=1.0):
    return TorchTensor(torch.clamp(_t(x), a_min, a_max))


def maximum(x, y):
    return TorchTensor(torch.maximum(_t(x), _t(y)))


def minimum(x, y):
    return TorchTensor(torch.minimum(_t(x), _t(y)))


def where(condition, x, y):
    return TorchTensor(torch.where(_t(condition), _t(x), _t(y)))


def dropout(x, mask, p=0.5):
    return TorchTensor(_t(x) * _t(mask) / (1 - p))
