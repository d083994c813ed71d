"""The pytest plugin (entry point ``pytest11``): check a package's backward functions.

Options
-------
``--derive-target TARGET``
    The target to check (``mypkg.functional``, ``student.py``, ``torch``...).
``--derive-style STYLE``
    Force its style (``functions``, ``tensor``, ``function-class``).
``--derive-dtype DTYPE``
    ``float64`` (default) or ``float32``.

Fixtures
--------
``derive_target``
    The loaded target (skips when no ``--derive-target`` was given).

The ready suite, one test per catalog op, runs with one command::

    python -m pytest --pyargs derive.suite --derive-target mypkg.functional

Ops the target lacks are skipped with the reason.  The number of examples per
op follows the active Hypothesis profile (``--hypothesis-profile``); the plugin
registers ``dev``, ``ci`` and ``thorough`` (see :mod:`derive.profiles`).
"""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # before Hypothesis's own plugin loads the profile named by --hypothesis-profile
    from derive import profiles
    profiles.register()


def pytest_addoption(parser):
    group = parser.getgroup("derive", "derive: verify backward functions against derived gradients")
    group.addoption("--derive-target", default=None, metavar="TARGET",
                    help="backward implementation to check: numeric, torch, module, module:attr or file.py")
    group.addoption("--derive-style", default=None, choices=["functions", "tensor", "function-class", "functional"],
                    help="force the target's style (default: detected)")
    group.addoption("--derive-dtype", default="float64", choices=["float64", "float32"],
                    help="dtype of the inputs given to the target")


@pytest.fixture(scope="session")
def derive_target(request):
    """The target named by ``--derive-target`` (the test is skipped when there is none)."""
    spec = request.config.getoption("--derive-target")
    if spec is None:
        pytest.skip("no --derive-target given")
    from derive.targets import TargetError, load_target
    try:
        return load_target(spec, request.config.getoption("--derive-style"))
    except TargetError as exc:
        raise pytest.UsageError(f"--derive-target: {exc}") from None


@pytest.fixture(scope="session")
def derive_dtype(request):
    """The dtype named by ``--derive-dtype``."""
    return request.config.getoption("--derive-dtype")
