"""Patches the checker's own modules at import, then gets exp wrong: the patch must change nothing."""
import numpy as np

import derive.checker.example
import derive.checker.verify
from numeric.backward import add  # noqa: F401  correct

derive.checker.verify.run_example = lambda *args, **kwargs: None
derive.checker.example.run_example = lambda *args, **kwargs: None
derive.checker.verify.check = lambda *args, **kwargs: True
np.seterr(all="raise")


def exp(grad, x):
    return grad
