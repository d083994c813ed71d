"""The op catalog: every op is declared once, here, as an :class:`Op`.

The derivation, the strategies, the CLI, the tests, the notebooks and the
README's table all read this registry; nothing keeps a second list of ops.
Users add their own op with :func:`register` (or :func:`elementwise`).
"""

from __future__ import annotations

import difflib
from importlib import import_module
from dataclasses import dataclass, field
from typing import Callable, Optional

from . import spelling

__all__ = ["Input", "Drawn", "Op", "Case", "Pieces", "register", "get_op", "ops", "names", "unregister", "on_change"]

#: Input domains the strategies know how to draw from.
DOMAINS = ("real", "positive", "nonzero", "away_from_zero", "grid", "ties", "labels", "indices", "mask")
#: Domains of data inputs: integer or boolean arrays, passed as they are, never differentiated.
DATA_DOMAINS = ("labels", "indices", "mask")


@dataclass(frozen=True)
class Drawn:
    """How a data input that a target may draw itself is read back and judged: CS231n's
    ``dropout_forward`` draws its mask from a seed, so the mask is whatever its output shows.

    Attributes
    ----------
    recover : callable
        ``recover(output, *inputs, **params) -> values``: the input as the forward's output shows
        it (dropout's kept entries are the nonzero ones of Z, its X being drawn nonzero).
    rate : callable
        ``rate(**params) -> probability``: how often an entry is drawn True (dropout keeps ``1 - p``);
        the checker counts the entries kept over a whole run and compares them with it.
    """

    recover: Callable
    rate: Callable


@dataclass(frozen=True)
class Input:
    """One input of an op.

    Attributes
    ----------
    name : str
        The name used in formulas and closed forms (``X``, ``Y``, ``logits``...).
    differentiable : bool
        Whether the op has a gradient with respect to it.
    domain : str
        Where its values are drawn: ``real``, ``positive`` (log, power's base),
        ``nonzero`` (divisors), ``away_from_zero`` (relu's kink), ``grid``
        (half-integers in [-2, 2]: ties happen, on purpose, to test a tie
        convention), ``ties`` (real values, with the largest and the smallest
        copied onto about a third of the entries each), ``labels`` (integer class labels, one-hot in formulas),
        ``indices`` (integers that index an axis of another input, repeats
        included) or ``mask`` (booleans); the last three are data
        inputs: passed as they are, never differentiated.
    may_be_constant : bool
        Whether a library may hold it constant and give it no gradient (power's exponent, a
        loss's target): no gradient for it is reported as that, and it is not compared.  No
        gradient for any other input claims that its gradient is zero, and is compared so.
    drawn : Drawn, optional
        For a data input that some targets draw themselves (a dropout mask): how it is read back
        from their output and how often it should be True.
    """

    name: str
    differentiable: bool = True
    domain: str = "real"
    #: labels, indices: values lie in [0, shapes[bound[0]][bound[1]]); bound[1] may name the parameter
    #: that holds the axis (``(0, "axis")``: the size of the input 0's axis ``axis``)
    bound: tuple = (0, -1)
    may_be_constant: bool = False
    drawn: Optional[Drawn] = None

    def __post_init__(self):
        if self.domain not in DOMAINS:
            raise ValueError(f"input {self.name}: unknown domain {self.domain!r}; use one of {DOMAINS}")
        if self.data and self.differentiable:
            object.__setattr__(self, "differentiable", False)

    def upper(self, shapes, params=None):
        """The exclusive upper bound of this input's integer values in a case of ``shapes`` (and
        ``params``, with the op's defaults, where the bound's axis is a parameter)."""
        axis = self.bound[1]
        if isinstance(axis, str):
            axis = int((params or {})[axis])
        return int(shapes[self.bound[0]][axis])

    @property
    def data(self):
        """Whether this input is data (labels, a mask): not a float array, never differentiated."""
        return self.domain in DATA_DOMAINS


@dataclass(frozen=True)
class Case:
    """One concrete (or symbolic) instance of an op: input shapes and parameters."""

    shapes: tuple
    params: dict = field(default_factory=dict)

    def describe(self, op=None, names=()):
        """The shapes by input name (``op``'s, else ``names``, else ``x0, x1, ...``), then the parameters."""
        names = [i.name for i in op.inputs] if op else list(names) or [f"x{k}" for k in range(len(self.shapes))]
        shapes = ", ".join(f"{n}{format_shape(s)}" for n, s in zip(names, self.shapes))
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return shapes + (f"; {params}" if params else "")


