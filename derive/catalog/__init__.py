"""Stage 1: the ops and their declarations, the catalog every other stage reads.

- :mod:`~derive.catalog.registry`: every op is declared once, as an :class:`Op`;
  the derivation, the strategies, the CLI, the tests, the notebooks and the
  README's table all read it.
- :mod:`~derive.catalog.strategies`: the Hypothesis strategies for shapes,
  parameters and input values that declarations and the checker draw from.
- :mod:`~derive.catalog.standard`: derive's own ops, one module per family
  (``arithmetic``, ``linalg``, ``shape``, ``reductions``, ``unary``,
  ``softmax``, ``layers``, ``piecewise``, ``statistics``, ``indexing``,
  ``split``, ``recurrent``, ``convolution``, ``resampling``), declared when the catalog is first read.

>>> from derive.catalog import get_op
>>> get_op("mul").name
'multiply'
"""

from . import declare, registry, spelling
from .registry import *  # noqa: F401,F403  (the registry's API, the spellings' and elementwise are the package's)
from .spelling import *  # noqa: F401,F403
from .declare import elementwise

__all__ = registry.__all__ + spelling.__all__ + declare.__all__
