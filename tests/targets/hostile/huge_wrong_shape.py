"""Returns a 10^8-entry gradient of the wrong shape for exp: the checker refuses the reply unread
(it may hold only what its case can), instead of taking the 800 MB in."""
import numpy as np

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    return np.zeros(10 ** 8)
