"""Correct but slow: 0.2 s a call. The op's time limit ends the search, never as a failure."""
import time

import numpy as np


def exp(grad, x):
    time.sleep(0.2)
    return grad * np.exp(x)
