"""Load a target: in a worker process when it is given by name (the default), else here."""

from __future__ import annotations

from ..bindings import load_here
from ..targets.base import Target, TargetError
from ..targets.loading import check_style

__all__ = ["load_target"]


def load_target(target="numeric", style=None, isolate=True, timeout=None, load_timeout=None, wait=True,
                sandbox=None):
    """Resolve ``target`` (a name or an object) into a :class:`~derive.targets.base.Target`, settling its
    protocol.

    ``target`` is ``"numeric"`` (default), ``"numeric.backward"``, the name of a library
    with a ready binding (``torch``, ``autograd``, ``jax``, ``mygrad``, ``mlfz``; see
    :mod:`derive.bindings`), a ``module``, ``module:attr`` or ``path/to/file.py[:attr]``,
    a :class:`~derive.targets.binding.Binding`, a module, a class, or a Target.

    A target given by name runs in a worker process (:mod:`derive.isolation`) unless
    ``isolate`` is False; ``timeout`` is then the seconds one call may take, and
    ``load_timeout`` the seconds its import and discovery may take (default 60); with
    ``wait=False`` loading finishes at the first use, and a failure raises there; ``sandbox``
    (True, or a :class:`~derive.isolation.sandbox.Sandbox`) confines that worker.  A target given as an
    object already lives in this process and runs here.

    Raises
    ------
    TargetError
        The target cannot be imported, or no protocol fits (the message names what
        was tried and what a binding would need).
    """
    if isinstance(target, Target):
        return target
    check_style(style)  # here too: a usage error before any worker starts
    if isinstance(target, str) and isolate:
        if not target.strip():
            raise TargetError("the target's name is empty")
        from .target import isolated
        if sandbox is True:  # a sandbox of its own, on a scratch copy of the target's folder
            import atexit
            from .sandbox import Sandbox, SandboxError
            try:
                sandbox = Sandbox()
                target = sandbox.prepare(target)
            except SandboxError as exc:
                raise TargetError(f"--sandbox: {exc}") from None
            atexit.register(sandbox.cleanup)
        return isolated(target, style, timeout, load_timeout, wait, sandbox or None)
    return load_here(target, style)
