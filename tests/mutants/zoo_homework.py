"""Mutants of the course homework ops: needle's scalar ops, MiniTorch's reciprocal and comparisons,
11-785's flatten and resampling, CS231n's recurrent steps, temporal layers and normalizations."""

from __future__ import annotations

import numpy as np

from .zoo import mutant


# ---- a constant operand (needle) ------------------------------------------------------------------

@mutant("elementwise", "add_scalar", "ignores G: returns ones (the local derivative alone)")
def add_scalar_ignores_grad(grad, x, scalar=1.0):
    return np.ones(np.shape(x))


@mutant("elementwise", "mul_scalar", "forgets the scalar: returns G")
def mul_scalar_forgets_scalar(grad, x, scalar=1.0):
    return grad


@mutant("elementwise", "divide_scalar", "multiplies by the scalar instead of dividing: G * c")
def divide_scalar_multiplies(grad, x, scalar=1.0):
    return grad * scalar


@mutant("elementwise", "divide_scalar", "the divisor's derivative: -G * X / c**2")
def divide_scalar_as_divisor(grad, x, scalar=1.0):
    return -grad * x / scalar ** 2
