"""Find the submissions a glob names, and give each a short name.

``submissions/*/functional.py`` matching ``submissions/alice/functional.py`` and
``submissions/bob/functional.py`` gives the names ``alice`` and ``bob``: the path
parts the submissions do not share.
"""

from __future__ import annotations

import glob
import os

__all__ = ["is_pattern", "find", "short_names"]


def is_pattern(spec):
    """Whether a ``--target`` is a glob (``*``, ``?`` or ``[``) rather than one target."""
    path = spec.split(":", 1)[0] if not os.path.exists(spec) else spec
    return any(c in path for c in "*?[")


def find(pattern):
    """The files or folders ``pattern`` matches, sorted (a ``:attr`` suffix is kept on each)."""
    path, colon, attr = pattern.partition(":")
    matches = sorted(glob.glob(os.path.expanduser(path), recursive=True))
    return [m + colon + attr for m in matches if not os.path.basename(m).startswith((".", "__pycache__"))]


def short_names(paths):
    """A unique short name per path: the parts that are not common to all of them."""
    if not paths:
        return []
    split = [os.path.normpath(p.partition(":")[0]).split(os.sep) for p in paths]
    if len(split) == 1:
        parts = split[0]
        stem = os.path.splitext(parts[-1])[0]
        return [parts[-2] if len(parts) > 1 and stem in ("functional", "__init__", "solution") else stem]
    head = 0
    while all(len(s) > head + 1 and s[head] == split[0][head] for s in split):
        head += 1
    tail = 0
    while all(len(s) > head + tail + 1 and s[-1 - tail] == split[0][-1 - tail] for s in split):
        tail += 1
    names = ["/".join(s[head:len(s) - tail]) for s in split]
    names = [os.path.splitext(n)[0] if n.endswith(".py") else n for n in names]
    if len(set(names)) < len(names):  # pragma: no cover - distinct paths always differ somewhere
        return [p.partition(":")[0] for p in paths]
    return names
