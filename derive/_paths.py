"""Where derive keeps what it saves between runs: the user's cache folder, never the working folder."""

from __future__ import annotations

import os
import sys

__all__ = ["cache_directory"]


def cache_directory(*parts):
    """derive's folder in the user's cache, joined with ``parts`` (nothing is created).

    ``$DERIVE_CACHE_DIR`` if set; else ``$XDG_CACHE_HOME/derive`` (default ``~/.cache/derive``),
    on macOS ``~/Library/Caches/derive``, on Windows ``%LOCALAPPDATA%\\derive\\Cache``.

    >>> import os
    >>> os.environ["DERIVE_CACHE_DIR"] = "/tmp/derive-cache"
    >>> cache_directory("examples")
    '/tmp/derive-cache/examples'
    >>> del os.environ["DERIVE_CACHE_DIR"]
    """
    base = os.environ.get("DERIVE_CACHE_DIR")
    if not base:
        if sys.platform == "win32":
            base = os.path.join(os.environ.get("LOCALAPPDATA") or os.path.expanduser("~"), "derive", "Cache")
        elif sys.platform == "darwin":
            base = os.path.join(os.path.expanduser("~"), "Library", "Caches", "derive")
        else:
            base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
                                "derive")
    return os.path.join(base, *parts)
