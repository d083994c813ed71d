"""Forward ops that build the graph: each returns a :class:`~numeric.Tensor` whose
edges point at the per-operand backward functions of :mod:`numeric.backward`.

Binary elementwise ops broadcast explicitly: when an operand's shape differs
from the result's, a ``broadcast_to`` node is inserted first, so that
un-broadcasting happens only in :func:`numeric.backward.broadcast_to_grad`.
"""

from __future__ import annotations

import numpy as np

from . import activations as A
from . import backward as B
from . import convolution as C
from . import einsum as E
from . import indexing as I
from . import losses as L
from . import recurrent as RN
from . import resampling as R
from . import split as P
from . import statistics as S
from .tensor import Edge, Tensor



def _tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


def _node(value, *edges):
    return Tensor(value, [e for e in edges if e is not None])


def _edge(prev, backward_fn, **saved):
    return Edge(prev=prev, local_grad=saved, backward_fn=backward_fn)


# ---- broadcasting ---------------------------------------------------------------

def broadcast_to(x, shape):
    """``np.broadcast_to(x, shape)``; its backward sums over the broadcast axes."""
    x = _tensor(x)
    shape = tuple(int(n) for n in (shape if isinstance(shape, (tuple, list)) else (shape,)))
    try:
        value = np.broadcast_to(x.value, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return _node(value, _edge(x, B.broadcast_to_grad, x=x.value))


def _broadcast_pair(op, x, y):
    x, y = _tensor(x), _tensor(y)
    try:
        shape = np.broadcast_shapes(x.shape, y.shape)
    except ValueError:
        raise ValueError(f"{op}: shapes {x.shape} and {y.shape} cannot be broadcast together") from None
    if x.shape != shape:
        x = broadcast_to(x, shape)
    if y.shape != shape:
        y = broadcast_to(y, shape)
    return x, y


def _binary(name, forward, grad_x, grad_y):
    def op(x, y):
        x, y = _broadcast_pair(name, x, y)
        return _node(forward(x.value, y.value),
                     _edge(x, grad_x, x=x.value, y=y.value),
                     _edge(y, grad_y, x=x.value, y=y.value))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``np.{name}(x, y)`` with broadcasting."
    return op


add = _binary("add", np.add, B.add_grad_x, B.add_grad_y)
subtract = _binary("subtract", np.subtract, B.subtract_grad_x, B.subtract_grad_y)
multiply = _binary("multiply", np.multiply, B.multiply_grad_x, B.multiply_grad_y)
divide = _binary("divide", np.divide, B.divide_grad_x, B.divide_grad_y)
power = _binary("power", np.power, B.power_grad_x, B.power_grad_y)


def _unary(name, forward, grad_x):
    def op(x):
        x = _tensor(x)
        return _node(forward(x.value), _edge(x, grad_x, x=x.value))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}(x)``."
    return op


negative = _unary("negative", np.negative, B.negative_grad_x)


