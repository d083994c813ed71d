"""NumPy-named spellings of the catalog's ops on torch tensors, for the torch reference target.

:class:`TorchTensor` wraps a ``torch.Tensor`` and offers the operators and
methods the catalog's ``call`` uses (NumPy's names and semantics: ``axis``,
``keepdims``, ``.T`` reversing every axis, ``transpose(axes)`` permuting).
"""

from __future__ import annotations

import numpy as np
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
        return TorchTensor(self.t.permute(tuple(reversed(range(self.t.ndim)))))  # a tuple: 0-d too

    def transpose(self, axes):
        return TorchTensor(self.t.permute(tuple(axes)))

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


def add_scalar(x, scalar=1.0):
    return TorchTensor(torch.add(_t(x), scalar))


def mul_scalar(x, scalar=1.0):
    return TorchTensor(torch.mul(_t(x), scalar))


def divide_scalar(x, scalar=1.0):
    return TorchTensor(torch.div(_t(x), scalar))


def mse_loss(pred, target):
    return TorchTensor(F.mse_loss(_t(pred), _t(target)))


def cross_entropy(logits, labels):
    return TorchTensor(F.cross_entropy(_t(logits), _t(labels).long()))


def svm_loss(scores, labels):
    scores = _t(scores)  # torch's multi_margin_loss averages over the classes too
    return TorchTensor(F.multi_margin_loss(scores, _t(labels).long()) * scores.shape[1])


def linear(x, weight, bias):
    return TorchTensor(F.linear(_t(x), _t(weight), _t(bias)))


def affine(x, w, b):
    x = _t(x)
    return TorchTensor(x.reshape(x.shape[0], -1) @ _t(w) + _t(b))


def flatten(x):
    t = _t(x)  # torch.flatten(t, 1) has no axis 1 to start from on a 1-D t
    return TorchTensor(torch.flatten(t, 1) if t.ndim > 1 else t.reshape(-1, 1))


def identity(x):
    return TorchTensor(torch.nn.Identity()(_t(x)))


def rnn_step(x, prev_h, Wx, Wh, b):
    return TorchTensor(torch.tanh(_t(x) @ _t(Wx) + _t(prev_h) @ _t(Wh) + _t(b)))


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    a = _t(x) @ _t(Wx) + _t(prev_h) @ _t(Wh) + _t(b)
    i, f, o, g = torch.chunk(a, 4, dim=1)
    next_c = torch.sigmoid(f) * _t(prev_c) + torch.sigmoid(i) * torch.tanh(g)
    return [TorchTensor(torch.sigmoid(o) * torch.tanh(next_c)), TorchTensor(next_c)]


def temporal_affine(x, w, b):
    return TorchTensor(_t(x) @ _t(w) + _t(b))


def temporal_softmax_loss(x, y, mask):
    t = _t(x)
    logp = torch.log_softmax(t, dim=2)
    picked = torch.gather(logp, 2, torch.as_tensor(np.asarray(y), dtype=torch.long)[..., None])[..., 0]
    return TorchTensor(-(picked * torch.as_tensor(np.asarray(mask), dtype=t.dtype)).sum() / t.shape[0])


