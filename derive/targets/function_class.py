"""Function classes: ``forward(ctx, *inputs)`` / ``backward(ctx, grad_output)``, or instances.

Two shapes are met in real code:

- torch.autograd.Function and homework engines: static ``forward(ctx, ...)`` and
  ``backward(ctx, grad_output)``; the checker passes a ctx and calls backward with G;
- instances (``Sum(axis)``, DeZero-style): parameters go to ``__init__`` when it
  takes them, else to ``forward``; ``backward(G)`` on the same instance.

Whether ``forward`` takes plain arrays or the library's own Tensor is settled once,
when the target is loaded, with a trial call.  Instances whose call builds a
graph (``Sin()(x).backward()``) are engines, handled by :mod:`.engine`.
"""

from __future__ import annotations

import inspect
import types

import numpy as np

from .base import (CONSTANT, ForwardError, Outcome, Target, TargetError, Unsupported, after_forward, fit_params,
                   missing_because,
                   output_value, to_array)
from .functions import as_tuple
from .layer_objects import construct, held_gradient, hold, scaled_by_upstream, taken_inputs, takes_upstream
from .spelling import missing_reason, probe_inputs


class Ctx(types.SimpleNamespace):
    """A context in the style of torch.autograd.Function's ``ctx``."""

    needs_input_grad = (True, True, True, True)

    def save_for_backward(self, *values):
        self.saved_tensors = values
        self.saved_values = values

    def mark_non_differentiable(self, *values):
        pass


def _norm(name):
    return name.replace("_", "").lower()


def function_classes(namespace):
    """Classes of ``namespace`` with both ``forward`` and ``backward``, by normalised name."""
    found = {}
    for name, obj in vars(namespace).items():
        if inspect.isclass(obj) and callable(getattr(obj, "forward", None)) and \
                callable(getattr(obj, "backward", None)):
            found[_norm(name)] = obj
    return found


def is_static(cls):
    return isinstance(inspect.getattr_static(cls, "forward"), staticmethod)


def class_for(classes, op):
    """The class of ``classes`` (by normalised name) for ``op`` or one of its aliases, also with torch's
    ``Loss`` suffix (``CrossEntropyLoss`` for cross_entropy) and a ``Function`` or ``Fn`` suffix
    (``LinearFunction``, torch's own examples' name for a Function)."""
    for n in (op.name, *op.aliases):
        for name in (_norm(n), _norm(n) + "loss", _norm(n) + "function", _norm(n) + "fn"):
            if name in classes:
                return classes[name]
    return None


def split_params(cls, params):
    """``(init, call)``: the parameters ``cls.__init__`` takes, and the rest for the call."""
    takes = init_parameters(cls)
    return ({k: v for k, v in params.items() if k in takes},
            {k: v for k, v in params.items() if k not in takes})


def init_parameters(cls):
    """Names ``cls.__init__`` takes besides self (an empty set for object's)."""
    if cls.__init__ is object.__init__:
        return set()
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return set()
    return {p.name for p in list(sig.parameters.values())[1:] if p.kind not in (p.VAR_POSITIONAL,)}