def _with_scalar(name, forward, grad_x):
    def op(x, scalar=1.0):
        x = _tensor(x)
        return _node(forward(x.value, scalar), _edge(x, grad_x, x=x.value, scalar=scalar))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}(x, scalar)``: a constant Python number ``scalar`` (needle's TensorOp)."
    return op


add_scalar = _with_scalar("add_scalar", np.add, B.add_scalar_grad_x)
mul_scalar = _with_scalar("mul_scalar", np.multiply, B.mul_scalar_grad_x)
divide_scalar = _with_scalar("divide_scalar", np.divide, B.divide_scalar_grad_x)

exp = _unary("exp", np.exp, B.exp_grad_x)
log = _unary("log", np.log, B.log_grad_x)
tanh = _unary("tanh", np.tanh, B.tanh_grad_x)
sigmoid = _unary("sigmoid", B._sigmoid, B.sigmoid_grad_x)
relu = _unary("relu", lambda v: np.maximum(v, 0), B.relu_grad_x)
sqrt = _unary("sqrt", np.sqrt, B.sqrt_grad_x)
sin = _unary("sin", np.sin, B.sin_grad_x)
cos = _unary("cos", np.cos, B.cos_grad_x)
abs = _unary("abs", np.abs, B.abs_grad_x)  # noqa: A001 - NumPy's name


# ---- matmul -----------------------------------------------------------------------

def matmul(x, y):
    """``np.matmul(x, y)``: 1-D, 2-D and batched with broadcast batch dimensions."""
    x, y = _tensor(x), _tensor(y)
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: operands must be at least 1-D, got shapes {x.shape} and {y.shape}")
    try:
        value = np.matmul(x.value, y.value)
    except ValueError:
        raise ValueError(f"matmul: shapes {x.shape} and {y.shape} do not match "
                         f"(inner dimensions {x.shape[-1]} and {y.shape[-2 if y.ndim > 1 else 0]})") from None
    return _node(value,
                 _edge(x, B.matmul_grad_x, x=x.value, y=y.value),
                 _edge(y, B.matmul_grad_y, x=x.value, y=y.value))


# ---- moving entries around -----------------------------------------------------------

def transpose(x, axes=None):
    """``np.transpose(x, axes)``; ``axes=None`` reverses the axes."""
    x = _tensor(x)
    if axes is not None:
        axes = B.normalize_axes_permutation(axes, x.ndim)
    return _node(np.transpose(x.value, axes), _edge(x, B.transpose_grad_x, x=x.value, axes=axes))


def reshape(x, shape):
    """``np.reshape(x, shape)`` in C order; one dimension may be ``-1``."""
    x = _tensor(x)
    try:
        value = np.reshape(x.value, shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape shape {x.shape} into {tuple(shape)}") from None
    return _node(value, _edge(x, B.reshape_grad_x, x=x.value))


def flatten(x):
    """``x.reshape(N, -1)``: every axis but the batch axis flattened, C order (11-785's ``Flatten``)."""
    x = _tensor(x)
    if x.ndim < 1:
        raise ValueError("flatten: x must have a batch axis, got a 0-d array")
    return _node(np.reshape(x.value, (x.shape[0], -1)), _edge(x, B.flatten_grad_x, x=x.value))


def identity(x):
    """``x`` itself, as a new node (11-785's ``Identity`` activation)."""
    x = _tensor(x)
    return _node(np.array(x.value, copy=True), _edge(x, B.identity_grad_x, x=x.value))


# ---- reductions --------------------------------------------------------------------

def sum(x, axis=None, keepdims=False):  # noqa: A001 - NumPy's name
    """``np.sum(x, axis, keepdims=keepdims)``."""
    x = _tensor(x)
    axes = B.normalize_axes(axis, x.ndim)
    return _node(np.sum(x.value, axis=axes, keepdims=keepdims),
                 _edge(x, B.sum_grad_x, x=x.value, axis=axes, keepdims=keepdims))


def mean(x, axis=None, keepdims=False):
    """``np.mean(x, axis, keepdims=keepdims)``."""
    x = _tensor(x)
    axes = B.normalize_axes(axis, x.ndim)
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64))
    return _node(np.sum(x.value, axis=axes, keepdims=keepdims) / n,
                 _edge(x, B.mean_grad_x, x=x.value, axis=axes, keepdims=keepdims))


# ---- softmax family and losses ---------------------------------------------------

def softmax(x, axis=-1):
    """``exp(x) / exp(x).sum(axis, keepdims=True)``, computed stably."""
    x = _tensor(x)
    return _node(L._softmax(x.value, axis), _edge(x, L.softmax_grad_x, x=x.value, axis=axis))


def log_softmax(x, axis=-1):
    """``x - log(exp(x).sum(axis, keepdims=True))``, computed stably."""
    x = _tensor(x)
    shifted = x.value - np.max(x.value, axis=axis, keepdims=True)
    value = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    return _node(value, _edge(x, L.log_softmax_grad_x, x=x.value, axis=axis))


def mse_loss(pred, target):
    """``mean((pred - target) ** 2)`` over all entries (shapes must match)."""
    pred, target = _tensor(pred), _tensor(target)
    if pred.shape != target.shape:
        raise ValueError(f"mse_loss: pred shape {pred.shape} and target shape {target.shape} differ")
    diff = np.asarray(pred.value - target.value)
    return _node(np.sum(diff * diff) / diff.size,
                 _edge(pred, L.mse_loss_grad_pred, pred=pred.value, target=target.value),
                 _edge(target, L.mse_loss_grad_target, pred=pred.value, target=target.value))


