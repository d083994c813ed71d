"""Correct gradients, noisy code: 2 MB printed per call, and a wrong exp that prints its own debug line."""
import numpy as np

from numeric.backward import add as _add

print("importing the noisy target")


def add(grad, x, y):
    print("x" * 2_000_000)
    return _add(grad, x, y)


def exp(grad, x):
    print("DEBUG exp backward: shape", np.shape(x))
    return grad * np.exp(x) * 2