class FunctionClassTarget(Target):
    """Function classes called directly, the checker playing the engine."""

    style = "function-class"

    def __init__(self, namespace, name, wrap=None, tensor_type=None):
        self.namespace, self.name = namespace, name
        self.classes = function_classes(namespace)
        self.wrap, self.tensor_type = wrap, tensor_type
        self.seeding = "backward(ctx, G)"
        if self.classes and not any(is_static(c) for c in self.classes.values()):
            self.seeding = "layer objects built with the case's sizes: forward(A), backward(dLdZ)"
        self._class_wrap = {}  # cls -> what its forward takes, settled on its first call
        self._ranks = {}  # layer class -> the input ranks it runs on (an empty set: not settled by a probe)
        self._one_hot = {}  # cls -> whether its forward takes class labels one-hot (11-785's CrossEntropyLoss)

    #: op name -> the class a binding names for it (None: the library has none)
    overrides = {}

    def class_for(self, op):
        return self.overrides[op.name] if op.name in self.overrides else class_for(self.classes, op)

    def supports(self, op):
        if self.class_for(op) is None:
            return False, f"no class for `{op.name}` in {self.name}{missing_because(self.namespace)}"
        return True, ""

    def _wrap_for(self, cls, op):
        """What ``cls.forward`` takes, plain arrays (None) or the library's Tensor, settled once per class
        by a trial call on the op's probe case: the target's default first, then the other.  One file
        can hold both kinds (``Neg`` that works on anything, ``Mul`` that insists on Tensors)."""
        if cls not in self._class_wrap:
            self._class_wrap[cls] = self.wrap
            modes = [self.wrap] + [m for m in (None, self.tensor_type) if m is not self.wrap]
            if len(modes) > 1:
                case, inputs = probe_inputs(op)
                params = op.with_defaults(case.params)
                for mode in modes:
                    try:
                        self._call_forward(cls, op, inputs, params, mode)
                    except (ForwardError, Unsupported):
                        continue
                    self._class_wrap[cls] = mode
                    break
        return self._class_wrap[cls]

    def _one_hot_for(self, cls, op):
        """Whether ``cls`` takes an op's class labels one-hot, (N, C) rather than (N,): settled once by
        trial calls, the encoding whose forward gives the op's value winning."""
        if cls in self._one_hot:
            return self._one_hot[cls]
        self._one_hot[cls] = False
        if not any(s.domain == "labels" for s in op.inputs):
            return False
        case, inputs = probe_inputs(op)
        params = op.with_defaults(case.params)
        want = np.asarray(op.forward(*inputs, **params), dtype=np.float64)
        for one_hot in (False, True):
            try:
                out, _ = self._call_forward(cls, op, _one_hot(op, inputs) if one_hot else inputs, params,
                                            self._wrap_for(cls, op))
                if np.allclose(np.asarray(to_array(out), dtype=np.float64).reshape(want.shape), want):
                    self._one_hot[cls] = one_hot
                    break
            except Exception:  # noqa: BLE001  not this encoding
                continue
        return self._one_hot[cls]

    def _ranks_for(self, cls, op):
        """The input ranks a layer object runs on, from trial calls at ranks 1 to 4, where every input of
        the op has one shape (activations, softmax, mse_loss): a course layer is written for the
        layout the course hands out, (N, C) say, and a case of another rank is not one it can express.
        Empty (no restriction) for Function classes, other ops, or a layer that runs on none."""
        if cls in self._ranks:
            return self._ranks[cls]
        self._ranks[cls] = set()
        if is_static(cls) or len({tuple(s) for s in op.canonical.shapes}) != 1 or any(s.data for s in op.inputs):
            return self._ranks[cls]
        from ..catalog import strategies as dst
        from ..catalog.registry import Case
        good = set()
        for rank in range(1, 5):
            case = Case(((2, 3, 2, 3)[:rank],) * len(op.inputs))
            try:
                inputs = dst.make_inputs(op, case, 0)
                params = op.with_defaults({})
                G = dst.make_upstream(np.shape(op.forward(*inputs, **params)), 0)
                _, backward = self._call_forward(cls, op, inputs, params, self._wrap_for(cls, op))
                backward(G)
            except Exception:  # noqa: BLE001  not a rank it runs on
                continue
            good.add(rank)
        self._ranks[cls] = good if good and len(good) < 4 else set()
        return self._ranks[cls]

    def _call_forward(self, cls, op, inputs, params, wrap=None):
        """Call ``cls``'s forward; ``(output, backward)`` where ``backward(G)`` gives ``(grads, notes)``."""
        args = [wrap(a) if wrap is not None and not spec.data else a for spec, a in zip(op.inputs, inputs)]
        try:
            if is_static(cls):
                ctx = Ctx()
                # a parameter the forward has no name for is left out where the case holds its default
                params = fit_params(cls.forward, params, op.params, cls.__name__, per_axis=op.per_axis)
                out = cls.forward(ctx, *args, **params)
                return out, (lambda G: (as_tuple(cls.backward(ctx, *_grads_for(cls.backward, G, skip=1)), op), []))
            instance, call = construct(cls, op, inputs, params)
            taken = taken_inputs(instance.forward, op)
            held = [(spec, hold(instance, spec, a)) for spec, a in zip(op.inputs[taken:], inputs[taken:])]
            out = instance.forward(*args[:taken], **call)
            return out, (lambda G: _layer_gradients(instance, op, taken, held, inputs, G))
        except Unsupported:
            raise
        except Exception as exc:  # noqa: BLE001
            reason = missing_reason(op, exc) if isinstance(exc, TypeError) else None
            if reason is not None and "argument" in str(exc):
                raise Unsupported(f"{cls.__name__} does not take {sorted(params)}: {exc}") from None
            raise ForwardError(exc) from exc

    def run(self, op, case, inputs, G):
        cls = self.class_for(op)
        if cls is None:
            raise Unsupported(f"no class for `{op.name}` in {self.name}")
        params = op.with_defaults(case.params)
        ranks = self._ranks_for(cls, op)
        if ranks and np.ndim(inputs[0]) not in ranks:
            raise Unsupported(f"{cls.__name__} runs on {' and '.join(f'{r}-D' for r in sorted(ranks))} inputs "
                              f"only (cases with {np.ndim(inputs[0])}-D inputs)")
        if self._one_hot_for(cls, op):
            inputs = _one_hot(op, inputs)
        out, backward = self._call_forward(cls, op, inputs, params, self._wrap_for(cls, op))
        try:
            output = output_value(op, out, to_array) if out is not None else None
        except Exception as exc:  # noqa: BLE001
            raise ForwardError(exc) from exc
        with after_forward(output):
            grads, notes = backward(G)
        return Outcome(output, grads, notes)


