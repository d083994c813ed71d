import os
import signal

from numeric.backward import add  # noqa: F401  correct


def exp(grad, x):
    os.kill(os.getpid(), signal.SIGTERM)
