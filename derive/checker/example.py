"""Check one case: the target's forward first, then its gradients (exact, numeric), then the derivation.

- **forward**: the target's output is compared with the catalog's NumPy forward; a
  different forward (or one that raised) is its own finding, never a gradient FAIL;
- **exact**: inputs and ``G`` are arrays of random rationals, for ops whose backward is
  polynomial; equality is identity, no tolerance (a wrong entry is then reported with
  arrays of SymPy symbols: ``expected G[1,0], got G[0,1]``);
- **numeric**: float inputs, the derived closed form evaluated in float64, compared with
  a stated tolerance (that of the gradient's own dtype when the target returns less
  precision than it was given, which is noted);
- **finite differences**: the derived gradient itself is checked against central
  differences of the NumPy reference forward, on small cases.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from ..catalog import strategies as dst
from ..catalog.registry import get_op
from ..symbolic.derivation import G_NAME
from .diagnose import diagnose
from ..symbolic.expected import DerivationError, _env, _expected_or_error, _output_shape, derivation_for, expected_gradients
from ..vocabulary.expressions import unroll
from ..symbolic.oracle import exact_inputs, symbol_array
from .report import Failure, format_pair
from ..isolation.channel import Unreadable
from ..targets import CONSTANT, ForwardError, ProtocolError, TargetError, Unsupported
from ..isolation.target import IsolatedTarget
from ..targets.base import TargetCrashed, copy_upstream, modified_in_place, raised_name, same_values

__all__ = ["run_example", "expected_gradients", "derivation_for", "TOLERANCES", "DerivationError",
           "Mismatch", "ForwardDiffers", "BackwardRaised"]

#: (rtol, atol) per dtype, relative to the largest expected entry.
TOLERANCES = {"float64": (1e-7, 1e-9), "float32": (2e-4, 2e-5), "float16": (2e-2, 2e-3)}
FD_MAX_ENTRIES = 64
TOO_LARGE_FOR_EXACT = "too large for exact"  # evidence key: exact-capable cases over EXACT_MAX_ENTRIES
FD_MAX_EXAMPLES_NOTATION = 25  # an op declared by index formula has one derivation: FD guards it on a sample
#: exact evidence for cases up to this many input entries; larger ones are numeric
EXACT_MAX_ENTRIES = 512  # every drawn case fits (matmul: two 4x4x4x4 operands)


class BackwardRaised(Exception):
    """The target's backward (or its call) raised ``exc``: only what target code raises is blamed on it."""

    def __init__(self, exc):
        super().__init__(str(exc))
        self.exc = exc


class Mismatch(AssertionError):
    """A wrong gradient (or a broken backward): carries the :class:`Failure`."""

    def __init__(self, failure):
        super().__init__(failure.message)
        self.failure = failure


class ForwardDiffers(Exception):
    """The target's forward is not the catalog's on this case: carries the :class:`Failure`."""

    def __init__(self, failure):
        super().__init__(failure.message)
        self.failure = failure



def out_of_tolerance(got, expected, rtol, atol):
    """The entries outside ``atol * scale + rtol * |expected|`` (scale: the largest expected entry, at
    least 1; NaN is always outside), and that scale."""
    scale = max(1.0, float(np.max(np.abs(expected)))) if expected.size else 1.0
    return ~(np.abs(got - expected) <= atol * scale + rtol * np.abs(expected)), scale


#: two answers to one call may differ by this fraction of the comparison's tolerance (a sum taken in
#: another order, as an engine that keeps a node's parents in a set does) and still be the same answer
DETERMINISM_SHARE = 1e-2


def _same_answer(a, b, dtype):
    """Whether two gradients returned for the same call are the same answer: equal, or (floats) apart
    by rounding far inside the tolerance they are judged with."""
    if any(g is None or g is CONSTANT for g in (a, b)):
        return (a is None) == (b is None) and (a is CONSTANT) == (b is CONSTANT)
    try:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind not in "fc" or b.dtype.kind not in "fc":
            return same_values(a, b)
        rtol, atol = TOLERANCES.get(np.dtype(dtype).name, TOLERANCES["float64"])
        wide = np.result_type(a, b, np.float64)
        a, b = a.astype(wide), b.astype(wide)
        bad, _ = out_of_tolerance(a, b, rtol * DETERMINISM_SHARE, atol * DETERMINISM_SHARE)
        return not np.any(bad & ~(np.isnan(a) & np.isnan(b)))
    except Exception:  # noqa: BLE001  not comparable: not the same answer
        return False