def _one_hot(op, inputs):
    """``inputs`` with each class-label input as one-hot rows over its classes."""
    shapes = [np.shape(a) for a in inputs]
    return [np.eye(spec.upper(shapes))[np.asarray(a, dtype=np.intp)] if spec.domain == "labels" else a
            for spec, a in zip(op.inputs, inputs)]


def _layer_gradients(layer, op, taken, held, inputs, G):
    """The gradients of a layer object after its ``backward``: what it returns for the inputs its forward
    took (a loss's ``backward()`` without G scaled by G), what it stored for the inputs it holds."""
    if takes_upstream(layer.backward):
        result = layer.backward(*_grads_for(layer.backward, G))
    else:
        result = scaled_by_upstream(op, layer.backward(), G)
    notes = []
    taken_specs = op.inputs[:taken]
    if isinstance(result, (tuple, list)) and not (op.pieces is not None and taken == 1):
        returned = list(result)
    else:
        returned = [result]
    grads = []
    for k, spec in enumerate(taken_specs):
        if not spec.differentiable:
            grads.append(None)
        elif k < len(returned):
            grads.append(None if returned[k] is None else to_array(returned[k]))
        else:  # a loss's backward gives dL/dA only: its labels Y are a constant to it
            grads.append(CONSTANT)
            notes.append(f"{type(layer).__name__} treats {spec.name} as a constant (its backward returns no "
                         "gradient for it)")
    for (spec, where), value in zip(held, inputs[taken:]):
        grads.append(held_gradient(layer, spec, where, np.shape(value)) if spec.differentiable else None)
    return tuple(grads), notes


def _grads_for(backward, G, skip=0):
    """The positional arguments that carry G: one per output where G is a list (a split's pieces) and
    ``backward`` takes that many, or ``*grads``, as ``torch.autograd.Function.backward(ctx, *grads)``
    does; else G as it is, a list for a backward that takes the pieces' gradients as one argument
    (one named in the plural, ``grads``, takes the list even when there is one piece)."""
    if not isinstance(G, list):
        return (G,)
    try:
        params = list(inspect.signature(backward).parameters.values())[skip:]
    except (TypeError, ValueError):
        return tuple(G)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return tuple(G)
    if len(positional) == len(G) and not (len(G) == 1 and positional[0].name.endswith("s")):
        return tuple(G)
    return (G,)


def settle_wrapping(target, tensor_type, tries=3):
    """Whether ``forward`` takes plain arrays or ``tensor_type``, from trial calls on a few classes.

    Plain arrays win when any class takes them; else ``tensor_type`` when any class
    takes it.  Sets ``target.wrap``, the default each class is tried with first (a class
    that rejects it gets the other, see ``FunctionClassTarget._wrap_for``); raises
    :class:`TargetError` naming both attempts when neither works anywhere.
    """
    from ..catalog.registry import ops
    modes = [None] + ([tensor_type] if tensor_type is not None else [])
    target.tensor_type = tensor_type
    errors = {id(m): [] for m in modes}
    tried = 0
    for op in ops():
        cls = target.class_for(op)
        if cls is None:
            continue
        tried += 1
        case, inputs = probe_inputs(op)
        params = op.with_defaults(case.params)
        for wrap in modes:
            target.wrap = wrap
            try:
                target._call_forward(cls, op, inputs, params, wrap)
                return target
            except (ForwardError, Unsupported) as exc:
                errors[id(wrap)].append(f"{cls.__name__}: {exc}")
        if tried >= tries:
            break
    target.wrap = None
    if tensor_type is None or not tried:
        return target  # nothing else to try; per-case forward errors will say what happened
    said = " | ".join(f"{'arrays' if m is None else m.__name__}: {errors[id(m)][0]}" for m in modes)
    raise TargetError(f"{target.name}: forward rejects both plain arrays and {tensor_type.__name__} "
                      f"({said}); a Binding(leaf=...) can say what it takes")
