import ctypes

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    print("about to read address 0")
    return ctypes.string_at(0)
