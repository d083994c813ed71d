"""Hand-written backward (vector-Jacobian product) functions.

Every function here is named after one op and one operand and computes the
gradient of a scalar loss ``l`` with respect to that operand, given ``grad``,
the upstream gradient ``G = dl/dZ`` of the op's output ``Z``.  The closed form
each one implements is in its docstring.

Un-broadcasting (summing a gradient over the axes that broadcasting created)
happens in exactly one place, :func:`broadcast_to_grad`.  Binary elementwise ops
compute their gradients at the broadcast shape and hand them to it.

The bottom of the module exposes the *functions style* of the target protocol:
one function per op, ``matmul(grad, x, y) -> (grad_x, grad_y)``, with parameters
as keyword arguments with NumPy's names and ``None`` for an input that is not
differentiable.  :class:`numeric.Tensor` uses the same per-operand functions, so
both views share one implementation.

This module imports NumPy only.
"""

from __future__ import annotations

import numpy as np

from . import activations as A
from . import convolution as C
from . import einsum as E
from . import indexing as I
from . import losses as L
from . import recurrent as RN
from . import resampling as R
from . import split as P
from . import statistics as S




# --------------------------------------------------------------------------
# shape helpers
# --------------------------------------------------------------------------

def normalize_axes(axis, ndim):
    """Return ``axis`` (None, int or tuple, negative allowed) as a sorted tuple."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    axes = []
    for a in axis:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of bounds for an array of dimension {ndim}")
        axes.append(a % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"repeated axis in {tuple(axis)}")
    return tuple(sorted(axes))


def _reduced_size(shape, axis):
    axes = normalize_axes(axis, len(shape))
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _expand_reduced(grad, shape, axis, keepdims):
    """Put back the reduced axes of ``grad`` as size-1 axes (shape of keepdims=True)."""
    axes = normalize_axes(axis, len(shape))
    if keepdims:
        return grad
    return np.reshape(grad, tuple(1 if i in axes else n for i, n in enumerate(shape)))


# --------------------------------------------------------------------------
# broadcasting: the one un-broadcast
# --------------------------------------------------------------------------

def broadcast_to_grad(grad, x, shape=None):
    """Gradient of ``Z = np.broadcast_to(X, shape)`` with respect to ``X``.

    Closed form: ``dl/dX = G.sum(axis=new_axes).sum(axis=stretched_axes, keepdims=True)``,
    that is, ``G`` summed over the leading axes broadcasting added and over the
    axes where ``X`` has size 1 and ``Z`` does not.  This is the only
    un-broadcast in :mod:`numeric`.
    """
    x_shape = np.shape(x)
    grad = np.asarray(grad)
    lead = grad.ndim - len(x_shape)
    if lead < 0:
        raise ValueError(f"broadcast_to: gradient of shape {grad.shape} cannot be "
                         f"reduced to input shape {x_shape}")
    if lead:
        # np.asarray: reductions of object arrays (exact checks) to 0-d return scalars
        grad = np.asarray(grad.sum(axis=tuple(range(lead))))
    stretched = tuple(i for i, (g, n) in enumerate(zip(grad.shape, x_shape)) if n == 1 and g != 1)
    if stretched:
        grad = np.asarray(grad.sum(axis=stretched, keepdims=True))
    if grad.shape != tuple(x_shape):
        raise ValueError(f"broadcast_to: gradient of shape {grad.shape} does not "
                         f"match input shape {x_shape}")
    return grad


# --------------------------------------------------------------------------
# elementwise arithmetic (operands already broadcast to the output's shape)
# --------------------------------------------------------------------------

def add_grad_x(grad, x, y):
    """``Z = X + Y``: ``dl/dX = G``."""
    return grad


def add_grad_y(grad, x, y):
    """``Z = X + Y``: ``dl/dY = G``."""
    return grad


def subtract_grad_x(grad, x, y):
    """``Z = X - Y``: ``dl/dX = G``."""
    return grad


def subtract_grad_y(grad, x, y):
    """``Z = X - Y``: ``dl/dY = -G``."""
    return -grad


def multiply_grad_x(grad, x, y):
    """``Z = X * Y``: ``dl/dX = G * Y``."""
    return grad * y


def multiply_grad_y(grad, x, y):
    """``Z = X * Y``: ``dl/dY = G * X``."""
    return grad * x


def divide_grad_x(grad, x, y):
    """``Z = X / Y``: ``dl/dX = G / Y``."""
    return grad / y


def divide_grad_y(grad, x, y):
    """``Z = X / Y``: ``dl/dY = -G * X / Y**2``."""
    return -grad * x / (y * y)


def power_grad_x(grad, x, y):
    """``Z = X ** Y``: ``dl/dX = G * Y * X**(Y - 1)``."""
    return grad * y * x ** (y - 1)


def power_grad_y(grad, x, y):
    """``Z = X ** Y`` (X > 0): ``dl/dY = G * X**Y * log(X)``."""
    return grad * x ** y * np.log(x)


def negative_grad_x(grad, x):
    """``Z = -X``: ``dl/dX = -G``."""
    return -grad


def add_scalar_grad_x(grad, x, scalar=1.0):
    """``Z = X + c``: ``dl/dX = G`` (the constant takes no gradient)."""
    return grad


def mul_scalar_grad_x(grad, x, scalar=1.0):
    """``Z = X * c``: ``dl/dX = G * c``."""
    return grad * scalar


def divide_scalar_grad_x(grad, x, scalar=1.0):
    """``Z = X / c``: ``dl/dX = G / c``."""
    return grad / scalar


# --------------------------------------------------------------------------
# matmul, with NumPy's 1-D and batch-broadcasting semantics
# --------------------------------------------------------------------------

def _matmul_promoted(grad, x, y):
    """Promote 1-D operands to matrices and put the dropped axes back into ``grad``."""
    x2 = x[np.newaxis, :] if x.ndim == 1 else x
    y2 = y[:, np.newaxis] if y.ndim == 1 else y
    g2 = grad
    if x.ndim == 1:
        g2 = np.expand_dims(g2, -1 if y.ndim == 1 else -2)
    if y.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    return g2, x2, y2


def matmul_grad_x(grad, x, y):
    """``Z = X @ Y``: ``dl/dX = G @ Y.T`` (``Y.T`` transposes the last two axes).

    Index form ``dl/dX[..., i, j] = sum_l G[..., i, l] Y[..., j, l]``; 1-D
    operands are promoted to matrices as ``np.matmul`` does and batch
    dimensions that broadcasting added are summed out.
    """
    x, y, grad = np.asarray(x), np.asarray(y), np.asarray(grad)
    g2, x2, y2 = _matmul_promoted(grad, x, y)
    gx = np.matmul(g2, np.swapaxes(y2, -1, -2))
    gx = broadcast_to_grad(gx, x2)
    return gx.reshape(x.shape)


def matmul_grad_y(grad, x, y):
    """``Z = X @ Y``: ``dl/dY = X.T @ G`` (``X.T`` transposes the last two axes).

    Index form ``dl/dY[..., i, j] = sum_k X[..., k, i] G[..., k, j]``; 1-D
    operands and batch broadcasting as in :func:`matmul_grad_x`.
    """
    x, y, grad = np.asarray(x), np.asarray(y), np.asarray(grad)
    g2, x2, y2 = _matmul_promoted(grad, x, y)
    gy = np.matmul(np.swapaxes(x2, -1, -2), g2)
    gy = broadcast_to_grad(gy, y2)
    return gy.reshape(y.shape)


# --------------------------------------------------------------------------
# moving entries around
# --------------------------------------------------------------------------

def transpose_grad_x(grad, x, axes=None):
    """``Z = X.transpose(axes)``: ``dl/dX = G.transpose(argsort(axes))``.

    The inverse permutation, not ``axes`` itself: ``Z[k] = X[k[inv]]``.
    ``axes=None`` reverses the axes (its own inverse), as ``X.T`` does.
    """
    if axes is None:
        return np.transpose(grad)
    axes = normalize_axes_permutation(axes, np.ndim(x))
    return np.transpose(grad, np.argsort(axes))


def normalize_axes_permutation(axes, ndim):
    """Return ``axes`` as a tuple of non-negative ints, checking it is a permutation."""
    axes = tuple(int(a) % ndim if ndim else int(a) for a in axes)
    if sorted(axes) != list(range(ndim)):
        raise ValueError(f"axes {axes} is not a permutation of {ndim} axes")
    return axes


def reshape_grad_x(grad, x, shape=None):
    """``Z = X.reshape(shape)``: ``dl/dX = G.reshape(X.shape)`` (C order both ways)."""
    return np.reshape(grad, np.shape(x))


def flatten_grad_x(grad, x):
    """``Z = X.reshape(N, -1)``: ``dl/dX = G.reshape(X.shape)`` (C order both ways)."""
    return np.reshape(grad, np.shape(x))


def identity_grad_x(grad, x):
    """``Z = X``: ``dl/dX = G``."""
    return grad


# --------------------------------------------------------------------------
# reductions
# --------------------------------------------------------------------------

def sum_grad_x(grad, x, axis=None, keepdims=False):
    """``Z = X.sum(axis, keepdims)``: ``dl/dX = broadcast_to(expand_dims(G, axis), X.shape)``.

    ``G`` is expanded at the reduced axes (by position, never by matching sizes)
    and then broadcast back to ``X``'s shape.
    """
    shape = np.shape(x)
    return np.broadcast_to(_expand_reduced(np.asarray(grad), shape, axis, keepdims), shape)


def mean_grad_x(grad, x, axis=None, keepdims=False):
    """``Z = X.mean(axis, keepdims)``: ``dl/dX = broadcast_to(expand_dims(G, axis), X.shape) / N``.

    ``N`` is the number of entries averaged: the product of the reduced sizes.
    """
    return sum_grad_x(grad, x, axis, keepdims) / _reduced_size(np.shape(x), axis)


# --------------------------------------------------------------------------
# elementwise functions
# --------------------------------------------------------------------------

def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def exp_grad_x(grad, x):
    """``Z = exp(X)``: ``dl/dX = G * exp(X)``."""
    return grad * np.exp(x)


def log_grad_x(grad, x):
    """``Z = log(X)``: ``dl/dX = G / X``."""
    return grad / x


def tanh_grad_x(grad, x):
    """``Z = tanh(X)``: ``dl/dX = G * (1 - tanh(X)**2)``."""
    t = np.tanh(x)
    return grad * (1 - t * t)


def sigmoid_grad_x(grad, x):
    """``Z = sigmoid(X)``: ``dl/dX = G * sigmoid(X) * (1 - sigmoid(X))``."""
    s = _sigmoid(x)
    return grad * s * (1 - s)


def relu_grad_x(grad, x):
    """``Z = max(X, 0)``: ``dl/dX = G * (X > 0)`` (the derivative at 0 is taken as 0)."""
    return grad * (np.asarray(x) > 0)


def sqrt_grad_x(grad, x):
    """``Z = sqrt(X)``: ``dl/dX = G / (2 sqrt(X))``."""
    return grad / (2 * np.sqrt(x))


def sin_grad_x(grad, x):
    """``Z = sin(X)``: ``dl/dX = G cos(X)``."""
    return grad * np.cos(x)


def cos_grad_x(grad, x):
    """``Z = cos(X)``: ``dl/dX = -G sin(X)``."""
    return -grad * np.sin(x)


def abs_grad_x(grad, x):
    """``Z = |X|``: ``dl/dX = G sign(X)`` (0 at X = 0, torch's convention)."""
    return grad * np.sign(x)


def reciprocal_grad_x(grad, x):
    """``Z = 1 / X``: ``dl/dX = -G / X**2``."""
    return -grad / (x * x)


# --------------------------------------------------------------------------
# the functions style: one VJP per op, ``op(grad, *inputs, **params)``
# --------------------------------------------------------------------------

def _named(name, fn, grads):
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"VJP of ``{name}``: " + "; ".join(
        g.__doc__.strip().split("\n")[0] for g in grads)
    return fn


def _vjp(name, inputs, grads):
    """The functions-style VJP ``name(grad, *inputs, **params)`` from per-operand gradients.

    ``grads`` maps an input's name to its gradient function, called with ``grad``, the inputs by
    name and the op's parameters; a gradient at the output's (broadcast) shape is un-broadcast by
    :func:`broadcast_to_grad`.  An input without one (labels, a mask, a condition) gets ``None``.
    """
    def vjp(grad, *args, **params):
        if len(args) != len(inputs):
            raise TypeError(f"{name}() takes grad and {len(inputs)} inputs ({', '.join(inputs)}), got {len(args)}")
        grad = np.asarray(grad)
        arrays = dict(zip(inputs, (np.asarray(a) for a in args)))
        return tuple(broadcast_to_grad(np.asarray(grads[n](grad, **arrays, **params)), arrays[n])
                     if n in grads else None for n in inputs)
    vjp._derive_vjp = True  # counted into __all__
    return _named(name, vjp, list(grads.values()))


# one rule per line: the op, its inputs, and the gradient of each differentiable one
add = _vjp("add", ("x", "y"), {"x": add_grad_x, "y": add_grad_y})
subtract = _vjp("subtract", ("x", "y"), {"x": subtract_grad_x, "y": subtract_grad_y})
multiply = _vjp("multiply", ("x", "y"), {"x": multiply_grad_x, "y": multiply_grad_y})
divide = _vjp("divide", ("x", "y"), {"x": divide_grad_x, "y": divide_grad_y})
power = _vjp("power", ("x", "y"), {"x": power_grad_x, "y": power_grad_y})
negative = _vjp("negative", ("x",), {"x": negative_grad_x})
add_scalar = _vjp("add_scalar", ("x",), {"x": add_scalar_grad_x})
mul_scalar = _vjp("mul_scalar", ("x",), {"x": mul_scalar_grad_x})
divide_scalar = _vjp("divide_scalar", ("x",), {"x": divide_scalar_grad_x})
transpose = _vjp("transpose", ("x",), {"x": transpose_grad_x})
reshape = _vjp("reshape", ("x",), {"x": reshape_grad_x})
flatten = _vjp("flatten", ("x",), {"x": flatten_grad_x})
identity = _vjp("identity", ("x",), {"x": identity_grad_x})
broadcast_to = _vjp("broadcast_to", ("x",), {"x": broadcast_to_grad})
sum = _vjp("sum", ("x",), {"x": sum_grad_x})  # noqa: A001 - NumPy's name
mean = _vjp("mean", ("x",), {"x": mean_grad_x})
exp = _vjp("exp", ("x",), {"x": exp_grad_x})
log = _vjp("log", ("x",), {"x": log_grad_x})
tanh = _vjp("tanh", ("x",), {"x": tanh_grad_x})
sigmoid = _vjp("sigmoid", ("x",), {"x": sigmoid_grad_x})
relu = _vjp("relu", ("x",), {"x": relu_grad_x})
sqrt = _vjp("sqrt", ("x",), {"x": sqrt_grad_x})
sin = _vjp("sin", ("x",), {"x": sin_grad_x})
cos = _vjp("cos", ("x",), {"x": cos_grad_x})
abs = _vjp("abs", ("x",), {"x": abs_grad_x})  # noqa: A001 - NumPy's name
reciprocal = _vjp("reciprocal", ("x",), {"x": reciprocal_grad_x})
softmax = _vjp("softmax", ("x",), {"x": L.softmax_grad_x})
log_softmax = _vjp("log_softmax", ("x",), {"x": L.log_softmax_grad_x})
matmul = _vjp("matmul", ("x", "y"), {"x": matmul_grad_x, "y": matmul_grad_y})
mse_loss = _vjp("mse_loss", ("pred", "target"), {"pred": L.mse_loss_grad_pred, "target": L.mse_loss_grad_target})
cross_entropy = _vjp("cross_entropy", ("logits", "labels"), {"logits": L.cross_entropy_grad_logits})
svm_loss = _vjp("svm_loss", ("scores", "labels"), {"scores": L.svm_loss_grad_scores})
linear = _vjp("linear", ("x", "weight", "bias"),
              {"x": L.linear_grad_x, "weight": L.linear_grad_weight, "bias": L.linear_grad_bias})
affine = _vjp("affine", ("x", "w", "b"), {"x": L.affine_grad_x, "w": L.affine_grad_w, "b": L.affine_grad_b})
conv1d = _vjp("conv1d", ("x", "weight", "bias"),
              {"x": C.conv1d_grad_x, "weight": C.conv1d_grad_weight, "bias": C.conv1d_grad_bias})
conv2d = _vjp("conv2d", ("x", "weight", "bias"),
              {"x": C.conv2d_grad_x, "weight": C.conv2d_grad_weight, "bias": C.conv2d_grad_bias})
conv_transpose1d = _vjp("conv_transpose1d", ("x", "weight", "bias"),
                        {"x": C.conv_transpose1d_grad_x, "weight": C.conv_transpose1d_grad_weight,
                         "bias": C.conv_transpose1d_grad_bias})
avg_pool2d = _vjp("avg_pool2d", ("x",), {"x": C.avg_pool2d_grad_x})
max_pool2d = _vjp("max_pool2d", ("x",), {"x": C.max_pool2d_grad_x})
gelu = _vjp("gelu", ("x",), {"x": A.gelu_grad_x})
silu = _vjp("silu", ("x",), {"x": A.silu_grad_x})
softplus = _vjp("softplus", ("x",), {"x": A.softplus_grad_x})
leaky_relu = _vjp("leaky_relu", ("x",), {"x": A.leaky_relu_grad_x})
clip = _vjp("clip", ("x",), {"x": A.clip_grad_x})
power_scalar = _vjp("power_scalar", ("x",), {"x": A.power_scalar_grad_x})
maximum = _vjp("maximum", ("x", "y"), {"x": A.maximum_grad_x, "y": A.maximum_grad_y})
minimum = _vjp("minimum", ("x", "y"), {"x": A.minimum_grad_x, "y": A.minimum_grad_y})
less = _vjp("less", ("x", "y"), {"x": A.comparison_grad, "y": A.comparison_grad})
equal = _vjp("equal", ("x", "y"), {"x": A.comparison_grad, "y": A.comparison_grad})
greater = _vjp("greater", ("x", "y"), {"x": A.comparison_grad, "y": A.comparison_grad})
where = _vjp("where", ("condition", "x", "y"), {"x": A.where_grad_x, "y": A.where_grad_y})
dropout = _vjp("dropout", ("x", "mask"), {"x": A.dropout_grad_x})
var = _vjp("var", ("x",), {"x": S.var_grad_x})
std = _vjp("std", ("x",), {"x": S.std_grad_x})
logsumexp = _vjp("logsumexp", ("x",), {"x": S.logsumexp_grad_x})
norm = _vjp("norm", ("x",), {"x": S.norm_grad_x})
layer_norm = _vjp("layer_norm", ("x", "weight", "bias"),
                  {"x": S.layer_norm_grad_x, "weight": S.layer_norm_grad_weight, "bias": S.layer_norm_grad_bias})
batch_norm = _vjp("batch_norm", ("x", "weight", "bias"),
                  {"x": S.batch_norm_grad_x, "weight": S.batch_norm_grad_weight, "bias": S.batch_norm_grad_bias})
getitem = _vjp("getitem", ("x",), {"x": I.getitem_grad_x})
flip = _vjp("flip", ("x",), {"x": I.flip_grad_x})
expand_dims = _vjp("expand_dims", ("x",), {"x": I.expand_dims_grad_x})
squeeze = _vjp("squeeze", ("x",), {"x": I.squeeze_grad_x})
concatenate = _vjp("concatenate", ("x", "y"), {"x": I.concatenate_grad_x, "y": I.concatenate_grad_y})
stack = _vjp("stack", ("x", "y"), {"x": I.stack_grad_x, "y": I.stack_grad_y})
embedding = _vjp("embedding", ("weight", "indices"), {"weight": I.embedding_grad_weight})
take_along_axis = _vjp("take_along_axis", ("x", "indices"), {"x": I.take_along_axis_grad_x})
take = _vjp("take", ("x", "indices"), {"x": I.take_grad_x})
masked_select = _vjp("masked_select", ("x",), {"x": I.masked_select_grad_x})
pad = _vjp("pad", ("x",), {"x": I.pad_grad_x})
max = _vjp("max", ("x",), {"x": S.max_grad_x})  # noqa: A001 - NumPy's name
min = _vjp("min", ("x",), {"x": S.min_grad_x})  # noqa: A001 - NumPy's name
upsample1d = _vjp("upsample1d", ("x",), {"x": R.upsample1d_grad_x})
downsample1d = _vjp("downsample1d", ("x",), {"x": R.downsample1d_grad_x})
upsample2d = _vjp("upsample2d", ("x",), {"x": R.upsample2d_grad_x})
downsample2d = _vjp("downsample2d", ("x",), {"x": R.downsample2d_grad_x})
rnn_step = _vjp("rnn_step", ("x", "prev_h", "Wx", "Wh", "b"),
                {"x": RN.rnn_step_grad_x, "prev_h": RN.rnn_step_grad_prev_h, "Wx": RN.rnn_step_grad_Wx,
                 "Wh": RN.rnn_step_grad_Wh, "b": RN.rnn_step_grad_b})
einsum = _vjp("einsum", ("x", "y"), {"x": E.einsum_grad_x, "y": E.einsum_grad_y})
temporal_affine = _vjp("temporal_affine", ("x", "w", "b"), {"x": RN.temporal_affine_grad_x,
                                                           "w": RN.temporal_affine_grad_w,
                                                           "b": RN.temporal_affine_grad_b})
temporal_softmax_loss = _vjp("temporal_softmax_loss", ("x", "y", "mask"), {"x": RN.temporal_softmax_loss_grad_x})
batch_norm2d = _vjp("batch_norm2d", ("x", "weight", "bias"),
                    {"x": S.batch_norm2d_grad_x, "weight": S.batch_norm2d_grad_weight, "bias": S.batch_norm2d_grad_bias})
group_norm = _vjp("group_norm", ("x", "weight", "bias"),
                  {"x": S.group_norm_grad_x, "weight": S.group_norm_grad_weight, "bias": S.group_norm_grad_bias})



# ops with several outputs: ``grad`` is the list of their Gs, one per output

def lstm_step(grad, x, prev_h, prev_c, Wx, Wh, b):
    """VJP of one LSTM step: ``grad`` is ``[dnext_h, dnext_c]``, one per output; returns
    ``(dx, dprev_h, dprev_c, dWx, dWh, db)``."""
    dnext_h, dnext_c = (np.asarray(g) for g in grad)
    return RN.lstm_step_grads(dnext_h, dnext_c, *(np.asarray(a) for a in (x, prev_h, prev_c, Wx, Wh, b)))


def split(grad, x, indices_or_sections=2, axis=0):
    """VJP of ``np.split``: ``grad`` is the list ``[G_0, G_1, ...]``, one per piece;
    ``dl/dX = concatenate([G_0, G_1, ...], axis)``."""
    return (P.split_grad_x(list(grad), np.asarray(x), indices_or_sections, axis),)


def unstack(grad, x, axis=0):
    """VJP of ``unstack`` (``torch.unbind``): ``grad`` is ``[G_0, G_1, ...]``; ``dl/dX = stack(G, axis)``."""
    return (P.unstack_grad_x(list(grad), np.asarray(x), axis),)


lstm_step._derive_vjp = split._derive_vjp = unstack._derive_vjp = True
#: every op's VJP, in the order defined (``_vjp``'s and the three above); nothing else lists them
__all__ = [name for name, value in list(globals().items()) if getattr(value, "_derive_vjp", False)]
