"""Custom rules of function transforms, their gradient taken by the transform itself, so that the
custom rule is what runs:

- ``jax.custom_vjp`` and ``jax.custom_jvp`` functions, through ``jax.vjp`` (a custom_jvp's VJP is
  JAX's transpose of the rule), on ``jax.numpy`` arrays in float64: loading turns
  ``jax_enable_x64`` on, as the reference binding does, and says so, because JAX's default (off)
  would round every input to float32;
- HIPS autograd ``@primitive`` functions with ``defvjp``, through ``autograd.make_vjp``.

A rule is found by its op's name (``silu``, or an alias).  Parameters the op has go by position
where the rule's function names them, as they must for ``nondiff_argnums``.
"""

from __future__ import annotations

from ..catalog.spelling import params_by_position
from .functional import FunctionalTarget
from .functions import lookup

__all__ = ["is_jax_rule", "is_autograd_primitive", "is_custom_rule", "custom_rules", "CustomRuleTarget",
           "jax_vjp", "autograd_vjp"]


def is_jax_rule(obj):
    """Whether ``obj`` is a ``jax.custom_vjp`` or ``jax.custom_jvp`` function (told without importing jax)."""
    kind = type(obj)
    return kind.__name__ in ("custom_vjp", "custom_jvp") and kind.__module__.split(".")[0] == "jax"


def is_autograd_primitive(obj):
    """Whether ``obj`` is a HIPS autograd ``@primitive`` function."""
    return callable(obj) and getattr(obj, "_is_autograd_primitive", False) is True


def is_custom_rule(obj):
    return is_jax_rule(obj) or is_autograd_primitive(obj)


def custom_rules(namespace):
    """Op name -> the custom rule of ``namespace`` named after it."""
    from ..catalog.registry import ops
    found = {}
    for op in ops():
        rule = lookup(namespace, op, is_custom_rule)
        if rule is not None:
            found[op.name] = rule
    return found


def jax_vjp(fn, inputs):
    """``(output, vjp_fn)`` of ``fn`` at ``inputs``, by ``jax.vjp``."""
    import jax
    return jax.vjp(fn, *inputs)


def autograd_vjp(fn, inputs):
    """``(output, vjp_fn)`` of ``fn`` at ``inputs``, by HIPS autograd's ``make_vjp``."""
    from autograd import make_vjp
    vjp_fn, output = make_vjp(fn, argnum=tuple(range(len(inputs))))(*inputs)
    return output, vjp_fn


def _spelling(name, rule):
    fun = getattr(rule, "fun", rule)

    def spell(api, *arrays, **params):
        from ..catalog.registry import get_op
        extra = params_by_position(fun, len(arrays), params, get_op(name), name)
        return rule(*arrays, *extra)
    return spell


class CustomRuleTarget(FunctionalTarget):
    """The custom rules of a module (all JAX's or all autograd's), through their transform's VJP."""

    def __init__(self, namespace, label, rules=None):
        rules = custom_rules(namespace) if rules is None else rules
        self.kind = "jax" if any(is_jax_rule(r) for r in rules.values()) else "autograd"
        spellings = {name: _spelling(name, rule) for name, rule in rules.items()}
        if self.kind == "jax":
            import jax
            import jax.numpy as api
            self.x64_was_off = not jax.config.jax_enable_x64
            jax.config.update("jax_enable_x64", True)
            super().__init__(label, api, vjp=jax_vjp, spellings=spellings, to_input=api.asarray, exact_capable=False)
            self.seeding = "jax.vjp(rule, *inputs), then vjp_fn(G): the custom rule runs"
            if self.x64_was_off:
                self.seeding += "; jax_enable_x64 turned on (float64, not JAX's default float32)"
        else:
            import autograd.numpy as api
            super().__init__(label, api, vjp=autograd_vjp, spellings=spellings)
            self.seeding = "autograd.make_vjp(rule)(*inputs), then vjp_fn(G): the defvjp rule runs"
        self.what = "custom_vjp or custom_jvp" if self.kind == "jax" else "@primitive"

    def spelling(self, op):
        return self.spellings.get(op.name)  # None: the op is missing (the catalog's call is NumPy's, not the author's)

    def supports(self, op):
        if op.name not in self.spellings:
            return False, f"no {self.what} for `{op.name}` in {self.name}"
        return super().supports(op)
