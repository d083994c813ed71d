"""What every target shares: the errors, the answer of one call, array unwrapping."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ..catalog.spelling import Unsupported, fit_params, same_param  # noqa: F401  (targets' API too)

__all__ = ["Target", "Outcome", "TargetError", "Unsupported", "Missing", "ProtocolError",
           "ForwardError", "TargetCrashed", "RemoteError", "CONSTANT", "same_values", "to_array", "raised_name",
           "describe_raised", "describe_loaded", "modified_in_place", "fit_params", "copy_upstream", "after_forward",
           "output_value", "each_piece", "missing_because"]


class TargetError(ValueError):
    """The target cannot be loaded or its protocol cannot be settled (a usage error, never a FAIL)."""


class Missing(Unsupported):
    """The target has no such op at all (no spelling reaches one): the op is skipped whole.  Any
    other :class:`Unsupported` is about one case, and the op's other cases are still tried."""


class ProtocolError(Exception):
    """The target's answer does not follow the protocol (a structural failure).

    ``mismatch=True``: the protocol derive settled on is likely not the one the code was written
    for (a pair whose backward takes no cache); on every case, that is derive's question, not a FAIL.
    """

    def __init__(self, message, mismatch=False):
        super().__init__(message)
        self.mismatch = bool(mismatch)


class ForwardError(Exception):
    """The target's forward raised; ``exc`` is what it raised (the gradient is not checked there)."""

    def __init__(self, exc):
        super().__init__(describe_raised(exc))
        self.exc = exc


class RemoteError(Exception):
    """What target code raised in a worker process, by name: its type is not brought back."""

    def __init__(self, type_name, message, where=""):
        super().__init__(message)
        self.type_name, self.where = type_name, where



def raised_name(exc):
    """The type name of what target code raised (in this process or in a worker)."""
    return getattr(exc, "type_name", type(exc).__name__)


def describe_raised(exc):
    """``ValueError: bad (at student.py:12)``, ``KeyboardInterrupt (at student.py:5)``."""
    text, where = str(exc), getattr(exc, "where", "")
    return raised_name(exc) + (f": {text}" if text else "") + (f" (at {where})" if where else "")


