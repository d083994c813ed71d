import time

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    time.sleep(3600)
