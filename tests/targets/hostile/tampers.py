"""Patches the checker's own modules at import, then gets exp wrong: the patch must change nothing."""
import numpy as np

import derive.example
import derive.verify
from numeric.backward import add  # noqa: F401  correct

derive.verify.run_example = lambda *args, **kwargs: None
derive.example.run_example = lambda *args, **kwargs: None
derive.verify.check = lambda *args, **kwargs: True
np.seterr(all="raise")


def exp(grad, x):
    return grad
