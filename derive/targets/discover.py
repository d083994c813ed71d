"""Settle, once per target, how it is called: its style, its Tensor, how G goes in.

Discovery reads signatures first and confirms with small trial calls:

1. backward functions: an op-named function whose first parameter is an upstream
   gradient (``grad``, ``grad_output``, ``dout``...); or forward/backward pairs with a
   cache (``affine_forward`` / ``affine_backward``, CS231n's layers);
2. function classes: ``forward``/``backward`` classes; static ones are driven with a
   ctx, instances whose call builds a graph (``Sin()(x).backward()``) are engines;
3. an engine: a Tensor-like class (``backward`` and a gradient attribute) reached
   through operators, methods and the module's functions;
4. forward functions alone (``f(x, ...)`` returning something with ``backward``).

What cannot be settled stops here with one :class:`TargetError` naming what was
tried and what a :class:`~derive.targets.binding.Binding` would need.
"""

from __future__ import annotations

import inspect
import sys

import numpy as np

from .base import ForwardError, TargetError, Unsupported
from .base import to_array
from .leaves import leaf_factories
from .cache_pairs import CachePairTarget, find_pairs
from .scalar_engine import ScalarEngineTarget, holds_one_number
from .engine import ARGUMENT, GRAD_ATTRIBUTES, SCALAR, STEPS, EngineTarget, Seeding, _instance_attributes, assign
from .torch_functions import TorchFunctionTarget, is_torch_function
from .function_class import (FunctionClassTarget, class_for, function_classes, is_static, settle_wrapping,
                             split_params)
from .functional import FunctionalTarget
from .custom_rules import CustomRuleTarget, custom_rules
from .mygrad_operations import MyGradOperationTarget, mygrad_operations
from .functions import FunctionsTarget, lookup, takes_grad_first
from .spelling import probe_inputs
from .conventions import settle_conventions
from .tensor_ops import axes_as_tuple, explicit_broadcasting, reduces_over_axes, tensor_op_classes

TENSOR_NAMES = ("Tensor", "Variable", "Value", "Var", "Array", "Node")


def is_tensor_class(obj):
    """A class with ``backward`` and a gradient attribute, and no ``forward`` (not a Function)."""
    if not (inspect.isclass(obj) and callable(getattr(obj, "backward", None))):
        return False
    if callable(getattr(obj, "forward", None)):
        return False
    names = _instance_attributes(obj)
    return bool(names & set(GRAD_ATTRIBUTES)) or "prevs" in names


def find_tensor_class(namespace):
    if is_tensor_class(namespace):
        return namespace
    for name in TENSOR_NAMES:
        obj = getattr(namespace, name, None)
        if is_tensor_class(obj):
            return obj
    for obj in list(vars(namespace).values()) if hasattr(namespace, "__dict__") else []:
        if is_tensor_class(obj):
            return obj
    return None


def find_wrapper_class(namespace):
    """The library's array wrapper for function classes: a Tensor class, or any class named like one."""
    found = find_tensor_class(namespace)
    if found is not None:
        return found
    for name in TENSOR_NAMES:
        obj = getattr(namespace, name, None)
        if inspect.isclass(obj):
            return obj
    return None


def _op_functions(namespace):
    from ..catalog.registry import ops
    found = {}
    for op in ops():
        fn = lookup(namespace, op, lambda f: callable(f) and not inspect.isclass(f))
        if fn is not None:
            found[op.name] = fn
    return found


def discover(obj, label, style=None):
    """The target for a module, class or namespace ``obj`` (``style`` forces one), its protocol settled."""
    return settle(_discover(obj, label, style))


