"""A target whose code runs in a worker process: :class:`IsolatedTarget`.

It answers like any :class:`~derive.targets.base.Target` (``supports``, ``run``),
but every import, forward and backward runs in a :class:`~.process.Worker`; only
data comes back.  An exit, a crash or a call over the time limit becomes a
:class:`~derive.targets.base.TargetCrashed` naming what happened; the worker is
started again (and the target loaded again) for the next call.

Targets are shared by name within a process, so checking op after op (or test
after test) reuses one worker; at most ``MAX_LIVE`` workers are kept.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import os
import pickle
import sys
from collections import OrderedDict

import numpy as np

from ..targets.base import (CONSTANT, ForwardError, Outcome, ProtocolError, RemoteError, Target, TargetCrashed,
                            TargetError, Unsupported, modified_in_place)
from .channel import (NODES_PER_ENTRY, MIN_NODES, Budget, ReplyError, decode_value, printable, reply_limit,
                      symbols_of)
from .process import Worker
from .protocol import REPLIES, Graph, Load, Run, Supports, read
from ..targets.engine import MAX_SPELLINGS

__all__ = ["IsolatedTarget", "isolated", "DEFAULT_TIMEOUT", "LOAD_TIMEOUT", "shutdown"]

#: seconds one call of the target (forward and backward of one case) may take
DEFAULT_TIMEOUT = 10.0
#: seconds importing the target and settling its protocol may take (torch alone takes seconds)
LOAD_TIMEOUT = 60.0
MAX_LIVE = 4

_LIVE = OrderedDict()


def isolated(spec, style=None, timeout=None, load_timeout=None, wait=True, sandbox=None):
    """The shared, loaded :class:`IsolatedTarget` for ``spec`` (a target's name).

    ``wait=False``: loading goes on in the worker and finishes at :meth:`IsolatedTarget.ready`.
    ``sandbox``: a :class:`~.sandbox.Sandbox` the worker runs in (``spec`` then names the target
    inside it, see :meth:`~.sandbox.Sandbox.prepare`).
    """
    key = (spec, style, os.getcwd(), tuple(sys.path), id(sandbox))
    target = _LIVE.pop(key, None)
    if target is None:
        target = IsolatedTarget(spec, style, load_timeout=load_timeout or LOAD_TIMEOUT, sandbox=sandbox)
        try:
            target.load(wait=wait)
        except BaseException:
            target.close()
            raise
    _LIVE[key] = target
    while len(_LIVE) > MAX_LIVE:
        _, old = _LIVE.popitem(last=False)
        old.close()
    if timeout is not None:
        target.timeout = float(timeout)
    return target


@atexit.register
def shutdown():
    """End every worker this process started."""
    while _LIVE:
        _, target = _LIVE.popitem()
        target.close()


def _wire_op(op):
    """What the worker needs of ``op``: its catalog name, or a stand-in without the symbolic parts."""
    from ..catalog.registry import is_standard
    if is_standard(op):
        return op.name
    from ..catalog.registry import Pieces
    from ..catalog.spelling import call_by_name
    call = op.call
    try:
        pickle.dumps(call)
    except Exception:  # noqa: BLE001  a lambda: the worker spells the op by name
        call = functools.partial(call_by_name, name=op.name)
    pieces = op.pieces and Pieces(None, None, op.pieces.joined)  # the worker only needs to know there are pieces
    inputs = tuple(dataclasses.replace(spec, drawn=None) for spec in op.inputs)  # read back here, not there
    return dataclasses.replace(op, inputs=inputs, define=None, forward=None, cases=None, variants=(), call=call,
                               pieces=pieces)


class IsolatedTarget(Target):
    """The target named ``spec``, run in a worker process with a time limit per call."""

    def __init__(self, spec, style=None, timeout=DEFAULT_TIMEOUT, load_timeout=LOAD_TIMEOUT, sandbox=None):
        self.spec, self.requested_style = spec, style
        self.timeout, self.load_timeout = float(timeout), float(load_timeout)
        self.sandbox = sandbox
        self.worker = Worker(sandbox)
        self.name = str(spec)
        self._loaded_in = None
        self.uses_reference = False  # whether loading it imported derive's reference implementation
        self._supported = {}
        self._others = {}
        self._draws = {}
        self._wire = {}

    # -- loading -----------------------------------------------------------------------
    def load(self, wait=True):
        """Import the target in the worker and settle its protocol; :class:`TargetError` if it cannot.

        ``wait=False`` returns at once: loading then finishes in :meth:`ready` (or the first call),
        while this process does other work (derivations).
        """
        from ..catalog.registry import is_standard, ops
        what = f"loading target {self.spec}"
        # the user's own ops (declared in a notebook, say) go too: discovery looks for functions named after them
        user_ops = [_wire_op(op) for op in ops() if not is_standard(op)]
        try:
            cwd = os.getcwd() if self.sandbox is None else self.sandbox.cwd
            self.worker.post(Load(self.spec, self.requested_style, list(sys.path), cwd, user_ops), what)
        except TargetCrashed as exc:
            raise TargetError(str(exc)) from None
        self._pending = what
        return self.ready() if wait else self

    def ready(self):
        """Finish a load started with ``wait=False`` (:class:`TargetError` if it failed)."""
        what = getattr(self, "_pending", None)
        if what is None:
            return self
        self._pending = None
        try:
            reply = self.worker.answer(self.load_timeout, what)
        except TargetCrashed as exc:
            text, _ = self.worker.drain_output()
            raise TargetError(f"{exc}{_last_line(text)}") from None
        try:
            reply = read(reply, "loaded")
        except ValueError:
            reply = {"kind": None}
        kind = reply["kind"]
        if kind == "loaded":
            self.name, self.style = printable(reply["name"]), printable(reply["style"])
            self.seeding, self.exact_capable = printable(reply["seeding"]), bool(reply["exact_capable"])
            self._describe = printable(reply["describe"])
            self.uses_reference = bool(reply["reference"]) and not str(self.spec).startswith("numeric")
            self._loaded_in = self.worker.started
            self.worker.drain_output()
            return self
        self.worker.stop()
        if kind == "target_error":
            raise TargetError(printable(reply["message"]))
        if kind == "exit":
            raise TargetError(f"{what}: it called sys.exit({printable(_code(reply['code']))})")
        if kind in ("raised", "forward"):
            raise TargetError(f"{what}: it raised {printable(reply['type'])}: {printable(reply['message'])}")
        raise TargetError(f"{what}: the worker gave no usable answer")

    def _ensure_loaded(self):
        if getattr(self, "_pending", None) is not None:
            self.ready()
        if self._loaded_in == self.worker.started and self.worker.alive():
            return
        try:
            self.load()
        except TargetError as exc:
            raise TargetCrashed("crash", f"the target could not be loaded again after its worker ended: {exc}") \
                from None

    def close(self):
        self.worker.stop()

    def describe(self):
        return getattr(self, "_describe", self.name) + " [isolated]"

    def drain_output(self):
        return self.worker.drain_output()

    # -- calls -------------------------------------------------------------------------
    def _call(self, request, op, *args, answer, limit=None):
        """The reply to ``request(op, *args)``: the answer ``answer``; an error reply is raised."""
        self._ensure_loaded()
        wire = self._wire.get(id(op))
        if wire is None or wire[0] is not op:
            wire = self._wire[id(op)] = (op, _wire_op(op))
        extra = {} if limit is None else {"limit": limit}
        return _answer(self.worker.ask(request(wire[1], *args), self.timeout, f"the target's {op.name}", **extra),
                       answer)

    def supports(self, op):
        key = (op.name, id(op))
        if key not in self._supported:
            reply = self._call(Supports, op, answer="supported")
            others, draws = reply["spellings"], reply["draws"]
            if not all(isinstance(names, list) and all(type(n) is str for n in names) for names in (others, draws)):
                raise TargetCrashed("crash", "the worker gave an unreadable answer (labels that are not text)")
            self._supported[key] = (bool(reply["ok"]), printable(reply["reason"]))
            self._others[key] = tuple(printable(label) for label in others[:MAX_SPELLINGS])
            # only inputs the op says may be drawn: anything else the worker claims is ignored
            self._draws[key] = tuple(spec.name for spec in op.inputs if spec.drawn is not None
                                     and spec.name in draws)
        return self._supported[key]

    def other_spellings(self, op):
        """The labels of the target's other spellings of ``op``, as its worker found them."""
        self.supports(op)
        return self._others[(op.name, id(op))]

    def draws(self, op):
        """The inputs of ``op`` the target draws itself, as its worker said (only those that may be)."""
        self.supports(op)
        return self._draws[(op.name, id(op))]

    def run(self, op, case, inputs, G, repeat=1, spelling=None):
        """One call in the worker; what it observed is judged here: the inputs and G it sent back
        after the call are compared with the ones sent (``Outcome.modified``), and the gradients of
        a repeated call come back as they are (``Outcome.again``)."""
        if spelling is not None and spelling not in self.other_spellings(op):
            raise ValueError(f"{op.name}: no spelling {spelling!r} in {self.name}")
        reply = self._call(Run, op, case, inputs, G, repeat, spelling, answer="ran",
                           limit=(2 + repeat) * reply_limit(*inputs, G))
        try:
            output, grads, notes, inputs_after, G_after, again = (reply[name] for name in REPLIES["ran"])
            decode = _decoder(inputs, G)
            grads = tuple(decode(g) for g in grads)
            if len(inputs_after) != len(inputs):
                raise ReplyError("a reply with the wrong number of inputs")
            after = [decode(a) for a in inputs_after], decode(G_after)
            outcome = Outcome(decode(output), grads, [printable(n) for n in notes],
                              modified_in_place(after[0], after[1], (inputs, G)),
                              again=None if again is None else tuple(decode(g) for g in again))
        except (ReplyError, TypeError, ValueError) as exc:
            raise TargetCrashed("crash", f"the worker gave an unreadable answer ({exc})") from None
        return outcome

    def run_graph(self, graph, leaf_values, G):
        """A generated graph through the engine in the worker (see ``EngineTarget.run_graph``)."""
        self._ensure_loaded()
        leaf_values = [np.asarray(v) for v in leaf_values]
        reply = _answer(self.worker.ask(Graph(graph, leaf_values, np.asarray(G)), self.timeout, "the target's graph",
                                        limit=3 * reply_limit(*leaf_values)), "graphed")
        try:
            first, second, zeroed = (reply[name] for name in REPLIES["graphed"])
            decode = _decoder(leaf_values, G)
            decode_all = lambda grads: None if grads is None else [  # noqa: E731
                None if g is CONSTANT else g for g in (decode(v) for v in grads)]
            return decode_all(first), decode_all(second), decode_all(zeroed)
        except (ReplyError, TypeError, ValueError) as exc:
            raise TargetCrashed("crash", f"the worker gave an unreadable answer ({exc})") from None


def _decoder(inputs, G):
    """Rebuilds the values of one reply: only the symbols sent may come back, within one node budget
    for the whole reply."""
    symbols = symbols_of(*inputs, G)
    budget = Budget(MIN_NODES + NODES_PER_ENTRY * sum(int(np.size(p)) for a in [*inputs, G]
                                                      for p in (a if isinstance(a, list) else [a])))
    return lambda item: decode_value(item, CONSTANT, symbols, budget)


def _code(code):
    return "" if code is None else repr(code)


def _last_line(text):
    if "Fatal Python error" in text:  # a faulthandler dump: the crash site is already named
        return ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return f"; it printed: {lines[-1][:300]}" if lines else ""


def _answer(reply, kind):
    """``reply`` if it is the answer ``kind``; what an error reply stands for is raised, and anything
    else is the worker's crash."""
    try:
        reply = read(reply, kind)
    except ValueError as exc:
        raise TargetCrashed("crash", f"the worker gave an unreadable answer ({exc})") from None
    if reply["kind"] == kind:
        return reply
    _raise(reply)


def _raise(reply):
    """Raise what an error reply stands for."""
    kind = reply["kind"]
    if kind == "unsupported":
        raise Unsupported(printable(reply["message"]))
    if kind == "protocol":
        raise ProtocolError(printable(reply["message"]), mismatch=reply["mismatch"] is True)
    if kind == "target_error":
        raise TargetError(printable(reply["message"]))
    if kind in ("forward", "raised"):
        error = RemoteError(printable(reply["type"]), printable(reply["message"]), printable(reply["where"]))
        if kind == "forward":
            raise ForwardError(error)
        if reply["output"] is not None:  # the forward's answer before its backward raised: compared first, by the checker
            decoded = decode_value(reply["output"], CONSTANT)
            if isinstance(decoded, np.ndarray):
                error.forward_output = decoded
        raise error
    assert kind == "exit", kind  # read() lets no other kind through
    raise TargetCrashed("exit", f"the target called sys.exit({printable(_code(reply['code']))})")
