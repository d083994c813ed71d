"""Derivations kept on disk, so that a new process does not derive again what an earlier one did.

A derivation is a pure function of derive's own code (the vocabulary, the catalog and
this package), SymPy's version and the case's shape pattern and parameters; the file's
name is a digest of all of them, so a changed line anywhere in that code, or another
SymPy, is a different file and never a stale answer.  Only derive's standard ops are
kept: a user's declaration or replacement is derived in each process.

The compiled evaluators (lambdified functions) are not kept: the derivation compiles them
again from the stored formulas.  A file that cannot be read is a miss, never an error, and
a folder that cannot be written keeps nothing.  Where the files go: :func:`folder`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import sys
import tempfile

import sympy as sp

from .._paths import cache_directory
from .._version import __version__
from ..catalog.registry import get_op, is_standard

__all__ = ["folder", "load", "save"]

_PACKAGES = ("vocabulary", "catalog", "symbolic")
_DIGEST = []


def folder():
    """Where derivations are kept: :func:`derive._paths.cache_directory` ``/derivations``.

    ``DERIVE_DERIVATION_CACHE=off`` keeps none (each process derives afresh).
    """
    return cache_directory("derivations")


def _enabled():
    return os.environ.get("DERIVE_DERIVATION_CACHE", "").strip().lower() not in ("off", "0", "no", "false")


def _code_digest():
    """A digest of every source file a derivation depends on (computed once per process)."""
    if not _DIGEST:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        h = hashlib.sha256(f"{__version__} {sp.__version__} {sys.version_info[:2]}".encode())
        for package in _PACKAGES:
            for base, dirs, files in sorted(os.walk(os.path.join(root, package))):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(".py"):
                        path = os.path.join(base, name)
                        h.update(os.path.relpath(path, root).encode())
                        with open(path, "rb") as f:
                            h.update(f.read())
        _DIGEST.append(h.hexdigest())
    return _DIGEST[0]


def _path(op, shapes, params):
    key = sp.srepr((op.name, shapes, params))  # srepr: a symbol's assumptions are part of it
    name = hashlib.sha256(f"{_code_digest()}\n{key}".encode()).hexdigest()[:40]
    return os.path.join(folder(), name[:2], name + ".pickle")


def _kept(op):
    return _enabled() and is_standard(op)


def load(op, shapes, params):
    """``(derivation, kinds)`` stored for ``op`` at the symbolic ``shapes`` and ``params``, or None.

    The :class:`~derive.symbolic.derivation.Derivation` has no evaluators; ``kinds`` says per
    input which one to compile (as :func:`save` was told)."""
    if not _kept(op):
        return None
    try:
        with open(_path(op, shapes, params), "rb") as f:
            stored, kinds = pickle.load(f)
    except Exception:  # noqa: BLE001  missing, partial or from another pickle: derive it
        return None
    return dataclasses.replace(stored, op=get_op(stored.op)), kinds


def save(derivation, kinds, shapes, params):
    """Keep ``derivation`` at ``shapes`` and ``params`` (as :func:`load` is asked), without its
    evaluators, for later processes; ``kinds`` (per input, the evaluator to compile on load) is kept
    with it.  Nothing is kept when the folder cannot be written."""
    op = derivation.op
    if not _kept(op):
        return
    stored = dataclasses.replace(
        derivation, op=op.name,
        gradients={k: dataclasses.replace(g, evaluator=None) for k, g in derivation.gradients.items()})
    path = _path(op, shapes, params)
    try:
        data = pickle.dumps((stored, kinds), protocol=pickle.HIGHEST_PROTOCOL)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".partial")
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)  # whole or not at all, for processes reading at the same time
    except Exception:  # noqa: BLE001  read-only or full disk, unpicklable expression: derived each time
        return
