"""A backward that asks for 32 GB: a MemoryError in its worker, never the machine's OOM killer."""
import numpy as np

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    return np.ones(2 ** 32) * 0 + grad * np.exp(x)
