"""The worker process: loads one target and runs its code on request, nothing else.

Started by :class:`derive.isolation.process.Worker` as
``python -c "from derive.isolation.worker import main; main(FD)"``; it reads
requests from the socket ``FD`` and answers each one.  Whatever the target does
here (exit, crash, hang, print, patch derive's modules) stays here: the checker
compares the answers in its own process.

Requests: ``("load", spec, style, sys_path, cwd)``, ``("supports", op)``,
``("run", op, case, inputs, G)``, ``("graph", graph, leaf_values, G)``.  Replies: ``("ok", value)`` or an error
``(kind, ...)`` with kind ``unsupported``, ``protocol``, ``forward``, ``raised``,
``exit``, ``target_error``.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback

_TARGET = None


def _where(exc):
    """``file:line`` of the innermost frame outside derive (where the target raised)."""
    derive_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if not os.path.abspath(frame.filename).startswith(derive_dir):
            where = f"{os.path.basename(frame.filename)}:{frame.lineno}"
    return where


def _raised(kind, exc):
    return (kind, type(exc).__name__, str(exc)[:2000], _where(exc))


def _exit_reply(exc):
    code = exc.code
    return ("exit", code if isinstance(code, (int, type(None))) else str(code)[:200])


def _load(spec, style, sys_path, cwd, user_ops=()):
    global _TARGET
    from derive.catalog.registry import register
    from derive.targets.base import TargetError
    from derive.targets.loading import load_target
    for op in user_ops:  # the checker's own ops beyond the standard ones, as stand-ins
        register(op, replace=True)
    sys.path[:] = [p for p in sys_path if p not in ("", cwd)] + [cwd]
    try:
        os.chdir(cwd)
        _TARGET = load_target(spec, style, isolate=False)
    except TargetError as exc:
        return ("target_error", str(exc))
    t = _TARGET
    return ("ok", {"name": str(t.name), "style": str(t.style), "seeding": str(t.seeding),
                   "exact_capable": bool(t.exact_capable), "describe": str(t.describe())})


def _op(wire):
    """The catalog's op for a name; a user's op comes as a stand-in."""
    from derive.catalog.registry import get_op
    return get_op(wire) if isinstance(wire, str) else wire


def _supports(op):
    ok, reason = _TARGET.supports(_op(op))
    return ("ok", (bool(ok), str(reason)))


def _run(op, case, inputs, G, repeat=1):
    """One call (``repeat=2``: and the same call again, to compare the gradients here)."""
    import numpy as np
    from derive.isolation.channel import encode_value
    from derive.targets.base import CONSTANT, changed_gradients, copy_upstream, modified_in_place, to_array
    op = _op(op)
    before = [np.array(a, copy=True) for a in inputs], copy_upstream(G)
    outcome = _TARGET.run(op, case, inputs, G)
    modified = modified_in_place(inputs, G, before)
    unstable = ()
    if repeat == 2 and not modified:
        unstable = changed_gradients(outcome.grads, _TARGET.run(op, case, inputs, G).grads)
    output = (("pieces", [encode_value(p, to_array, CONSTANT) for p in outcome.output])
              if isinstance(outcome.output, list) else encode_value(outcome.output, to_array, CONSTANT))
    grads = tuple(encode_value(g, to_array, CONSTANT) for g in outcome.grads)
    return ("ok", (output, grads, [str(n) for n in outcome.notes], list(modified), list(unstable)))


def _graph(graph, leaf_values, G):
    """The leaves' gradients after one ``backward()``, a second one and one after zeroing (see ``run_graph``)."""
    from derive.isolation.channel import encode_value
    from derive.targets.base import CONSTANT, ProtocolError, to_array
    if not callable(getattr(_TARGET, "run_graph", None)):
        raise ProtocolError(f"{_TARGET.name} is not a graph engine (style {_TARGET.style})")
    passes = _TARGET.run_graph(graph, leaf_values, G)
    encode = lambda grads: None if grads is None else tuple(encode_value(g, to_array, CONSTANT) for g in grads)  # noqa: E731
    return ("ok", tuple(encode(p) for p in passes))


_HANDLERS = {"load": _load, "supports": _supports, "run": _run, "graph": _graph}


def handle(request):
    """One request's reply; target code's own errors and exits become error replies."""
    import numpy as np
    from derive.targets.base import ForwardError, ProtocolError, TargetError, Unsupported
    np.seterr(all="warn", under="ignore")  # NumPy's defaults: the target may have changed them
    kind, *args = request
    try:
        return _HANDLERS[kind](*args)
    except Unsupported as exc:
        return ("unsupported", str(exc))
    except ProtocolError as exc:
        return ("protocol", str(exc))
    except TargetError as exc:
        return ("target_error", str(exc))
    except ForwardError as exc:
        return _raised("forward", exc.exc)
    except SystemExit as exc:
        return _exit_reply(exc)
    except BaseException as exc:  # noqa: BLE001  KeyboardInterrupt too: a real Ctrl-C never reaches a worker
        return _raised("raised", exc)


def _die_with_parent():
    """Linux: end this worker when the checker ends, even if the checker is killed."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001  other systems: the closed socket ends the loop
        pass


def _limit_resources(max_output_bytes, max_memory_bytes):
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault leaves no core file
        if max_output_bytes:
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_output_bytes, max_output_bytes))
        if max_memory_bytes:  # a runaway allocation is a MemoryError here, not the machine's OOM killer
            resource.setrlimit(resource.RLIMIT_AS, (max_memory_bytes, max_memory_bytes))
    except Exception:  # noqa: BLE001  not available here
        pass


def main(fd, max_output_bytes=0, max_memory_bytes=0):
    """Serve requests on socket ``fd`` until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the checker's to handle
    _die_with_parent()
    _limit_resources(max_output_bytes, max_memory_bytes)
    from multiprocessing.connection import Connection
    from derive.isolation.channel import receive, send
    conn = Connection(fd)
    while True:
        try:
            request = receive(conn)
        except (EOFError, OSError):
            os._exit(0)
        reply = handle(request)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001  the target closed or replaced them
            pass
        try:
            send(conn, reply)  # pickles first: nothing is written when that fails
        except OSError:
            os._exit(0)
        except Exception as exc:  # noqa: BLE001  the target's answer cannot be pickled: said as such
            send(conn, ("raised", type(exc).__name__, f"its answer cannot be sent back: {exc}", ""))