@dataclass(frozen=True)
class Pieces:
    """How an op whose output is a list of arrays (split, unstack) meets the checker.

    The derivation and every check work with one ``Z``: the pieces joined back into
    one array (``join``).  The target's forward answers with the list itself, and its
    backward gets ``G`` cut the same way (``cut``), one array per piece, as a real
    multi-output backward does (``torch.autograd.Function.backward(ctx, *grads)``).

    Attributes
    ----------
    cut : callable
        ``cut(array, **params) -> list of arrays``: ``Z`` (or ``G``) as the op's pieces.
    join : callable
        ``join(pieces, **params) -> array``: the inverse of ``cut``.
    joined : str
        How ``Z`` and ``G`` are made of the pieces, for display (``np.concatenate(pieces, axis)``).
    """

    cut: Callable
    join: Callable
    joined: str


def format_shape(shape):
    """A shape as Python writes a tuple: ``(2, 3)``, ``(n,)``, ``()``."""
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


@dataclass(frozen=True)
class Op:
    """An op, declared once.

    Attributes
    ----------
    name : str
        Canonical name, NumPy's (``matmul``, ``sum``...).
    inputs : tuple of Input
        The inputs, in call order.
    define : callable
        ``define(*sym_arrays, **params) -> Output``: the elementwise definition
        (see :mod:`derive.vocabulary.expressions`).
    forward : callable
        ``forward(*arrays, **params) -> ndarray``, the NumPy reference.
    cases : callable
        ``cases() -> SearchStrategy[Case]``: the shapes and parameters to check.
    canonical : Case
        Symbolic shapes (and params) shown by default, e.g. matmul ``(p, q), (q, r)``.
    aliases : tuple of str
        Other names (``mul``, ``pow``...).
    params : dict
        Parameter names with their defaults, NumPy's names (``axis``, ``keepdims``...).
    exact : bool
        The backward is polynomial in the inputs and ``G``, so it can be checked
        exactly with arrays of SymPy symbols.
    shape_generic : bool
        Whether the derived formula holds for symbolic sizes (False: derived per
        concrete shape).
    call : callable, optional
        ``call(api, *tensors, **params)``: how a tensor-style target expresses the
        op through operators and methods; ``api`` is the target's module.  Returns
        ``None`` when the target cannot express that case.
    doc : str
        One line for listings.
    variants : tuple of (str, callable)
        Forwards that real code computes under this op's name but that are not
        it (``X @ Y.T`` for matmul), ``(description, forward)``: a target whose
        forward matches one is told so by name.
    notation : str
        The index formula the op was declared by (:func:`derive.define`), if any.
    symbolic_params : dict
        Integer parameters kept as symbols in the derivation (name -> SymPy
        symbol), so one derivation covers every stride or padding.
    differentiable_at : callable, optional
        ``differentiable_at(*arrays, **params) -> bool``: False where the op
        has a kink at these inputs (a tie of three maxima), so that central
        differences say nothing there and are not taken.
    per_axis : tuple of str
        Integer parameters that hold for every spatial axis at once (conv2d's
        ``stride``): a target function whose own default for one is a tuple
        (``stride=(1, 1)``) gets the value as a tuple of that length.
    pieces : Pieces, optional
        For an op whose output is a list of arrays (split): how the pieces join
        into the one ``Z`` that is derived and checked, and how ``G`` is cut.
    subgradient : callable, optional
        ``subgradient(arrays, G, grads, **params) -> str or None``: for an op with ties
        (max, maximum), whether float gradients ``grads`` (one per input) are a valid
        subgradient at these inputs though not the declared convention; the convention
        they follow, in words, or None when they are outside the subdifferential.
    declared_sizes : bool
        Whether the canonical case's sizes (names, or expressions of them: lstm_step's Wx is
        ``(D, 4*H)``) hold for every case, so that one derivation in those sizes covers them all,
        each name bound from the case (an op declared in index notation is so by construction).
    broadcasts : bool
        Whether its inputs broadcast against each other elementwise, by NumPy's rules (add,
        maximum, where): a library whose elementwise ops take equal shapes only (needle's)
        is not asked for the other cases.
    guarded : bool
        Whether real code adds a small constant to ``X`` to keep off a singularity at 0 and
        still calls it this op (MiniTorch's course-given ``log(x + EPS)``, EPS = 1e-6): a forward
        that is the op at ``X + 10**-k`` (k = 4..12) is taken as the op, with a note, and its
        gradient is accepted anywhere between the op's at ``X`` and at ``X + 10**-k``.
    """

    name: str
    inputs: tuple
    define: Callable
    forward: Callable
    cases: Callable
    canonical: Case
    aliases: tuple = ()
    params: dict = field(default_factory=dict)
    exact: bool = False
    shape_generic: bool = True
    call: Optional[Callable] = None
    doc: str = ""
    variants: tuple = ()
    notation: str = ""
    symbolic_params: dict = field(default_factory=dict)
    differentiable_at: Optional[Callable] = None
    per_axis: tuple = ()
    pieces: Optional[Pieces] = None
    subgradient: Optional[Callable] = None
    declared_sizes: bool = False
    broadcasts: bool = False
    guarded: bool = False

    @property
    def input_names(self):
        return tuple(i.name for i in self.inputs)

    @property
    def differentiable(self):
        return tuple(i.name for i in self.inputs if i.differentiable)

    def with_defaults(self, params):
        unknown = set(params) - set(self.params)
        if unknown:
            raise ValueError(f"{self.name}: unknown parameter(s) {sorted(unknown)}; "
                             f"it takes {sorted(self.params) or 'none'}")
        return {**self.params, **params}

    def given(self, params):
        """``params`` a user gave for one case, checked against the kind of each default (an axis
        is an integer, ``keepdims`` a bool...) and with NumPy scalars made Python ones; ValueError
        with one line naming the parameter otherwise."""
        given = {}
        self.with_defaults(params)  # unknown names
        for name, value in params.items():
            value = _plain(value)
            default = self.params[name]
            if not _fits(value, default):
                want = {bool: "True or False", int: "an integer", float: "a number", str: "a string",
                        tuple: "a tuple"}.get(type(default), "None, an integer or a tuple of integers")
                raise ValueError(f"{self.name}: parameter {name} takes {want}, got {value!r}")
            given[name] = value
        return given

    def __repr__(self):
        return f"<Op {self.name}({', '.join(self.input_names)})>"