def call_target(target, op, case, inputs, G, repeat=1, spelling=None):
    """Run the target once; check structure (count, mutation); the :class:`Outcome`.

    ``repeat=2`` makes the same call again on fresh copies and keeps its gradients in
    ``Outcome.again`` (an isolated target makes both calls in its worker and sends back what they
    left; every comparison is made here).  ``spelling`` (a label of ``target.other_spellings(op)``)
    makes the call through that spelling of the op.
    """
    if op.pieces is not None:  # a list of outputs: the backward gets one G per piece
        G = op.pieces.cut(G, **op.with_defaults(case.params))
    more = {} if spelling is None else {"spelling": spelling}
    try:
        if isinstance(target, IsolatedTarget):  # both calls in its worker; ``modified`` judged on its reply
            outcome = target.run(op, case, inputs, G, repeat=repeat, **more)
        else:
            before = [np.array(a, copy=True) for a in inputs], copy_upstream(G)
            outcome = target.run(op, case, inputs, G, **more)
            outcome.modified = modified_in_place(inputs, G, before)
            if repeat == 2:
                outcome.again = target.run(op, case, [np.array(a, copy=True) for a in before[0]],
                                           copy_upstream(before[1]), **more).grads
    except ProtocolError as exc:
        if exc.mismatch:  # derive's call may not fit: judged in ``_settle`` (a FAIL only where other cases ran)
            raise Mismatch(Failure(op=op.name, input=None, case=case, kind="protocol", message=str(exc))) from None
        raise _structural(op, case, None, str(exc)) from None
    except ForwardError as exc:
        raise ForwardDiffers(Failure(op=op.name, input=None, case=case, kind="forward",
                                     message=f"the forward raised {exc}")) from None
    except SystemExit as exc:  # in this process: a target given as an object
        raise TargetCrashed("exit", f"the target called sys.exit({'' if exc.code is None else repr(exc.code)})") \
            from None
    except (Unsupported, TargetError, TargetCrashed):
        raise
    except Exception as exc:  # noqa: BLE001  what the target raised, told apart from derive's own errors
        output = getattr(exc, "forward_output", None)
        if output is not None and op.pieces is None:  # the forward ran first: is it the op's?
            try:
                check_forward(op, case, inputs, output)
            except ForwardDiffers:
                raise
            except Exception:  # noqa: BLE001  not comparable here: the backward's error is what is known
                pass
        raise BackwardRaised(exc) from exc
    grads = outcome.grads
    if len(grads) != len(op.inputs):
        raise _structural(op, case, None, f"returned {len(grads)} gradient(s) for {len(op.inputs)} "
                                          f"input(s) ({', '.join(op.input_names)})")
    for k, spec in enumerate(op.inputs):
        if k in outcome.modified:
            raise _structural(op, case, spec.name, f"modified its input {spec.name} in place")
    if "G" in outcome.modified:
        raise _structural(op, case, None, "modified the upstream gradient G in place")
    return _without_gradient(op, inputs, outcome)


def _without_gradient(op, inputs, outcome):
    """Inputs that got no gradient (None, or an engine's CONSTANT) where others got one: held constant
    where the op allows it (:attr:`Input.may_be_constant`), with a note; else the claim that the
    gradient is zero, compared as zeros.  No gradient for any input stays a structural failure."""
    none = [k for k, spec in enumerate(op.inputs)
            if spec.differentiable and (outcome.grads[k] is None or outcome.grads[k] is CONSTANT)]
    if not none or len(none) == len(op.differentiable):
        return outcome
    grads, again = list(outcome.grads), None if outcome.again is None else list(outcome.again)
    for k in none:
        spec, exact = op.inputs[k], np.asarray(inputs[k]).dtype == object
        if spec.may_be_constant:
            standin = CONSTANT
            note = (f"the target holds {spec.name} constant: it returns no gradient for it, and "
                    f"dl/d{spec.name} is not checked")
        else:
            standin = np.full(np.shape(inputs[k]), sp.Integer(0), dtype=object) if exact \
                else np.zeros(np.shape(inputs[k]))
            note = f"no gradient came back for {spec.name}: compared as zeros (None claims a zero gradient)"
        grads[k] = standin
        if again is not None and (again[k] is None or again[k] is CONSTANT):
            again[k] = standin
        if note not in outcome.notes:
            outcome.notes.append(note)
    outcome.grads, outcome.again = tuple(grads), None if again is None else tuple(again)
    return outcome


def _joined_pieces(op, case, params, call, output, expected):
    """A list output (split's) joined into one array, after its count and shapes were compared with
    NumPy's pieces (:class:`ForwardDiffers` when they differ)."""
    pieces = op.pieces.cut(expected, **params)
    message = None
    if not isinstance(output, (list, tuple)):
        message = f"your {call} returned one {type(output).__name__}, not a list of {len(pieces)} pieces"
    elif len(output) != len(pieces):
        message = f"your {call} returned {len(output)} piece(s); NumPy's gives {len(pieces)}"
    else:
        for k, (got, want) in enumerate(zip(output, pieces)):
            if np.shape(got) != np.shape(want):
                message = f"piece {k} of your {call} has shape {np.shape(got)}; NumPy's has {np.shape(want)}"
                break
    if message is not None:
        raise ForwardDiffers(Failure(op=op.name, input=None, case=case, kind="forward", message=message))
    return op.pieces.join([np.asarray(p) for p in output], **params)


