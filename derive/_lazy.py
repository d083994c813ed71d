"""A package's public names imported on first use (PEP 562), so that importing the package is cheap."""

import importlib


def lazy_names(package, table):
    """``(__getattr__, __dir__)`` for ``package`` whose public names live where ``table`` says
    (name -> submodule); each is imported on first use and kept."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{table[name]}", package), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(set(namespace) | set(table))

    return __getattr__, __dir__
