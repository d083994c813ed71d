"""The standard ops, NumPy's names and semantics, one module per op family.

Importing this module declares them in the catalog (:mod:`derive.catalog.registry`),
in the order the listings show.  Each declaration gives the elementwise
definition (output entry as a SymPy expression of input entries), the NumPy
reference forward, the input domains, the shape/parameter strategy, and how
tensor-style targets spell the op.
"""

from . import arithmetic, linalg, shape, reductions, unary, softmax, layers  # noqa: F401  (declare)
from . import piecewise, statistics, indexing, split, recurrent  # noqa: F401,E402
from . import convolution, resampling  # noqa: F401,E402  (declared by index formulas)
