"""The rules of correct.py with the classic mistakes of hand-written derivatives
(each line marked)."""

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
    return (g * s * (1 - s),)  # sigmoid's derivative: the product rule's s term is lost


silu.defvjp(silu_fwd, silu_bwd)


@jax.custom_vjp
def linear(x, weight, bias):
    return x @ weight.T + bias


def linear_fwd(x, weight, bias):
    return linear(x, weight, bias), (x, weight)


def linear_bwd(res, g):
    x, weight = res
    return g @ weight, x.T @ g.T, g.sum(0)  # dW transposed: right only when square


linear.defvjp(linear_fwd, linear_bwd)


@jax.custom_jvp
def softplus(x):
    return jnp.logaddexp(x, 0.0)


@softplus.defjvp
def softplus_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return softplus(x), jax.nn.sigmoid(-x) * t  # the sign of x flipped


@partial(jax.custom_vjp, nondiff_argnums=(1,))
def leaky_relu(x, negative_slope=0.01):
    return jnp.where(x > 0, x, negative_slope * x)


def leaky_relu_fwd(x, negative_slope):
    return leaky_relu(x, negative_slope), x


def leaky_relu_bwd(negative_slope, x, g):
    return (jnp.where(x > 0, g, 0.01 * g),)  # the default slope, not the one given


leaky_relu.defvjp(leaky_relu_fwd, leaky_relu_bwd)


@jax.custom_vjp
def mse_loss(pred, target):
    return jnp.mean((pred - target) ** 2).reshape(1)


def mse_loss_fwd(pred, target):
    return mse_loss(pred, target), (pred, target)


def mse_loss_bwd(res, g):
    pred, target = res
    d = 2 * (pred - target) * g[0]  # the mean's 1/size is lost
    return d, -d


mse_loss.defvjp(mse_loss_fwd, mse_loss_bwd)
