"""Turn a target's name (or object) into a :class:`~derive.targets.base.Target`, once.

This is the one module of :mod:`derive` that names :mod:`numeric` (the default target).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types

from ..catalog.spelling import FILE_MODULE_PREFIX
from .base import Target, TargetError
from .binding import Binding
from .discover import discover

STYLES = ("functions", "cache-pairs", "tensor", "function-class", "functional")


def _import(spec):
    module_part, _, attr = spec.partition(":")
    try:
        if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
            path = os.path.abspath(module_part)
            if not os.path.exists(path):
                raise TargetError(f"target file {module_part} does not exist")
            if os.path.isdir(path):
                return _import_folder(spec, path, attr)
            try:
                module = _import_file(path)
            except ImportError as exc:
                if "no known parent package" not in str(exc):
                    raise
                module = _import_in_package(spec, path)  # its relative imports need its package
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_part)
    except TargetError:
        raise
    except SyntaxError as exc:
        raise TargetError(f"target {spec} has a syntax error: {exc.filename}:{exc.lineno}: {exc.msg}") from None
    except ImportError as exc:
        raise TargetError(f"cannot import target {spec}: {exc}") from None
    except Exception as exc:  # the module raised while importing
        raise TargetError(f"importing target {spec} raised {type(exc).__name__}: {exc}") from None
    obj = module
    for part in filter(None, attr.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"target {module_part} has no attribute {attr}") from None
    return module, obj


def _import_file(path):
    """The file at ``path`` as a module of its own, its folder on the path while it runs."""
    mod_name = FILE_MODULE_PREFIX + os.path.splitext(os.path.basename(path))[0]
    loader_spec = importlib.util.spec_from_file_location(mod_name, path)
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[mod_name] = module
    sys.path.insert(0, os.path.dirname(path))
    try:
        loader_spec.loader.exec_module(module)
    finally:
        sys.path.remove(os.path.dirname(path))
    return module


def _import_in_package(spec, path):
    """A file inside a package (``minitorch/scalar.py``, whose ``from .autodiff import`` needs it),
    imported as the package's submodule: ``minitorch.scalar``."""
    parts, folder = [os.path.splitext(os.path.basename(path))[0]], os.path.dirname(path)
    while os.path.isfile(os.path.join(folder, "__init__.py")) and os.path.basename(folder).isidentifier():
        parts.insert(0, os.path.basename(folder))
        folder = os.path.dirname(folder)
    if len(parts) == 1:
        raise ImportError("attempted relative import with no known parent package")
    for key in [k for k in sys.modules if k == parts[0] or k.startswith(parts[0] + ".")]:
        del sys.modules[key]  # another package of that name: this one
    sys.path.insert(0, folder)
    try:
        return importlib.import_module(".".join(parts))
    finally:
        sys.path.remove(folder)


def _import_folder(spec, path, attr):
    """A folder given as a target: the package it is (its ``__init__.py``), imported under its own name
    so that its relative imports work; TargetError saying what is in it otherwise."""
    if not os.path.isfile(os.path.join(path, "__init__.py")):
        if next(_submodules([path], "_"), None) is None:  # a folder of modules is a package without one
            raise TargetError(f"target folder {spec} holds no Python module")
    name = os.path.basename(os.path.normpath(path))
    if not name.isidentifier():
        raise TargetError(f"target folder {spec}: {name!r} cannot be a package's name")
    parent = os.path.dirname(os.path.normpath(path))
    for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
        del sys.modules[key]  # another package of that name (a neighbour's, an earlier load): this one
    sys.path.insert(0, parent)
    try:
        return _import(name + (":" + attr if attr else ""))
    finally:
        if parent in sys.path:
            sys.path.remove(parent)


