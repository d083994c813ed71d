"""Ready bindings for autodiff libraries people already use: ``--target NAME`` just works.

Each module here is named after the library it binds and defines either
``binding`` (a :class:`~derive.targets.binding.Binding`) or ``target()``.  The list
of ready bindings is this package's modules; nothing else keeps it.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from ..targets.base import TargetError
from ..targets.loading import load_here as _load_module

__all__ = ["names", "has_ready", "ready", "load_here"]


def names():
    """The libraries with a ready binding."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def has_ready(name):
    return isinstance(name, str) and name in names()


def ready(name):
    """The target of the ready binding for ``name`` (TargetError when the library is not installed)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ValueError, AttributeError):  # a module entry of None (blocked) or without a spec
        spec = None
    if spec is None:
        raise TargetError(f"the {name} target needs {name}: pip install {name}")
    module = importlib.import_module(f"{__name__}.{name}")
    if hasattr(module, "binding"):
        return module.binding.target()
    return module.target()


def load_here(target="numeric", style=None):
    """:func:`derive.targets.loading.load_here`, with the ready bindings: ``--target torch`` is its
    binding, and a module of a library that has one (``torch.nn``) is told so when it cannot load."""
    if isinstance(target, str) and style is None and has_ready(target):
        return ready(target)
    try:
        return _load_module(target, style)
    except TargetError as exc:
        label = target if isinstance(target, str) else ""
        top = label.split(".")[0].split(":")[0]
        if has_ready(top) and top != label:
            raise TargetError(f"{exc}. There is a ready binding for {top}: --target {top}") from None
        raise
