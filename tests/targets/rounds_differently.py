"""A correct exp whose answer changes by rounding from one call to the next, as an engine that keeps a
node's parents in a set adds them in another order: the same answer, never "nondeterministic"."""
import numpy as np

_calls = [0]


def exp(grad, x):
    _calls[0] += 1
    out = grad * np.exp(x)
    return out * (1 + 2 ** -52) if _calls[0] % 2 else out
