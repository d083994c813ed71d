"""numeric: a small NumPy autograd with hand-written backward functions.

It is the first implementation that :mod:`derive` verifies, and it imports
NumPy only.  ``numeric.Tensor`` records the graph; ``numeric.backward`` holds
the backward functions, one per op and operand, plus one VJP per op in the
*functions* style ``matmul(grad, x, y) -> (grad_x, grad_y)``.

>>> import numpy as np
>>> import numeric as nm
>>> x = nm.Tensor([[1.0, 2.0], [3.0, 4.0]])
>>> loss = nm.tanh(x @ x.T).sum()
>>> loss.backward()
>>> x.backwards_grad.shape
(2, 2)
"""

from . import backward, ops
from . import methods  # noqa: F401  (Tensor's operators and methods)
from .ops import *  # noqa: F401,F403
from .tensor import Edge, Tensor

__all__ = ["Tensor", "Edge", "backward", *ops.__all__]
