"""``jax.custom_vjp`` and ``jax.custom_jvp`` functions: their gradient taken by ``jax.vjp``, so that the
custom rule is what runs (a custom_jvp's VJP is JAX's transpose of the rule).

A rule is found by its op's name (``silu``, or an alias) and called on ``jax.numpy`` arrays in
float64: loading turns ``jax_enable_x64`` on, as the reference binding does, and says so, because
JAX's default (off) would round every input to float32.  Parameters the op has go by position
where the rule's function names them, as they must for ``nondiff_argnums``.
"""

from __future__ import annotations

import inspect

from .base import Unsupported, fit_params
from .functional import FunctionalTarget
from .functions import lookup

__all__ = ["is_jax_rule", "jax_rules", "JaxRuleTarget"]


def is_jax_rule(obj):
    """Whether ``obj`` is a ``jax.custom_vjp`` or ``jax.custom_jvp`` function (told without importing jax)."""
    kind = type(obj)
    return kind.__name__ in ("custom_vjp", "custom_jvp") and kind.__module__.startswith("jax")


def jax_rules(namespace):
    """Op name -> the custom rule of ``namespace`` named after it."""
    from ..catalog.registry import ops
    found = {}
    for op in ops():
        rule = lookup(namespace, op, is_jax_rule)
        if rule is not None:
            found[op.name] = rule
    return found


def _spelling(name, rule):
    fun = getattr(rule, "fun", rule)

    def spell(api, *arrays, **params):
        from ..catalog.registry import get_op
        op = get_op(name)
        try:
            parameters = list(inspect.signature(fun).parameters.values())[len(arrays):]
        except (TypeError, ValueError):
            parameters = []
        fitted = fit_params(fun, params, op.params, name, per_axis=op.per_axis) if params else {}
        extra = []
        for p in parameters:
            if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
                break
            if p.name in fitted:
                extra.append(fitted[p.name])
            elif p.default is not p.empty:
                extra.append(p.default)
            else:
                raise Unsupported(f"{name} wants {p.name}, which derive cannot fill")
        return rule(*arrays, *extra)
    return spell


class JaxRuleTarget(FunctionalTarget):
    """The custom rules of a module, through ``jax.vjp`` on ``jax.numpy`` arrays."""

    def __init__(self, namespace, label, rules=None):
        import jax
        import jax.numpy as jnp
        rules = jax_rules(namespace) if rules is None else rules
        self.x64_was_off = not jax.config.jax_enable_x64
        jax.config.update("jax_enable_x64", True)
        super().__init__(label, jnp, vjp=lambda fn, xs: jax.vjp(fn, *xs),
                         spellings={name: _spelling(name, rule) for name, rule in rules.items()},
                         to_input=jnp.asarray, exact_capable=False)
        self.seeding = "jax.vjp(rule, *inputs), then vjp_fn(G): the custom rule runs"
        if self.x64_was_off:
            self.seeding += "; jax_enable_x64 turned on (float64, not JAX's default float32)"

    def spelling(self, op):
        return self.spellings.get(op.name)  # None: the op is missing (the catalog's call is jnp's, not the author's)

    def supports(self, op):
        if op.name not in self.spellings:
            return False, f"no custom_vjp or custom_jvp for `{op.name}` in {self.name}"
        return super().supports(op)