def check_forward(op, case, arrays, output, notes=None):
    """Raise :class:`ForwardDiffers` when the target's forward output is not the catalog's.

    A scalar (a loss) that comes back as a one-entry array (``ones.T @ se @ ones`` is (1, 1)) is
    read as the scalar, and ``notes`` says so.  Returns the ``eps`` of a guarded op's forward that
    is the op at ``X + eps`` (see ``Op.guarded``), else None."""
    if output is None:
        return
    params = op.with_defaults(case.params)
    try:
        expected = np.asarray(op.forward(*[np.asarray(a, dtype=np.float64) if not s.data else a
                                           for s, a in zip(op.inputs, arrays)], **params))
    except Exception as exc:  # noqa: BLE001  the op's declaration is at fault, never the target
        raise DerivationError(f"the NumPy forward declared for {op.name} raised at {case.describe(op)}: "
                              f"{type(exc).__name__}: {exc}") from exc
    call = f"{op.name}({case.describe(op)})"
    if op.pieces is not None:
        output = _joined_pieces(op, case, params, call, output, expected)
    unreadable = _not_an_array(output)
    if unreadable:  # an unfinished forward (``out = None``): the student's, never derive's fault
        raise ForwardDiffers(Failure(op=op.name, input=None, case=case, kind="forward",
                                     message=f"your {call} returned {unreadable}, not an array",
                                     diagnosis="is the forward finished? the gradient is checked only where "
                                               "the forward is the catalog's"))
    got = np.asarray(output)
    if expected.shape == () and got.shape != () and got.size == 1 and got.dtype != object:
        if notes is not None:
            notes.add(f"the forward gives the scalar {op.name} as an array of shape {got.shape}")
        got = got.reshape(())
    if got.shape != expected.shape:
        message = f"your {call} has shape {got.shape}; NumPy's has shape {expected.shape}"
    else:
        if got.dtype == object or got.size == 0:
            return
        try:
            got64 = got.astype(np.float64)
        except (TypeError, ValueError):
            message = f"your {call} returned {got.dtype} values"
        else:
            rtol, atol = TOLERANCES.get(got.dtype.name, TOLERANCES["float64"])
            bad, _ = out_of_tolerance(got64, expected, rtol, atol)
            if not np.any(bad):
                return None
            guard = _guard(op, arrays, params, got64, rtol, atol)
            if guard is not None:
                if notes is not None:
                    notes.add(f"the forward computes {op.name}(X + {guard:g}), a guard against the singularity "
                              f"at 0: taken as {op.name}, its gradient accepted at X, at X + {guard:g} or between")
                return guard
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            se, sg, _ = format_pair(expected[idx], got64[idx])
            message = f"your {call} gives Z{_fmt_index(idx)} = {sg}; NumPy's gives {se}"
    named = _name_variant(op, arrays, params, got)
    if named:
        message += f" (your {op.name} computes {named})"
    raise ForwardDiffers(Failure(op=op.name, input=None, case=case, kind="forward", message=message,
                                 diagnosis="the gradient is checked only where the forward is the catalog's; "
                                           "bind the op to its NumPy equivalent to check the rest"))


#: the constants real code adds to keep off a singularity (``EPS = 1e-6``), tried for a guarded op
GUARDS = tuple(10.0 ** -k for k in range(4, 13))


def _guard(op, arrays, params, got64, rtol, atol):
    """The ``eps`` of a guarded op's forward that is the op at ``X + eps`` (MiniTorch's
    ``log(x + EPS)``), or None."""
    if not op.guarded:
        return None
    for eps in GUARDS:
        shifted = np.asarray(op.forward(*guarded_inputs(op, arrays, eps), **params))
        if shifted.shape == got64.shape and not np.any(out_of_tolerance(got64, shifted, rtol, atol)[0]):
            return eps
    return None


def guarded_inputs(op, arrays, eps):
    """``arrays`` as float64, with ``eps`` added to the differentiable ones."""
    return [a if s.data else np.asarray(a, dtype=np.float64) + (eps if s.differentiable else 0.0)
            for s, a in zip(op.inputs, arrays)]


def _not_an_array(output):
    """What ``output`` is when it is not an array of numbers (None, or a value that could not cross from
    the worker), else ''."""
    if isinstance(output, Unreadable):  # an array holding None came back as "not numbers (NoneType)"
        return "None" if output.what.endswith("(NoneType)") else f"{output.type_name} ({output.what})"
    if isinstance(output, np.ndarray) and output.dtype == object and output.shape == () and output.item() is None:
        return "None"
    return ""


def _name_variant(op, arrays, params, got):
    for description, fn in op.variants:
        try:
            value = np.asarray(fn(*arrays, **params))
        except Exception:  # noqa: BLE001  that variant does not apply here
            continue
        if value.shape == got.shape and np.allclose(value, np.asarray(got, dtype=np.float64), rtol=1e-5,
                                                    atol=1e-8):
            return description
    return None


def _structural(op, case, name, message, evidence="numeric"):
    who = f"dl/d{name}: " if name else ""
    return Mismatch(Failure(op=op.name, input=name, case=case, kind="structure",
                             message=f"{who}{message}", evidence=evidence))


