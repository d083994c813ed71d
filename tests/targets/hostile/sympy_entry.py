"""Returns gradients that are all zeros except one entry, an object of SymPy's that a reply unpickler
which builds SymPy classes would rebuild by evaluating text: it must cross as unreadable, never run."""
import numpy as np
import sympy

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    out = np.zeros(np.shape(x), dtype=object)
    out.flat[0] = sympy.Tuple(1, 2)
    return out
