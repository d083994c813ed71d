"""Stage 3: the checker, a target's backward against the derivation.

- :mod:`~derive.checker.verify`: :func:`check`, the property-based check of one op
  on Hypothesis-drawn cases, shrunk to the most ordinary failing one;
- :mod:`~derive.checker.example`: one case run through a target and compared
  (exact, numeric, or finite-difference evidence);
- :mod:`~derive.checker.diagnose`: what a wrong gradient most likely is
  (a transpose, a missing sum, a tie split the other way);
- :mod:`~derive.checker.families`: the unusual shape families a failing case
  belongs to;
- :mod:`~derive.checker.report`: the verdicts and how they print;
- :mod:`~derive.checker.run`: the run loop, every op of a run with one ``RunOptions``;
- :mod:`~derive.checker.profiles`: the Hypothesis settings profiles.

It sits above the stages it reads: the reference gradients (``derive.symbolic``), the
targets it runs (``derive.targets``, ``derive.bindings``) and the worker processes of
untrusted code (``derive.isolation``).
"""
