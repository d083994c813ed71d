"""``python -m derive.check``: see :mod:`derive.check.cli`.

:func:`derive.check`, the Python API, is :func:`derive.checker.verify.check`; this package
imports nothing, so that the command line starts light.
"""

__all__ = ["check"]


def __getattr__(name):
    if name == "check":
        from ..checker.verify import check
        return check
    raise AttributeError(f"module 'derive.check' has no attribute {name!r}")
