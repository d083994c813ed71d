"""Forward/backward pairs with a cache, the way CS231n's ``layers.py`` is written.

``affine_forward(x, w, b) -> (out, cache)`` and ``affine_backward(dout, cache) -> (dx, dw, db)``;
parameter dicts filled from the case (``conv_param = {'stride': 1, 'pad': 0}``,
``pool_param``, ``bn_param`` in training mode, ``ln_param``); losses that return
``(loss, dx)`` (``softmax_loss(x, y)``) are checked as a scalar VJP, ``G * dx``.

Each course name is one :class:`Pair` row below; any other ``<op>_forward`` /
``<op>_backward`` pair named after a catalog op (``sigmoid_forward``) is called with
the op's inputs and its parameters as keywords.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional
import zlib

import numpy as np

from .base import (ForwardError, Missing, Outcome, ProtocolError, Target, Unsupported, after_forward, fit_params,
                   missing_because, same_param, to_array)
from .functions import as_tuple


@dataclass(frozen=True)
class Pair:
    """How one course layer is called.

    Attributes
    ----------
    op : str
        The catalog op it computes.
    forwards : tuple of str
        The forward's names, the first found is checked (the student's naive one before a
        provided fast one); each backward is named with ``forward`` replaced by ``backward``.
    args : callable, optional
        ``args(inputs, params) -> positional arguments`` of the forward; None: the op's inputs,
        then its parameters as keywords (those the forward names).
    requires : dict
        Parameters the course's API cannot express, with the one value it means
        (``dilation=1``); a case with another value is skipped and counted.
    loss : bool
        The forward returns ``(loss, dx)``: no cache, no backward.
    output, upstream : callable
        The forward's ``out`` as the op's Z, and the op's G as the backward's ``dout``, where the
        course keeps another layout (``word_embedding_forward`` takes indices of shape (N, T)).
    gradients : callable
        ``gradients(grads, inputs) -> grads``: the backward's answer in the op's layout, where the
        course keeps a parameter in another (``spatial_groupnorm``'s gamma is (1, C, 1, 1)).
    draws : tuple of str
        The op's inputs the course's forward draws itself (dropout's mask, from a seed): they are
        not passed, and the checker reads them back from the output.
    settle : callable, optional
        ``settle(forward) -> (args, note)``, once at load: which of the course's conventions the
        forward follows, as the ``args`` to call it with and a note naming it ("" for the usual one).
    """

    op: str
    forwards: tuple
    args: Optional[Callable] = None
    requires: dict = field(default_factory=dict)
    loss: bool = False
    output: Callable = lambda out: out
    upstream: Callable = lambda G: G
    gradients: Callable = lambda grads, inputs: grads
    draws: tuple = ()
    settle: Optional[Callable] = None


def _with_bn_param(inputs, params):
    """``(x, gamma, beta, bn_param)`` in training mode, as batchnorm_forward and its spatial twin take them."""
    return (*inputs, {"mode": "train", "eps": params["eps"], "momentum": 0.9})


def _channels(a):
    """A channel parameter (C,) as CS231n's group norm keeps it, (1, C, 1, 1)."""
    return np.reshape(a, (1, -1, 1, 1))


def _channels_back(grads, inputs):
    """``(dx, dgamma, dbeta)`` with dgamma and dbeta of (1, C, 1, 1) read as (C,); one of another
    size is left as it is, to be reported with its shape."""
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        return grads
    C = np.shape(inputs[1])[0]
    return (grads[0], *(np.reshape(g, (C,)) if np.size(g) == C and np.ndim(g) == 4 else g for g in grads[1:]))


def _dropout_param(p):
    """``args(inputs, params)`` of ``dropout_forward(x, dropout_param)`` in training mode, with the
    catalog's drop probability given as the course's ``p`` by ``p(drop)``.  The seed comes from x, so
    the same call draws the same mask and each example draws its own."""
    def args(inputs, params):
        x = np.asarray(inputs[0])
        return x, {"p": p(params["p"]), "mode": "train", "seed": zlib.crc32(np.ascontiguousarray(x).tobytes())}
    return args


def _dropout_convention(forward):
    """CS231n's ``p`` keeps an entry with probability p (since 2017); the 2016 assignment's drops it.
    Told apart by the scale of the kept entries of a large probe, 1 / p or 1 / (1 - p)."""
    try:
        out = np.asarray(forward(np.ones((40, 50)), {"p": 0.8, "mode": "train", "seed": 0})[0], dtype=float)
        kept = out[out != 0]
        drops = kept.size > 0 and bool(np.allclose(kept, 1 / 0.2))
    except Exception:  # noqa: BLE001  a forward that cannot run here is judged on the cases
        drops = False
    if drops:
        return _dropout_param(lambda p: p), ("dropout_forward's p is the probability of dropping an entry "
                                             "(CS231n's 2016 convention): derive passed it so")
    return _dropout_param(lambda p: 1 - p), ""


#: the course layers whose names or arguments are not the catalog's (``affine_forward``,
#: ``relu_forward`` need no row: they are named after their op)
PAIRS = (
    Pair("batch_norm", ("batchnorm_forward",), args=_with_bn_param),
    Pair("batch_norm2d", ("spatial_batchnorm_forward",), args=_with_bn_param),
    Pair("group_norm", ("spatial_groupnorm_forward",),
         args=lambda inputs, p: (inputs[0], _channels(inputs[1]), _channels(inputs[2]), p["num_groups"],
                                 {"eps": p["eps"]}),
         gradients=_channels_back),
    Pair("layer_norm", ("layernorm_forward",), args=lambda inputs, p: (*inputs, {"eps": p["eps"]})),
    Pair("conv2d", ("conv_forward_naive", "conv_forward_im2col", "conv_forward_strides", "conv_forward_fast"),
         args=lambda inputs, p: (*inputs, {"stride": p["stride"], "pad": p["padding"]}),
         requires={"dilation": 1, "groups": 1}),
    Pair("max_pool2d", ("max_pool_forward_naive", "max_pool_forward_reshape", "max_pool_forward_im2col",
                        "max_pool_forward_fast"),
         args=lambda inputs, p: (*inputs, {"pool_height": p["kernel"], "pool_width": p["kernel"],
                                           "stride": p["stride"]}),
         requires={"padding": 0}),
    # the course's indices are (N, T): one row of lookups, its output (1, N, D) read as (N, D)
    Pair("embedding", ("word_embedding_forward",), args=lambda inputs, p: (np.asarray(inputs[1])[None], inputs[0]),
         output=lambda out: np.asarray(out)[0], upstream=lambda G: np.asarray(G)[None]),
    Pair("cross_entropy", ("softmax_loss",), loss=True),
    Pair("svm_loss", ("svm_loss",), loss=True),
    Pair("temporal_softmax_loss", ("temporal_softmax_loss",), loss=True),
    Pair("dropout", ("dropout_forward",), draws=("mask",), settle=_dropout_convention),
)


def _backward_name(forward):
    return forward.replace("_forward", "_backward", 1)


def _pair_functions(namespace, pair):
    """``(forward name, forward, backward)`` of the first of ``pair.forwards`` found, or None."""
    for name in pair.forwards:
        fwd = getattr(namespace, name, None)
        bwd = None if pair.loss else getattr(namespace, _backward_name(name), None)
        if callable(fwd) and (pair.loss or callable(bwd)):
            return name, fwd, bwd
    return None


def find_pairs(namespace):
    """The pairs of ``namespace``, by catalog op name: the course's rows, then ``<op>_forward``
    / ``<op>_backward`` named after any catalog op or alias."""
    from ..catalog.registry import ops
    found = {}
    for pair in PAIRS:
        functions = _pair_functions(namespace, pair)
        if functions is not None:
            found[pair.op] = (pair, *functions)
    for op in ops():
        if op.name in found:
            continue
        for name in (op.name, *op.aliases):
            generic = Pair(op.name, (f"{name}_forward",))
            functions = _pair_functions(namespace, generic)
            if functions is not None:
                found[op.name] = (generic, *functions)
                break
    return found


def _takes_cache(backward):
    """Whether a backward's parameters after the gradient name a cache (``dout, cache``)."""
    import inspect
    try:
        names = list(inspect.signature(backward).parameters)[1:]
    except (TypeError, ValueError):
        return True  # cannot tell: the pair protocol is taken at its word
    return any("cache" in n.lower() or n in ("ctx", "saved") for n in names)


class CachePairTarget(Target):
    """``<layer>_forward(...) -> (out, cache)`` with ``<layer>_backward(dout, cache)``, and losses
    ``(loss, dx)``, looked up in ``namespace``."""

    style = "cache-pairs"
    seeding = "backward(dout, cache); a loss's dx times G"

    def __init__(self, namespace, name, pairs=None):
        self.namespace, self.name = namespace, name
        self.pairs = find_pairs(namespace) if pairs is None else pairs
        self._settled = {}  # op name -> (args, note): the convention its forward follows

    def describe(self):
        names = ", ".join(f"{fwd}" for _, fwd, _, _ in self.pairs.values())
        return f"{self.name} ({self.style}: {names})"

    def supports(self, op):
        if op.name not in self.pairs:
            return False, (f"no `{op.name}` pair (`{op.name}_forward` / `{op.name}_backward`) in {self.name}"
                           f"{missing_because(self.namespace)}")
        pair, fwd = self.pairs[op.name][0], self.pairs[op.name][2]
        if pair.settle is not None and op.name not in self._settled:
            self._settled[op.name] = pair.settle(fwd)
        return True, ""

    def draws(self, op):
        return self.pairs[op.name][0].draws if op.name in self.pairs else ()

    def _args(self, op, pair):
        """The pair's ``args``: the one its forward's convention settled at load, if any."""
        if pair.settle is None:
            return pair.args, ""
        if op.name not in self._settled:
            self.supports(op)
        return self._settled[op.name]

    def run(self, op, case, inputs, G):
        if op.name not in self.pairs:
            raise Missing(f"no `{op.name}` pair in {self.name}")
        pair, fwd_name, fwd, bwd = self.pairs[op.name]
        params = op.with_defaults(case.params)
        for key, value in pair.requires.items():
            if key in params and not same_param(params[key], value):
                raise Unsupported(f"{self.name}: {fwd_name} takes no `{key}` (cases with {key} other than "
                                  f"{value!r})")
        make_args, convention = self._args(op, pair)
        if make_args is None:
            args = tuple(inputs)
            kwargs = fit_params(fwd, params, op.params, f"{self.name}: {fwd_name}", per_axis=op.per_axis)
        else:
            args, kwargs = make_args(list(inputs), params), {}
        try:
            result = fwd(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001  the forward's own error, shown as such
            raise ForwardError(exc) from exc
        expected = 2 if op.pieces is None or pair.loss else len(G) + 1  # (out, cache); (next_h, next_c, cache)
        if not (isinstance(result, tuple) and len(result) == expected):
            what = "(loss, dx)" if pair.loss else ("(out, cache)" if expected == 2 else
                                                   f"{expected - 1} outputs and a cache")
            # a backward that names a cache was written for this protocol: its forward's answer is a bug
            raise ProtocolError(f"{fwd_name} returned {type(result).__name__}"
                                f"{f' of {len(result)}' if isinstance(result, tuple) else ''}, not {what}",
                                mismatch=not pair.loss and not _takes_cache(bwd))
        *outs, second = result
        if pair.loss:  # a scalar loss: its VJP with the scalar G is G * dx
            out = to_array(outs[0])
            grads = as_tuple(np.asarray(G) * to_array(second), op)
        elif op.pieces is not None:  # one output and one G per piece: backward(dnext_h, dnext_c, cache)
            out = [to_array(o) for o in outs]
            with after_forward(out):
                grads = as_tuple(pair.gradients(bwd(*G, second), inputs), op)
        else:
            out = pair.output(to_array(outs[0]))
            with after_forward(out):
                grads = as_tuple(pair.gradients(bwd(pair.upstream(G), second), inputs), op)
        return Outcome(out, grads, [f"{op.name}: checked {fwd_name}" +
                                    ("" if pair.loss else f" / {_backward_name(fwd_name)}")] +
                       ([f"{op.name}: {convention}"] if convention else []))


__all__ = ["CachePairTarget", "Pair", "PAIRS", "find_pairs"]
