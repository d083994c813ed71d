"""Stage 0: the vocabulary definitions are written in, and what it means in numbers.

- :mod:`~derive.vocabulary.expressions`: :class:`~derive.vocabulary.expressions.SymArray`,
  ``Output``, sums, brackets, max/min over a set, broadcasting indices;
- :mod:`~derive.vocabulary.brackets`: brackets ``[condition]`` settled by the index ranges;
- :mod:`~derive.vocabulary.evaluate`: an index formula evaluated vectorized on arrays.

Everything else builds on it: the catalog declares its ops in it, and the symbolic engine
differentiates it.
"""
