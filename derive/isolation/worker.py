"""The worker process: loads one target and runs its code on request, nothing else.

Started by :class:`derive.isolation.process.Worker` as
``python -c "from derive.isolation.worker import main; main(FD)"``; it reads
requests from the socket ``FD`` and answers each one.  Whatever the target does
here (exit, crash, hang, print, patch derive's modules) stays here: the checker
compares the answers in its own process.

The requests it answers and the replies it writes are :mod:`derive.isolation.protocol`'s.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback

from derive.isolation.protocol import Graph, Load, Run, Supports, reply

_TARGET = None


def _where(exc):
    """``file:line`` of the innermost frame outside derive (where the target raised), and ``, in
    __pow__`` when that frame is an operator's method (a Tensor refusing an operand kind)."""
    derive_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    where = ""
    for frame in traceback.extract_tb(exc.__traceback__):
        if not os.path.abspath(frame.filename).startswith(derive_dir):
            operator = frame.name.startswith("__") and frame.name.endswith("__") and frame.name != "__init__"
            where = f"{os.path.basename(frame.filename)}:{frame.lineno}" + (f", in {frame.name}" if operator else "")
    return where


def _text(x, size=2000):
    """``str(x)`` as a plain ``str`` (never a subclass the checker could not read), cut to ``size``."""
    try:
        return "".join(str(x)[:size])  # join: a plain str, whatever str() gave
    except Exception:  # noqa: BLE001  a __str__ that raises
        return f"<{type(x).__name__} that cannot be shown>"


def _raised(kind, exc):
    output = getattr(exc, "forward_output", None)  # a backward's error after a forward that ran
    if output is not None:
        from derive.isolation.channel import encode_value
        from derive.targets.base import CONSTANT, to_array
        try:
            output = encode_value(output, to_array, CONSTANT)
        except Exception:  # noqa: BLE001  an output that cannot be sent: the error alone
            output = None
    return reply(kind, type=_text(type(exc).__name__, 200), message=_text(exc), where=_where(exc), output=output)


def _exit_reply(exc):
    code = exc.code
    return reply("exit", code=int(code) if type(code) is int or isinstance(code, bool) else None if code is None
                 else _text(code, 200))


def _load(spec, style, sys_path, cwd, user_ops=()):
    global _TARGET
    from derive.catalog.registry import register
    from derive.targets.base import TargetError, describe_loaded
    from derive.bindings import load_here
    for op in user_ops:  # the checker's own ops beyond the standard ones, as stand-ins
        register(op, replace=True)
    sys.path[:] = [p for p in sys_path if p not in ("", cwd)] + [cwd]
    try:
        os.chdir(cwd)
        _TARGET = load_here(spec, style)
    except TargetError as exc:
        return reply("target_error", message=_text(exc))
    t = _TARGET
    # derive itself never imports its reference implementation here: a target that did is said so
    reference = any(m == "numeric" or m.startswith("numeric.") for m in list(sys.modules))
    return reply("loaded", name=_text(t.name), style=_text(t.style, 200), seeding=_text(t.seeding),
                 exact_capable=bool(t.exact_capable), describe=_text(describe_loaded(t), 4000),
                 reference=bool(reference))


def _op(wire):
    """The catalog's op for a name; a user's op comes as a stand-in."""
    from derive.catalog.registry import get_op
    return get_op(wire) if isinstance(wire, str) else wire


def _supports(op):
    op = _op(op)
    ok, reason = _TARGET.supports(op)
    others = [_text(label, 200) for label in _TARGET.other_spellings(op)] if ok else []
    draws = [_text(name, 200) for name in _TARGET.draws(op)] if ok else []
    return reply("supported", ok=bool(ok), reason=_text(reason), spellings=others, draws=draws)


