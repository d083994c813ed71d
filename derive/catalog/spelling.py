"""How an op is spelled on a target's API: the operator, a method of the first tensor or a function of
the module, its parameters fitted to what the callee takes, and a record of which spelling ran.

The catalog's ``Op.call`` is built from these; the targets read :data:`SPELLED` and set
:data:`PASSED_OVER` to find a target's other spellings of an op.
"""

from __future__ import annotations

import contextvars
import types

__all__ = ["Unsupported", "fit_params", "params_by_position", "same_param", "SYNONYMS", "call_by_name", "by_name_else", "call_function",
           "operator_else", "SPELLED", "PASSED_OVER", "FILE_MODULE_PREFIX", "label", "offered", "spelled",
           "takes_sizes_apart"]

#: the catalog's lookup (``get_op``), set by the registry, which sits above this module
_catalog = types.SimpleNamespace(get_op=None)


class Unsupported(Exception):
    """Raise it from a binding (or a target) for a case its API cannot express.

    The case is skipped and counted, never reported as a failure::

        def matmul(api, x, y):
            if x.ndim == 1 or y.ndim == 1:
                raise derive.Unsupported("mylib's matmul is 2-D only")
            return x @ y
    """


#: other names libraries give the catalog's parameters: needle's ``summation(a, axes)``,
#: ``power_scalar(a, scalar)``; a callee that names neither gets neither
SYNONYMS = {"axis": ("axes",), "exponent": ("scalar",)}


def params_by_position(fn, skip, params, op, owner):
    """The arguments after the first ``skip`` parameters of ``fn``, for a call that takes no keywords
    (``Function.apply``, JAX's ``nondiff_argnums``): each parameter ``fn`` names, from ``params``
    (matched by name as :func:`fit_params` matches) or its default, up to the first ``*args``,
    ``**kwargs`` or keyword-only one; :class:`Unsupported` for one derive cannot fill."""
    import inspect
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return []
    if any(p.kind is p.VAR_POSITIONAL for p in parameters[:skip]):
        return list(params.values())  # forward(ctx, *args): the params in the op's order
    fitted = fit_params(fn, params, op.params, owner, per_axis=op.per_axis) if params else {}
    args = []
    for p in parameters[skip:]:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        if p.name in fitted:
            args.append(fitted[p.name])
        elif p.default is not p.empty:
            args.append(p.default)
        else:
            raise Unsupported(f"{owner} wants {p.name}, which derive cannot fill")
    return args


def fit_params(fn, params, defaults, who, per_axis=()):
    """The ``params`` that ``fn`` can take, the way it takes them.

    A parameter ``fn`` names by one of its :data:`SYNONYMS` goes by that name.
    A parameter ``fn`` has no name for (a conv without ``groups``, a pool without
    ``padding``) is left out where the case holds the op's default, which is what
    leaving it out means; a case that sets it to anything else is :class:`Unsupported`
    (skipped and counted, never a failure).  A parameter named in ``per_axis`` (one value
    for every spatial axis) goes as a tuple where ``fn``'s own default for it is one
    (``stride=(1, 1)`` gets ``(2, 2)`` for 2).  A function whose signature cannot be read,
    or that takes ``**kwargs``, gets every parameter as it is.
    """
    import inspect
    try:
        accepted = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return params
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return params
    out = {}
    for key, value in params.items():
        key = next((other for other in SYNONYMS.get(key, ()) if key not in accepted and other in accepted), key)
        if key in accepted:
            own = accepted[key].default
            if key in per_axis and isinstance(value, int) and isinstance(own, (tuple, list)) and own \
                    and all(isinstance(v, int) for v in own):
                value = type(own)([value] * len(own))
            out[key] = value
        elif key in defaults and same_param(value, defaults[key]):
            continue
        else:
            raise Unsupported(f"{who} takes no `{key}`" + (f" (cases with {key} other than {defaults[key]!r})"
                                                            if key in defaults else ""))
    return out


def same_param(a, b):
    """Whether two parameter values are the same (``1 == 1.0``; tuples and lists alike)."""
    if isinstance(a, (list, tuple)) or isinstance(b, (list, tuple)):
        return isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b) \
            and all(same_param(x, y) for x, y in zip(a, b))
    return a is b or (a is not None and b is not None and bool(a == b))


#: which spelling the last call reached (``method Tensor.exp``, ``function needle.exp``), for the report;
#: None: the catalog's own expression (operators: ``X + Y``)
SPELLED = contextvars.ContextVar("spelled", default=None)


#: spellings a call passes over, by label: set while a target looks for its other spellings of an op
#: (the operator, the method, the module function) and while it runs one of them
PASSED_OVER = contextvars.ContextVar("passed_over", default=frozenset())


#: what a target given as a file is imported as, before its own name: ``layers.py`` is ``_derive_target_layers``
FILE_MODULE_PREFIX = "_derive_target_"


def label(kind, owner, name):
    """``method Tensor.exp``, ``function needle.exp``; ``operator +`` when ``owner`` is None."""
    if owner is None:
        return f"{kind} {name}"
    owner = getattr(owner, "__name__", type(owner).__name__)
    return f"{kind} {owner.removeprefix(FILE_MODULE_PREFIX)}.{name}"


