"""Hypothesis profiles: ``dev`` (quick), ``ci`` (derandomized, more examples), ``thorough``.

Select one with ``HYPOTHESIS_PROFILE=ci`` or ``pytest --hypothesis-profile=ci``;
CI (the ``CI`` environment variable) defaults to ``ci``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=1000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
