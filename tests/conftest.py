"""Hypothesis profiles (see :mod:`derive.checker.profiles`): ``dev`` by default, ``ci`` when CI is set,
``thorough`` on request (``--hypothesis-profile=thorough`` or ``HYPOTHESIS_PROFILE``)."""

import os

from hypothesis import settings

from derive.checker import profiles

profiles.register(overwrite=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
