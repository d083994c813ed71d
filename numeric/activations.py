"""Elementwise activations with parameters or kinks: forwards and hand-written backward functions.

Kink conventions are torch's: ``leaky_relu`` takes the negative slope at 0,
``clip`` passes the gradient where ``a_min <= x <= a_max`` (boundaries
included), ``maximum``/``minimum`` split the gradient in half between tied
operands, ``where`` sends ``G`` to the operand it picked.  A comparison (``less``,
``equal``, ``greater``: a float 0 or 1) is a step, constant off a tie: its gradient
is 0 for both operands.

This module imports NumPy only.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["gelu_forward", "gelu_grad_x", "silu_forward", "silu_grad_x", "softplus_forward",
           "softplus_grad_x", "leaky_relu_forward", "leaky_relu_grad_x", "clip_grad_x",
           "power_scalar_grad_x", "maximum_grad_x", "maximum_grad_y", "minimum_grad_x", "minimum_grad_y",
           "where_forward", "where_grad_x", "where_grad_y", "dropout_forward", "dropout_grad_x",
           "less_forward", "equal_forward", "greater_forward", "comparison_grad"]

_erf = np.vectorize(math.erf, otypes=[float])


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def gelu_forward(x):
    """``x * Phi(x)``, ``Phi`` the standard normal CDF (torch's exact ``gelu``)."""
    return x * 0.5 * (1 + _erf(np.asarray(x, dtype=float) / math.sqrt(2)))


def gelu_grad_x(grad, x):
    """``Z = X Phi(X)``: ``dl/dX = G (Phi(X) + X phi(X))``, ``phi`` the normal density."""
    x = np.asarray(x, dtype=float)
    cdf = 0.5 * (1 + _erf(x / math.sqrt(2)))
    pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return grad * (cdf + x * pdf)


def silu_forward(x):
    """``x * sigmoid(x)`` (swish)."""
    return x * _sigmoid(x)


def silu_grad_x(grad, x):
    """``Z = X sigmoid(X)``: ``dl/dX = G s (1 + X (1 - s))``, ``s = sigmoid(X)``."""
    s = _sigmoid(x)
    return grad * s * (1 + x * (1 - s))


def softplus_forward(x):
    """``log(1 + exp(x))``, computed stably."""
    return np.logaddexp(0.0, x)


def softplus_grad_x(grad, x):
    """``Z = log(1 + exp(X))``: ``dl/dX = G sigmoid(X)``."""
    return grad * _sigmoid(x)


def leaky_relu_forward(x, negative_slope=0.01):
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    return np.where(x > 0, x, negative_slope * x)


def leaky_relu_grad_x(grad, x, negative_slope=0.01):
    """``Z = leaky_relu(X)``: ``dl/dX = G`` where ``X > 0``, else ``negative_slope G`` (at 0 too)."""
    return np.where(np.asarray(x) > 0, grad, negative_slope * grad)


def clip_grad_x(grad, x, a_min=-1.0, a_max=1.0):
    """``Z = clip(X, a_min, a_max)``: ``dl/dX = G [a_min <= X <= a_max]`` (boundaries pass, as torch's clamp)."""
    x = np.asarray(x)
    return grad * ((x >= a_min) & (x <= a_max))


def power_scalar_grad_x(grad, x, exponent=2.0):
    """``Z = X ** p`` (constant ``p``): ``dl/dX = G p X**(p - 1)``."""
    return grad * exponent * np.power(x, exponent - 1)


def _tie_split(x, y, first):
    """Share of ``G`` that goes to ``x`` when ``first`` says where ``x`` wins: 1, 0, or 1/2 at ties."""
    return np.where(x == y, 0.5, first.astype(float))


def maximum_grad_x(grad, x, y):
    """``Z = maximum(X, Y)``: ``dl/dX = G [X > Y] + G/2 [X = Y]`` (ties split, torch's convention)."""
    return grad * _tie_split(x, y, np.asarray(x) > y)


def maximum_grad_y(grad, x, y):
    """``Z = maximum(X, Y)``: ``dl/dY = G [Y > X] + G/2 [X = Y]``."""
    return grad * _tie_split(y, x, np.asarray(y) > x)


def minimum_grad_x(grad, x, y):
    """``Z = minimum(X, Y)``: ``dl/dX = G [X < Y] + G/2 [X = Y]``."""
    return grad * _tie_split(x, y, np.asarray(x) < y)


def minimum_grad_y(grad, x, y):
    """``Z = minimum(X, Y)``: ``dl/dY = G [Y < X] + G/2 [X = Y]``."""
    return grad * _tie_split(y, x, np.asarray(y) < x)


def where_forward(condition, x, y):
    """``np.where(condition, x, y)``."""
    return np.where(condition, x, y)


def where_grad_x(grad, condition, x, y):
    """``Z = where(C, X, Y)``: ``dl/dX = G C`` (the condition itself has no gradient)."""
    return grad * np.asarray(condition, dtype=bool)


def where_grad_y(grad, condition, x, y):
    """``Z = where(C, X, Y)``: ``dl/dY = G (1 - C)``."""
    return grad * ~np.asarray(condition, dtype=bool)


def dropout_forward(x, mask, p=0.5):
    """Inverted dropout with a given keep-mask: ``x * mask / (1 - p)``."""
    return x * mask / (1 - p)


def dropout_grad_x(grad, x, mask, p=0.5):
    """``Z = X M / (1 - p)``: ``dl/dX = G M / (1 - p)``."""
    return grad * np.asarray(mask, dtype=bool) / (1 - p)


def less_forward(x, y):
    """``x < y`` as a float (1.0 or 0.0), broadcasting."""
    return np.less(x, y).astype(np.result_type(x, y))


def equal_forward(x, y):
    """``x == y`` as a float, broadcasting."""
    return np.equal(x, y).astype(np.result_type(x, y))


def greater_forward(x, y):
    """``x > y`` as a float, broadcasting."""
    return np.greater(x, y).astype(np.result_type(x, y))


def comparison_grad(grad, x, y):
    """``Z = [X < Y]`` (or ``=``, ``>``): ``dl/dX = dl/dY = 0``, a step being constant off a tie."""
    return np.zeros_like(grad)
