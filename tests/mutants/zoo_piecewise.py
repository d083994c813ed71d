"""Mutants of kinked and piecewise backward functions, one classic mistake each."""

from __future__ import annotations

import math

import numpy as np

from .zoo import mutant, unbroadcast


@mutant("piecewise", "maximum", "gives the whole of G to X at a tie (not half to each)", ties="declared")
def maximum_ties_to_x(grad, x, y):
    gx = grad * (x >= y)
    gy = grad * (y > x)
    return unbroadcast(gx, np.shape(x)), unbroadcast(gy, np.shape(y))


@mutant("piecewise", "minimum", "routes G with the maximum's mask")
def minimum_as_maximum(grad, x, y):
    share = np.where(x == y, 0.5, (x > y).astype(float))
    return unbroadcast(grad * share, np.shape(x)), unbroadcast(grad * (1 - share), np.shape(y))


@mutant("piecewise", "where", "gives the condition a gradient (G where false), and Y none")
def where_gradient_for_condition(grad, condition, x, y):
    c = np.broadcast_to(condition, np.shape(grad))
    return unbroadcast(grad * ~c, np.shape(condition)), unbroadcast(grad * c, np.shape(x)), np.zeros(np.shape(y))


@mutant("piecewise", "where", "does not un-broadcast the branch it picked")
def where_not_unbroadcast(grad, condition, x, y):
    c = np.broadcast_to(condition, np.shape(grad))
    return None, grad * c, unbroadcast(grad * ~c, np.shape(y))


@mutant("piecewise", "clip", "passes G everywhere (treats clip as the identity)")
def clip_identity(grad, x, a_min=-1.0, a_max=1.0):
    return (grad,)


@mutant("piecewise", "leaky_relu", "zero gradient on the negative side (relu's derivative)")
def leaky_relu_as_relu(grad, x, negative_slope=0.01):
    return (grad * (x > 0),)


@mutant("piecewise", "dropout", "forgets the 1 / (1 - p) rescaling in the backward")
def dropout_no_rescale(grad, x, mask, p=0.5):
    return grad * mask, None


@mutant("piecewise", "gelu", "uses the tanh approximation's derivative for the exact gelu")
def gelu_tanh_approximation(grad, x):
    c = math.sqrt(2 / math.pi)
    u = c * (x + 0.044715 * x ** 3)
    t = np.tanh(u)
    return (grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)),)


@mutant("piecewise", "power_scalar", "X ** (p - 1) without the factor p")
def power_scalar_missing_factor(grad, x, exponent=2.0):
    return (grad * np.power(x, exponent - 1),)


@mutant("elementwise", "power_scalar", "raises G to the power instead of X: p * G**(p - 1)")
def power_scalar_of_grad(grad, x, exponent=2.0):
    return (exponent * np.power(np.asarray(grad, dtype=float), exponent - 1),)