def settle(target, discovered=True):
    """Settle an engine's seeding now, at load time (a :class:`TargetError` when none fits).

    A ``discovered`` engine whose Value holds one number (micrograd's), which no way of seeding
    reaches with arrays, is driven on arrays of Values instead (:mod:`.scalar_engine`); one a
    Binding declares is taken at its word.
    """
    if not isinstance(target, EngineTarget):
        return target
    try:
        return target.settle()
    except TargetError:
        if not discovered or type(target) is not EngineTarget or target.tensor_type is None \
                or not holds_one_number(target.tensor_type):
            raise
        error = sys.exc_info()[1]
    try:
        return ScalarEngineTarget(target.name, target.api, target.tensor_type).settle()
    except TargetError as scalar:
        raise TargetError(f"{error}; driven as arrays of {target.tensor_type.__name__} (one number each) "
                          f"instead: {str(scalar).split(': ', 1)[-1]}") from None


def own_names(module):
    """``module`` seen through what it defines itself: the attributes whose code lives in its folder (a
    package's, or a file's, siblings imported by bare name included), when any of them is one that
    discovery uses; else ``module`` whole.  ``from numeric import *`` above a student's Tensor subclass
    re-exports functions that are not the student's, and must not be checked in its place."""
    import os
    import types
    where = getattr(module, "__file__", None)
    if not isinstance(module, types.ModuleType) or not where:
        return module
    root = os.path.dirname(os.path.abspath(where))
    view = types.ModuleType(module.__name__)
    view.__file__ = where
    for name, value in vars(module).items():
        defined = getattr(value, "__module__", None)
        source = getattr(sys.modules.get(defined), "__file__", None) if isinstance(defined, str) else None
        if source and os.path.abspath(source).startswith(root + os.sep):
            setattr(view, name, value)
    if _op_functions(view) or function_classes(view) or find_tensor_class(view) is not None or find_pairs(view):
        return view
    return module


def _discover(obj, label, style=None):
    whole, obj = obj, own_names(obj)  # the style is settled on what the folder defines itself
    functions = _op_functions(obj) if not inspect.isclass(obj) else {}
    backward_fns = {k: f for k, f in functions.items() if takes_grad_first(f)}
    classes = function_classes(obj) if not inspect.isclass(obj) else {}
    tensor = find_tensor_class(obj)
    pairs = find_pairs(obj) if not inspect.isclass(obj) else {}
    rules = custom_rules(obj) if not inspect.isclass(obj) else {}
    if rules and style in (None, "functional"):  # jax.custom_vjp, autograd's @primitive: through their VJP
        return CustomRuleTarget(whole, label, rules)
    operations = mygrad_operations(obj) if not inspect.isclass(obj) else {}
    if operations and style in (None, "function-class"):  # MyGrad's Operation: through execute_op
        return MyGradOperationTarget(whole, label, operations)
    if style == "cache-pairs" or (style is None and pairs and len(pairs) >= len(backward_fns)):
        if not pairs:
            raise TargetError(f"{label} has no forward/backward pairs (`affine_forward` / `affine_backward`)")
        return CachePairTarget(whole, label, find_pairs(whole))
    if style == "functions" or (style is None and backward_fns):
        if not functions:
            raise TargetError(f"{label} has no function named after any op (functions style)")
        # backward functions it imports are its answers too (a provided one re-exported)
        return FunctionsTarget(whole, label)
    if style == "function-class" or (style is None and classes and not backward_fns):
        if not classes:
            raise TargetError(f"{label} has no classes with forward and backward (function-class style)")
        torch_classes = {k: c for k, c in classes.items() if is_torch_function(c)}
        if torch_classes:  # run by torch's own autograd, never with NumPy arrays
            return TorchFunctionTarget(obj, label, torch_classes)
        if not any(is_static(c) for c in classes.values()):
            engine = _instance_engine(obj, label, classes, tensor)
            if engine is not None:
                return engine
        elif style is None and tensor is not None:
            engine = _static_engine(obj, label, tensor)
            if engine is not None:
                return engine
        return settle_wrapping(FunctionClassTarget(obj, label), find_wrapper_class(obj))
    if style == "tensor" or (style is None and tensor is not None):
        if tensor is None:
            raise TargetError(f"{label} has no Tensor class (a class with backward() and a grad attribute)")
        api = obj if not inspect.isclass(obj) else inspect.getmodule(obj)
        leaf, constant = leaf_factories(tensor, api)
        return _tensor_ops(EngineTarget(label, api, leaf, constant, tensor_type=tensor), obj)
    if functions:
        engine = _forward_function_engine(obj, label, functions)
        if engine is not None:
            return engine
    found = ", ".join(sorted(functions)) or "none"
    raise TargetError(
        f"cannot tell how to call {label}: looked for backward functions f(grad, *inputs) "
        f"(op-named functions found: {found}; none takes a gradient first), forward/backward pairs with a "
        f"cache (`affine_forward` / `affine_backward`: none), classes with forward and "
        f"backward (none), a Tensor class with backward() and a grad attribute (none), and jax.custom_vjp, "
        f"custom_jvp or autograd @primitive rules named after an op (none). "
        f"Force a style with --style, or write a Binding (README, 'Bindings')")


