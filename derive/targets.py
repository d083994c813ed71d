"""Targets: the backward implementations that get verified.

A target is named ``numeric`` (the default: :mod:`numeric`'s Tensor, end to
end), ``numeric.backward`` (the same functions, directly), ``torch`` (a trusted
reference, when torch is installed), or a user's ``module``, ``module:attr`` or
``path/to/file.py[:attr]`` in one of three styles:

``functions``
    an attribute per op: ``matmul(grad, x, y) -> (grad_x, grad_y)``;
``tensor``
    a Tensor class in the seed's style (``value``, ``prevs``, ``backwards_grad``,
    ``backward()``), reached through operators, methods and module functions;
``function-class``
    classes with ``forward(ctx, *inputs)`` and ``backward(ctx, grad_output)``.

This is the one module of :mod:`derive` that names :mod:`numeric`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import os
import sys
import types

import numpy as np

from .catalog import ops


__all__ = ["TargetError", "CannotExpress", "ProtocolError", "load_target", "same_values", "STYLES"]

STYLES = ("functions", "tensor", "function-class")


class TargetError(ValueError):
    """The target cannot be loaded or used (a usage error, not a failed check)."""


class CannotExpress(Exception):
    """The target cannot express this case of the op (counted as a skipped case)."""


class ProtocolError(Exception):
    """The target's answer does not follow the protocol (a failure, not an exception it raised)."""


def _norm(name):
    return name.replace("_", "").lower()


class Target:
    name = "?"
    style = "?"
    exact_capable = True

    def supports(self, op):
        """``(True, "")`` or ``(False, reason)``."""
        return True, ""

    def run(self, op, case, inputs, G):
        """The gradients for every input (None for non-differentiable ones)."""
        raise NotImplementedError


# ---- functions style ----------------------------------------------------------------------

def _lookup(namespace, op, predicate=callable):
    wanted = [op.name, *op.aliases]
    for name in wanted:
        obj = getattr(namespace, name, None)
        if obj is not None and predicate(obj):
            return obj
    return None


def _as_tuple(result, op):
    if isinstance(result, (tuple, list)):
        return tuple(result)
    if len(op.differentiable) == 1:
        out = []
        for spec in op.inputs:
            out.append(result if spec.differentiable else None)
        return tuple(out)
    raise ProtocolError(f"returned a single gradient where a tuple of {len(op.inputs)} was expected "
                        f"({', '.join('dl/d' + n for n in op.input_names)})")


class FunctionsTarget(Target):
    style = "functions"

    def __init__(self, namespace, name):
        self.namespace, self.name = namespace, name

    def supports(self, op):
        if _lookup(self.namespace, op) is None:
            return False, f"{self.name} has no function {op.name}"
        return True, ""

    def run(self, op, case, inputs, G):
        fn = _lookup(self.namespace, op)
        params = op.with_defaults(case.params)
        return _as_tuple(fn(G, *inputs, **params), op)


# ---- tensor style -----------------------------------------------------------------------------

def _grad_of(tensor):
    for attr in ("backwards_grad", "grad"):
        if hasattr(tensor, attr):
            value = getattr(tensor, attr)
            return None if value is None else np.asarray(value)
    return None


@functools.lru_cache(maxsize=None)
def _takes_gradient(tensor_type):
    """Whether ``tensor_type.backward`` accepts an upstream gradient argument."""
    try:
        sig = inspect.signature(tensor_type.backward)
    except (TypeError, ValueError):
        return True
    params = list(sig.parameters.values())[1:]  # without self
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               and p.name not in ("zero_grad", "retain_graph") for p in params)


def _seed_backward(out, G):
    """Run the backward pass of ``out`` with upstream gradient ``G`` (never ones)."""
    backward = out.backward
    if _takes_gradient(type(out)):
        backward(G)
        return
    if hasattr(out, "_get_graph") and hasattr(out, "_backward_step"):
        # the seed's Tensor: backward() always starts from ones, so run its own steps from G
        order = out._get_graph(zero_grad=True)
        out.backwards_grad = G
        for node in reversed(order):
            node._backward_step()
        return
    raise TargetError("its Tensor.backward() takes no upstream gradient, so an arbitrary G cannot be seeded")


