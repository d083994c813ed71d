"""Stage 3: the checker, a target's backward against the derivation.

- :mod:`~derive.checker.verify`: :func:`check`, the property-based check of one op
  on Hypothesis-drawn cases, shrunk to the most ordinary failing one;
- :mod:`~derive.checker.example`: one case run through a target and compared
  (exact, numeric, or finite-difference evidence);
- :mod:`~derive.checker.expected`: the reference gradients of a case, from the
  derivation, cross-checked once against the index formula;
- :mod:`~derive.checker.oracle`: exact symbolic inputs and the finite-difference
  oracle;
- :mod:`~derive.checker.diagnose`: what a wrong gradient most likely is
  (a transpose, a missing sum, a tie split the other way);
- :mod:`~derive.checker.families`: the unusual shape families a failing case
  belongs to;
- :mod:`~derive.checker.report`: the verdicts and how they print;
- :mod:`~derive.checker.check_many`: many ops over worker processes;
- :mod:`~derive.checker.profiles`: the Hypothesis settings profiles.

The targets the checker runs (``derive.targets``), the bindings of real
libraries (``derive.bindings``) and the process isolation of untrusted code
(``derive.isolation``) sit next to this package.
"""
