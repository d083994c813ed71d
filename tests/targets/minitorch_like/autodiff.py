"""The autodiff core, in MiniTorch's conventions: a Context that saves values for backward, and a
topological backpropagation from a variable with a given derivative."""


class Context:
    def __init__(self, no_grad=False):
        self.no_grad = no_grad
        self.saved_values = ()

    def save_for_backward(self, *values):
        if not self.no_grad:
            self.saved_values = values


def backpropagate(variable, deriv):
    order, seen = [], set()

    def visit(v):
        if id(v) in seen or v.is_constant():
            return
        seen.add(id(v))
        for parent in v.parents:
            visit(parent)
        order.append(v)

    visit(variable)
    derivatives = {id(variable): deriv}
    for v in reversed(order):
        d = derivatives.pop(id(v), None)
        if d is None:
            continue
        if v.is_leaf():
            v.accumulate_derivative(d)
            continue
        for parent, d_parent in v.chain_rule(d):
            if not parent.is_constant():
                derivatives[id(parent)] = derivatives[id(parent)] + d_parent if id(parent) in derivatives \
                    else d_parent