def cross_entropy(logits, labels):
    """Mean over N of ``-log softmax(logits)[n, labels[n]]``; logits (N, C), labels (N,) ints.

    The labels are not differentiable: no edge leads to them.
    """
    logits = _tensor(logits)
    labels = np.asarray(labels.value if isinstance(labels, Tensor) else labels)
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(f"cross_entropy: logits must be (N, C) and labels (N,), "
                         f"got {logits.shape} and {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(f"cross_entropy: labels must lie in [0, {logits.shape[1]})")
    labels = labels.astype(np.intp)
    shifted = logits.value - np.max(logits.value, axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    value = -logp[np.arange(len(labels)), labels].sum() / len(labels)
    return _node(value, _edge(logits, L.cross_entropy_grad_logits, logits=logits.value, labels=labels))


def svm_loss(scores, labels):
    """CS231n's multiclass SVM loss, mean over N; scores (N, C), labels (N,) ints (not differentiable)."""
    scores = _tensor(scores)
    labels = np.asarray(labels.value if isinstance(labels, Tensor) else labels).astype(np.intp)
    if scores.ndim != 2 or labels.shape != scores.shape[:1]:
        raise ValueError(f"svm_loss: scores must be (N, C) and labels (N,), got {scores.shape} and {labels.shape}")
    rows = np.arange(len(labels))
    margins = np.maximum(0, scores.value - scores.value[rows, labels][:, None] + 1)
    margins[rows, labels] = 0
    return _node(margins.sum() / len(labels),
                 _edge(scores, L.svm_loss_grad_scores, scores=scores.value, labels=labels))


def linear(x, weight, bias):
    """``x @ weight.T + bias``: x (N, in), weight (out, in), bias (out,)."""
    x, weight, bias = _tensor(x), _tensor(weight), _tensor(bias)
    if x.ndim != 2 or weight.ndim != 2 or bias.shape != weight.shape[:1] or x.shape[1] != weight.shape[1]:
        raise ValueError(f"linear: expected x (N, in), weight (out, in), bias (out,), "
                         f"got {x.shape}, {weight.shape}, {bias.shape}")
    saved = dict(x=x.value, weight=weight.value, bias=bias.value)
    return _node(x.value @ weight.value.T + bias.value,
                 _edge(x, L.linear_grad_x, **saved),
                 _edge(weight, L.linear_grad_weight, **saved),
                 _edge(bias, L.linear_grad_bias, **saved))


def affine(x, w, b):
    """``x.reshape(N, -1) @ w + b``: x (N, d_1, ..., d_k), w (d_1*...*d_k, M), b (M,) (CS231n's layout)."""
    x, w, b = _tensor(x), _tensor(w), _tensor(b)
    if x.ndim < 2 or w.ndim != 2 or b.shape != w.shape[1:] or int(np.prod(x.shape[1:])) != w.shape[0]:
        raise ValueError(f"affine: expected x (N, d_1, ..., d_k), w (d_1*...*d_k, M), b (M,), "
                         f"got {x.shape}, {w.shape}, {b.shape}")
    saved = dict(x=x.value, w=w.value, b=b.value)
    return _node(x.value.reshape(x.shape[0], -1) @ w.value + b.value,
                 _edge(x, L.affine_grad_x, **saved), _edge(w, L.affine_grad_w, **saved),
                 _edge(b, L.affine_grad_b, **saved))


# ---- convolution and pooling ----------------------------------------------------

def _conv(name, forward, grads):
    def op(x, weight, bias, stride=1, padding=0, dilation=1):
        x, weight, bias = _tensor(x), _tensor(weight), _tensor(bias)
        saved = dict(x=x.value, weight=weight.value, bias=bias.value, stride=stride, padding=padding,
                     dilation=dilation)
        return _node(forward(**saved), *[_edge(t, g, **saved) for t, g in zip((x, weight, bias), grads)])
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``{name}(x, weight, bias, stride, padding, dilation)``, torch's semantics (cross-correlation)."
    return op


def _grouped_conv(name, forward, grads):
    def op(x, weight, bias, stride=1, padding=0, dilation=1, groups=1):
        x, weight, bias = _tensor(x), _tensor(weight), _tensor(bias)
        saved = dict(x=x.value, weight=weight.value, bias=bias.value, stride=stride, padding=padding,
                     dilation=dilation, groups=groups)
        return _node(forward(**saved), *[_edge(t, g, **saved) for t, g in zip((x, weight, bias), grads)])
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"``{name}(x, weight, bias, stride, padding, dilation, groups)``, torch's semantics "
                  "(cross-correlation; weight (F, C // groups, ...)).")
    return op


conv1d = _grouped_conv("conv1d", C.conv1d_forward, (C.conv1d_grad_x, C.conv1d_grad_weight, C.conv1d_grad_bias))
conv2d = _grouped_conv("conv2d", C.conv2d_forward, (C.conv2d_grad_x, C.conv2d_grad_weight, C.conv2d_grad_bias))
conv_transpose1d = _conv("conv_transpose1d", C.conv_transpose1d_forward,
                         (C.conv_transpose1d_grad_x, C.conv_transpose1d_grad_weight, C.conv_transpose1d_grad_bias))
conv_transpose1d.__doc__ = ("``conv_transpose1d(x, weight, bias, stride, padding, dilation)``, torch's semantics: "
                            "the adjoint of conv1d, weight (C_in, C_out, K).")


def avg_pool2d(x, kernel=2, stride=2, padding=0):
    """Mean over ``kernel`` x ``kernel`` windows, zero padding counted (torch's ``count_include_pad``)."""
    x = _tensor(x)
    saved = dict(x=x.value, kernel=kernel, stride=stride, padding=padding)
    return _node(C.avg_pool2d_forward(**saved), _edge(x, C.avg_pool2d_grad_x, **saved))


def max_pool2d(x, kernel=2, stride=2, padding=0):
    """Max over ``kernel`` x ``kernel`` windows with ``stride``; the padding is ``-inf`` (never the max)."""
    x = _tensor(x)
    saved = dict(x=x.value, kernel=kernel, stride=stride, padding=padding)
    return _node(C.max_pool2d_forward(**saved), _edge(x, C.max_pool2d_grad_x, **saved))


# ---- ops built from a forward and per-operand gradients ---------------------------

def _graph_op(name, forward, inputs, grads, doc, broadcast=False, positional=()):
    """A graph op ``name(*inputs, **params)``: ``forward(**values, **params)`` and one edge per
    differentiable input (those in ``grads``); the others (a mask, a condition) are plain data.

    With ``broadcast``, operands are first broadcast to the output's shape (a
    ``broadcast_to`` node for a tensor), so that un-broadcasting stays in
    :func:`numeric.backward.broadcast_to_grad`.
    """
    def op(*args, **params):
        if len(inputs) < len(args) <= len(inputs) + len(positional):  # NumPy's positional parameters
            params.update(zip(positional, args[len(inputs):]))
            args = args[:len(inputs)]
        if len(args) != len(inputs):
            raise TypeError(f"{name}() takes {len(inputs)} inputs ({', '.join(inputs)}), got {len(args)}")
        args = {n: _tensor(a) if n in grads else np.asarray(a.value if isinstance(a, Tensor) else a)
                for n, a in zip(inputs, args)}
        if broadcast:
            try:
                shape = np.broadcast_shapes(*(np.shape(a.value if n in grads else a) for n, a in args.items()))
            except ValueError:
                raise ValueError(f"{name}: shapes {', '.join(str(np.shape(getattr(a, 'value', a))) for a in args.values())} "
                                 "cannot be broadcast together") from None
            args = {n: (broadcast_to(a, shape) if a.shape != shape else a) if n in grads else np.broadcast_to(a, shape)
                    for n, a in args.items()}
        values = {n: a.value if n in grads else a for n, a in args.items()}
        return _node(forward(**values, **params), *[_edge(args[n], g, **values, **params) for n, g in grads.items()])
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


gelu = _graph_op("gelu", A.gelu_forward, ("x",), {"x": A.gelu_grad_x}, "``x * Phi(x)`` (exact, erf-based).")
silu = _graph_op("silu", A.silu_forward, ("x",), {"x": A.silu_grad_x}, "``x * sigmoid(x)`` (swish).")
softplus = _graph_op("softplus", A.softplus_forward, ("x",), {"x": A.softplus_grad_x}, "``log(1 + exp(x))``.")
leaky_relu = _graph_op("leaky_relu", A.leaky_relu_forward, ("x",), {"x": A.leaky_relu_grad_x},
                       "``x`` where positive, else ``negative_slope * x``.")
clip = _graph_op("clip", lambda x, a_min=-1.0, a_max=1.0: np.clip(x, a_min, a_max), ("x",),
                 {"x": A.clip_grad_x}, "``np.clip(x, a_min, a_max)``.", positional=("a_min", "a_max"))
power_scalar = _graph_op("power_scalar", lambda x, exponent=2.0: np.power(x, exponent), ("x",),
                         {"x": A.power_scalar_grad_x}, "``x ** exponent`` with a constant exponent.")
maximum = _graph_op("maximum", lambda x, y: np.maximum(x, y), ("x", "y"),
                    {"x": A.maximum_grad_x, "y": A.maximum_grad_y}, "``np.maximum(x, y)``, broadcasting.",
                    broadcast=True)
minimum = _graph_op("minimum", lambda x, y: np.minimum(x, y), ("x", "y"),
                    {"x": A.minimum_grad_x, "y": A.minimum_grad_y}, "``np.minimum(x, y)``, broadcasting.",
                    broadcast=True)
less = _graph_op("less", A.less_forward, ("x", "y"), {"x": A.comparison_grad, "y": A.comparison_grad},
                 "``x < y`` as a float, broadcasting; its gradient is 0 (MiniTorch's ``lt``).", broadcast=True)
equal = _graph_op("equal", A.equal_forward, ("x", "y"), {"x": A.comparison_grad, "y": A.comparison_grad},
                  "``x == y`` as a float, broadcasting; its gradient is 0 (MiniTorch's ``eq``).", broadcast=True)
greater = _graph_op("greater", A.greater_forward, ("x", "y"), {"x": A.comparison_grad, "y": A.comparison_grad},
                    "``x > y`` as a float, broadcasting; its gradient is 0.", broadcast=True)
reciprocal = _unary("reciprocal", np.reciprocal, B.reciprocal_grad_x)
where = _graph_op("where", A.where_forward, ("condition", "x", "y"), {"x": A.where_grad_x, "y": A.where_grad_y},
                  "``np.where(condition, x, y)``, broadcasting; the condition is data.", broadcast=True)
dropout = _graph_op("dropout", A.dropout_forward, ("x", "mask"), {"x": A.dropout_grad_x},
                    "Inverted dropout with a given keep-mask: ``x * mask / (1 - p)``.")
var = _graph_op("var", S.var_forward, ("x",), {"x": S.var_grad_x}, "``np.var(x, axis, ddof=ddof, keepdims=keepdims)``.")
std = _graph_op("std", S.std_forward, ("x",), {"x": S.std_grad_x}, "``np.std(x, axis, ddof=ddof, keepdims=keepdims)``.")
logsumexp = _graph_op("logsumexp", S.logsumexp_forward, ("x",), {"x": S.logsumexp_grad_x},
                      "``log(sum(exp(x), axis))``, computed stably.")
norm = _graph_op("norm", S.norm_forward, ("x",), {"x": S.norm_grad_x}, "The 2-norm ``sqrt(sum(x**2, axis))``.")
layer_norm = _graph_op("layer_norm", S.layer_norm_forward, ("x", "weight", "bias"),
                       {"x": S.layer_norm_grad_x, "weight": S.layer_norm_grad_weight, "bias": S.layer_norm_grad_bias},
                       "Layer normalization of the rows of x (N, D), then ``* weight + bias``.")
batch_norm = _graph_op("batch_norm", S.batch_norm_forward, ("x", "weight", "bias"),
                       {"x": S.batch_norm_grad_x, "weight": S.batch_norm_grad_weight, "bias": S.batch_norm_grad_bias},
                       "Batch normalization (training mode) of the columns of x (N, D), then ``* weight + bias``.")
getitem = _graph_op("getitem", I.getitem_forward, ("x",), {"x": I.getitem_grad_x},
                   "``x[start:stop:step]`` along ``axis`` (one basic slice).")
flip = _graph_op("flip", lambda x, axis=0: np.flip(x, axis), ("x",), {"x": I.flip_grad_x}, "``np.flip(x, axis)``.")
expand_dims = _graph_op("expand_dims", lambda x, axis=0: np.expand_dims(x, axis), ("x",), {"x": I.expand_dims_grad_x},
                        "``np.expand_dims(x, axis)``.")
squeeze = _graph_op("squeeze", lambda x, axis=0: np.squeeze(x, axis), ("x",), {"x": I.squeeze_grad_x},
                    "``np.squeeze(x, axis)``.")
concatenate = _graph_op("concatenate", lambda x, y, axis=0: np.concatenate([x, y], axis), ("x", "y"),
                        {"x": I.concatenate_grad_x, "y": I.concatenate_grad_y}, "``np.concatenate([x, y], axis)``.")
stack = _graph_op("stack", lambda x, y, axis=0: np.stack([x, y], axis), ("x", "y"),
                  {"x": I.stack_grad_x, "y": I.stack_grad_y}, "``np.stack([x, y], axis)``.")
embedding = _graph_op("embedding", I.embedding_forward, ("weight", "indices"), {"weight": I.embedding_grad_weight},
                      "``weight[indices]``: rows of weight (V, D) picked by integer indices (N,); the indices are data.")
take_along_axis = _graph_op("take_along_axis", I.take_along_axis_forward, ("x", "indices"),
                            {"x": I.take_along_axis_grad_x},
                            "``np.take_along_axis(x, indices, axis=-1)``; the indices are data.")
take = _graph_op("take", I.take_forward, ("x", "indices"), {"x": I.take_grad_x},
                 "``np.take(x, indices, axis)``: integer-array indexing on one axis; the indices are data.")
masked_select = _graph_op("masked_select", I.masked_select_forward, ("x",), {"x": I.masked_select_grad_x},
                          "``x[mask]``: the entries where a boolean mask of x's shape is True, as a 1-D array.")
pad = _graph_op("pad", lambda x, pad_width=(): np.pad(x, pad_width), ("x",), {"x": I.pad_grad_x},
                "``np.pad(x, pad_width)`` with zeros.", positional=("pad_width",))
max = _graph_op("max", lambda x, axis=None, keepdims=False: np.max(x, axis=axis, keepdims=keepdims),  # noqa: A001
                ("x",), {"x": S.max_grad_x}, "``np.max(x, axis, keepdims=keepdims)``; ties share the gradient.")
min = _graph_op("min", lambda x, axis=None, keepdims=False: np.min(x, axis=axis, keepdims=keepdims),  # noqa: A001
                ("x",), {"x": S.min_grad_x}, "``np.min(x, axis, keepdims=keepdims)``; ties share the gradient.")
upsample1d = _graph_op("upsample1d", R.upsample1d_forward, ("x",), {"x": R.upsample1d_grad_x},
                       "``z[..., k*i] = x[..., i]``, zeros between (11-785's ``Upsample1d``).")
downsample1d = _graph_op("downsample1d", R.downsample1d_forward, ("x",), {"x": R.downsample1d_grad_x},
                         "``x[..., ::k]`` (11-785's ``Downsample1d``).")
upsample2d = _graph_op("upsample2d", R.upsample2d_forward, ("x",), {"x": R.upsample2d_grad_x},
                       "``z[..., k*i, k*j] = x[..., i, j]``, zeros between (11-785's ``Upsample2d``).")
downsample2d = _graph_op("downsample2d", R.downsample2d_forward, ("x",), {"x": R.downsample2d_grad_x},
                         "``x[..., ::k, ::k]`` (11-785's ``Downsample2d``).")
rnn_step = _graph_op("rnn_step", RN.rnn_step_forward, ("x", "prev_h", "Wx", "Wh", "b"),
                     {"x": RN.rnn_step_grad_x, "prev_h": RN.rnn_step_grad_prev_h, "Wx": RN.rnn_step_grad_Wx,
                      "Wh": RN.rnn_step_grad_Wh, "b": RN.rnn_step_grad_b},
                     "One step of a vanilla RNN, ``tanh(x @ Wx + prev_h @ Wh + b)`` (CS231n's ``rnn_step_forward``).")
temporal_affine = _graph_op("temporal_affine", RN.temporal_affine_forward, ("x", "w", "b"),
                            {"x": RN.temporal_affine_grad_x, "w": RN.temporal_affine_grad_w,
                             "b": RN.temporal_affine_grad_b},
                            "``x @ w + b`` at every step, x (N, T, D) (CS231n's ``temporal_affine_forward``).")
temporal_softmax_loss = _graph_op("temporal_softmax_loss", RN.temporal_softmax_loss_forward, ("x", "y", "mask"),
                                  {"x": RN.temporal_softmax_loss_grad_x},
                                  "``-sum mask log softmax(x)[y] / N`` over every step (CS231n's).")
batch_norm2d = _graph_op("batch_norm2d", S.batch_norm2d_forward, ("x", "weight", "bias"),
                         {"x": S.batch_norm2d_grad_x, "weight": S.batch_norm2d_grad_weight,
                          "bias": S.batch_norm2d_grad_bias},
                         "Batch norm of (N, C, H, W) per channel, training mode (CS231n's spatial batchnorm).")
group_norm = _graph_op("group_norm", S.group_norm_forward, ("x", "weight", "bias"),
                       {"x": S.group_norm_grad_x, "weight": S.group_norm_grad_weight, "bias": S.group_norm_grad_bias},
                       "Group norm of (N, C, H, W): ``num_groups`` groups of channels (torch's ``group_norm``).",
                       positional=("num_groups",))
_einsum = _graph_op("einsum", E.einsum_forward, ("x", "y"), {"x": E.einsum_grad_x, "y": E.einsum_grad_y},
                    "``np.einsum(subscripts, x, y)``.")


def einsum(subscripts, x, y):
    """``np.einsum(subscripts, x, y)``: two operands, any subscripts (NumPy's argument order)."""
    return _einsum(x, y, subscripts=subscripts)


def split(x, indices_or_sections=2, axis=0):
    """``np.split(x, indices_or_sections, axis)``: a list of Tensors, each with its own edge to ``x``
    (its gradient lands in the piece's place; the pieces' contributions add up in ``x``)."""
    x = _tensor(x)
    axis = int(axis) % x.ndim
    pieces = P.split_forward(x.value, indices_or_sections, axis)
    return [_node(p, _edge(x, P.split_piece_grad_x, x=x.value, start=start, stop=stop, axis=axis))
            for p, (start, stop) in zip(pieces, P.split_bounds(x.shape[axis], indices_or_sections))]


_LSTM_INPUTS = ("x", "prev_h", "prev_c", "Wx", "Wh", "b")


def _lstm_piece_grad(k, output):
    """The gradient of input ``k`` through one output (0: next_h, 1: next_c) alone."""
    def grad_fn(grad, **saved):
        upstream = [grad, np.zeros_like(grad)] if output == 0 else [np.zeros_like(grad), grad]
        return RN.lstm_step_grads(*upstream, **saved)[k]
    return grad_fn


def lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    """One LSTM step (CS231n's ``lstm_step_forward``): ``[next_h, next_c]``, two Tensors, each with its
    own edges to the six inputs."""
    args = [_tensor(a) for a in (x, prev_h, prev_c, Wx, Wh, b)]
    saved = dict(zip(_LSTM_INPUTS, (a.value for a in args)))
    return [_node(value, *[_edge(a, _lstm_piece_grad(k, output), **saved) for k, a in enumerate(args)])
            for output, value in enumerate(RN.lstm_step_forward(**saved))]


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis`` as a list of Tensors (``np.unstack``, ``torch.unbind``)."""
    x = _tensor(x)
    return [_node(p, _edge(x, P.unstack_piece_grad_x, x=x.value, index=k, axis=axis))
            for k, p in enumerate(P.unstack_forward(x.value, axis))]


#: every op this module defines (the ones made by ``_binary``, ``_graph_op``... included); nothing else lists them
__all__ = [name for name, value in list(globals().items())
           if callable(value) and not name.startswith("_") and getattr(value, "__module__", None) == __name__]
