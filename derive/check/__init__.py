"""``python -m derive.check``: see :mod:`derive.cli`.

Importing this package gives :func:`derive.check`, the Python API.
"""

from ..verify import check

__all__ = ["check"]
