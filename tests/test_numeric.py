"""numeric's own tests: every op against central finite differences, plus graph tests.

These tests do not import :mod:`derive`: the implementation under test is
checked here by an oracle that knows nothing of its backward functions.
"""

import numpy as np
import pytest

import numeric as nm
from numeric import Tensor, backward as B

RNG = np.random.default_rng(1234)


def central_differences(f, arrays, G, h=1e-6):
    """d/dA sum(G * f(*arrays)) for every array, by central differences in float64."""
    grads = []
    for k, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            plus = [b.copy() for b in arrays]
            minus = [b.copy() for b in arrays]
            plus[k][idx] += h
            minus[k][idx] -= h
            g[idx] = (np.sum(G * f(*plus)) - np.sum(G * f(*minus))) / (2 * h)
        grads.append(g)
    return grads


def check_through_tensor(op, *arrays, fixed=(), **params):
    """Run ``op`` on Tensors with an arbitrary upstream G; compare with finite differences."""
    tensors = [Tensor(a) for a in arrays]
    out = op(*tensors, *fixed, **params)
    G = RNG.standard_normal(out.shape)
    out.backward(G)

    def forward(*values):
        return op(*[Tensor(v) for v in values], *fixed, **params).value

    expected = central_differences(forward, [np.array(a, dtype=float) for a in arrays], G)
    for t, e in zip(tensors, expected):
        assert t.backwards_grad.shape == t.shape
        np.testing.assert_allclose(t.backwards_grad, e, rtol=1e-5, atol=1e-7)
    # the functions style must agree with the Tensor
    name = op.__name__
    if hasattr(B, name):
        got = getattr(B, name)(G, *arrays, *fixed, **params)
        got = got if isinstance(got, tuple) else (got,)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-7)


def rand(*shape, positive=False):
    a = RNG.standard_normal(shape)
    return np.abs(a) + 0.5 if positive else a


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((4,), (3, 4)), ((2, 3, 3), (3,)),
                   ((1, 3), (3, 3)), ((), (2, 2)), ((2, 1, 3), (4, 1))]


@pytest.mark.parametrize("op", [nm.add, nm.subtract, nm.multiply, nm.divide])
@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_binary_ops_with_broadcasting(op, shapes):
    x = rand(*shapes[0])
    y = rand(*shapes[1], positive=op is nm.divide)
    check_through_tensor(op, x, y)


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
def test_power_differentiable_in_base_and_exponent(shapes):
    check_through_tensor(nm.power, rand(*shapes[0], positive=True), rand(*shapes[1]))


@pytest.mark.parametrize("shape", [(), (3,), (2, 2), (2, 1, 3)])
@pytest.mark.parametrize("op,positive", [(nm.negative, False), (nm.exp, False), (nm.log, True),
                                         (nm.tanh, False), (nm.sigmoid, False), (nm.relu, False)])
def test_elementwise_functions(op, positive, shape):
    x = rand(*shape, positive=positive)
    if op is nm.relu:
        x = np.where(np.abs(x) < 0.1, 0.5, x)  # finite differences need distance from the kink
    check_through_tensor(op, x)


def test_relu_derivative_at_zero_is_zero():
    x = Tensor(np.array([-1.0, 0.0, 2.0]))
    nm.relu(x).backward(np.array([5.0, 7.0, 11.0]))
    np.testing.assert_array_equal(x.backwards_grad, [0.0, 0.0, 11.0])


MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((3, 3), (3, 3)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2)),
                 ((2, 1, 2, 3), (3, 3, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,))]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES)
def test_matmul_numpy_semantics(shapes):
    check_through_tensor(nm.matmul, rand(*shapes[0]), rand(*shapes[1]))


def test_matmul_shape_error_names_shapes_and_op():
    with pytest.raises(ValueError, match=r"matmul.*\(2, 3\).*\(4, 5\)"):
        nm.matmul(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 5))))


@pytest.mark.parametrize("shape,axes", [((2, 3), None), ((3, 3), None), ((2, 3, 4), (1, 2, 0)),
                                        ((2, 3, 4), (2, 0, 1)), ((2, 2, 2), (1, 2, 0)),
                                        ((2, 3, 4, 5), (3, 0, 1, 2)), ((4,), None), ((), None)])
def test_transpose_permutations(shape, axes):
    check_through_tensor(nm.transpose, rand(*shape), axes=axes)


def test_transpose_uses_inverse_permutation():
    # (1, 2, 0) is not its own inverse: a backward that reuses `axes` fails here.
    x = Tensor(rand(2, 3, 4))
    z = x.transpose(1, 2, 0)
    G = RNG.standard_normal(z.shape)
    z.backward(G)
    np.testing.assert_array_equal(x.backwards_grad, np.transpose(G, (2, 0, 1)))


@pytest.mark.parametrize("shape,new", [((2, 3), (3, 2)), ((2, 3), (-1,)), ((6,), (2, -1)),
                                       ((2, 3, 4), (4, -1)), ((3, 3), (9, 1)), ((), (1, 1))])
