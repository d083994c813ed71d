"""derive: derive tensor gradients with SymPy and check hand-written backward functions.

A tour
------
Every op is declared once in the catalog, with its elementwise definition:

>>> import derive
>>> "matmul" in derive.names()
True

:func:`vjp` derives the gradient through the chain-rule sum
``dl/dX[i, j] = Sum_{k, m} G[k, m] dZ[k, m]/dX[i, j]``, down to the index
formula and its closed form:

>>> d = derive.vjp("matmul")
>>> d["X"].index_formula
Sum(G[i, m]*Y[j, m], (m, 0, r - 1))
>>> d["X"].closed_form
'G @ Y.T'
>>> d["Y"].closed_form
'X.T @ G'

Shapes may be symbolic or concrete; size-1 dimensions mean broadcasting:

>>> derive.vjp("add", ("n", 1), ("n", "m"))["X"].closed_form
'G.sum(axis=1, keepdims=True)'
>>> derive.vjp("sum", ("a", "b", "c"), axis=1)["X"].closed_form
'np.broadcast_to(np.expand_dims(G, 1), X.shape)'

The teaching steps are kept:

>>> [name for name, _ in d["X"].steps]
['chain-rule sum', 'after differentiation', 'after contracting the Kronecker deltas', 'closed form']

:func:`check` cross-checks a backward implementation against the derivation
(see :mod:`derive.checker.verify`), and ``python -m derive.check matmul`` does the
same from the command line.

The package follows the pipeline, one subpackage per stage, each importing only the
ones before it: :mod:`derive.vocabulary` (the expression types), :mod:`derive.catalog`
(the ops, their declarations and index notation), :mod:`derive.symbolic` (the engine,
from an index formula to its gradient and its reference values), :mod:`derive.targets`
and :mod:`derive.bindings` (the code under test and how it is called),
:mod:`derive.isolation` (worker processes), :mod:`derive.checker` (a target's backward
against the derivation, and the run loop), and the front-ends (:mod:`derive.check` for
the command line, the pytest plugin and suite, :mod:`derive.testing`,
:mod:`derive.display` for notebooks, :mod:`derive.grading`).
"""

import os as _os
import sys as _sys

if _sys.argv[:1] == ["-m"] and _sys.path and _sys.path[0] in ("", _os.getcwd()):
    # `python -m derive.check` put the working directory first on sys.path: a numpy.py or random.py
    # there (a student's folder) would replace the real module under derive itself.  It goes last.
    _sys.path.append(_sys.path.pop(0))

import importlib as _importlib

#: the public surface, and where each name lives; imported on first use, so that
#: ``import derive`` (the pytest plugin, ``--version``) does not pay for SymPy
_PUBLIC = {
    **dict.fromkeys(["Case", "Input", "Op", "Pieces", "elementwise", "get_op", "names", "ops", "register",
                     "unregister"], "catalog"),
    **dict.fromkeys(["Derivation", "InputGradient", "vjp"], "symbolic.derivation"),
    "define": "catalog.notation",
    "vjp_expression": "symbolic.composite",
    "check": "checker.verify",
    "Report": "checker.report",
    **dict.fromkeys(["Binding", "Unsupported"], "targets"),
}

__all__ = list(_PUBLIC)

from . import check as _cli  # noqa: E402,F401  the package first: importing it later would rebind `check`
del check  # `derive.check` is the function (the package stays importable as `derive.check.cli`)


def __getattr__(name):
    if name in _PUBLIC:
        value = getattr(_importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    elif name in ("display", "targets", "catalog", "symbolic", "checker", "isolation", "grading", "bindings"):
        value = _importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'derive' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))


from ._version import __version__  # noqa: E402
