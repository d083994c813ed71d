"""The same engine seen through its Function classes only (``Sum(axis, keepdims)(x)``)."""

from dezero_functions import Add, Exp, Mul, Neg, Sum, Variable  # noqa: F401
