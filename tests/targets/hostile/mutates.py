"""Right gradients, but add zeroes its X after computing them and exp doubles G in place: the checker
judges what the worker sends back of the inputs and G after the call, never the worker itself."""
import numpy as np


def add(grad, x, y):
    out = np.array(grad, copy=True), np.array(grad, copy=True)
    x *= 0
    return out


def exp(grad, x):
    out = grad * np.exp(x)
    grad *= 2
    return out
