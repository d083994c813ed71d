"""Targets: the backward implementations that get verified, and how they are called.

A target is named ``numeric`` (the default: :mod:`numeric`'s Tensor, end to end),
``numeric.backward`` (the same functions, directly), a library with a ready binding
(``torch``, ``autograd``, ``jax``, ``mygrad``, ``mlfz``), or a user's ``module``,
``module:attr`` or ``path/to/file.py[:attr]``.  How it is called is settled once, when
it is loaded (:mod:`.discover`), in one of these styles:

``functions``
    backward functions named after the op: ``matmul(grad, x, y) -> (grad_x, grad_y)``;
``tensor``
    a graph engine: a Tensor class reached through operators, methods, module functions
    or Function-class calls, whose output's ``backward`` is seeded with G;
``function-class``
    ``forward(ctx, *inputs)`` / ``backward(ctx, grad_output)`` classes (or instances);
``functional``
    a VJP transform: ``vjp(f, *inputs)`` (HIPS autograd, JAX).

What discovery cannot find out is said in a :class:`Binding`.
"""

from .base import (CONSTANT, ForwardError, Outcome, ProtocolError, Target, TargetError,
                   Unsupported, same_values, to_array)
from .binding import Binding
from .engine import EngineTarget
from .function_class import FunctionClassTarget
from .functional import FunctionalTarget
from .functions import FunctionsTarget
from .loading import STYLES, load_here

__all__ = ["Target", "Outcome", "TargetError", "Unsupported", "ProtocolError", "ForwardError",
           "CONSTANT", "Binding", "EngineTarget", "FunctionClassTarget", "FunctionalTarget", "FunctionsTarget",
           "STYLES", "load_here", "same_values", "to_array"]