def conv1d(x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    return TorchTensor(F.conv1d(_t(x), _t(weight), _t(bias), stride=stride, padding=padding, dilation=dilation,
                                groups=groups))


def conv2d(x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
    return TorchTensor(F.conv2d(_t(x), _t(weight), _t(bias), stride=stride, padding=padding, dilation=dilation,
                                groups=groups))


def conv_transpose1d(x, weight, bias, stride=1, padding=0, dilation=1):
    return TorchTensor(F.conv_transpose1d(_t(x), _t(weight), _t(bias), stride=stride, padding=padding,
                                          dilation=dilation))


def avg_pool2d(x, kernel=2, stride=2, padding=0):
    return TorchTensor(F.avg_pool2d(_t(x), kernel, stride=stride, padding=padding, count_include_pad=True))


def max_pool2d(x, kernel=2, stride=2, padding=0):
    return TorchTensor(F.max_pool2d(_t(x), kernel, stride=stride, padding=padding))


def _dilated(t, k, spatial):
    """Zeros between the entries: a transposed convolution with stride k and a kernel of one 1."""
    t = _t(t)
    lead, sizes = t.shape[:-spatial], t.shape[-spatial:]
    flat = t.reshape((-1, 1) + tuple(sizes))
    one = torch.ones((1, 1) + (1,) * spatial, dtype=t.dtype)
    z = (F.conv_transpose1d if spatial == 1 else F.conv_transpose2d)(flat, one, stride=k)
    return TorchTensor(z.reshape(tuple(lead) + tuple(z.shape[2:])))


def upsample1d(x, upsampling_factor=2):
    return _dilated(x, upsampling_factor, 1)


def downsample1d(x, downsampling_factor=2):
    return TorchTensor(_t(x)[..., ::downsampling_factor])


def upsample2d(x, upsampling_factor=2):
    return _dilated(x, upsampling_factor, 2)


def downsample2d(x, downsampling_factor=2):
    return TorchTensor(_t(x)[..., ::downsampling_factor, ::downsampling_factor])


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


def reciprocal(x):
    return TorchTensor(torch.reciprocal(_t(x)))


# torch's comparisons give booleans and leave the graph: spelled through sign, whose derivative
# torch takes as 0, so that autograd itself answers with the zero gradient
def less(x, y):
    return TorchTensor((_t(y) - _t(x)).sign().clamp(min=0))


def equal(x, y):
    return TorchTensor(1 - (_t(x) - _t(y)).sign().abs())


def greater(x, y):
    return TorchTensor((_t(x) - _t(y)).sign().clamp(min=0))


def where(condition, x, y):
    return TorchTensor(torch.where(_t(condition), _t(x), _t(y)))


def dropout(x, mask, p=0.5):
    return TorchTensor(_t(x) * _t(mask) / (1 - p))


def _reduce(x, axis, keepdims, fn):
    """NumPy's axis semantics for ``fn(t, dim, keepdim)``: ``axis=()`` or a 0-d array reduces over
    nothing (torch's ``dim=()`` would reduce over everything)."""
    t = _t(x)
    dims = tuple(range(t.ndim)) if axis is None else ((axis,) if isinstance(axis, int) else tuple(axis))
    if not dims:
        return TorchTensor(fn(t.unsqueeze(-1), (-1,), False))
    return TorchTensor(fn(t, dims, keepdims))


def var(x, axis=None, keepdims=False, ddof=0):
    return _reduce(x, axis, keepdims, lambda t, d, k: torch.var(t, dim=d, correction=ddof, keepdim=k))


def std(x, axis=None, keepdims=False, ddof=0):
    return _reduce(x, axis, keepdims, lambda t, d, k: torch.std(t, dim=d, correction=ddof, keepdim=k))


def logsumexp(x, axis=None, keepdims=False):
    return _reduce(x, axis, keepdims, lambda t, d, k: torch.logsumexp(t, dim=d, keepdim=k))


def norm(x, axis=None, keepdims=False):
    return _reduce(x, axis, keepdims, lambda t, d, k: torch.linalg.vector_norm(t, 2, dim=d, keepdim=k))


def layer_norm(x, weight, bias, eps=1e-5):
    t = _t(x)
    return TorchTensor(F.layer_norm(t, t.shape[-1:], _t(weight), _t(bias), eps=eps))


def batch_norm(x, weight, bias, eps=1e-5):
    return TorchTensor(F.batch_norm(_t(x), None, None, _t(weight), _t(bias), training=True, eps=eps))


def batch_norm2d(x, weight, bias, eps=1e-5):
    return TorchTensor(F.batch_norm(_t(x), None, None, _t(weight), _t(bias), training=True, eps=eps))


def group_norm(x, weight, bias, num_groups=1, eps=1e-5):
    return TorchTensor(F.group_norm(_t(x), int(num_groups), _t(weight), _t(bias), eps=eps))


def getitem(x, axis=0, start=None, stop=None, step=None):
    t = _t(x)
    picked = range(*slice(start, stop, step).indices(t.shape[axis]))  # torch slices take no negative step
    return TorchTensor(torch.index_select(t, axis, torch.as_tensor(list(picked), dtype=torch.long)))


def flip(x, axis=0):
    return TorchTensor(torch.flip(_t(x), (axis,)))


def expand_dims(x, axis=0):
    return TorchTensor(torch.unsqueeze(_t(x), axis))


def squeeze(x, axis=0):
    return TorchTensor(torch.squeeze(_t(x), axis))


def einsum(subscripts, x, y):
    return TorchTensor(torch.einsum(subscripts, _t(x), _t(y)))


def concatenate(x, y, axis=0):
    return TorchTensor(torch.cat([_t(x), _t(y)], axis))


def stack(x, y, axis=0):
    return TorchTensor(torch.stack([_t(x), _t(y)], axis))


def embedding(weight, indices):
    return TorchTensor(F.embedding(_t(indices).long(), _t(weight)))


def take_along_axis(x, indices):
    return TorchTensor(torch.gather(_t(x), -1, _t(indices).long()))


def take(x, indices, axis=0):
    idx = _t(indices).long()
    picked = torch.index_select(_t(x), axis, idx.reshape(-1))
    axis = axis % _t(x).dim()
    return TorchTensor(picked.reshape(_t(x).shape[:axis] + idx.shape + _t(x).shape[axis + 1:]))


def masked_select(x, mask=()):
    t = _t(x)
    return TorchTensor(torch.masked_select(t, torch.as_tensor(np.asarray(mask, dtype=bool)).reshape(t.shape)))


def split(x, indices_or_sections=2, axis=0):
    how = indices_or_sections if isinstance(indices_or_sections, int) else list(indices_or_sections)
    return [TorchTensor(p) for p in torch.tensor_split(_t(x), how, dim=axis)]


def unstack(x, axis=0):
    return [TorchTensor(p) for p in torch.unbind(_t(x), dim=axis)]


def pad(x, pad_width=()):
    flat = [int(v) for pair in reversed(tuple(pad_width)) for v in pair]  # torch: last axis first
    return TorchTensor(F.pad(_t(x), flat))


def max(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _reduce(x, axis, keepdims, lambda t, d, k: torch.amax(t, dim=d, keepdim=k))


def min(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    return _reduce(x, axis, keepdims, lambda t, d, k: torch.amin(t, dim=d, keepdim=k))