def _package_namespace(module):
    """A package's own names and those of every module below it (the first module in import order wins a
    name; the package's own names win over those, except its submodules: HW2P1's ``mytorch/Conv1d.py``
    holds the class ``Conv1d``), or None for a module that is not a package.

    A submodule that imports its neighbours by bare name (``from resampling import *``, written for a
    course's ``sys.path.append('mytorch')``) is imported again with its folder on the path; one that
    still fails is left out, and said in ``__derive_notes__``.
    """
    path = getattr(module, "__path__", None)
    if not isinstance(module, types.ModuleType) or path is None:
        return None
    merged, notes, origin = {}, [], {}
    for name, folder in _submodules(list(path), module.__name__):
        sub = _import_submodule(name, folder)
        if isinstance(sub, str):
            notes.append(f"{name} could not be imported: {sub}")
            continue
        for name, value in vars(sub).items():
            if not name.startswith("_") and getattr(value, "__module__", None) == sub.__name__:
                if name in merged and getattr(module, "__file__", None) is None:
                    # a folder with no __init__.py says nothing of which one is meant (layers.py, layers_buggy.py)
                    raise TargetError(f"{module.__name__} is a folder of modules, and {origin[name]} and "
                                      f"{sub.__name__} both define {name}: name the file to check")
                merged.setdefault(name, value)
                origin.setdefault(name, sub.__name__)
    merged.update({k: v for k, v in vars(module).items()
                   if not k.startswith("__") and not (isinstance(v, types.ModuleType) and k in merged)})
    merged["__derive_notes__"] = notes
    return types.SimpleNamespace(**merged)


def _submodules(folders, prefix):
    """``(module name, its folder)`` for every module below ``folders``, depth first in name order: a
    subfolder is a package with or without an ``__init__.py`` (11-785's ``mytorch/nn/`` has none)."""
    for folder in folders:
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            full = os.path.join(folder, entry)
            stem = entry[:-3] if entry.endswith(".py") else entry
            if entry.startswith((".", "_")) or not stem.isidentifier():
                continue
            if entry.endswith(".py") and os.path.isfile(full):
                yield f"{prefix}.{stem}", folder
            elif os.path.isdir(full) and _holds_python(full):
                yield from _submodules([full], f"{prefix}.{entry}")


def _holds_python(folder):
    try:
        return any(n.endswith(".py") for n in os.listdir(folder))
    except OSError:
        return False


def _import_submodule(name, folder):
    """The module ``name`` (found in ``folder``), or what its import raised (a line)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if not folder or folder in sys.path:
            return f"{type(exc).__name__}: {exc}"
        sys.modules.pop(name, None)
        sys.path.append(folder)
        try:
            return importlib.import_module(name)
        except Exception as again:  # noqa: BLE001
            return f"{type(again).__name__}: {again}"
    except Exception as exc:  # noqa: BLE001  a broken submodule: the others may still be checked
        return f"{type(exc).__name__}: {exc}"


def check_style(style):
    """TargetError unless ``style`` is None or one of :data:`STYLES`."""
    if style is not None and style not in STYLES:
        raise TargetError(f"unknown style {style!r}; use one of {', '.join(STYLES)}")


def load_here(target="numeric", style=None):
    """Resolve ``target`` (a name or an object) into a :class:`Target` in this process, settling its
    protocol: ``"numeric"`` (default), ``"numeric.backward"``, a ``module``, ``module:attr`` or
    ``path/to/file.py[:attr]``, a :class:`~derive.targets.binding.Binding`, a module, a class, or a
    Target.  The ready bindings of libraries and the worker processes sit above this layer: see
    :func:`derive.isolation.load_target`, which is what everything else calls.

    Raises
    ------
    TargetError
        The target cannot be imported, or no protocol fits (the message names what
        was tried and what a binding would need).
    """
    if isinstance(target, Target):
        return target
    check_style(style)
    if isinstance(target, Binding):
        return target.target()
    if target == "numeric" and style in (None, "tensor"):
        import numeric
        from .leaves import leaf_factories
        from .engine import EngineTarget
        from .discover import settle
        return settle(EngineTarget("numeric", numeric, *leaf_factories(numeric.Tensor), tensor_type=numeric.Tensor))
    if target == "numeric":
        target = "numeric.backward"
    if isinstance(target, str):
        if not target.strip():
            raise TargetError("the target's name is empty")
        module, obj = _import(target)
        label = target
    elif isinstance(target, (types.ModuleType, type, types.SimpleNamespace)):
        obj, label = target, getattr(target, "__name__", type(target).__name__)
    else:
        raise TargetError(f"a target is a name, a module, a class, a Binding or a Target, not "
                          f"{type(target).__name__}")
    if isinstance(obj, Target):
        return obj
    if isinstance(obj, Binding):  # ``module:binding``: it declares what discovery would find out
        return obj.target()
    try:
        return discover(obj, label, style)
    except TargetError:
        package = _package_namespace(obj)
        if package is None:
            raise
        return discover(package, label, style)  # a course package: mytorch/nn/linear.py's Linear
