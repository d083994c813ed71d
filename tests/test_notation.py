"""Ops declared by index formula: parsing, strided and padded contraction, the vectorized evaluator,
one derivation for every stride, and end-to-end checks of a user's own op."""

import dataclasses

import numpy as np
import pytest
import sympy as sp

import derive
from derive.catalog.registry import Case
from derive.vocabulary.evaluate import IndexFormula
from derive.symbolic.scatter import Scatter
from derive.symbolic.expected import DerivationError, _cross_checked, derivation_for, expected_gradients
from derive.symbolic.oracle import exact_inputs, oracle_gradients

CONV = dict(inputs="X[N, L], W[K]", sizes={"o": "(L + 2*padding - K) // stride + 1"},
            params={"stride": 1, "padding": 0})
FORMULA = "Z[n, o] = sum(j: W[j] * X[n, stride*o + j - padding])"


@pytest.fixture
def user_conv():
    op = derive.define(FORMULA, name="user_conv", **CONV)
    yield op
    derive.unregister("user_conv")


def _reference_backward(grad, x, w, stride=1, padding=0):
    """A correct loop-free backward of the user's conv: scatter G*W into the padded input, crop."""
    n, length = x.shape
    k = w.shape[0]
    out = grad.shape[1]
    xp_grad = np.zeros((n, length + 2 * padding))
    for j in range(k):
        xp_grad[:, j:j + stride * (out - 1) + 1:stride] += grad * w[j]
    xp = np.pad(x, ((0, 0), (padding, padding)))
    dw = np.array([np.sum(grad * xp[:, j:j + stride * (out - 1) + 1:stride]) for j in range(k)])
    return xp_grad[:, padding:padding + length], dw


def test_a_strided_delta_leaves_a_divisibility_bracket_not_a_piecewise():
    d = derive.vjp("conv1d")
    text = str(d["X"].index_formula)
    assert "[Mod(a - dilation*s + padding, stride) = 0]" in text
    assert "G[i, m, (a - dilation*s + padding)/stride]" in text
    assert not d["X"].index_formula.has(sp.Piecewise, sp.KroneckerDelta)


def test_unit_stride_keeps_only_the_cropping_brackets(user_conv):
    formula = derive.vjp("user_conv", ("N", "L"), ("K",), stride=1, padding=0)["X"].index_formula
    assert str(formula) == "Sum([0 <= j - r]*[j - r <= -K + L]*G[i, j - r]*W[r], (r, 0, K - 1))"


@pytest.mark.parametrize("op, shapes, params", [
    ("conv1d", ((2, 2, 5), (3, 2, 2), (3,)), dict(stride=2, padding=1, dilation=1)),
    ("conv1d", ((1, 1, 7), (1, 1, 3), (1,)), dict(stride=3, padding=2, dilation=2)),
    ("conv2d", ((1, 2, 4, 3), (2, 2, 2, 2), (2,)), dict(stride=2, padding=1, dilation=1)),
    ("conv2d", ((1, 4, 3, 3), (6, 2, 2, 2), (6,)), dict(stride=1, padding=1, dilation=1, groups=2)),
    ("conv1d", ((2, 3, 5), (3, 1, 2), (3,)), dict(stride=2, padding=0, dilation=2, groups=3)),
    ("avg_pool2d", ((1, 1, 5, 4),), dict(kernel=3, stride=2, padding=1)),
    ("conv_transpose1d", ((1, 2, 3), (2, 2, 3), (2,)), dict(stride=2, padding=1, dilation=2)),
])
def test_the_generic_derivation_equals_the_oracle_entry_by_entry(op, shapes, params):
    """The symbolic-stride formula, evaluated on symbols, is the direct derivative of the chain-rule sum."""
    case = Case(shapes, params)
    derivation, _ = derivation_for(op, case)
    inputs = exact_inputs(op, case)
    oracle = oracle_gradients(op, case, inputs)
    out_shape = derive.get_op(op).forward(*[np.ones(s) for s in shapes], **params).shape
    if params.get("groups", 1) > 1:  # a filter meets only the channels of its group
        assert "floor" in str(derivation["X"].index_formula)
    from derive.symbolic.oracle import symbol_array
    G = symbol_array("G", out_shape)
    expected = oracle_gradients(op, case, inputs, G)
    got = expected_gradients(op, case, inputs, G, derivation)
    assert set(got) == set(oracle)
    for name in got:
        diff = [sp.expand(a - b) for a, b in zip(got[name].ravel(), expected[name].ravel())]
        assert all(d == 0 for d in diff), name