def _check_structure(op, case, grads, evidence, out_shape):
    for spec, g, shape in zip(op.inputs, grads, case.shapes):
        if not spec.differentiable or g is CONSTANT:
            continue
        if g is None:
            raise _structural(op, case, spec.name, "the backward returned None", evidence)
        try:
            g = np.asarray(g)
        except Exception as exc:  # noqa: BLE001
            raise _structural(op, case, spec.name, f"not an array ({raised_name(g)}: {exc})",
                              evidence) from None
        if g.shape != tuple(shape):
            failure = _structural(op, case, spec.name, f"gradient has shape {g.shape}, input has shape "
                                                       f"{tuple(shape)}", evidence)
            if sorted(g.shape) == sorted(shape):
                failure.failure.diagnosis = ("the axes are permuted (a transpose missing or not inverted: "
                                             "the inverse of `axes` is np.argsort(axes))")
            elif g.ndim > len(shape) and g.size == int(np.prod(shape, dtype=np.int64)) \
                    and [n for n in g.shape if n != 1] == [n for n in shape if n != 1]:
                failure.failure.diagnosis = (f"every entry is there with extra size-1 axes: a sum with keepdims=True "
                                             f"(a dgamma of shape (1, D)), or an un-broadcast missing over the "
                                             f"leading axes; sum without keepdims, or reshape to {spec.name}.shape")
            elif g.shape == out_shape and _broadcasting(case, out_shape):
                failure.failure.diagnosis = ("un-broadcast missing: the gradient has the broadcast output's "
                                             "shape; sum it over the axes broadcasting added or stretched")
            elif len(g.shape) != len(shape) and _broadcasting(case, out_shape):
                failure.failure.diagnosis = ("un-broadcast over the wrong axes: sum over the leading axes "
                                             "broadcasting added, and keep (keepdims) the stretched size-1 axes")
            elif g.size == int(np.prod(shape, dtype=np.int64)) and g.ndim != len(shape):
                failure.failure.diagnosis = (f"every entry is there in another shape: reshape the gradient back "
                                             f"to the input's shape ({spec.name}.shape)")
            raise failure
        if evidence == "exact" and g.dtype == object:
            for idx in np.ndindex(*g.shape):
                v = g[idx]
                if isinstance(v, (float, np.floating)) and not np.isfinite(v) or \
                        getattr(v, "has", None) and v.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                    raise _structural(op, case, spec.name, f"gradient is not finite at {list(idx)}: {v}",
                                      evidence)
        if evidence != "exact" and g.dtype.kind != "f":
            raise _structural(op, case, spec.name, f"gradient has dtype {g.dtype}, "
                                                   "expected a real floating dtype", evidence)
        if g.dtype.kind in "fc" and not np.all(np.isfinite(g)):
            bad = tuple(int(i) for i in np.argwhere(~np.isfinite(g))[0])
            raise _structural(op, case, spec.name, f"gradient is not finite at {list(bad)}: "
                                                   f"{g[bad]}", evidence)


def _broadcasting(case, out_shape):
    """Whether the case's inputs broadcast against each other into the output (an elementwise op)."""
    if len(case.shapes) < 2:
        return False
    try:
        joint = np.broadcast_shapes(*[tuple(s) for s in case.shapes])
    except ValueError:
        return False
    return len({tuple(s) for s in case.shapes}) > 1 and tuple(joint) == tuple(out_shape)


def _fmt_index(idx):
    return "[" + ",".join(str(int(i)) for i in idx) + "]" if len(idx) else ""


def _entry_formula(derivation, name, idx, sizes, data=None):
    """The index formula at ``idx``; the entries of data inputs (``data``: name -> int array, e.g.
    indices) are put in, so a scatter-add reads ``G[0, 0] + G[1, 0]``, not deltas of ``indices[n]``."""
    grad = derivation[name]
    expr = grad.index_formula.subs({s: v for s, v in sizes.items()})
    expr = expr.subs(dict(zip(grad.index, idx)))
    try:
        expr = unroll(expr)
        if expr.has(sp.Sum):  # a range that stayed symbolic
            expr = expr.doit()
        if data:
            expr = expr.replace(lambda e: isinstance(e, sp.Indexed) and str(e.base) in data
                                and all(i.is_Integer for i in e.indices),
                                lambda e: sp.Integer(int(data[str(e.base)][tuple(int(i) for i in e.indices)])))
    except Exception:  # noqa: BLE001
        pass
    return str(expr)


def _fd_gradients(op, case, arrays, G):
    params = op.with_defaults(case.params)
    h = 1e-6
    out = {}
    for k, spec in enumerate(op.inputs):
        if not spec.differentiable:
            continue
        a = arrays[k]
        g = np.zeros_like(a, dtype=np.float64)
        for idx in np.ndindex(*a.shape):
            plus = [np.array(b, dtype=np.float64, copy=True) if not s.data else b
                    for s, b in zip(op.inputs, arrays)]
            minus = [np.array(b, dtype=np.float64, copy=True) if not s.data else b
                     for s, b in zip(op.inputs, arrays)]
            plus[k][idx] += h
            minus[k][idx] -= h
            g[idx] = (np.sum(G * op.forward(*plus, **params)) - np.sum(G * op.forward(*minus, **params))) / (2 * h)
        out[spec.name] = g
    return out


def _is_exact_array(a):
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return True
    return a.dtype == object and all(isinstance(v, (Fraction, int, np.integer)) for v in a.ravel())


