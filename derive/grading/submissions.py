"""Find the submissions a glob names, and give each a short name.

``submissions/*/functional.py`` matching ``submissions/alice/functional.py`` and
``submissions/bob/functional.py`` gives the names ``alice`` and ``bob``: the path
parts the submissions do not share.
"""

from __future__ import annotations

import glob
import os

__all__ = ["is_pattern", "find", "short_names", "own_folders"]


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


def own_folders(paths):
    """``(folders, root)``: the folder (or, in a flat layout, the file) that belongs to each submission
    alone, and the folder that holds them all.

    >>> own_folders(["s/alice/functional.py", "s/bob/functional.py"])[0] == [os.path.abspath("s/alice"),
    ...                                                                  os.path.abspath("s/bob")]
    True
    >>> own_folders(["hw/alice.py", "hw/bob.py"])[1] == os.path.abspath("hw")
    True
    """
    split = [os.path.abspath(p.partition(":")[0]).split(os.sep) for p in paths]
    if not split:
        return [], None
    if len(split) == 1:
        path = os.sep.join(split[0])
        own = path if os.path.isdir(path) else os.path.dirname(path)
        return [own], os.path.dirname(own)
    head = 0
    while all(len(s) > head + 1 and s[head] == split[0][head] for s in split):
        head += 1
    return [os.sep.join(s[:head + 1]) for s in split], os.sep.join(split[0][:head]) or os.sep
