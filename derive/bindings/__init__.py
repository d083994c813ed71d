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

__all__ = ["names", "has_ready", "ready"]


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