def _run(op, case, inputs, G, repeat=1, spelling=None):
    """One call, and what it left: the inputs and G after it (and with ``repeat=2`` the gradients of
    the same call made again on fresh copies); ``spelling``, one of the labels ``supports`` sent,
    makes the call through that spelling.  The checker compares them, never this process."""
    import numpy as np
    from derive.isolation.channel import encode_value
    from derive.targets.base import CONSTANT, copy_upstream, each_piece, to_array
    op = _op(op)
    encode = lambda v: encode_value(v, to_array, CONSTANT)  # noqa: E731
    pristine = [np.array(a, copy=True) for a in inputs], copy_upstream(G)
    more = {} if spelling is None else {"spelling": spelling}
    outcome = _TARGET.run(op, case, inputs, G, **more)
    output = (("pieces", [encode(p) for p in outcome.output]) if isinstance(outcome.output, list)
              else encode(outcome.output))
    grads = [encode(g) for g in outcome.grads]
    inputs_after = [encode(a) for a in inputs]
    G_after = ("pieces", each_piece(encode, G)) if isinstance(G, list) else encode(G)
    again = None
    if repeat == 2:
        again = [encode(g) for g in _TARGET.run(op, case, *pristine, **more).grads]
    return reply("ran", output=output, grads=grads, notes=[_text(n) for n in outcome.notes],
                 inputs_after=inputs_after, G_after=G_after, again=again)


def _graph(graph, leaf_values, G):
    """The leaves' gradients after one ``backward()``, a second one and one after zeroing (see ``run_graph``)."""
    from derive.isolation.channel import encode_value
    from derive.targets.base import CONSTANT, ProtocolError, to_array
    if not callable(getattr(_TARGET, "run_graph", None)):
        raise ProtocolError(f"{_TARGET.name} is not a graph engine (style {_TARGET.style})")
    first, second, zeroed = _TARGET.run_graph(graph, leaf_values, G)
    encode = lambda grads: None if grads is None else [encode_value(g, to_array, CONSTANT) for g in grads]  # noqa: E731
    return reply("graphed", first=encode(first), second=encode(second), zeroed=encode(zeroed))


_HANDLERS = {Load: _load, Supports: _supports, Run: _run, Graph: _graph}


def handle(request):
    """One request's reply; target code's own errors and exits become error replies."""
    import numpy as np
    from derive.targets.base import ForwardError, ProtocolError, TargetError, Unsupported
    np.seterr(all="warn", under="ignore")  # NumPy's defaults: the target may have changed them
    try:
        return _HANDLERS[type(request)](*request)
    except Unsupported as exc:
        return reply("unsupported", message=_text(exc))
    except ProtocolError as exc:
        return reply("protocol", message=_text(exc), mismatch=bool(exc.mismatch))
    except TargetError as exc:
        return reply("target_error", message=_text(exc))
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
    """Each limit on its own, never above the one this process inherited (a grader run under
    ``ulimit -f`` still caps its workers' memory)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not available here
        return
    for limit, value in ((resource.RLIMIT_CORE, 0),  # a segfault leaves no core file
                         (resource.RLIMIT_FSIZE, max_output_bytes),
                         # a runaway allocation is a MemoryError here, not the machine's OOM killer
                         (resource.RLIMIT_AS, max_memory_bytes)):
        if limit != resource.RLIMIT_CORE and not value:
            continue
        try:
            soft, hard = resource.getrlimit(limit)
            value = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(limit, (value, value))
        except (ValueError, OSError):  # pragma: no cover - a system that refuses this one
            pass


def _import_ahead():
    """Import what loading a target needs (SymPy and the catalog, with its op declarations) while the
    checker imports its own: a worker is started before the checker's imports, so the two overlap."""
    from derive.bindings import load_here  # noqa: F401
    from derive.catalog.registry import ops
    ops()


def main(fd, max_output_bytes=0, max_memory_bytes=0):
    """Serve requests on socket ``fd`` until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the checker's to handle
    _die_with_parent()
    _limit_resources(max_output_bytes, max_memory_bytes)
    import socket
    from derive.isolation.channel import Channel
    conn = Channel(socket.socket(fileno=fd))
    _import_ahead()
    while True:
        try:
            request = conn.receive()
        except (EOFError, OSError):
            os._exit(0)
        answer = handle(request)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001  the target closed or replaced them
            pass
        try:
            conn.send(answer)  # pickles first: nothing is written when that fails
        except OSError:
            os._exit(0)
        except Exception as exc:  # noqa: BLE001  the target's answer cannot be pickled: said as such
            conn.send(reply("raised", type=_text(type(exc).__name__, 200),
                            message=f"its answer cannot be sent back: {_text(exc)}", where="", output=None))
