"""Custom rules as a JAX library author writes them (jax.custom_vjp with defvjp, jax.custom_jvp
with defjvp, nondiff_argnums for a parameter)."""

from functools import partial

import jax
import jax.numpy as jnp


@jax.custom_vjp
def silu(x):
    return x * jax.nn.sigmoid(x)


def silu_fwd(x):
    s = jax.nn.sigmoid(x)
    return x * s, (x, s)


def silu_bwd(res, g):
    x, s = res
    return (g * s * (1 + x * (1 - s)),)


silu.defvjp(silu_fwd, silu_bwd)


@jax.custom_vjp
def linear(x, weight, bias):
    return x @ weight.T + bias


def linear_fwd(x, weight, bias):
    return linear(x, weight, bias), (x, weight)


def linear_bwd(res, g):
    x, weight = res
    return g @ weight, g.T @ x, g.sum(0)


linear.defvjp(linear_fwd, linear_bwd)


@jax.custom_jvp
def softplus(x):
    return jnp.logaddexp(x, 0.0)


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), jax.nn.sigmoid(x) * t


@partial(jax.custom_vjp, nondiff_argnums=(1,))
def leaky_relu(x, negative_slope=0.01):
    return jnp.where(x > 0, x, negative_slope * x)


def leaky_relu_fwd(x, negative_slope):
    return leaky_relu(x, negative_slope), x


def leaky_relu_bwd(negative_slope, x, g):
    return (jnp.where(x > 0, g, negative_slope * g),)


leaky_relu.defvjp(leaky_relu_fwd, leaky_relu_bwd)


@jax.custom_vjp
def mse_loss(pred, target):
    return jnp.mean((pred - target) ** 2).reshape(1)  # a scalar as shape (1,), as some authors return it


def mse_loss_fwd(pred, target):
    return mse_loss(pred, target), (pred, target)


def mse_loss_bwd(res, g):
    pred, target = res
    d = 2 * (pred - target) / pred.size * g[0]
    return d, -d


mse_loss.defvjp(mse_loss_fwd, mse_loss_bwd)
