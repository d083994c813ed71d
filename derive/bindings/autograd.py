"""HIPS autograd: ops spelled with ``autograd.numpy``, gradients from ``make_vjp``."""

from ..targets.binding import Binding
from ..targets.custom_rules import autograd_vjp as vjp


binding = Binding(
    "autograd.numpy", name="autograd", vjp=vjp,
    ops={"relu": lambda api, x: api.maximum(x, 0.0)},
)
