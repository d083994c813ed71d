"""JAX: ops spelled with ``jax.numpy`` (and ``jax.nn``) in float64, gradients from ``jax.vjp``."""

from ..targets.binding import Binding
from ..targets.custom_rules import jax_vjp as vjp


def _x64():
    import jax
    jax.config.update("jax_enable_x64", True)



def _nn(name):
    def spell(api, x, **params):
        import jax
        return getattr(jax.nn, name)(x, **params)
    return spell


def _compared(name):
    """``jnp.<name>(x, y)`` as x's dtype, as a JAX user writes a step.  Under ``jax.vjp`` a comparison
    gives a concrete array, not a tracer, which derive would otherwise read as "not in the target"."""
    def spell(api, x, y):
        return getattr(api, name)(x, y).astype(api.result_type(x, y))
    return spell


def _as_jax(a):
    import jax.numpy as jnp
    return jnp.asarray(a)


binding = Binding(
    "jax.numpy", name="jax", vjp=vjp, setup=_x64, leaf=_as_jax, exact=False,
    ops={"sigmoid": _nn("sigmoid"), "relu": _nn("relu"), "softmax": _nn("softmax"),
         "log_softmax": _nn("log_softmax"),
         **{name: _compared(name) for name in ("less", "equal", "greater")}},
)