class TensorTarget(Target):
    style = "tensor"

    def __init__(self, tensor_cls, api, name):
        self.tensor_cls, self.api, self.name = tensor_cls, api, name

    def supports(self, op):
        if op.call is None:
            return False, f"{op.name} has no tensor-style spelling"
        return True, ""

    def run(self, op, case, inputs, G):
        params = op.with_defaults(case.params)
        tensors = [self.tensor_cls(np.array(a, copy=True)) if spec.domain != "labels" else a
                   for spec, a in zip(op.inputs, inputs)]
        try:
            out = op.call(self.api, *tensors, **params)
        except AttributeError as exc:
            if any(getattr(exc, "obj", None) is t for t in tensors):
                # the Tensor lacks the method/attribute: a case it cannot express
                raise CannotExpress(f"{type(tensors[0]).__name__} has no {exc.name!r}") from None
            raise
        if out is None:
            raise CannotExpress(f"{self.name} cannot express {op.name} with {params}")
        _seed_backward(out, G)
        for spec, t, a in zip(op.inputs, tensors, inputs):
            value = getattr(t, "value", None)
            if spec.domain != "labels" and value is not None and not same_values(value, a):
                raise ProtocolError(f"the backward modified the value of input {spec.name} in place")
        return tuple(_grad_of(t) if spec.differentiable else None for spec, t in zip(op.inputs, tensors))


def same_values(a, b):
    """Whether two arrays (float or symbolic) have the same shape and entries."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype == object or b.dtype == object:
        return all(x == y for x, y in zip(a.ravel(), b.ravel()))
    # the plain comparison is one pass and almost always decides; NaNs need the slower one
    return bool(np.array_equal(a, b)) or bool(np.array_equal(a, b, equal_nan=True))


# ---- function-class style -------------------------------------------------------------------------

class _Ctx(types.SimpleNamespace):
    """A context in the style of torch.autograd.Function's ``ctx``."""

    def save_for_backward(self, *values):
        self.saved_tensors = values
        self.saved_values = values


def _function_classes(namespace):
    found = {}
    for name, obj in vars(namespace).items():
        if inspect.isclass(obj) and callable(getattr(obj, "forward", None)) and \
                callable(getattr(obj, "backward", None)):
            found[_norm(name)] = obj
    return found


class FunctionClassTarget(Target):
    style = "function-class"

    def __init__(self, namespace, name):
        self.namespace, self.name = namespace, name
        self.classes = _function_classes(namespace)

    def _class(self, op):
        for n in (op.name, *op.aliases):
            if _norm(n) in self.classes:
                return self.classes[_norm(n)]
        return None

    def supports(self, op):
        if self._class(op) is None:
            return False, f"{self.name} has no class for {op.name}"
        return True, ""

    def run(self, op, case, inputs, G):
        cls = self._class(op)
        params = op.with_defaults(case.params)
        ctx = _Ctx()
        if isinstance(inspect.getattr_static(cls, "forward"), staticmethod):
            cls.forward(ctx, *inputs, **params)
            grads = cls.backward(ctx, G)
        else:
            instance = cls()
            instance.forward(*inputs, **params)
            grads = instance.backward(G)
        return _as_tuple(grads, op)


# ---- torch --------------------------------------------------------------------------------------------

class TorchTarget(Target):
    """torch.autograd as a trusted reference."""

    name = "torch"
    style = "reference"
    exact_capable = False

    def __init__(self):
        try:
            import torch
        except ImportError:
            raise TargetError("the torch target needs torch: pip install torch "
                              "(or pip install -e \".[torch]\")") from None
        from . import torch_api
        self.torch, self.api = torch, torch_api

    def supports(self, op):
        return (op.call is not None), ("" if op.call is not None else f"{op.name} has no spelling")

    def run(self, op, case, inputs, G):
        torch = self.torch
        params = op.with_defaults(case.params)
        leaves, wrapped = [], []
        for spec, a in zip(op.inputs, inputs):
            if spec.domain == "labels":
                wrapped.append(torch.as_tensor(np.asarray(a), dtype=torch.long))
                continue
            t = torch.tensor(np.asarray(a), requires_grad=spec.differentiable)
            leaves.append((spec, t))
            wrapped.append(self.api.TorchTensor(t))
        out = op.call(self.api, *wrapped, **params)
        if out is None:
            raise CannotExpress(f"torch cannot express {op.name} with {params}")
        diff = [t for spec, t in leaves if spec.differentiable]
        out_t = out.t if isinstance(out, self.api.TorchTensor) else out
        grads = torch.autograd.grad(out_t, diff, grad_outputs=torch.as_tensor(np.asarray(G), dtype=out_t.dtype),
                                    allow_unused=True)
        grads = iter(grads)
        result = []
        for spec, a in zip(op.inputs, inputs):
            if not spec.differentiable:
                result.append(None)
                continue
            g = next(grads)
            result.append(np.zeros(np.shape(a)) if g is None else g.detach().numpy())
        return tuple(result)


