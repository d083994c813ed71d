"""numeric: a small NumPy autograd with hand-written backward functions.

It is the first implementation that :mod:`derive` verifies, and it imports
NumPy only.  ``numeric.Tensor`` records the graph; ``numeric.backward`` holds
the backward functions, one per op and operand, plus one VJP per op in the
*functions* style ``matmul(grad, x, y) -> (grad_x, grad_y)``.

>>> import numpy as np
>>> import numeric as nm
>>> x = nm.Tensor([[1.0, 2.0], [3.0, 4.0]])
>>> loss = nm.tanh(x @ x.T).sum()
>>> loss.backward()
>>> x.backwards_grad.shape
(2, 2)
"""

from . import backward
from .ops import (abs, add, rnn_step, lstm_step, temporal_affine, temporal_softmax_loss, batch_norm2d, group_norm, upsample1d, downsample1d, upsample2d, downsample2d, flatten, identity, reciprocal, less, equal, greater, add_scalar, mul_scalar, divide_scalar, affine, svm_loss, einsum, concatenate, embedding, take_along_axis, take, masked_select, max, min, pad, expand_dims, flip, getitem, squeeze, stack, avg_pool2d, max_pool2d, batch_norm, broadcast_to, clip, conv1d, conv2d, conv_transpose1d, cos, cross_entropy, divide, dropout,
                  exp, gelu, layer_norm, leaky_relu, linear, log, log_softmax, logsumexp, matmul, maximum, mean,
                  minimum, mse_loss, multiply, negative, norm, power, power_scalar, relu, reshape, sigmoid, silu, sin, softmax, softplus,
                  sqrt, split, std, subtract, sum, tanh, transpose, unstack, var, where)
from .tensor import Edge, Tensor

__all__ = ["Tensor", "Edge", "backward", "add", "subtract", "multiply", "divide", "power",
           "negative", "flatten", "identity", "add_scalar", "mul_scalar", "divide_scalar", "matmul", "transpose", "reshape", "broadcast_to", "sum", "mean", "exp", "log",
           "tanh", "sigmoid", "relu", "sqrt", "sin", "cos", "abs", "softmax", "log_softmax", "mse_loss",
           "cross_entropy", "svm_loss", "linear", "affine", "conv1d", "conv2d", "conv_transpose1d", "avg_pool2d", "max_pool2d", "gelu", "silu", "softplus",
           "leaky_relu", "clip", "power_scalar", "maximum", "minimum", "where", "dropout", "reciprocal", "less", "equal", "greater", "var", "std",
           "logsumexp", "norm", "layer_norm", "batch_norm", "getitem", "flip", "expand_dims", "squeeze",
           "concatenate", "stack", "embedding", "take_along_axis", "take", "masked_select", "pad", "max", "min", "einsum", "split", "unstack",
           "upsample1d", "downsample1d", "upsample2d", "downsample2d", "rnn_step",
           "lstm_step", "temporal_affine", "temporal_softmax_loss", "batch_norm2d", "group_norm"]
