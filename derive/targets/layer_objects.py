"""Layer objects with constructor arguments and state, the way CMU 11-785's ``mytorch`` is written.

``Linear(in_features, out_features)`` holds ``W`` (out, in) and ``b`` (out, 1); ``forward(A)`` takes
the one input, ``backward(dLdZ)`` returns ``dLdA`` and stores ``self.dLdW``, ``self.dLdb``.  Here:

- the constructor gets the case's sizes under the names it uses (:data:`SIZE_NAMES`);
- an op input the forward does not take (linear's ``weight``) is *held*: it is set on the layer
  where the layer keeps it (``W``, ``weight``, ``BW``, ``gamma``..., on the layer or one object
  down, ``conv1d_stride1.W``), in the layer's own shape (``b`` (out, 1) gets the bias reshaped);
- its gradient is read from where the layer stores it (``dLdW``, ``dW``, ``grad_W``, ``W.grad``...)
  and reshaped back when it has the shape the layer keeps the input in;
- a ``backward()`` that takes no G (a loss's, or an elementwise activation's ``dA/dZ``) is scaled
  by G: its VJP.
"""

from __future__ import annotations

import inspect

import numpy as np

from .base import ProtocolError, Unsupported, same_param, to_array

#: constructor argument names, by the size they stand for
SIZE_NAMES = {
    "in": ("in_features", "in_channels", "in_dim", "input_size", "in_size", "n_in", "fan_in", "input_dim"),
    "out": ("out_features", "out_channels", "out_dim", "output_size", "out_size", "n_out", "fan_out",
            "output_dim"),
    "kernel": ("kernel_size", "kernel", "k", "pool_size", "kernel_width"),
    "stride": ("stride",),
    "padding": ("padding", "pad"),
    "features": ("num_features", "features", "dim", "normalized_shape", "num_channels"),
}

#: where a layer keeps an op input, by the input's name in the catalog
HELD_NAMES = {
    "weight": ("W", "weight", "w", "BW", "gamma", "weights"),
    "W": ("W", "weight", "w", "weights"),
    "w": ("W", "w", "weight"),
    "bias": ("b", "bias", "Bb", "beta"),
    "b": ("b", "bias"),
}


def _sizes(op, inputs, params):
    """The sizes a layer of ``op`` is built with, by :data:`SIZE_NAMES` key."""
    shapes = [np.shape(a) for a in inputs]
    name = op.name
    sizes = {k: params[k] for k in ("stride", "padding") if k in params}
    if "kernel" in params:
        sizes["kernel"] = params["kernel"]
    if name == "linear":
        sizes.update({"in": shapes[0][1], "out": shapes[1][0]})
    elif name == "affine":
        sizes.update({"in": shapes[1][0], "out": shapes[1][1]})
    elif name in ("conv1d", "conv2d", "conv_transpose1d"):
        sizes.update({"in": shapes[0][1], "out": shapes[1][0 if name != "conv_transpose1d" else 1],
                      "kernel": shapes[1][2]})
    elif name in ("batch_norm", "layer_norm"):
        sizes["features"] = shapes[0][1]
    return sizes