def test_one_derivation_covers_every_stride_and_padding():
    a, bind_a = derivation_for("conv1d", Case(((2, 3, 6), (4, 3, 2), (4,)), dict(stride=1, padding=0, dilation=1)))
    b, bind_b = derivation_for("conv1d", Case(((1, 2, 9), (2, 2, 3), (2,)), dict(stride=3, padding=2, dilation=2)))
    assert a is b
    assert {str(k): v for k, v in bind_b.items()}["stride"] == 3


def test_the_evaluator_matches_a_loop_on_floats(user_conv):
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=(2, 7)), rng.normal(size=3)
    z = user_conv.forward(x, w, stride=2, padding=1)
    xp = np.pad(x, ((0, 0), (1, 1)))
    loop = np.array([[sum(w[j] * xp[n, 2 * o + j] for j in range(3)) for o in range(z.shape[1])] for n in range(2)])
    np.testing.assert_allclose(z, loop)
    G = rng.normal(size=z.shape)
    d = derive.vjp("user_conv", ("N", "L"), ("K",), stride="stride", padding="padding")
    assert isinstance(d["X"].evaluator, Scatter)  # a strided read: the chain-rule sum scattered
    assert isinstance(d["W"].evaluator, IndexFormula)
    got = expected_gradients("user_conv", Case(((2, 7), (3,)), dict(stride=2, padding=1)), [x, w], G)
    want_x, want_w = _reference_backward(G, x, w, stride=2, padding=1)
    np.testing.assert_allclose(got["X"], want_x)
    np.testing.assert_allclose(got["W"], want_w)
    env = {"G": G, "X": x, "W": w, "stride": 2, "padding": 1}  # the contracted formula, gathered, agrees
    direct = IndexFormula(d["X"].index_formula, d["X"].index, d["X"].shape, *d["X"].layout)
    np.testing.assert_allclose(direct(env), want_x)


def test_a_scatter_that_disagrees_with_the_index_formula_is_derives_own_error(user_conv):
    grad = derive.vjp("user_conv", ("N", "L"), ("K",), stride="stride", padding="padding")["X"]
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 7)), rng.normal(size=3)
    env = {"G": rng.normal(size=(2, 4)), "X": x, "W": w, "stride": 2, "padding": 1}

    class Shifted:
        needs_cross_check = True

        def __call__(self, env):
            return np.roll(grad.evaluator(env), 1, axis=1)

    np.testing.assert_allclose(_cross_checked(grad, env), _reference_backward(env["G"], x, w, 2, 1)[0])
    with pytest.raises(DerivationError, match="disagree"):
        _cross_checked(dataclasses.replace(grad, evaluator=Shifted()), env)


def test_a_users_op_is_checked_end_to_end(user_conv):
    def backward(grad, x, w, stride=1, padding=0):
        return _reference_backward(grad, x, w, stride, padding)

    report = derive.check("user_conv", target=backward, examples=60, database=None)
    assert report.status == "pass", str(report)
    assert report.examples == 60


def test_a_users_op_finds_the_missing_crop(user_conv):
    def backward(grad, x, w, stride=1, padding=0):
        dx, dw = _reference_backward(grad, x, w, stride, padding)
        n, length = x.shape
        if padding:  # crops from the corner: the classic mistake
            out = grad.shape[1]
            xp_grad = np.zeros((n, length + 2 * padding))
            for j in range(w.shape[0]):
                xp_grad[:, j:j + stride * (out - 1) + 1:stride] += grad * w[j]
            dx = xp_grad[:, :length]
        return dx, dw

    report = derive.check("user_conv", target=backward, examples=100, database=None)
    assert report.status == "fail"
    failure = report.failures[0]
    assert failure.input == "X" and failure.case.params["padding"] > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(formula="Z[n] = X[n] + Q[n]", inputs="X[N]"), "unknown name"),
    (dict(formula="Z[n, o] = X[n, o + 1]", inputs="X[N, L]"), "range of index o"),
    (dict(formula="Z[n] = X[n, n]", inputs="X[N]"), "declared with 1 dimension"),
    (dict(formula="Z[n] X[n]", inputs="X[N]"), "an index formula is"),
])
def test_malformed_declarations_get_one_clear_message(kwargs, message):
    with pytest.raises(ValueError, match=message):
        derive.define(kwargs["formula"], inputs=kwargs["inputs"], name="bad_op")
        try:
            derive.vjp("bad_op")
        finally:
            derive.unregister("bad_op")


def test_requirements_and_sizes_refuse_cases_that_do_not_fit():
    op = derive.get_op("avg_pool2d")
    from derive.vocabulary.expressions import SymArray
    with pytest.raises(ValueError, match="2\\*padding <= kernel"):
        op.define(SymArray("X", (1, 1, 4, 4)), kernel=2, stride=1, padding=2)
    with pytest.raises(ValueError, match="range of y"):
        op.define(SymArray("X", (1, 1, 1, 4)), kernel=3, stride=1, padding=0)