_REGISTRY: dict[str, Op] = {}
_ALIASES: dict[str, str] = {}


def register(op: Op, *, replace: bool = False) -> Op:
    """Add ``op`` to the catalog (``replace=True`` to redefine an existing name)."""
    _ensure_loaded()  # a user's op is checked against the standard ones, even before any lookup
    taken = {op.name, *op.aliases}
    if _REGISTRY.get(op.name) is op:
        return op  # the same declaration again
    clash = {n for n in taken if n in _REGISTRY or n in _ALIASES}
    if clash and not replace:
        raise ValueError(f"op name(s) {sorted(clash)} already in the catalog; pass replace=True")
    if op.name in _REGISTRY:
        unregister(op.name)
    _REGISTRY[op.name] = op
    for alias in op.aliases:
        _ALIASES[alias] = op.name
    _clear_caches()
    return op


def unregister(name: str) -> None:
    """Remove an op (by name or alias) from the catalog."""
    op = get_op(name)
    del _REGISTRY[op.name]
    for alias in op.aliases:
        _ALIASES.pop(alias, None)
    _clear_caches()


#: what the stages above keep per op (the derivations), forgotten when the catalog changes
_ON_CHANGE: list = []


def on_change(forget):
    """Call ``forget()`` whenever an op is registered or removed: how a stage above the catalog
    (the derivation cache) hears of a change without the catalog importing it."""
    _ON_CHANGE.append(forget)
    return forget


def _clear_caches():
    for forget in _ON_CHANGE:
        forget()


def _resolve(name):
    return _ALIASES.get(name, name)


_LOADING = []
_STANDARD: dict = {}


def _ensure_loaded():
    if not _LOADING:
        _LOADING.append(True)
        import_module(".standard", __package__)  # declares the standard ops
        _STANDARD.update(_REGISTRY)


def is_standard(op) -> bool:
    """Whether ``op`` is one of derive's own ops (not a user's declaration or replacement)."""
    _ensure_loaded()
    return _STANDARD.get(op.name) is op


def get_op(name) -> Op:
    """The op called ``name`` (or an alias); ValueError naming the closest names."""
    if isinstance(name, Op):
        return name
    _ensure_loaded()
    key = _resolve(str(name).strip().lower())
    if key in _REGISTRY:
        return _REGISTRY[key]
    known = sorted(_REGISTRY) + sorted(_ALIASES)
    close = difflib.get_close_matches(str(name), known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m derive.check --list`"
    raise ValueError(f"unknown op {name!r}{hint}")


def ops() -> list:
    """Every op of the catalog, in declaration order."""
    _ensure_loaded()
    return list(_REGISTRY.values())


def names() -> list:
    """Canonical names of every op, in declaration order."""
    return [op.name for op in ops()]


def _plain(value):
    """NumPy scalars (``np.int64(1)``) as Python's, inside tuples and lists too."""
    import numpy as np
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_plain(v) for v in value)
    return value


def _integer(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _fits(value, default):
    """Whether a given parameter value is of the kind its default is."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if _integer(default):  # an axis may also be a tuple of axes
        return _integer(value) or (isinstance(value, (tuple, list)) and all(_integer(v) for v in value))
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, str):
        return isinstance(value, str)
    if isinstance(default, tuple):
        return isinstance(value, (tuple, list))
    # None: an axis, axes, a shape or a slice bound
    return value is None or _integer(value) or (isinstance(value, (tuple, list)) and all(_integer(v) for v in value))


spelling._catalog.get_op = get_op