def _exact_rationals(op, target, case, seed, derivation, out_shape):
    """Run the target on random rationals: ``"equal"``, a :class:`Failure` naming the first entry that
    differs, or None (no exact evidence).

    Polynomials that differ disagree at random points of a large range almost
    surely (Schwartz-Zippel), so equal values everywhere is exact evidence.  A
    target that cannot take Python objects, or turns the rationals into floats,
    gives no exact evidence here (its values are checked numerically next).

    The integers are tried first as Python ints: while neither side divides, int arithmetic is
    exact and several times faster than Fractions.  Where a division turns either side into
    floats, the same values run again as Fractions.
    """
    for integers in (True, False):
        inputs = dst.make_rational_inputs(op, case, seed, integers=integers)
        G = dst.make_rational_upstream(out_shape, seed, integers=integers)
        try:
            grads = call_target(target, op, case, inputs, G).grads
        except (BackwardRaised, ForwardDiffers, TargetCrashed):  # it cannot take Python objects: numeric only
            if integers:
                continue
            return None
        _check_structure(op, case, grads, "exact", out_shape)
        got = dict(zip(op.input_names, grads))
        if not all(_is_exact_array(g) for g in got.values() if g is not CONSTANT and g is not None):
            if integers:
                continue  # the target divided: as Fractions
            return None
        expected = {k: v for k, v in _expected_or_error(op, case, inputs, G, derivation).items()
                    if got[k] is not CONSTANT}
        if integers and not all(_is_exact_array(v) for v in expected.values()):
            continue  # the derivation divides: as Fractions
        if not all(_is_exact_array(got[name]) for name in expected):
            return None
        for name, exp in expected.items():
            g = np.asarray(got[name])
            if not np.array_equal(g, exp):
                idx = next(i for i in np.ndindex(*exp.shape) if exp[i] != g[i])
                return Failure(op=op.name, input=name, case=case, kind="value", index=idx, evidence="exact",
                               expected=str(exp[idx]), got=str(g[idx]), expected_array=exp, got_array=g,
                               message=f"dl/d{name}{_fmt_index(idx)}: expected {exp[idx]}, got {g[idx]} "
                                       "(on exact rational inputs)")
        return "equal"
    return None


def _exact_symbols(op, target, case, derivation, out_shape, rational):
    """Re-run with arrays of SymPy symbols and raise the symbolic report of the first wrong entry;
    where the target cannot run on symbols, or its symbols do not show what its rationals showed,
    the report of the ``rational`` run (a :class:`Failure`)."""
    inputs = exact_inputs(op, case)
    G = symbol_array(G_NAME, out_shape)
    try:
        grads = call_target(target, op, case, inputs, G).grads
        _check_structure(op, case, grads, "exact", out_shape)
    except (BackwardRaised, ForwardDiffers, TargetCrashed, Mismatch):
        raise Mismatch(rational) from None
    expected = _expected_or_error(op, case, inputs, G, derivation)
    for name, exp in expected.items():
        if grads[op.input_names.index(name)] is CONSTANT:
            continue
        got = np.asarray(grads[op.input_names.index(name)])
        for idx in np.ndindex(*exp.shape):
            e, g = exp[idx], got[idx]
            if e == g or _same_at_random_point(e, g):  # the first: the same canonical polynomial
                continue
            e = sp.expand(e)
            g = sp.expand(g) if sp.count_ops(g) <= EXPAND_MAX_OPS else g  # a huge one is shown as it came
            shown = _shorten(str(g))
            raise Mismatch(Failure(
                op=op.name, input=name, case=case, kind="value", index=idx,
                expected_formula=str(e), expected=str(e), got=shown, evidence="exact",
                message=f"dl/d{name}{_fmt_index(idx)}: expected {e}, got {shown}",
                expected_array=exp, got_array=got,
                diagnosis=diagnose(op, case, name, None, None, env=_env(op, case, inputs, G),
                                   exact=(exp, got, expected))))
    raise Mismatch(rational)  # its symbols agree everywhere where its rationals did not


#: a symbolic answer is expanded for its report up to this many operations
EXPAND_MAX_OPS = 2000


def _same_at_random_point(e, g):
    """Whether two rational functions of the case's symbols agree at a random integer point: for ones
    that differ, almost never (Schwartz-Zippel); linear in their size, where expanding may not be."""
    try:
        e, g = sp.sympify(e, strict=True), sp.sympify(g, strict=True)  # numbers and expressions, never text
    except sp.SympifyError:
        return False
    rng = np.random.default_rng(1234)
    point = {s: sp.Integer(int(rng.integers(-2 ** 40, 2 ** 40))) for s in e.free_symbols | g.free_symbols}
    return e.xreplace(point) == g.xreplace(point)


def _shorten(text, size=300):
    return text if len(text) <= size else f"{text[:size]}... ({len(text)} characters)"


#: at reduced precision, an entry also passes within this many times the change of the derived
#: gradient under a relative perturbation of the inputs and G by the dtype's epsilon
CONDITIONING_MARGIN = 10.0


