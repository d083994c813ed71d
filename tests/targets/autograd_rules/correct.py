"""Custom rules as a HIPS autograd user writes them: @primitive with defvjp (one VJP maker per
argument, each returning a function of g)."""

import autograd.numpy as np
from autograd.extend import defvjp, primitive


@primitive
def silu(x):
    return x / (1.0 + np.exp(-x))


def _silu_vjp(ans, x):
    s = 1.0 / (1.0 + np.exp(-x))
    return lambda g: g * s * (1.0 + x * (1.0 - s))


defvjp(silu, _silu_vjp)


@primitive
def linear(x, weight, bias):
    return np.dot(x, weight.T) + bias


defvjp(linear,
       lambda ans, x, weight, bias: lambda g: np.dot(g, weight),
       lambda ans, x, weight, bias: lambda g: np.dot(g.T, x),
       lambda ans, x, weight, bias: lambda g: np.sum(g, axis=0))


@primitive
def logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def _logsumexp_vjp(ans, x, axis=None, keepdims=False):
    full = ans if keepdims else np.expand_dims(ans, axis) if axis is not None else np.reshape(ans, (1,) * np.ndim(x))
    return lambda g: (g if keepdims else np.expand_dims(g, axis) if axis is not None
                      else np.reshape(g, (1,) * np.ndim(x))) * np.exp(x - full)


defvjp(logsumexp, _logsumexp_vjp)
