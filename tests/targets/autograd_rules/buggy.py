"""The rules of correct.py with classic mistakes (each line marked)."""

import autograd.numpy as np
from autograd.extend import defvjp, primitive


@primitive
def silu(x):
    return x / (1.0 + np.exp(-x))


def _silu_vjp(ans, x):
    s = 1.0 / (1.0 + np.exp(-x))
    return lambda g: g * s * (1.0 - s)  # sigmoid's derivative: the product rule's s term is lost


defvjp(silu, _silu_vjp)


@primitive
def linear(x, weight, bias):
    return np.dot(x, weight.T) + bias


defvjp(linear,
       lambda ans, x, weight, bias: lambda g: np.dot(g, weight),
       lambda ans, x, weight, bias: lambda g: np.dot(g.T, x),
       lambda ans, x, weight, bias: lambda g: np.mean(g, axis=0))  # mean, not sum, over the batch


@primitive
def logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_vjp(ans, x, axis=None, keepdims=False):
    full = ans if keepdims else np.expand_dims(ans, axis) if axis is not None else np.reshape(ans, (1,) * np.ndim(x))
    return lambda g: (g if keepdims else np.expand_dims(g, axis) if axis is not None
                      else np.reshape(g, (1,) * np.ndim(x))) * np.exp(x)  # forgets the shift by the result


defvjp(logsumexp, _logsumexp_vjp)