def _rounding_noise(op, case, derivation, arrays, G, name, dtype):
    """How much the derived ``dl/d{name}`` moves when every float input and ``G`` are perturbed by
    the relative rounding error of ``dtype``: the part of a reduced-precision result that no
    correct implementation controls (layer norm's ``1/std`` amplifies the rounding of ``X - mean``)."""
    eps = float(np.finfo(dtype).eps)
    rng = np.random.default_rng(0)
    base = expected_gradients(op, case, [a.astype(np.float64) if not s.data else a
                                         for s, a in zip(op.inputs, arrays)], G.astype(np.float64),
                              derivation)[name]
    noise = np.zeros(np.shape(base))
    for _ in range(2):
        moved = [a if s.data else a.astype(np.float64) * (1 + eps * rng.uniform(-1, 1, np.shape(a)))
                 for s, a in zip(op.inputs, arrays)]
        g = G.astype(np.float64) * (1 + eps * rng.uniform(-1, 1, np.shape(G)))
        noise = np.maximum(noise, np.abs(expected_gradients(op, case, moved, g, derivation)[name] - base))
    gradient = next(d for d in derivation if d.name == name)
    try:
        magnitude = gradient.term_magnitude(_env(op, case, [a.astype(np.float64) if not s.data else a
                                                            for s, a in zip(op.inputs, arrays)],
                                                 G.astype(np.float64)))
    except Exception:  # noqa: BLE001  a term the evaluator cannot take alone: the perturbation estimate stands
        magnitude = 0.0
    return np.maximum(noise, eps * np.broadcast_to(magnitude, np.shape(base)))


def _compare_numeric(op, case, derivation, sizes, arrays, G, grads, expected, np_dtype, notes,
                     dtype_tolerance="inputs", guarded=None):
    """Compare float gradients entry by entry; raise :class:`Mismatch` at the first wrong one.

    A gradient in a lower precision than the inputs is compared at the inputs' tolerance, with a
    note naming its dtype (``dtype_tolerance="gradient"``: at its own dtype's, more leniently).
    ``guarded`` holds the gradients at a guarded forward's ``X + eps``: an entry between the two
    passes too."""
    for name, exp in expected.items():
        raw = grads[op.input_names.index(name)]
        if raw is CONSTANT:
            continue
        raw = np.asarray(raw)
        got = raw.astype(np.float64)
        tol_dtype = np_dtype
        if raw.dtype.kind == "f" and raw.dtype.itemsize < np_dtype.itemsize:
            if dtype_tolerance == "gradient":
                tol_dtype = raw.dtype
            notes.add(f"dl/d{name} comes back as {raw.dtype.name} for {np_dtype.name} inputs "
                      f"(compared at {tol_dtype.name}'s tolerance)")
        rtol, atol = TOLERANCES.get(tol_dtype.name, TOLERANCES["float32"])
        bad, scale = out_of_tolerance(got, exp, rtol, atol)
        if np.any(bad) and tol_dtype != np.float64:
            noise = _rounding_noise(op, case, derivation, arrays, G, name, tol_dtype)
            bad &= ~(np.abs(got - exp) <= CONDITIONING_MARGIN * noise)
        if np.any(bad) and guarded is not None:
            shifted = guarded[name]
            bad &= out_of_tolerance(got, shifted, rtol, atol)[0]
            bad &= ~((np.minimum(exp, shifted) <= got) & (got <= np.maximum(exp, shifted)))
        if not np.any(bad):
            continue
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        formula = _entry_formula(derivation, name, idx, sizes,
                                 {s.name: np.asarray(a) for s, a in zip(op.inputs, arrays) if s.domain == "indices"})
        se, sg, rel = format_pair(exp[idx], got[idx])
        dtype_note = (f"; the gradient came back as {raw.dtype.name} for {np_dtype.name} inputs"
                      if raw.dtype != np_dtype and raw.dtype.kind == "f" else "")
        raise Mismatch(Failure(
            op=op.name, input=name, case=case, kind="value", index=idx, expected_formula=formula,
            expected=float(exp[idx]), got=float(got[idx]), evidence="numeric",
            message=(f"dl/d{name}{_fmt_index(idx)}: expected {formula} = {se}, got {sg} "
                     f"(relative error {rel:.2g}; rtol {rtol:g}, atol {atol:g}x{scale:.3g}, "
                     f"{tol_dtype.name}{dtype_note})"),
            expected_array=exp, got_array=got,
            diagnosis=diagnose(op, case, name, got, exp, env=_env(op, case, arrays, G), expected_all=expected)))


#: evidence key: examples whose gradient is a valid subgradient at a tie, though not the declared convention
SUBGRADIENT = "another subgradient at ties"


def _other_subgradient(op, case, arrays, G, grads):
    """The convention a gradient that differs from the declared one follows at this case's ties, when it
    is inside the op's subdifferential there (the op's ``subgradient`` says); else None."""
    if op.subgradient is None or any(g is None or g is CONSTANT for g in grads):
        return None
    try:
        return op.subgradient(arrays, G, [np.asarray(g, dtype=np.float64) for g in grads],
                              **op.with_defaults(case.params))
    except Exception:  # noqa: BLE001  a gradient it cannot judge is no subgradient
        return None


