"""A MiniTorch-style package (modules 1 and 2), written for these tests in MiniTorch's conventions.
As in MiniTorch's own ``__init__``, the Scalar Function classes are imported last and win the shared
names (``minitorch.Exp`` is the Scalar one)."""

from .tensor import Tensor, tensor  # noqa: F401
from .tensor_functions import *  # noqa: F401,F403
from .scalar import Scalar, ScalarFunction  # noqa: F401
from .scalar import Add, Exp, Mul, Neg  # noqa: F401
