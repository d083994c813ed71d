"""needle's core: Value, Op, TensorOp, Tensor and reverse-mode AD over the graph of Values."""

from typing import List, Optional

import numpy

array_api = numpy
NDArray = numpy.ndarray


class Op:
    """An operator: ``compute`` on arrays, ``gradient`` on Values."""

    def __call__(self, *args):
        raise NotImplementedError()

    def compute(self, *args):
        raise NotImplementedError()

    def gradient(self, out_grad, node):
        raise NotImplementedError()

    def gradient_as_tuple(self, out_grad, node):
        output = self.gradient(out_grad, node)
        if isinstance(output, tuple):
            return output
        if isinstance(output, list):
            return tuple(output)
        return (output,)


class TensorOp(Op):
    """An op whose output is a Tensor."""

    def __call__(self, *args):
        return Tensor.make_from_op(self, args)


class Value:
    """A node of the graph: the op that made it, its inputs, and its data once realized."""

    op: Optional[Op]
    inputs: List["Value"]
    cached_data: NDArray
    requires_grad: bool

    def realize_cached_data(self):
        if self.cached_data is None:
            self.cached_data = self.op.compute(*[x.realize_cached_data() for x in self.inputs])
        return self.cached_data

    def is_leaf(self):
        return self.op is None

    def _init(self, op, inputs, *, cached_data=None, requires_grad=None):
        if requires_grad is None:
            requires_grad = any(x.requires_grad for x in inputs)
        self.op = op
        self.inputs = inputs
        self.cached_data = cached_data
        self.requires_grad = requires_grad


class Tensor(Value):
    grad: "Tensor"

    def __init__(self, array, *, device=None, dtype=None, requires_grad=True, **kwargs):
        if isinstance(array, Tensor):
            data = array.realize_cached_data()
        else:
            data = array_api.array(array, dtype=dtype)
        self._init(None, [], cached_data=data, requires_grad=requires_grad)

    @staticmethod
    def make_from_op(op, inputs):
        tensor = Tensor.__new__(Tensor)
        tensor._init(op, inputs)
        tensor.realize_cached_data()
        return tensor

    @staticmethod
    def make_const(data, requires_grad=False):
        tensor = Tensor.__new__(Tensor)
        tensor._init(None, [], cached_data=data if not isinstance(data, Tensor) else data.realize_cached_data(),
                     requires_grad=requires_grad)
        return tensor

    @property
    def data(self):
        return self.detach()

    def detach(self):
        return Tensor.make_const(self.realize_cached_data())

    @property
    def shape(self):
        return self.realize_cached_data().shape

    @property
    def dtype(self):
        return self.realize_cached_data().dtype

    def numpy(self):
        return self.realize_cached_data()

    def backward(self, out_grad=None):
        out_grad = out_grad if out_grad else Tensor(array_api.ones(self.shape, dtype=self.dtype))
        compute_gradient_of_variables(self, out_grad)

    def __repr__(self):
        return "needle.Tensor(" + str(self.realize_cached_data()) + ")"

    def __add__(self, other):
        from . import ops
        return ops.EWiseAdd()(self, other) if isinstance(other, Tensor) else ops.AddScalar(other)(self)

    def __mul__(self, other):
        from . import ops
        return ops.EWiseMul()(self, other) if isinstance(other, Tensor) else ops.MulScalar(other)(self)

    def __pow__(self, other):
        from . import ops
        return ops.EWisePow()(self, other) if isinstance(other, Tensor) else ops.PowerScalar(other)(self)

    def __sub__(self, other):
        from . import ops
        return ops.EWiseAdd()(self, ops.Negate()(other)) if isinstance(other, Tensor) \
            else ops.AddScalar(-other)(self)

    def __truediv__(self, other):
        from . import ops
        return ops.EWiseDiv()(self, other) if isinstance(other, Tensor) else ops.DivScalar(other)(self)

    def __matmul__(self, other):
        from . import ops
        return ops.MatMul()(self, other)

    def matmul(self, other):
        from . import ops
        return ops.MatMul()(self, other)

    def sum(self, axes=None):
        from . import ops
        return ops.Summation(axes)(self)

    def broadcast_to(self, shape):
        from . import ops
        return ops.BroadcastTo(shape)(self)

    def reshape(self, shape):
        from . import ops
        return ops.Reshape(shape)(self)

    def __neg__(self):
        from . import ops
        return ops.Negate()(self)

    def transpose(self, axes=None):
        from . import ops
        return ops.Transpose(axes)(self)

    __radd__ = __add__
    __rmul__ = __mul__
    __rmatmul__ = __matmul__

    def __rsub__(self, other):
        return -self + other


def find_topo_sort(node_list):
    """The nodes reachable from ``node_list``, each after its inputs (a post-order walk)."""
    visited, order = set(), []
    for node in node_list:
        topo_sort_dfs(node, visited, order)
    return order


def topo_sort_dfs(node, visited, topo_order):
    if id(node) in visited:
        return
    visited.add(id(node))
    for parent in node.inputs:
        topo_sort_dfs(parent, visited, topo_order)
    topo_order.append(node)


def compute_gradient_of_variables(output_tensor, out_grad):
    """Sets ``grad`` on every node that ``output_tensor`` depends on."""
    from .ops import sum_node_list
    node_to_output_grads_list = {id(output_tensor): [out_grad]}
    for node in reversed(find_topo_sort([output_tensor])):
        node.grad = sum_node_list(node_to_output_grads_list[id(node)])
        if node.is_leaf():
            continue
        for parent, grad in zip(node.inputs, node.op.gradient_as_tuple(node.grad, node)):
            node_to_output_grads_list.setdefault(id(parent), []).append(grad)
