"""Bindings: say in a few lines what discovery cannot find out about a library.

A :class:`Binding` names the library's namespace and, only where needed, how each
op is spelled, how parameters are renamed, how arrays are wrapped and unwrapped,
how G is seeded and where gradients are read.  Everything left out is discovered
as for any target.  Point the checker at it with ``--target mybinding.py:binding``
(or pass it as ``target=``).

>>> import numpy as np
>>> import derive
>>> import numeric
>>> binding = derive.Binding(numeric, tensor=numeric.Tensor,
...                          ops={"multiply": lambda api, x, y: x * y})
>>> derive.check("multiply", target=binding, shapes=[(2, 3), (3,)], database=None).status
'pass'
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Optional


from .base import Target, TargetError, Unsupported

__all__ = ["Binding"]

STYLES = ("tensor", "functional", "functions", "function-class")


@dataclass
class Binding:
    """How to call a library's ops and backward.

    Parameters
    ----------
    module : module or str
        The namespace ops are spelled in (``mygrad``, ``autograd.numpy``...).
    name : str, optional
        Shown in reports (default: the module's name).
    tensor : type or str, optional
        The class that wraps arrays (engines; function classes that take it).
    ops : dict
        Op name (or alias) -> how it is spelled.  In the functions style, the op's backward
        function (or its name in ``module``); in the function-class style, its class (or name);
        None: the library has no such op.  Otherwise a callable ``spell(api, *tensors, **params)``;
        a name in ``module`` (``"nnet.softmax"``), called as ``fn(*tensors, **params)``;
        a method (``".permute"``), called as ``x.permute(**params)``; or None (the library
        has no such op: it is skipped with that reason).  Ops not named use the catalog's
        spelling (operators, methods and module functions with NumPy's names).
    params : dict
        Renamed parameters, NumPy's name -> the library's, for every op
        (``{"axis": "dim", "keepdims": "keepdim"}``) or per op
        (``{"transpose": {"axes": "order"}}``); they apply to named and method spellings.
    unsupported : dict
        Op name -> ``predicate(case) -> reason or False``: cases the API cannot express
        (skipped and counted, never failures).  A spelling may also raise
        :class:`derive.Unsupported`.
    leaf, constant : callable, optional
        ``array -> tensor`` for an input that collects a gradient, and for a constant
        (labels, the G of a scalar seeding).  Default: ``tensor(array)``, with
        ``requires_grad=True`` where the constructor takes it.
    seed : str or callable, optional
        How G starts the backward pass: ``"argument"`` (``backward(G)``),
        ``"attribute:grad"`` (assign, then ``backward()``), ``"scalar"``
        (``sum(Z * G).backward()``), or ``seed(out, G)``.  Default: discovered.
    grad : str or callable, optional
        Where a leaf's gradient is read: an attribute name or ``tensor -> array``.
    unwrap : callable, optional
        ``tensor -> ndarray`` (default: ``.numpy()``, ``.data``, ``.value``, ``np.asarray``).
    vjp : callable, optional
        For function transforms: ``vjp(fn, inputs) -> (output, vjp_fn)``.
    style : str, optional
        ``tensor``, ``functional``, ``functions`` or ``function-class`` (default: from the rest).
    setup : callable, optional
        Run once when the target is loaded (``jax.config.update("jax_enable_x64", True)``).
    exact : bool
        Whether to try exact (rational) evidence; off for libraries that cannot hold objects.
    """

    module: Any
    name: Optional[str] = None
    tensor: Any = None
    ops: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    unsupported: dict = field(default_factory=dict)
    leaf: Optional[Callable] = None
    constant: Optional[Callable] = None
    seed: Any = None
    grad: Any = None
    unwrap: Optional[Callable] = None
    vjp: Optional[Callable] = None
    style: Optional[str] = None
    setup: Optional[Callable] = None
    exact: bool = True

    # -- resolving ------------------------------------------------------------------------------------
    def namespace(self):
        if isinstance(self.module, str):
            try:
                return importlib.import_module(self.module)
            except ImportError as exc:
                raise TargetError(f"binding {self.label()}: cannot import {self.module} ({exc}); "
                                  f"is it installed?") from None
        return self.module

    def label(self):
        if self.name:
            return self.name
        return self.module if isinstance(self.module, str) else getattr(self.module, "__name__", "binding")

    def tensor_type(self):
        if isinstance(self.tensor, str):
            return _resolve(self.namespace(), self.tensor, self.label())
        return self.tensor

    def renames_for(self, op_name):
        per_op = self.params.get(op_name)
        if isinstance(per_op, dict):
            return per_op
        return {k: v for k, v in self.params.items() if not isinstance(v, dict)}

    def named_objects(self):
        """Op name -> what ``ops`` names for it, resolved (a function, a class, or None), for the
        functions and function-class styles, whose ``ops`` are backward functions and classes."""
        from ..catalog.registry import get_op
        return {get_op(key).name: (_resolve(self.namespace(), how, self.label()) if isinstance(how, str) else how)
                for key, how in self.ops.items()}

    def spellings(self):
        """Op name -> spelling, for every op the binding names (aliases resolved)."""
        from ..catalog.registry import get_op
        out = {}
        for key, how in self.ops.items():
            op = get_op(key)
            out[op.name] = self._spelling(op, how)
        for key, predicate in self.unsupported.items():
            op = get_op(key)
            out[op.name] = _guarded(op, out.get(op.name, op.call), predicate)
        return out

    def _spelling(self, op, how):
        if how is None or callable(how):
            return how
        if not isinstance(how, str):
            raise TargetError(f"binding {self.label()}: ops[{op.name!r}] must be a callable, a name or None")
        renames = self.renames_for(op.name)
        if how.startswith("."):
            method = how[1:]

            def spell(api, x, *rest, **params):
                return getattr(x, method)(*rest, **{renames.get(k, k): v for k, v in params.items()})
        else:
            fn = _resolve(self.namespace(), how, self.label())

            def spell(api, *tensors, **params):
                return fn(*tensors, **{renames.get(k, k): v for k, v in params.items()})
        spell.__name__ = f"spell_{op.name}"
        return spell

    # -- the target ---------------------------------------------------------------------------------------
    def target(self) -> Target:
        """The target this binding describes (discovering what it leaves out)."""
        from . import discover
        if self.setup is not None:
            self.setup()
        return discover.from_binding(self)


def _guarded(op, spell, predicate):
    def guarded(api, *tensors, **params):
        from ..catalog.registry import Case
        shapes = tuple(tuple(getattr(t, "shape", ())) for t in tensors)
        reason = predicate(Case(shapes, params))
        if reason:
            raise Unsupported(reason if isinstance(reason, str) else f"{op.name}: declared unsupported here")
        return spell(api, *tensors, **params)
    return guarded


def _resolve(namespace, dotted, label):
    obj = namespace
    for part in dotted.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            where = getattr(namespace, "__name__", label)
            raise TargetError(f"binding {label}: {where} has no {dotted}") from None
    return obj