def test_a_stride_equal_to_the_window_does_not_wrap_around_when_it_does_not_divide():
    """kernel = stride = 2 looks like a reshape (2*y + u), but with H = 5 the last row is in no window."""
    d = derive.vjp("avg_pool2d", ("N", "C", "H", "L"), kernel=2, stride=2, padding=0)
    assert not d["X"].index_formula.has(derive.vocabulary.expressions.Unravel)
    rng = np.random.default_rng(0)
    x, G = rng.normal(size=(1, 2, 5, 4)), rng.normal(size=(1, 2, 2, 2))
    got = expected_gradients("avg_pool2d", Case((x.shape,), dict(kernel=2, stride=2, padding=0)), [x], G, d)["X"]
    want = np.zeros_like(x)
    want[:, :, :4, :4] = np.repeat(np.repeat(G, 2, axis=2), 2, axis=3) / 4
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize("values", ["distinct", "ties"])
def test_a_max_over_a_window_shares_each_windows_G_among_that_windows_ties(values):
    """``max(u, v: ...)`` in notation; overlapping windows accumulate, and a tie is counted within its
    window (the count's dummies once took the position solved for the numerator's offsets)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(1, 2, 5, 6)) if values == "distinct" else rng.integers(0, 3, size=(1, 2, 5, 6)) * 1.0
    kernel, stride = 3, 2
    G = rng.normal(size=(1, 2, 2, 2))
    want = np.zeros_like(x)
    for c in range(2):
        for y in range(2):
            for w in range(2):
                window = x[0, c, stride * y:stride * y + kernel, stride * w:stride * w + kernel]
                top = window == window.max()
                want[0, c, stride * y:stride * y + kernel, stride * w:stride * w + kernel] += top * G[0, c, y, w] / top.sum()
    got = expected_gradients("max_pool2d", Case((x.shape,), dict(kernel=kernel, stride=stride)), [x], G)["X"]
    np.testing.assert_allclose(got, want)
    assert derive.get_op("max_pool2d").forward(x, kernel=kernel, stride=stride).shape == G.shape


def test_max_pool_padding_is_minus_infinity_so_it_never_wins():
    """torch pads max-pooling with -inf: on an all-negative image a zero padding would win every border
    window and take its G; with ``neg_inf_unless`` every window's G reaches an entry of X."""
    rng = np.random.default_rng(5)
    x = -rng.uniform(1, 2, size=(1, 1, 4, 5))
    kernel, stride, padding = 3, 2, 1
    G = rng.normal(size=(1, 1, 2, 3))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    want_z = np.zeros(G.shape)
    want = np.zeros_like(padded)
    for y in range(2):
        for w in range(3):
            window = padded[0, 0, stride * y:stride * y + kernel, stride * w:stride * w + kernel]
            want_z[0, 0, y, w] = window.max()
            want[0, 0, stride * y:stride * y + kernel, stride * w:stride * w + kernel] += (window == window.max()) * G[0, 0, y, w]
    params = dict(kernel=kernel, stride=stride, padding=padding)
    np.testing.assert_allclose(derive.get_op("max_pool2d").forward(x, **params), want_z)
    assert np.all(want_z < 0)  # zero padding would have given 0 at every border window
    got = expected_gradients("max_pool2d", Case((x.shape,), params), [x], G)["X"]
    np.testing.assert_allclose(got, want[:, :, 1:-1, 1:-1])
    np.testing.assert_allclose(got.sum(), G.sum())  # no window's G is lost to the padding


def test_an_equality_bracket_is_a_delta_not_pythons_structural_equality():
    """``bracket(i == j)`` once evaluated Python's ``==`` on two SymPy expressions: a constant False,
    so the gradient through it was 0 everywhere.  It is a Kronecker delta now, summed away."""
    derive.define("Z[i] = sum(j: bracket(2*j == i) * X[j])", inputs="X[N]", name="spread_even",
                  sizes={"i": "2*N"})
    try:
        g = derive.vjp("spread_even", (3,))["X"]
        assert g.index_formula != 0
        X, G = np.array([1.0, 2.0, 3.0]), np.arange(6.0)
        got = expected_gradients("spread_even", Case(((3,),)), [X], G, derivation_for("spread_even", Case(((3,),)))[0])
        assert np.array_equal(got["X"], G[::2])
        assert derive.check("spread_even", target=_spread_even_target(), database=None)
    finally:
        derive.unregister("spread_even")


def _spread_even_target():
    import types
    return types.SimpleNamespace(spread_even=lambda grad, x: (np.asarray(grad)[::2],))


