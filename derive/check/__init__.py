"""``python -m derive.check``: see :mod:`derive.check.cli`.

Importing this package gives :func:`derive.check`, the Python API.
"""

from ..checker.verify import check

__all__ = ["check"]