def _tensor_ops(engine, namespace):
    """An engine over needle-style TensorOps (``compute``/``gradient``) is asked only for what needle
    promises (:mod:`.tensor_ops`); any engine gets the spellings its library's conventions need
    (:mod:`.conventions`)."""
    notes = []
    if not inspect.isclass(namespace) and tensor_op_classes(namespace):
        from ..catalog.registry import ops
        engine.contract = explicit_broadcasting
        for op in ops():
            if reduces_over_axes(op):
                engine.spellings[op.name] = axes_as_tuple(engine.spelling(op))
        notes.append(f"its TensorOps (compute/gradient) reached through {engine.tensor_type.__name__}'s "
                     "operators and methods and the module's functions; elementwise ops on equal shapes, "
                     "matmul of 2-D and batched operands, axes as tuples")
    engine.via = "; ".join(notes + settle_conventions(engine))
    return engine


def _static_engine(namespace, label, tensor):
    """Static Function classes beside a Tensor class whose operators and methods apply them
    (MiniTorch): checked through the Tensor's engine, which sums each gradient back to its input's
    shape (a Function's backward alone returns it at the broadcast shape); a Tensor that holds one
    number (MiniTorch's module-1 ``Scalar``) is driven on arrays of them; None when no seeding fits."""
    leaf, constant = leaf_factories(tensor, namespace)
    engine = EngineTarget(label, namespace, leaf, constant, tensor_type=tensor)
    try:
        engine.settle()
    except Exception:  # noqa: BLE001  arrays do not fit it (a Scalar's float(array) raises TypeError)
        if not holds_one_number(tensor):
            return None
        try:
            return ScalarEngineTarget(label, namespace, tensor).settle()
        except TargetError:
            return None
    engine.via = "; ".join([f"its Function classes reached through {tensor.__name__}'s operators and methods"]
                           + settle_conventions(engine) + _second_engine(namespace, tensor))
    return engine


def _second_engine(namespace, tensor):
    """A line naming the target that checks the package's other engine, one whose Value holds one
    number (MiniTorch's module-1 ``Scalar`` beside its ``Tensor``); nothing when there is none."""
    import os
    for obj in list(vars(namespace).values()) if hasattr(namespace, "__dict__") else []:
        if obj is tensor or not is_tensor_class(obj) or not holds_one_number(obj):
            continue
        try:
            where = inspect.getfile(obj)
        except TypeError:
            continue
        relative = os.path.relpath(where)
        where = where if relative.startswith("..") else relative
        return [f"its {obj.__name__} classes (one number each) are not checked here: --target {where}"]
    return []


def _instance_engine(namespace, label, classes, tensor):
    """Function classes whose instances build a graph when called (DeZero's ``Sin()(x)``)."""
    from ..catalog.registry import ops
    spellings = {}
    for op in ops():
        cls = class_for(classes, op)
        if cls is not None and "__call__" in _callable_names(cls):
            spellings[op.name] = _class_spelling(cls)
    if not spellings:
        return None
    leaf_type = tensor
    if leaf_type is None:
        leaf_type = _tensor_type_of_results(spellings, pass_api=True)
    if leaf_type is None:
        return None
    leaf, constant = leaf_factories(leaf_type)
    # ops without a class keep the catalog's operators/methods on the library's tensor
    return EngineTarget(label, namespace, leaf, constant, spellings=spellings, tensor_type=leaf_type)