def _compare_at_ties(op, case, derivation, sizes, arrays, G, grads, expected, np_dtype, notes, dtype_tolerance,
                     ties, guarded=None):
    """The numeric comparison; a gradient that differs from the declared one but is a valid subgradient
    at this case's ties (with ``ties="subgradient"``) gives the convention it follows, else None.
    Raises :class:`Mismatch` when it is neither."""
    try:
        _compare_numeric(op, case, derivation, sizes, arrays, G, grads, expected, np_dtype, notes, dtype_tolerance,
                         guarded)
        return None
    except Mismatch:
        convention = _other_subgradient(op, case, arrays, G, grads) if ties == "subgradient" else None
        if convention is None:
            raise
        return convention


def _guarded_expected(op, case, arrays, G, derivation, eps):
    """The derived gradients at a guarded forward's ``X + eps``."""
    return _expected_or_error(op, case, guarded_inputs(op, arrays, eps), G.astype(np.float64), derivation)


def _none_as_zero(op, case, derivation, grads, notes):
    """``grads`` with a None read as zeros for an input whose derived gradient is identically 0 (a
    comparison's): None is how torch.autograd.Function's backward and MiniTorch say "no gradient"
    there.  Anywhere else a None stays what it is, a missing gradient."""
    out = list(grads)
    for k, (spec, g) in enumerate(zip(op.inputs, grads)):
        if g is None and spec.differentiable and derivation[spec.name].index_formula == 0:
            out[k] = np.zeros(tuple(int(n) for n in case.shapes[k]))
            notes.add(f"dl/d{spec.name} came back as None: read as the zero gradient it is")
    return tuple(out)


def _check_spelling(op, target, case, arrays, G, spelling, derivation, sizes, expected, np_dtype, notes, out_shape,
                    ties, dtype_tolerance, guarded=None):
    """The same example through another of the target's spellings of ``op`` (``method Tensor.add``
    besides ``operator +``), its gradients compared with the same expected ones.

    Its gradients are the student's: a wrong one, a backward that raises, one that modifies its
    input, fails naming the spelling.  So is the forward of an operator, whose meaning Python fixes
    (``2 * X`` is ``X * 2``).  A spelling found by name is checked only where it computes the op: a
    forward that does not, or raises, is a function of that name doing something else (or called
    another way) on this case, said in a note, never a failure.
    """
    try:
        outcome = call_target(target, op, case, [np.array(a, copy=True) for a in arrays], copy_upstream(G),
                              spelling=spelling)
        guard = check_forward(op, case, arrays, outcome.output)
        notes.update(outcome.notes)
        grads = _none_as_zero(op, case, derivation, outcome.grads, notes)
        _check_structure(op, case, grads, "numeric", out_shape)
        if guard is not None:
            guarded = _guarded_expected(op, case, arrays, G, derivation, guard)
        convention = _compare_at_ties(op, case, derivation, sizes, arrays, G, grads, expected, np_dtype, notes,
                                      dtype_tolerance, ties, guarded)
        if convention is not None:
            notes.add(f"at ties, {spelling} gives {convention}: a valid subgradient, not the declared convention")
    except ForwardDiffers as exc:
        if spelling.startswith("operator "):
            exc.failure.spelling = spelling
            raise
        what = "raises" if exc.failure.message.startswith("the forward raised") else "gives other values"
        notes.add(f"{op.name}: {spelling} is not checked on cases where its forward {what}: "
                  f"a function of that name that is not {op.name} there")
    except Mismatch as exc:
        if exc.failure.kind == "protocol":
            notes.add(f"{op.name}: {spelling} is not checked on cases where derive cannot call it")
            return
        exc.failure.spelling = spelling
        raise
    except BackwardRaised as exc:
        exc.spelling = spelling
        raise
    except Unsupported:  # this spelling cannot express the case: the first one's verdict stands
        notes.add(f"{op.name}: {spelling} is not checked on cases it cannot express")


def _read_back(op, case, drawn, output, arrays, arrays64, draws):
    """``arrays`` and ``arrays64`` with each input the target drew itself as its output shows it (the
    input's ``Drawn.recover``); each distinct example's draws are counted in ``draws``, by input name.
    An output of another shape leaves them as given: the forward's check says what is wrong with it."""
    arrays, arrays64 = list(arrays), list(arrays64)
    params = op.with_defaults(case.params)
    given = b"".join(np.ascontiguousarray(a).tobytes() for k, a in enumerate(arrays64) if k not in drawn)
    for k in drawn:
        spec = op.inputs[k]
        try:
            values = np.asarray(spec.drawn.recover(output, *arrays64, **params)).astype(arrays64[k].dtype)
        except Exception:  # noqa: BLE001  an output it cannot be read from (None, a list): judged as a forward
            continue
        if values.shape != arrays64[k].shape:
            continue
        arrays[k] = arrays64[k] = values
        if draws is not None:  # a replayed example (shrinking) draws the same mask: counted once
            rate = float(spec.drawn.rate(**params))
            draws.setdefault(spec.name, {})[(case.describe(op), given)] = (
                case, int(np.count_nonzero(values)), rate * values.size, values.size)
    return arrays, arrays64


