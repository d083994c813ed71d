"""A user's own ops, declared in a file (``derive.define(...)`` or ``register(Op(...))`` at its top
level) and loaded before anything else: by ``--ops FILE`` on the command line, ``--derive-ops`` or
``derive_ops`` in pytest, and in every process a run starts (its checkers and its graders), so
that an instructor's ``huber`` is an op like ``matmul`` everywhere.

>>> import os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "my_ops.py")
>>> _ = open(path, "w").write(
...     "import derive\\n"
...     "derive.define('Z[i] = X[i] * X[i] * X[i]', inputs='X[N]', name='cube')\\n")
>>> load_declarations([path])
['cube']
>>> from derive.catalog.registry import get_op, unregister
>>> get_op("cube").input_names
('X',)
>>> unregister("cube")
"""

from __future__ import annotations

import os
import runpy

from .registry import _REGISTRY, _ensure_loaded

__all__ = ["DeclarationError", "load_declarations"]

#: the files loaded in this process, by absolute path: each runs once
_LOADED: dict = {}


class DeclarationError(ValueError):
    """A declarations file that cannot be read or raises (one line that says where)."""


def load_declarations(paths):
    """Run each declarations file of ``paths`` once in this process; the names of the ops they added.

    Raises
    ------
    DeclarationError
        A file that does not exist, or raises while it declares (naming the file and line).
    """
    _ensure_loaded()  # the standard ops first: a file may build on them, and may not shadow them unasked
    added = []
    for path in paths:
        full = os.path.abspath(os.path.expanduser(str(path)))
        if full in _LOADED:
            added.extend(_LOADED[full])
            continue
        if not os.path.isfile(full):
            raise DeclarationError(f"--ops {path}: no such file")
        before = set(_REGISTRY)
        try:
            runpy.run_path(full, run_name="derive_user_ops")
        except Exception as exc:  # noqa: BLE001  the user's declaration: said in one line
            raise DeclarationError(f"--ops {path}: {_where(exc, full)}{type(exc).__name__}: {exc}") from None
        new = sorted(set(_REGISTRY) - before)
        _LOADED[full] = new
        added.extend(new)
    return added


def _where(exc, path):
    import traceback
    line = next((frame.lineno for frame in reversed(traceback.extract_tb(exc.__traceback__))
                 if os.path.abspath(frame.filename) == path), None)
    return f"line {line}: " if line is not None else ""
