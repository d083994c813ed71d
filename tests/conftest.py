"""Hypothesis profiles (see :mod:`derive.checker.profiles`): ``dev`` by default, ``ci`` when CI is set,
``thorough`` on request (``--hypothesis-profile=thorough`` or ``HYPOTHESIS_PROFILE``).  The suite runs
on every core unless told otherwise."""

import os

import pytest
from hypothesis import HealthCheck, settings

from derive.checker import profiles

profiles.register(overwrite=True)
# lighter than Hypothesis's own ci (100 examples): CI runs this whole suite
settings.register_profile("ci", max_examples=60, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


#: what CI installs with the ``reference`` extra: there, a missing one is an error, not skipped tests
REFERENCE_LIBRARIES = ("torch", "jax")


def pytest_configure(config):
    if os.environ.get("CI"):
        import importlib.util
        missing = [name for name in REFERENCE_LIBRARIES if importlib.util.find_spec(name) is None]
        if missing:
            raise pytest.UsageError(f"CI runs the reference tests, but {', '.join(missing)} is not installed: "
                                    'pip install -e ".[reference]"')


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """xdist's ``-n auto`` by default, decided here rather than in ``addopts``: ``-n N`` and
    ``-p no:xdist`` keep their meaning, and ``--lf``, ``--ff``, ``--pdb`` and ``-x`` run in this
    process, where they mean what they say."""
    option = config.option
    if hasattr(config, "workerinput"):  # an xdist worker: it runs tests, it does not start workers
        return
    if not config.pluginmanager.hasplugin("xdist") or getattr(option, "numprocesses", None) is not None:
        return
    if not any(getattr(option, name, False) for name in ("lf", "failedfirst", "usepdb", "exitfirst")):
        option.numprocesses = "auto"