def run_example(op, target, case, seed, dtype="float64", evidence=None, fd=True, notes=None, ties="subgradient",
                dtype_tolerance="inputs", draws=None):
    """Check one case.

    Raises :class:`ForwardDiffers` when the target's forward is not the op's,
    :class:`Mismatch` with a :class:`Failure` when a gradient is wrong or the
    backward broke; ``evidence`` (a dict) counts the evidence levels used and
    ``notes`` (a set) collects what the report should say besides.  An input the target
    draws itself (``target.draws(op)``, a dropout mask) is read back from its output, and
    counted in ``draws`` (a dict), whose rates only a whole run can judge.
    """
    op = get_op(op)
    evidence = {} if evidence is None else evidence
    notes = set() if notes is None else notes
    try:
        derivation, sizes = derivation_for(op, case)
        out_shape = _output_shape(derivation, sizes)
    except Exception as exc:  # noqa: BLE001
        raise DerivationError(f"cannot derive {op.name} at {case.describe(op)}: {exc}") from exc

    # 1. the forward, on float inputs
    np_dtype = np.dtype(dtype)
    arrays64 = dst.make_inputs(op, case, seed)
    G64 = dst.make_upstream(out_shape, seed)
    arrays = [a.astype(np_dtype) if not spec.data else a for spec, a in zip(op.inputs, arrays64)]
    G = G64.astype(np_dtype)
    drawn = [k for k, spec in enumerate(op.inputs) if spec.drawn is not None and spec.name in target.draws(op)]
    # a forward that draws its own mask may not follow the seed it is given: no second call to compare
    outcome = call_target(target, op, case, arrays, G, repeat=1 if drawn else 2)
    if drawn:
        arrays, arrays64 = _read_back(op, case, drawn, outcome.output, arrays, arrays64, draws)
    guard = check_forward(op, case, arrays, outcome.output, notes)
    notes.update(outcome.notes)
    grads = _none_as_zero(op, case, derivation, outcome.grads, notes)
    again = None if outcome.again is None else _none_as_zero(op, case, derivation, outcome.again, notes)
    _check_structure(op, case, grads, "numeric", out_shape)

    # 2. exact
    entries = sum(int(np.prod(s, dtype=np.int64)) for s in case.shapes)
    if op.exact and target.exact_capable and not drawn and entries <= EXACT_MAX_ENTRIES:
        verdict = _exact_rationals(op, target, case, seed, derivation, out_shape)
        if isinstance(verdict, Failure):
            _exact_symbols(op, target, case, derivation, out_shape, verdict)  # raises the symbolic report
        if verdict == "equal":
            evidence["exact"] = evidence.get("exact", 0) + 1
    elif op.exact and target.exact_capable and not drawn:  # counted, so that a missing exact check is visible
        evidence[TOO_LARGE_FOR_EXACT] = evidence.get(TOO_LARGE_FOR_EXACT, 0) + 1

    # 3. numeric
    expected = _expected_or_error(op, case, [a.astype(np.float64) if not s.data else a
                                             for s, a in zip(op.inputs, arrays)], G.astype(np.float64),
                                  derivation)
    for name in expected:
        k = op.input_names.index(name)
        if again is not None and not _same_answer(grads[k], again[k], np_dtype):
            raise _structural(op, case, name, "two calls with the same arguments gave different results")
    guarded = None if guard is None else _guarded_expected(op, case, arrays, G, derivation, guard)
    convention = _compare_at_ties(op, case, derivation, sizes, arrays, G, grads, expected, np_dtype, notes,
                                  dtype_tolerance, ties, guarded)
    if convention is not None:
        notes.add(f"at ties, {convention}: a valid subgradient, not the declared convention "
                  f"(torch's); --ties declared makes it a failure")
        evidence[SUBGRADIENT] = evidence.get(SUBGRADIENT, 0) + 1
    evidence["numeric"] = evidence.get("numeric", 0) + 1
    for spelling in target.other_spellings(op):
        _check_spelling(op, target, case, arrays, G, spelling, derivation, sizes, expected, np_dtype, notes,
                        out_shape, ties, dtype_tolerance, guarded)

    # 4. finite differences guard the derivation itself
    sampled_enough = op.notation and evidence.get("finite differences", 0) >= FD_MAX_EXAMPLES_NOTATION
    kink = op.differentiable_at is not None and not op.differentiable_at(*arrays64, **op.with_defaults(case.params))
    if fd and entries <= FD_MAX_ENTRIES and not sampled_enough and not kink:
        try:
            numeric = _fd_gradients(op, case, arrays64, G64)
        except Exception as exc:  # noqa: BLE001  the op's own forward, never the target
            raise DerivationError(f"the NumPy forward declared for {op.name} raised at {case.describe(op)}: "
                                  f"{type(exc).__name__}: {exc}") from exc
        exp64 = expected_gradients(op, case, arrays64, G64, derivation)
        for name, g in numeric.items():
            if not np.allclose(exp64[name], g, rtol=1e-4, atol=1e-5):
                raise DerivationError(f"the derived gradient of {op.name} for {name} at "
                                      f"{case.describe(op)} disagrees with finite differences")
        evidence["finite differences"] = evidence.get("finite differences", 0) + 1