@contextmanager
def after_forward(output):
    """Around a backward pass: what it raises carries the forward's ``output`` (``forward_output``),
    so that the checker compares the forward first, and a forward that is another op is reported
    as that, not as the error its backward then ran into."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001  re-raised as it is
        try:
            exc.forward_output = output
        except Exception:  # noqa: BLE001  an exception that takes no attributes: reported as it is
            pass
        raise


class TargetCrashed(Exception):
    """Target code ended its call without an answer: it timed out, exited or crashed.

    ``kind`` is ``"timeout"``, ``"exit"`` or ``"crash"``; the message names what
    happened plainly ("the target called sys.exit(0)", "crashed with SIGSEGV").
    """

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind


class _Constant:
    """The gradient of an input the target treats as a constant (an engine left it no gradient)."""

    def __repr__(self):
        return "CONSTANT"


CONSTANT = _Constant()


@dataclass
class Outcome:
    """One call of a target: its forward output (None when it has no forward) and the gradients."""

    output: object
    grads: tuple
    notes: list = field(default_factory=list)
    #: what the call modified in place (input positions, and "G"), judged by the checker
    modified: tuple = ()
    #: the gradients of the same call made again on fresh copies (``repeat=2``), else None
    again: tuple = None


class Target:
    """An implementation of backward functions, called through one settled protocol.

    Subclasses set ``name`` and ``style`` and implement :meth:`run`;
    :meth:`supports` says (once, before any example) whether an op is there at all.
    """

    name = "?"
    style = "?"
    exact_capable = True
    #: how the upstream gradient reaches the backward, shown in the report
    seeding = ""

    def supports(self, op):
        """``(True, "")`` or ``(False, reason)``: whether the target has ``op`` at all."""
        return True, ""

    def other_spellings(self, op):
        """Labels of the target's other ways to reach ``op`` (``method Tensor.add`` besides ``operator +``),
        each checked besides the first: ``run(..., spelling=label)``.  None here."""
        return ()

    def draws(self, op):
        """Names of ``op``'s data inputs the target draws itself and ignores when given (CS231n's
        ``dropout_forward`` draws its mask from a seed): the checker reads them back from the output
        (the input's :class:`~derive.catalog.registry.Drawn`).  None here."""
        return ()

    def run(self, op, case, inputs, G):
        """Call forward and backward once; an :class:`Outcome`.

        Raises :class:`ForwardError` when the forward raised, :class:`Unsupported`
        for a case the target cannot express; anything else the backward raised
        propagates as it is.
        """
        raise NotImplementedError

    def describe(self):
        return f"{self.name} ({self.style}{'; ' + self.seeding if self.seeding else ''})"

    def drain_output(self):
        """What target code printed since the last call, ``(text, total_bytes)``; in-process: nothing."""
        return "", 0


def describe_loaded(target):
    """``target.describe()``, and what of a package target could not be imported, said once
    (``...; not imported: mytorch.nn.activation (ModuleNotFoundError: No module named 'scipy')``)."""
    notes = [n.replace(" could not be imported: ", " (", 1) + ")" for n in
             getattr(getattr(target, "namespace", None) or getattr(target, "api", None), "__derive_notes__", None) or ()]
    if not notes:
        return target.describe()
    more = f"; {len(notes) - 3} more" if len(notes) > 3 else ""
    return f"{target.describe()}; not imported, its ops skipped: {', '.join(notes[:3])}{more}"


def missing_because(namespace):
    """What a skip reason adds for a package target whose submodules did not all import
    (``; mytorch.Conv1d could not be imported: ModuleNotFoundError: ...``), else ``""``."""
    notes = getattr(namespace, "__derive_notes__", None) or []
    return "".join(f"; {n}" for n in notes[:3]) + (f"; {len(notes) - 3} more" if len(notes) > 3 else "")


def to_array(x):
    """A library's tensor (or a nested sequence) as a NumPy array.

    Tries, in order: an ndarray as it is; ``.numpy()`` (after ``.detach()``);
    an ndarray held in ``.data``, ``.value``, ``._value`` or ``._data``; ``np.asarray``.
    """
    for _ in range(4):
        if isinstance(x, np.ndarray):
            return x
        if isinstance(x, (np.generic, int, float, complex)):
            return np.asarray(x)
        detach = getattr(x, "detach", None)
        name = "numpy" if callable(getattr(x, "numpy", None)) else "to_numpy"  # to_numpy: MiniTorch
        if callable(getattr(x, name, None)):
            try:
                return np.asarray(getattr(detach() if callable(detach) else x, name)())
            except Exception:  # noqa: BLE001  not that kind of numpy()
                pass
        inner = None
        for attr in ("data", "value", "_value", "_data"):
            candidate = getattr(x, attr, None)
            if candidate is not None and not callable(candidate) and candidate is not x:
                inner = candidate
                break
        if inner is None:
            break
        x = inner
    return np.asarray(x)


def each_piece(fn, G):
    """``fn`` applied to ``G``, or to each of its pieces when ``G`` is a list (a split's gradients)."""
    return [fn(g) for g in G] if isinstance(G, list) else fn(G)


def copy_upstream(G):
    """A copy of ``G`` (of each piece, for a list), to see later whether a call modified it."""
    return each_piece(lambda g: np.array(g, copy=True), G)


def output_value(op, out, unwrap):
    """A forward's answer as the checker reads it: one array, or for an op with
    :attr:`~derive.catalog.registry.Op.pieces` a list with one array per piece."""
    if op.pieces is not None and isinstance(out, (list, tuple)):
        return [unwrap(p) for p in out]
    return unwrap(out)


def modified_in_place(inputs, G, before):
    """What a call changed in place, given copies ``before = (inputs, G)`` taken ahead of it
    (:func:`copy_upstream` for G): input positions, and ``"G"``."""
    changed = [k for k, (a, b) in enumerate(zip(inputs, before[0])) if not same_values(a, b)]
    pairs = zip(G, before[1]) if isinstance(G, list) else [(G, before[1])]
    return tuple(changed + (["G"] if not all(same_values(g, b) for g, b in pairs) else []))


def same_values(a, b):
    """Whether two arrays (float or symbolic) have the same shape and entries."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype == object or b.dtype == object:
        return all(x == y for x, y in zip(a.ravel(), b.ravel()))
    # the plain comparison is one pass and almost always decides; NaNs need the slower one
    return bool(np.array_equal(a, b)) or bool(np.array_equal(a, b, equal_nan=True))
