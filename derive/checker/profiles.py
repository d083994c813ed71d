"""Hypothesis profiles for checking backward functions.

``dev``
    quick: 25 examples per op;
``thorough``
    1000 examples per op;
``ci``
    Hypothesis's own (derandomized, no example database, 100 examples), which
    Hypothesis loads by itself when it detects a CI.  derive keeps it, and gives it
    time limits.

Select one the usual way: ``pytest --hypothesis-profile=thorough`` or
``HYPOTHESIS_PROFILE=thorough``.  The pytest plugin registers ``dev`` and ``thorough``,
keeping any profile of the same name the project already registered; a project that
wants a lighter ``ci`` registers its own (derive's own tests do, with 60 examples).

Each profile also sets the time limits of an isolated target (:data:`TIME_LIMITS`):
seconds per call and per op; ``thorough`` gives an op longer, since it draws more.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

PROFILES = {
    "dev": dict(max_examples=25, deadline=None),
    "thorough": dict(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]),
}


#: (seconds one call of the target may take, seconds one op's check may take), per profile
TIME_LIMITS = {"dev": (10.0, 120.0), "ci": (10.0, 300.0), "thorough": (30.0, 1800.0)}
DEFAULT_TIME_LIMITS = (10.0, 300.0)


def time_limits(profile=None):
    """``(timeout, op_timeout)`` of ``profile`` (default: the active Hypothesis profile)."""
    if profile is None:
        current = getattr(settings, "get_current_profile_name", None)  # an old Hypothesis has none: defaults
        profile = current() if current is not None else None
    return TIME_LIMITS.get(profile, DEFAULT_TIME_LIMITS)


def register(overwrite=False):
    """Register the profiles (by default only those not registered yet)."""
    for name, kwargs in PROFILES.items():
        if not overwrite:
            try:
                settings.get_profile(name)
                continue
            except InvalidArgument:
                pass
        settings.register_profile(name, **kwargs)