def test_reshape(shape, new):
    check_through_tensor(nm.reshape, rand(*shape), shape=new)


@pytest.mark.parametrize("shape,target", [((3,), (2, 3)), ((3, 1), (3, 4)), ((1, 1), (2, 3)),
                                          ((), (2, 2)), ((2, 1, 3), (4, 2, 2, 3)), ((3, 3), (3, 3))])
def test_broadcast_to(shape, target):
    check_through_tensor(nm.broadcast_to, rand(*shape), shape=target)


AXES = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2), ()]


@pytest.mark.parametrize("op", [nm.sum, nm.mean])
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_every_axis_and_keepdims(op, axis, keepdims):
    # (3, 2, 3): two equal dimensions, so expanding G "by matching sizes" would go wrong
    check_through_tensor(op, rand(3, 2, 3), axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("op", [nm.sum, nm.mean])
def test_reductions_of_0d_and_1d(op):
    check_through_tensor(op, rand())
    check_through_tensor(op, rand(4), axis=0)


@pytest.mark.parametrize("op", [nm.softmax, nm.log_softmax])
@pytest.mark.parametrize("shape,axis", [((4,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 3), 1)])
def test_softmax_family(op, shape, axis):
    check_through_tensor(op, rand(*shape), axis=axis)


def test_softmax_is_numerically_stable():
    x = Tensor(np.array([[1000.0, 1001.0], [-1000.0, -1000.0]]))
    s = nm.softmax(x, axis=1)
    assert np.all(np.isfinite(s.value))
    np.testing.assert_allclose(s.value.sum(axis=1), [1.0, 1.0])
    assert np.all(np.isfinite(nm.log_softmax(x, axis=1).value))


@pytest.mark.parametrize("shape", [(), (4,), (3, 2)])
def test_mse_loss(shape):
    check_through_tensor(nm.mse_loss, rand(*shape), rand(*shape))


def test_cross_entropy_seed_example():
    logits = np.array([[1.01, 1.2], [12.5, 0.02], [0.23, 1.35]])
    labels = np.array([0, 0, 1])
    check_through_tensor(nm.cross_entropy, logits, fixed=(labels,))
    loss = nm.cross_entropy(Tensor(logits), labels)
    expected = -np.mean([np.log(np.exp(r[c]) / np.exp(r).sum()) for r, c in zip(logits, labels)])
    np.testing.assert_allclose(loss.value, expected)


def test_linear():
    check_through_tensor(nm.linear, rand(4, 3), rand(2, 3), rand(2))


# ---- graph ---------------------------------------------------------------------------

def test_diamond_graph_accumulates():
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    a = x * 2.0
    b = x * x
    (a + b).sum().backward()
    np.testing.assert_array_equal(x.backwards_grad, 2.0 + 2 * x.value)


def test_tensor_used_twice_in_one_op():
    x = Tensor(rand(3, 3))
    (x @ x).backward(np.ones((3, 3)))
    G = np.ones((3, 3))
    np.testing.assert_allclose(x.backwards_grad, G @ x.value.T + x.value.T @ G)


def test_explicit_upstream_gradient_and_shape_error():
    x = Tensor(rand(2, 3))
    z = nm.tanh(x)
    G = RNG.standard_normal((2, 3))
    z.backward(G)
    np.testing.assert_allclose(x.backwards_grad, G * (1 - np.tanh(x.value) ** 2))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        z.backward(np.ones((3, 2)))


def test_repeated_backward_calls_do_not_accumulate():
    x = Tensor(rand(2, 2))
    z = (x * x).sum()
    z.backward()
    first = x.backwards_grad.copy()
    z.backward()
    np.testing.assert_array_equal(x.backwards_grad, first)


def test_incompatible_shapes_name_op_and_shapes():
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))) + Tensor(np.ones(4))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


def test_broadcasting_inserts_broadcast_nodes():
    x, y = Tensor(rand(3, 1)), Tensor(rand(4))
    z = x + y
    assert [e.backward_fn for e in z.prevs[0].prev.prevs] == [B.broadcast_to_grad]
    assert [e.backward_fn for e in z.prevs[1].prev.prevs] == [B.broadcast_to_grad]


def test_object_arrays_flow_through_for_exact_checks():
    sympy = pytest.importorskip("sympy")
    g = np.array(sympy.symbols("g0:2"), dtype=object)
    x = Tensor(np.array(sympy.symbols("x0:2"), dtype=object))
    z = x * x
    z.backward(g)
    assert list(x.backwards_grad) == [2 * g[0] * x.value[0], 2 * g[1] * x.value[1]]


def test_repr_and_attributes():
    x = Tensor([[1, 2], [3, 4]])
    assert x.dtype == np.float64 and x.shape == (2, 2) and x.ndim == 2
    assert repr(x).startswith("Tensor([[1., 2.],")
    assert "grad_fn=" in repr(x.T)
    np.testing.assert_array_equal(x.T.value, x.value.T)
