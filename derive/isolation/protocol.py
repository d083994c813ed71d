"""Every message between the checker and a worker, named once here and used by both sides.

**Requests** (checker to worker) are the named tuples below, pickled: the worker trusts the checker.

- :class:`Load`: load the target ``spec`` (in ``style``, or discovered) with the checker's
  ``sys_path`` and ``cwd``; ``user_ops`` are the checker's own ops beyond the standard ones.
- :class:`Supports`: can the target check ``op``?
- :class:`Run`: one call of ``op`` on ``case`` with ``inputs`` and ``G``; ``repeat=2`` makes the
  same call again on fresh copies (determinism); ``spelling`` names one of the target's other spellings.
- :class:`Graph`: a generated expression graph through the target's engine.

**Replies** (worker to checker) are **data**: a dict of builtins with a ``"kind"`` and the fields
:data:`REPLIES` names for it, read by :func:`~derive.isolation.channel.loads_reply`, which builds
no class.  Arrays and exact values inside are the descriptions of :mod:`derive.isolation.channel`.
The answers:

- ``loaded``: ``name``, ``style``, ``seeding``, ``describe`` (text), ``exact_capable`` and
  ``reference`` (whether the target imported derive's own ``numeric``);
- ``supported``: ``ok``, ``reason``, ``spellings`` (labels of the op's other spellings) and
  ``draws`` (names of the inputs the target draws itself);
- ``ran``: ``output``, ``grads``, ``notes``, ``inputs_after`` and ``G_after`` (as the call left
  them) and ``again`` (the repeated call's gradients, or None);
- ``graphed``: the leaves' gradients after the ``first`` and ``second`` backward and after
  ``zeroed`` ones (each a list, or None).

The errors: ``unsupported``, ``target_error`` (``message``); ``protocol`` (``message``,
``mismatch``: derive called the target the wrong way); ``forward`` and ``raised`` (``type``,
``message``, ``where``, and ``output``, the forward's answer before a backward raised, or None);
``exit`` (``code``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Load", "Supports", "Run", "Graph", "REPLIES", "ERRORS", "reply", "read"]


class Load(NamedTuple):
    spec: Any
    style: Any
    sys_path: list
    cwd: str
    user_ops: list


class Supports(NamedTuple):
    op: Any


class Run(NamedTuple):
    op: Any
    case: Any
    inputs: list
    G: Any
    repeat: int = 1
    spelling: Any = None


class Graph(NamedTuple):
    graph: Any
    leaf_values: list
    G: Any


#: each reply's kind and its fields, answers first
REPLIES = {
    "loaded": ("name", "style", "seeding", "exact_capable", "describe", "reference"),
    "supported": ("ok", "reason", "spellings", "draws"),
    "ran": ("output", "grads", "notes", "inputs_after", "G_after", "again"),
    "graphed": ("first", "second", "zeroed"),
    "unsupported": ("message",),
    "protocol": ("message", "mismatch"),
    "target_error": ("message",),
    "forward": ("type", "message", "where", "output"),
    "raised": ("type", "message", "where", "output"),
    "exit": ("code",),
}
#: the kinds that report an error rather than answer
ERRORS = frozenset(REPLIES) - {"loaded", "supported", "ran", "graphed"}


def reply(kind, **fields):
    """The reply ``kind`` with exactly its fields (the worker's side).

    >>> reply("exit", code=3)
    {'kind': 'exit', 'code': 3}
    """
    if set(fields) != set(REPLIES[kind]):
        raise TypeError(f"a {kind} reply has the fields {REPLIES[kind]}, not {tuple(fields)}")
    return {"kind": kind, **fields}


def read(message, *expected):
    """``message`` as a reply: one of the kinds ``expected`` (or any error), with all its fields (the
    checker's side).  Anything else, whatever a target made of its worker, is a :class:`ValueError`.

    >>> read({"kind": "exit", "code": 0}, "ran")["code"]
    0
    >>> read(("ok", 1), "ran")
    Traceback (most recent call last):
    ...
    ValueError: a reply that is not a message (tuple)
    """
    if type(message) is not dict:
        raise ValueError(f"a reply that is not a message ({type(message).__name__})")
    kind = message.get("kind")
    if type(kind) is not str or kind not in REPLIES or not (kind in expected or kind in ERRORS):
        raise ValueError(f"an unexpected reply {str(kind)[:40]!r}")
    missing = [name for name in REPLIES[kind] if name not in message]
    if missing:
        raise ValueError(f"a {kind} reply without {', '.join(missing)}")
    return message