def _callable_names(cls):
    names = set()
    for base in cls.__mro__[:-1]:
        names |= set(vars(base))
    return names


def _class_spelling(cls):
    def spell(api, *tensors, **params):
        init, call = split_params(cls, params)
        return cls(**init)(*tensors, **call)
    spell.__name__ = f"call_{cls.__name__}"
    return spell


def _tensor_type_of_results(callables, pass_api):
    """The type of the first result with ``backward`` among op-named callables tried on small cases."""
    from ..catalog.registry import get_op
    for name, fn in callables.items():
        op = get_op(name)
        case, inputs = probe_inputs(op)
        args = ([None] if pass_api else []) + list(inputs)
        try:
            out = fn(*args, **op.with_defaults(case.params))
        except Exception:  # noqa: BLE001  not this one
            continue
        if callable(getattr(out, "backward", None)):
            return type(out)
    return None


def _forward_function_engine(namespace, label, functions):
    """Forward functions whose results carry ``backward`` (a Tensor type found by calling them)."""
    tensor = _tensor_type_of_results(functions, pass_api=False)
    if tensor is None:
        return None
    leaf, constant = leaf_factories(tensor)
    return EngineTarget(label, namespace, leaf, constant, tensor_type=tensor)


def _seeding_from(binding, target):
    seed = binding.seed
    if seed is None or isinstance(seed, Seeding):
        return seed
    if callable(seed):
        return Seeding("as the binding says", lambda t, o, G: seed(o, G))
    named = {"argument": ARGUMENT, "scalar": SCALAR, "steps": STEPS}
    if seed in named:
        return named[seed]
    if isinstance(seed, str) and seed.startswith("attribute:"):
        return assign(seed.split(":", 1)[1])
    raise TargetError(f"binding {binding.label()}: unknown seed {seed!r}; use 'argument', 'attribute:NAME', "
                      "'scalar', 'steps' or a callable seed(out, G)")


def from_binding(binding):
    """The target a :class:`Binding` describes."""
    namespace = binding.namespace()
    label = binding.label()
    spellings = binding.spellings()
    unwrap = binding.unwrap or to_array
    style = binding.style or ("functional" if binding.vjp is not None else None)
    if style == "functional":
        if binding.vjp is None:
            raise TargetError(f"binding {label}: the functional style needs vjp=")
        return FunctionalTarget(label, namespace, binding.vjp, spellings, to_input=binding.leaf,
                                unwrap=binding.unwrap or np.asarray, exact_capable=binding.exact)
    if style in ("functions", "function-class"):
        if binding.ops:  # the binding names them: nothing named after an op is needed
            target = FunctionsTarget(namespace, label) if style == "functions" else FunctionClassTarget(namespace, label)
            target.overrides = binding.named_objects()
            if style == "function-class":
                target = settle_wrapping(target, find_wrapper_class(namespace))
        else:
            target = discover(namespace, label, style)
        if binding.params and isinstance(target, FunctionsTarget):
            target.renames = binding.renames_for("")
        return target
    tensor = binding.tensor_type() or find_tensor_class(namespace)
    if tensor is None and binding.leaf is None:
        raise TargetError(f"binding {label}: no Tensor class found in {getattr(namespace, '__name__', label)}; "
                          "name it with tensor= (or give leaf=)")
    leaf, constant = leaf_factories(tensor) if tensor is not None else (binding.leaf, binding.leaf)
    target = EngineTarget(label, namespace, binding.leaf or leaf, binding.constant or constant,
                          spellings=spellings, grad=binding.grad, unwrap=unwrap, tensor_type=tensor)
    target._seeding = _seeding_from(binding, target)
    target.exact_capable = binding.exact
    return settle(target, discovered=False)


__all__ = ["discover", "from_binding", "find_tensor_class", "is_tensor_class", "ForwardError", "Unsupported"]