def construct(cls, op, inputs, params):
    """An instance of ``cls`` for this case, and the keywords for its ``forward``.

    The constructor gets the op's parameters it names and the case's sizes under the names it
    uses; what is left goes to ``forward`` where it names it, or onto an attribute of that name
    the instance has (11-785's ``BatchNorm1d.eps``); a parameter nothing takes is left out where
    the case holds the op's default, and is :class:`Unsupported` elsewhere (skipped, counted), as
    is a constructor argument derive cannot fill.
    """
    try:
        init_params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    except (TypeError, ValueError):
        init_params = []
    sizes = _sizes(op, inputs, params)
    kwargs, used = {}, set()
    for p in init_params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name in params:
            kwargs[p.name] = params[p.name]
            used.add(p.name)
            continue
        for key, names in SIZE_NAMES.items():
            if p.name in names and key in sizes:
                kwargs[p.name] = sizes[key]
                used.add(key)
                break
    missing = [p.name for p in init_params if p.default is p.empty and p.name not in kwargs
               and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if missing:
        raise Unsupported(f"cannot build {cls.__name__} for {op.name}: it wants {', '.join(missing)}, "
                          "which derive cannot fill from the case")
    rest = {k: v for k, v in params.items() if k not in used}
    forward_takes = _names(getattr(cls, "forward", None))
    call = {k: v for k, v in rest.items() if k in forward_takes}
    try:
        layer = cls(**kwargs)
    except Exception as exc:  # noqa: BLE001  the constructor's own refusal: derive called it wrong
        raise Unsupported(f"cannot build {cls.__name__}({', '.join(f'{k}={v!r}' for k, v in kwargs.items())}): "
                          f"{type(exc).__name__}: {exc}") from None
    for key, value in rest.items():
        if key in call:
            continue
        if hasattr(layer, key) and not callable(getattr(layer, key)):
            setattr(layer, key, value)
        elif not same_param(value, op.params.get(key, value)) or key not in op.params:
            raise Unsupported(f"{cls.__name__} takes no `{key}` (cases with {key} other than "
                              f"{op.params.get(key)!r})")
    return layer, call


def _names(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return set()
    return {p.name for p in params}


def taken_inputs(forward, op):
    """How many of the op's inputs ``forward`` takes (its required positional parameters), at least one."""
    try:
        params = list(inspect.signature(forward).parameters.values())
    except (TypeError, ValueError):
        return len(op.inputs)
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return len(op.inputs)
    required = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return max(1, min(len(required), len(op.inputs)))


def _holder(layer, names):
    """``(object, attribute)`` where ``layer`` keeps an array under one of ``names``: on itself, else on one
    of its attributes (a ``Conv1d`` keeping ``W`` on its ``conv1d_stride1``)."""
    for name in names:
        if isinstance(getattr(layer, name, None), np.ndarray):
            return layer, name
    for value in list(vars(layer).values()) if hasattr(layer, "__dict__") else []:
        if hasattr(value, "__dict__") and not isinstance(value, np.ndarray):
            for name in names:
                if isinstance(getattr(value, name, None), np.ndarray):
                    return value, name
    return None


def hold(layer, spec, value):
    """Set the op input ``spec`` on ``layer`` where it keeps it, in its own shape; ``(holder, attribute,
    its shape)``."""
    names = HELD_NAMES.get(spec.name, (spec.name,))
    found = _holder(layer, names)
    if found is None:
        raise Unsupported(f"{type(layer).__name__} keeps no `{spec.name}` derive can find (looked for "
                          f"{', '.join(names)})")
    holder, attr = found
    own = getattr(holder, attr)
    if own.size != value.size:
        raise Unsupported(f"{type(layer).__name__}.{attr} has {own.size} entries, the case's {spec.name} "
                          f"{value.size}")
    setattr(holder, attr, np.array(value).reshape(own.shape))  # a copy, in the dtype the case gives
    return holder, attr, own.shape


def held_gradient(layer, spec, where, shape):
    """The gradient the layer stored for the held input ``spec`` (``where`` from :func:`hold`), in the
    catalog's ``shape`` when it came in the shape the layer keeps the input in."""
    holder, attr, own_shape = where
    candidates = [f"dLd{attr}", f"d{attr}", f"grad_{attr}", f"{attr}_grad", f"dL_d{attr}", f"d{attr.lower()}",
                  f"dLd{attr.lower()}", f"grad{attr}"]
    for name in candidates:
        value = getattr(holder, name, None)
        if value is not None and not callable(value):
            break
    else:
        value = getattr(getattr(holder, attr, None), "grad", None)
        if value is None:
            raise ProtocolError(f"{type(layer).__name__}.backward left no gradient for {attr} (looked for "
                                f"{', '.join(candidates)}, {attr}.grad)")
    g = to_array(value)
    if tuple(g.shape) == tuple(own_shape) and g.size == int(np.prod(shape, dtype=np.int64)):
        g = g.reshape(shape)
    return g


def takes_upstream(backward):
    """Whether ``backward`` takes G (a parameter besides self); a loss's ``backward()`` does not."""
    try:
        params = list(inspect.signature(backward).parameters.values())
    except (TypeError, ValueError):
        return True
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL) for p in params)


def scaled_by_upstream(op, result, G):
    """A ``backward()`` without G: a loss's gradient (a scalar output) or an elementwise op's ``dA/dZ``
    (its derived index formula sums over nothing), times G; :class:`ProtocolError` for any other op."""
    g, result = np.asarray(G), to_array(result)
    if g.ndim and not (g.shape == result.shape and _diagonal(op)):
        raise ProtocolError(f"backward() takes no upstream gradient, and {op.name} is neither a loss nor "
                            "elementwise: its VJP cannot be formed from what it returns")
    return g * result


def _diagonal(op):
    import sympy as sp

    from ..symbolic.derivation import vjp
    try:
        derivation = vjp(op)
        return len(op.differentiable) == 1 and not derivation[op.differentiable[0]].index_formula.has(sp.Sum)
    except Exception:  # noqa: BLE001  no canonical derivation: not known to be elementwise
        return False
