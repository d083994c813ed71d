"""One-line assertions for your own tests.

>>> import numpy as np
>>> from derive.testing import assert_vjp
>>> def matmul(grad, x, y):
...     return grad @ np.swapaxes(y, -1, -2), np.swapaxes(x, -1, -2) @ grad
>>> assert_vjp("matmul", matmul, shapes=[(2, 3), (3, 4)])
<Report matmul: PASS 1 example(s) (exact 1, numeric 1, finite differences 1)>
"""

from __future__ import annotations

import inspect
import types

from .catalog.registry import get_op
from .targets import FunctionsTarget, Target
from .targets.custom_rules import is_custom_rule
from .targets.mygrad_operations import is_mygrad_operation
from .targets.torch_functions import is_torch_function
from .isolation import load_target
from .checker.run import profile_options, run_ops

__all__ = ["assert_vjp", "as_target"]


def as_target(op, backward_or_target, style=None):
    """A :class:`~derive.targets.Target` from a backward function, a module, a class or a target name."""
    if isinstance(backward_or_target, Target):
        return backward_or_target
    if is_custom_rule(backward_or_target) or is_torch_function(backward_or_target) or \
            is_mygrad_operation(backward_or_target) or (
            inspect.isclass(backward_or_target) and callable(getattr(backward_or_target, "forward", None))
            and callable(getattr(backward_or_target, "backward", None))):
        # one rule (jax.custom_vjp, autograd's @primitive, a torch.autograd.Function, a MyGrad Operation, a
        # homework engine's class) is ``op``'s, whatever its name
        namespace = types.ModuleType(getattr(backward_or_target, "__module__", None) or "rule")
        setattr(namespace, get_op(op).name, backward_or_target)
        return load_target(namespace, style)
    if callable(backward_or_target) and not inspect.isclass(backward_or_target) and \
            not isinstance(backward_or_target, types.ModuleType):
        op = get_op(op)
        namespace = types.SimpleNamespace(**{op.name: backward_or_target})
        return FunctionsTarget(namespace, getattr(backward_or_target, "__name__", "backward"))
    return load_target(backward_or_target, style)


def assert_vjp(op, backward_or_target="numeric", *, shapes=None, params=None, examples=None, seed=None,
               dtype="float64", style=None, database=None):
    """Assert that a backward implementation of ``op`` matches the derivation.

    Parameters
    ----------
    op : str
        The op's name or alias.
    backward_or_target : callable, module, class or str
        A functions-style backward ``fn(grad, *inputs, **params)``, or anything
        :func:`derive.check` accepts as a target.
    shapes, params : optional
        Check this one case instead of drawing.
    examples : int, optional
        Hypothesis examples (default: the active Hypothesis profile's ``max_examples``).
    seed : int, optional
        Make the draw reproducible (a seeded check neither reads nor writes the database).
    dtype : {"float64", "float32"}
        The dtype of the inputs given to the backward.
    style : str, optional
        Force the target's style (default: discovered).
    database : hypothesis.database.ExampleDatabase, optional
        Where failing examples are saved and replayed first (default: the active Hypothesis
        profile's, so a profile with ``database=None`` keeps none).

    Returns
    -------
    Report
        The passing report (``examples``, ``evidence``, ``notes``).

    Raises
    ------
    AssertionError
        With the same report as the CLI: the minimal case, the wrong entry,
        the expected formula and value, and a diagnosis.
    """
    options = profile_options(examples, database, seed=seed, shapes=None if shapes is None else tuple(shapes),
                              params=params or {}, dtype=dtype)
    op = get_op(op)  # an expression's op too, which is not registered by name
    target = as_target(op, backward_or_target, style)
    (summary,), _ = run_ops(target, [op], options)
    report = summary.report
    if not report:
        raise AssertionError(str(report))
    return report
