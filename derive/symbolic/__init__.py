"""Stage 2: the symbolic engine, from an op's index formula to its gradient.

One module per step of the pipeline (the expressions it works on are
:mod:`derive.vocabulary`'s, and index notation is parsed in :mod:`derive.catalog.notation`):

- :mod:`~derive.symbolic.derivation`: the chain-rule sum
  ``dl/dX[i, j] = Sum_{k, m} G[k, m] dZ[k, m]/dX[i, j]`` and its steps;
- :mod:`~derive.symbolic.contraction`: Kronecker deltas summed away, strided
  ones leaving a divisibility bracket, data-dependent ones an indicator;
- :mod:`~derive.symbolic.closed_form`: the NumPy closed form a person would
  write (``G @ Y.T``), where one is known;
- :mod:`~derive.symbolic.scatter`: the index formula as a scatter-add, where no
  closed form is (the einsum evaluation is :mod:`derive.vocabulary.evaluate`);
- :mod:`~derive.symbolic.expected`: the reference gradients of a case, from the
  derivation, cross-checked once against the index formula;
- :mod:`~derive.symbolic.oracle`: exact symbolic inputs, and the gradients entry by
  entry from the definition itself;
- :mod:`~derive.symbolic.composite`: a whole expression's derivation.

A walk through the steps for a matrix product:

>>> import derive
>>> g = derive.vjp("matmul")["X"]
>>> for name, expr in g.steps:
...     print(f"{name}: {expr}")
chain-rule sum: Sum(Derivative(Sum(X[k, s]*Y[s, m], (s, 0, q - 1)), X[i, j])*G[k, m], (k, 0, p - 1), (m, 0, r - 1))
after differentiation: Sum(G[k, m]*Sum(KroneckerDelta(i, k)*KroneckerDelta(j, s)*Y[s, m], (s, 0, q - 1)), (k, 0, p - 1), (m, 0, r - 1))
after contracting the Kronecker deltas: Sum(G[i, m]*Y[j, m], (m, 0, r - 1))
closed form: G @ Y.T

A strided read keeps the stride's divisibility as a bracket, and with no NumPy
closed form the gradient is evaluated as a scatter-add (the col2im of a convolution):

>>> g = derive.vjp("conv1d")["X"]
>>> g.closed_form
'scatter-add: dX[k, r, dilation*s + n*stride - padding] += sum(m: G[k, m, n]*W[m, r, s])'

An index that is data gives an indicator, summed over the entries that read row ``i``:

>>> derive.vjp("embedding")["weight"].index_formula
Sum([indices[k] = i]*G[k, j], (k, 0, N - 1))
"""