def test_a_grouped_convolution_with_an_equality_requirement():
    """``require`` with ``==`` once sympified to Python's structural False (an AttributeError);
    and a channel index with floor division (groups) derives like any other."""
    derive.define("Z[n, f, o] = sum(c, j: W[f, c, j] * X[n, (f // (F // groups)) * Cg + c, o + j])",
                  inputs="X[N, C, L], W[F, Cg, K]", name="grouped_conv", params={"groups": 1},
                  require=("C == Cg*groups", "F % groups == 0"), sizes={"o": "L - K + 1"})
    try:
        with pytest.raises(ValueError, match="needs C == Cg\\*groups"):
            derive.vjp("grouped_conv", (1, 4, 3), (2, 3, 2), groups=2)
        case = Case(((1, 4, 3), (2, 2, 2)), {"groups": 2})
        derivation, _ = derivation_for("grouped_conv", case)
        inputs = exact_inputs("grouped_conv", case)
        from derive.symbolic.oracle import symbol_array
        G = symbol_array("G", (1, 2, 2))
        expected = oracle_gradients("grouped_conv", case, inputs, G)
        got = expected_gradients("grouped_conv", case, inputs, G, derivation)
        for name in ("X", "W"):
            assert all(sp.expand(a - b) == 0 for a, b in zip(got[name].ravel(), expected[name].ravel())), name
        # filter 0 reads channels 0-1 only, filter 1 channels 2-3: X's channel 0 never meets G[:, 1]
        assert not got["X"][0, 0, 0].has(G[0, 1, 0])
    finally:
        derive.unregister("grouped_conv")


@pytest.fixture
def l2_normalize():
    """A float parameter: eps of a normalisation, a real number drawn near its default."""
    op = derive.define("Z[n, d] = X[n, d] / sqrt(sum(j: X[n, j] * X[n, j]) + eps)", inputs="X[N, D]",
                       name="l2_normalize", params={"eps": 1e-5})
    yield op
    derive.unregister("l2_normalize")


def _l2_backward(grad, x, eps=1e-5, forget_eps=False):
    norm = np.sqrt((x * x).sum(1, keepdims=True) + (0.0 if forget_eps else eps))
    return grad / norm - x * (grad * x).sum(1, keepdims=True) / norm ** 3


def test_a_float_parameter_is_a_real_number_in_the_derivation_and_the_draw(l2_normalize):
    (eps,) = [s for s in derive.vjp("l2_normalize")["X"].index_formula.free_symbols if s.name == "eps"]
    assert eps.is_real and eps.is_positive and not eps.is_integer
    seen = []

    def backward(grad, x, eps=1e-5):
        seen.append(eps)
        return _l2_backward(grad, x, eps)

    report = derive.check("l2_normalize", target=backward, examples=40, database=None)
    assert report and report.examples == 40, str(report)
    assert {1e-5, 5e-6, 2e-5} & set(seen) and all(isinstance(e, float) and e > 0 for e in seen)
    wrong = derive.check("l2_normalize", target=lambda grad, x, eps=1e-5: _l2_backward(grad, x, eps, True),
                         examples=40, database=None)
    assert wrong.status == "fail" and wrong.failures[0].input == "X", str(wrong)


@pytest.fixture
def first_channel():
    """A constant index: only channel 0 of X is read."""
    op = derive.define("Z[n, h] = X[n, 0, h] * W[h]", inputs="X[N, C, H], W[H]", name="first_channel")
    yield op
    derive.unregister("first_channel")


def test_a_constant_index_reads_one_slice_and_its_gradient_is_zero_elsewhere(first_channel):
    d = derive.vjp("first_channel")
    assert d["W"].closed_form == "np.einsum('ki,ki->i', G, X[:, 0, :])"

    def backward(grad, x, w, everywhere=False):
        dx = np.zeros_like(x)
        if everywhere:
            dx[:] = (grad * w)[:, None, :]
        else:
            dx[:, 0, :] = grad * w
        return dx, (grad * x[:, 0, :]).sum(0)

    assert derive.check("first_channel", target=backward, examples=40, database=None)
    wrong = derive.check("first_channel", target=lambda grad, x, w: backward(grad, x, w, everywhere=True),
                         examples=40, database=None)
    assert wrong.status == "fail" and wrong.failures[0].input == "X" and wrong.failures[0].expected == "0", \
        str(wrong)


def test_a_parameter_kept_as_a_symbol_prints_as_a_symbol(user_conv):
    assert derive.vjp("user_conv").header() == "user_conv(X(N, L), W(K,), stride=stride, padding=padding)"
    assert derive.vjp("pad").header().endswith("pad_width=((1, 0), (2, 1)))")  # a value stays a value
