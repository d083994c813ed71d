"""A backward whose answer changes from call to call (noise added): never a pass."""
import numpy as np

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    return grad * np.exp(x) + np.random.default_rng().normal(scale=1e-3, size=np.shape(x))
