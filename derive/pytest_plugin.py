"""The pytest plugin (entry point ``pytest11``): check a package's backward functions.

Options
-------
``--derive-target TARGET``
    The target to check (``mypkg.functional``, ``student.py``, ``torch``...); or the
    ``derive_target`` ini option.  Tests that use the ``derive_target`` fixture (the
    ready suite does) are a usage error without one, and a target that cannot be
    loaded is one error for the whole run, not one per test.
``--derive-style STYLE``
    Force its style (``functions``, ``tensor``, ``function-class``, ``functional``).
``--derive-dtype DTYPE``
    ``float64`` (default) or ``float32``.
``--derive-timeout SECONDS``, ``--derive-op-timeout SECONDS``
    Time limits of one call of the target and of one op's check (defaults: the
    active profile's, see :mod:`derive.checker.profiles`).

The target runs in a worker process (:mod:`derive.isolation`): its exits, crashes,
hangs and prints fail the op they happen in and cannot stop the run.

Fixtures
--------
``derive_target``
    The loaded target.
``derive_dtype``
    The dtype named by ``--derive-dtype``.

The ready suite, one test per catalog op, runs with one command::

    python -m pytest --pyargs derive.suite --derive-target mypkg.functional

Ops the target lacks are skipped with the reason.  The number of examples per
op follows the active Hypothesis profile (``--hypothesis-profile``); the plugin
registers ``dev``, ``ci`` and ``thorough`` (see :mod:`derive.checker.profiles`).
"""

from __future__ import annotations

import pytest

_TARGET = pytest.StashKey()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    # before Hypothesis's own plugin loads the profile named by --hypothesis-profile
    from derive.checker import profiles
    profiles.register()
    # the user's own ops (--derive-ops, derive_ops) before collection, in every process
    paths = [*config.getoption("--derive-ops"), *config.getini("derive_ops")]
    if paths:
        from derive.catalog.declarations import DeclarationError, load_declarations
        try:
            load_declarations(paths)
        except DeclarationError as exc:
            raise pytest.UsageError(str(exc).replace("--ops", "--derive-ops", 1)) from None


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    """A named target is loaded before collection (so that also under xdist a bad one is one error)."""
    config = session.config
    if config.getoption("--derive-target"):
        _load(config)
    elif any("derive.suite" in str(arg) or "derive/suite.py" in str(arg) for arg in config.args) and \
            not config.getini("derive_target"):
        _missing()


def _missing():
    raise pytest.UsageError("derive: these tests check a target and none was given; pass --derive-target "
                            "TARGET (e.g. --derive-target mypkg.functional) or set derive_target in the "
                            "pytest ini file")


def _load(config):
    if _TARGET in config.stash:
        return
    spec = config.getoption("--derive-target") or config.getini("derive_target")
    if not spec:
        _missing()
    from derive.checker import profiles
    from derive.targets import TargetError
    from derive.isolation import load_target
    timeout = config.getoption("--derive-timeout") or profiles.time_limits()[0]
    try:
        config.stash[_TARGET] = load_target(spec, config.getoption("--derive-style"), timeout=timeout)
    except TargetError as exc:
        raise pytest.UsageError(f"--derive-target: {exc}") from None


def pytest_addoption(parser):
    group = parser.getgroup("derive", "derive: verify backward functions against derived gradients")
    group.addoption("--derive-target", default=None, metavar="TARGET",
                    help="backward implementation to check: numeric, torch, module, module:attr or file.py")
    group.addoption("--derive-style", default=None, choices=["functions", "cache-pairs", "tensor", "function-class", "functional"],
                    help="force the target's style (default: detected)")
    group.addoption("--derive-dtype", default="float64", choices=["float64", "float32"],
                    help="dtype of the inputs given to the target")
    group.addoption("--derive-timeout", default=None, type=float, metavar="SECONDS",
                    help="time limit of one call of the target (default: the profile's, 10 s)")
    group.addoption("--derive-op-timeout", default=None, type=float, metavar="SECONDS",
                    help="time limit of one op's check (default: the profile's)")
    group.addoption("--derive-ops", action="append", default=[], metavar="FILE",
                    help="a file of your own ops (derive.define(...) at its top level), loaded before the "
                         "tests are collected; repeatable")
    parser.addini("derive_target", "the target --derive-target names when it is not given", default="")
    parser.addini("derive_ops", "files of your own ops, as --derive-ops (relative to the ini file)", type="paths",
                  default=[])



def _uses_target(item):
    return "derive_target" in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    """Load the target once, before any test: no target, or a bad one, is one usage error."""
    if any(_uses_target(item) for item in items):
        _load(config)


@pytest.fixture(scope="session")
def derive_target(request):
    """The target named by ``--derive-target``, loaded once."""
    target = request.config.stash.get(_TARGET, None)
    if target is None:  # pragma: no cover - loaded at collection
        raise pytest.UsageError("derive: no --derive-target given")
    return target


@pytest.fixture(scope="session")
def derive_dtype(request):
    """The dtype named by ``--derive-dtype``."""
    return request.config.getoption("--derive-dtype")


@pytest.fixture(scope="session")
def derive_op_timeout(request):
    """Seconds one op's check may take: ``--derive-op-timeout`` or the active profile's."""
    from derive.checker import profiles
    return request.config.getoption("--derive-op-timeout") or profiles.time_limits()[1]
