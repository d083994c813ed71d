"""The :class:`Tensor` and its computational graph.

A Tensor holds a NumPy array ``value`` and the list ``prevs`` of the edges that
lead to the tensors it was computed from.  Each :class:`Edge` carries the
previous tensor, the forward values its local gradient depends on
(``local_grad``, a mapping of keyword arguments) and the backward function
that turns the upstream gradient into that tensor's gradient contribution:
``backward_fn(grad, **local_grad)``.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

__all__ = ["Tensor", "Edge"]

Edge = namedtuple("Edge", ["prev", "local_grad", "backward_fn"], defaults=[None, None, None])
Edge.__doc__ = """An edge of the graph, from a tensor to one of the tensors it was computed from.

prev : Tensor
    The tensor the gradient flows to.
local_grad : dict
    The forward values (and parameters) the local gradient depends on, passed
    to ``backward_fn`` as keyword arguments.
backward_fn : callable
    ``backward_fn(grad, **local_grad)`` returns ``prev``'s gradient contribution.
"""


def _as_array(value):
    array = np.asarray(value)
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    return array


class Tensor:
    """A NumPy array that records how it was computed, for backpropagation.

    Parameters
    ----------
    value : array_like
        The value.  Integer and boolean input is converted to float64; float
        and object (e.g. SymPy symbols) arrays are kept as they are.
    prevs : list of Edge, optional
        The edges to the tensors this one was computed from.

    Examples
    --------
    >>> import numpy as np
    >>> from numeric import Tensor
    >>> x = Tensor(np.arange(6.0).reshape(2, 3))
    >>> y = Tensor(np.ones((3, 2)))
    >>> z = (x @ y).sum()
    >>> z.backward()
    >>> x.backwards_grad
    array([[2., 2., 2.],
           [2., 2., 2.]])
    """

    __array_priority__ = 1000  # make ndarray + Tensor defer to Tensor.__radd__

    def __init__(self, value, prevs=None):
        self.value = _as_array(value)
        self.prevs = list(prevs) if prevs is not None else []
        self.backwards_grad = np.zeros_like(self.value)

    # ---- array-like attributes -------------------------------------------------
    @property
    def shape(self):
        """The shape of ``value``."""
        return self.value.shape

    @property
    def ndim(self):
        """The number of dimensions of ``value``."""
        return self.value.ndim

    @property
    def dtype(self):
        """The dtype of ``value``."""
        return self.value.dtype

    def __repr__(self):
        body = np.array2string(self.value, separator=", ", prefix="Tensor(")
        return f"Tensor({body})" if not self.prevs else f"Tensor({body}, grad_fn={self._grad_fn_name()})"

    def _grad_fn_name(self):
        fn = self.prevs[0].backward_fn
        return getattr(fn, "__name__", type(fn).__name__)

    def __len__(self):
        return len(self.value)

    # ---- backpropagation --------------------------------------------------------
    def _topological_order(self):
        """Tensors of the graph ending here, each after all tensors it depends on."""
        order, visited = [], set()
        stack = [(self, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for edge in node.prevs:
                if id(edge.prev) not in visited:
                    stack.append((edge.prev, False))
        return order

    def zero_grad(self):
        """Set ``backwards_grad`` of every tensor in the graph ending here to zeros."""
        for node in self._topological_order():
            node.backwards_grad = np.zeros_like(node.value)

    def backward(self, grad=None):
        """Backpropagate from this tensor through its graph.

        Parameters
        ----------
        grad : array_like, optional
            The upstream gradient ``dl/dself``, of this tensor's shape.  Defaults
            to ones (this tensor is then the loss, or summed into it).

        Raises
        ------
        ValueError
            If ``grad`` does not have this tensor's shape.

        Notes
        -----
        Gradients of every tensor in the graph are zeroed first, so calling
        ``backward`` twice gives the same result, not twice the result.  A
        tensor used several times receives the sum of its contributions.
        """
        order = self._topological_order()
        if grad is None:
            grad = np.ones_like(self.value)
        else:
            grad = np.asarray(grad)
            if grad.shape != self.shape:
                raise ValueError(f"backward: upstream gradient has shape {grad.shape}, "
                                 f"but the tensor has shape {self.shape}")
        for node in order:
            node.backwards_grad = np.zeros_like(node.value)
        self.backwards_grad = grad
        for node in reversed(order):
            for edge in node.prevs:
                contribution = edge.backward_fn(node.backwards_grad, **(edge.local_grad or {}))
                if contribution is None:
                    continue
                if np.shape(contribution) != edge.prev.shape:
                    raise ValueError(
                        f"backward: {getattr(edge.backward_fn, '__name__', 'backward_fn')} returned "
                        f"shape {np.shape(contribution)} for a tensor of shape {edge.prev.shape}")
                edge.prev.backwards_grad = edge.prev.backwards_grad + contribution

    def gradient_update(self, lr):
        """Take a gradient descent step: ``value -= lr * backwards_grad``."""
        self.value = self.value - lr * self.backwards_grad
