"""Helpers for the tests that read the fixture files in tests/targets/."""

import importlib.util
import os

TARGETS = os.path.join(os.path.dirname(__file__), "targets")


def import_fixture(path, name):
    """The fixture file at ``path`` imported as module ``name`` (fixture folders share file names, such
    as correct.py and buggy.py, so each gets a name of its own)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