# ---- loading ---------------------------------------------------------------------------------------------

def _import(spec):
    module_part, _, attr = spec.partition(":")
    try:
        if module_part.endswith(".py") or os.sep in module_part or "/" in module_part:
            path = os.path.abspath(module_part)
            if not os.path.exists(path):
                raise TargetError(f"target file {module_part} does not exist")
            mod_name = "_derive_target_" + os.path.splitext(os.path.basename(path))[0]
            loader_spec = importlib.util.spec_from_file_location(mod_name, path)
            module = importlib.util.module_from_spec(loader_spec)
            sys.modules[mod_name] = module
            sys.path.insert(0, os.path.dirname(path))
            try:
                loader_spec.loader.exec_module(module)
            finally:
                sys.path.remove(os.path.dirname(path))
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(module_part)
    except TargetError:
        raise
    except SyntaxError as exc:
        raise TargetError(f"target {spec} has a syntax error: {exc.filename}:{exc.lineno}: {exc.msg}") from None
    except ImportError as exc:
        raise TargetError(f"cannot import target {spec}: {exc}") from None
    except Exception as exc:  # the module raised while importing
        raise TargetError(f"importing target {spec} raised {type(exc).__name__}: {exc}") from None
    obj = module
    for part in filter(None, attr.split(".")):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"target {module_part} has no attribute {attr}") from None
    return module, obj


def _is_tensor_class(obj):
    if not (inspect.isclass(obj) and callable(getattr(obj, "backward", None))):
        return False
    names = _attribute_names(obj)
    return "backwards_grad" in names or "prevs" in names


def _attribute_names(cls):
    names = set(dir(cls))
    try:
        src = inspect.getsource(cls)
    except (OSError, TypeError):
        return names
    for word in ("backwards_grad", "prevs", "value"):
        if f".{word}" in src:
            names.add(word)
    return names


def _detect_style(obj):
    if _is_tensor_class(obj):
        return "tensor"
    tensor = getattr(obj, "Tensor", None)
    if _is_tensor_class(tensor):
        return "tensor"
    if _function_classes(obj) and not any(callable(getattr(obj, op.name, None)) and
                                          not inspect.isclass(getattr(obj, op.name)) for op in ops()):
        return "function-class"
    return "functions"


def load_target(target="numeric", style=None):
    """Resolve ``target`` (a name or an object) into a :class:`Target`.

    Raises
    ------
    TargetError
        The target cannot be imported, has a syntax error, or the style does not fit.
    """
    if isinstance(target, Target):
        return target
    if style is not None and style not in STYLES:
        raise TargetError(f"unknown style {style!r}; use one of {', '.join(STYLES)}")
    if target == "torch":
        return TorchTarget()
    if target == "numeric" and style in (None, "tensor"):
        import numeric
        return TensorTarget(numeric.Tensor, numeric, "numeric")
    if target == "numeric":
        target = "numeric.backward"
    if isinstance(target, (types.ModuleType, type)) or (not isinstance(target, str)):
        module, obj, label = inspect.getmodule(target), target, getattr(target, "__name__", repr(target))
    else:
        module, obj = _import(target)
        label = target
    style = style or _detect_style(obj)
    if style == "tensor":
        tensor = obj if inspect.isclass(obj) else getattr(obj, "Tensor", None)
        if not inspect.isclass(tensor):
            raise TargetError(f"target {label} has no Tensor class for the tensor style")
        api = inspect.getmodule(tensor) if inspect.isclass(obj) else obj
        return TensorTarget(tensor, api, label)
    if style == "function-class":
        return FunctionClassTarget(obj, label)
    return FunctionsTarget(obj, label)