def offered(kind, owner, name):
    """Whether the spelling ``kind owner.name`` may be taken (it is not being passed over)."""
    return label(kind, owner, name) not in PASSED_OVER.get()


def spelled(kind, owner, name):
    """Record that a call went through ``kind`` (method, function, operator) ``owner.name``."""
    SPELLED.set(label(kind, owner, name))


def _names(name):
    """``name``, and while other spellings are looked for (see :data:`PASSED_OVER`) its aliases too:
    needle's ``summation`` for ``sum``.  An alias found so is kept only when its forward matches the
    first spelling's, so a function of the same name that does something else is never checked."""
    if not PASSED_OVER.get():
        return (name,)
    try:
        return (name, *_catalog.get_op(name).aliases)
    except ValueError:  # a spelling under a name outside the catalog
        return (name,)


def call_function(api, *tensors, name, **params):
    """Spell an op as the function ``api.<name>(*tensors, **params)``; None if ``api`` has none.

    For ops whose first input is data (``where``'s condition): a method of that
    input would be the array library's, not the op.
    """
    for alias in _names(name):
        fn = getattr(api, alias, None) if api is not None else None
        if callable(fn) and offered("function", api, alias):
            spelled("function", api, alias)
            return fn(*tensors, **_fitted(fn, params, name))
    return None


def call_joined(api, *tensors, name, **params):
    """Spell a join (concatenate, stack) as ``api.<name>([X, Y], **params)`` where the function takes
    the arrays as one sequence (NumPy's, JAX's, autograd's, torch's), else as ``api.<name>(X, Y,
    **params)`` (a course's two-argument function); None if ``api`` has none."""
    for alias in _names(name):
        fn = getattr(api, alias, None) if api is not None else None
        if callable(fn) and offered("function", api, alias):
            spelled("function", api, alias)
            args = (list(tensors),) if takes_one_sequence(fn) else tensors
            return fn(*args, **_fitted(fn, params, name))
    return None


#: a first parameter of these names is the sequence of arrays (``np.concatenate(arrays)``)
_SEQUENCE_NAMES = {"arrays", "tensors", "tup", "seq", "xs", "arr_list", "tensor_list", "inputs", "values", "args"}


def takes_one_sequence(fn):
    """Whether ``fn`` takes its arrays as one sequence: one required positional parameter, or a first
    one named like a sequence; a builtin without a signature is NumPy's convention (a sequence)."""
    import inspect
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if any(p.kind is p.VAR_POSITIONAL for p in parameters) and not positional:
        return False  # concatenate(*tensors, axis=0)
    required = [p for p in positional if p.default is p.empty]
    return len(required) == 1 or bool(positional) and positional[0].name in _SEQUENCE_NAMES


def _fitted(fn, params, name):
    """``params`` as ``fn`` takes them (see :func:`fit_params`)."""
    try:
        op = _catalog.get_op(name)
    except ValueError:  # a spelling under a name outside the catalog: everything, as given
        return params
    return fit_params(fn, params, op.params, f"`{name}`", per_axis=op.per_axis)


def takes_sizes_apart(method):
    """Whether ``method`` takes a shape as separate sizes (``reshape(self, *shape)``), not as one tuple."""
    import inspect
    try:
        parameters = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # a builtin: NumPy's and torch's take a tuple
        return False
    return any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters)


def by_name_else(name, *fallback):
    """A spelling ``spell(api, x, **params)``: the op by name (:func:`call_by_name`), else each
    ``(symbol, operator)`` of ``fallback`` in turn, ``operator(x, **params)``: the operator with a Python
    number (micrograd's ``x ** 3``, ``x * 2``, and the reflected ``2 * x``)."""
    def spell(api, x, **params):
        result = call_by_name(api, x, name=name, **params)
        if result is not None:
            return result
        for symbol, operator in fallback:
            if offered("operator", None, symbol):
                spelled("operator", None, symbol)
                return operator(x, **params)
        return None
    spell.__name__ = f"call_{name}"
    return spell


def call_by_name(api, *tensors, name, **params):
    """Spell an op by its name: a method of the first tensor, else a function of ``api``; None if neither."""
    for alias in _names(name):
        method = getattr(tensors[0], alias, None) if tensors else None
        if callable(method) and offered("method", type(tensors[0]), alias):
            spelled("method", type(tensors[0]), alias)
            return method(*tensors[1:], **_fitted(method, params, name))
    return call_function(api, *tensors, name=name, **params)


def operator_else(symbol, fn, name):
    """A spelling ``spell(api, *tensors, **params)``: the operator ``fn(*tensors, **params)`` (``X + Y``),
    recorded as ``operator <symbol>``, else the op by name (:func:`call_by_name`): a target's other
    spellings of the op are found by passing over the operator."""
    def spell(api, *tensors, **params):
        if offered("operator", None, symbol):
            spelled("operator", None, symbol)
            return fn(*tensors, **params)
        return call_by_name(api, *tensors, name=name, **params)
    spell.__name__ = f"call_{name}"
    return spell
