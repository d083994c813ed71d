"""Tidy an inlined NumPy closed form into what a person writes: scalar factors pulled out front.

The backward pass of a whole expression, inlined, reads like
``X.T @ (2 * (np.broadcast_to(G / (M*N), (N, M))*(X @ W + b - y)))``: each op's
closed form wrapped around the next.  A person writes ``2*G/(M*N) * X.T @ (X @ W + b - y)``.
The rewrite here walks the form once, splitting every subexpression into a scalar
coefficient (a SymPy expression of the scalar names: sizes, a 0-d ``G``, 0-d
inputs, numbers) and an array part, and moves the coefficient out through every
step that is linear in it (``@``, ``*``, ``-x``, ``.T``, ``.sum(...)``, indexing,
``np.broadcast_to``, ``np.einsum``...).  A broadcast of a scalar that the next
product broadcasts anyway is dropped.  Shapes are read by evaluating the
subexpressions at concrete arrays, so a broadcast that changes a shape stays.

The caller keeps the result only where it evaluates to the same gradient as the
form it came from; this module makes no claim of its own.

>>> import numpy as np
>>> env = {"np": np, "G": np.float64(0.5), "N": 2, "M": 3, "X": np.ones((2, 4)), "R": np.ones((2, 3))}
>>> tidy("X.T @ (2 * (np.broadcast_to(G / (M*N), (N, M))*R))", env, {"G", "N", "M"})
'2*G/(M*N) * X.T @ R'
"""

from __future__ import annotations

import ast

import numpy as np
import sympy as sp

__all__ = ["tidy"]

# calls and methods linear in their array arguments: a scalar factor moves out of them
_LINEAR_NP = {"broadcast_to": (0,), "sum": (0,), "mean": (0,), "transpose": (0,), "swapaxes": (0,),
              "expand_dims": (0,), "squeeze": (0,), "flip": (0,), "reshape": (0,), "pad": (0,), "negative": (0,)}
_LINEAR_METHODS = {"sum", "mean", "reshape", "transpose", "swapaxes", "squeeze"}


def tidy(text, env, scalars):
    """``text`` with its scalar factors in front; ``env`` evaluates it (NumPy as ``np``), ``scalars``
    names the names that hold scalars.  Returns ``text`` itself where anything is unclear."""
    try:
        tree = ast.parse(text, mode="eval").body
        coef, array = _Walk(env, set(scalars)).split(tree)
        return _join(coef, array)
    except Exception:  # noqa: BLE001  a form this walk does not follow stays as it was
        return text


def _join(coef, array):
    if array is None:
        return _scalar_text(coef)
    if _is_ones(array):
        return f"np.full({ast.unparse(array.args[0])}, {coef})"
    body = ast.unparse(array)
    if coef == 1:
        return body
    if coef == -1:
        return f"-{body}" if _is_term(array) else f"-({body})"
    left = _scalar_text(coef)
    if isinstance(array, ast.BinOp) and isinstance(array.op, (ast.Add, ast.Sub)):
        body = f"({body})"
    if coef.could_extract_minus_sign() and len(sp.Add.make_args(coef)) == 1:
        return f"-{_scalar_text(-coef)} * {body}"
    return f"{left} * {body}"


def _scalar_text(coef):
    text = str(coef)
    return f"({text})" if len(sp.Add.make_args(coef)) > 1 else text


def _is_term(node):
    return isinstance(node, (ast.Name, ast.Call, ast.Attribute, ast.Subscript, ast.Constant))


class _Walk:
    def __init__(self, env, scalars):
        self.env, self.scalars = env, scalars

    def shape(self, node):
        return np.shape(eval(ast.unparse(node), dict(self.env)))  # noqa: S307

    def whole(self, node):
        """``node`` simplified, with its coefficient put back: one array (or scalar) expression."""
        coef, array = self.split(node)
        return ast.parse(_join(coef, array), mode="eval").body

    def split(self, node):
        """``(coefficient, array part)``: array part None for a scalar."""
        if isinstance(node, ast.Name):
            return (sp.Symbol(node.id), None) if node.id in self.scalars else (sp.Integer(1), node)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return sp.nsimplify(node.value), None
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            coef, array = self.split(node.operand)
            return -coef, array
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.Attribute) and node.attr == "T":
            coef, array = self.split(node.value)
            if array is not None:
                return coef, ast.Attribute(value=array, attr="T", ctx=ast.Load())
        if isinstance(node, ast.Subscript):
            coef, array = self.split(node.value)
            if array is not None:
                return coef, ast.Subscript(value=array, slice=node.slice, ctx=ast.Load())
        if isinstance(node, ast.Call):
            return self.call(node)
        return sp.Integer(1), self.rebuilt(node)

    def rebuilt(self, node):
        """``node`` with each child simplified whole (no factor moves out of it)."""
        node = ast.parse(ast.unparse(node), mode="eval").body  # a copy
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.expr) and field not in ("func", "ctx"):
                setattr(node, field, self.whole(value))
            elif isinstance(value, list):
                setattr(node, field, [self.whole(v) if isinstance(v, ast.expr) else v for v in value])
        return node

    def binop(self, node):
        (c1, a1), (c2, a2) = self.split(node.left), self.split(node.right)
        if isinstance(node.op, (ast.Mult, ast.MatMult)):
            if a1 is None or a2 is None:
                return c1 * c2, a1 if a2 is None else a2
            return c1 * c2, self.product(node.op, a1, a2)
        if isinstance(node.op, ast.Div) and a2 is None:
            return c1 / c2, a1
        if isinstance(node.op, ast.Pow) and a1 is None and a2 is None:
            return c1 ** c2, None
        if isinstance(node.op, (ast.Add, ast.Sub)):
            sign = 1 if isinstance(node.op, ast.Add) else -1
            if a1 is None and a2 is None:
                return c1 + sign * c2, None
            if a1 is not None and a2 is not None:
                if ast.dump(a1) == ast.dump(a2):
                    return c1 + sign * c2, a1
                if c1 == c2 or c1 == -c2:
                    op = node.op if c1 == c2 else (ast.Sub() if sign == 1 else ast.Add())
                    return c1, ast.BinOp(left=a1, op=op, right=a2)
            return sp.Integer(1), ast.BinOp(left=self.whole(node.left), op=node.op, right=self.whole(node.right))
        return sp.Integer(1), ast.BinOp(left=self.whole(node.left), op=node.op, right=self.whole(node.right))

    def product(self, op, a1, a2):
        """``a1 * a2`` or ``a1 @ a2``; a broadcast of a scalar that the product broadcasts anyway goes."""
        if isinstance(op, ast.Mult):
            joined = ast.BinOp(left=a1, op=op, right=a2)
            shape = self.shape(joined)
            for ones, other in ((a1, a2), (a2, a1)):
                if _is_ones(ones) and self.shape(other) == shape:
                    return other
        return ast.BinOp(left=a1, op=op, right=a2)

    def call(self, node):
        name = _np_name(node.func)
        if name == "broadcast_to":
            coef, array = self.split(node.args[0])
            if array is None:  # a scalar broadcast: the shape stays, the scalar moves out
                return coef, ast.parse(f"np.ones({ast.unparse(node.args[1])})", mode="eval").body
            if self.shape(array) == self.shape(node):
                return coef, array
        if name == "einsum" or name in _LINEAR_NP:
            positions = range(1, len(node.args)) if name == "einsum" else _LINEAR_NP[name]
            return self.pulled(node, positions)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _LINEAR_METHODS and _np_name(node.func) is None:
            coef, array = self.split(node.func.value)
            if array is not None:
                func = ast.Attribute(value=array, attr=node.func.attr, ctx=ast.Load())
                return coef, ast.Call(func=func, args=node.args, keywords=node.keywords)
        return sp.Integer(1), self.rebuilt(node)

    def pulled(self, node, positions):
        coef, args = sp.Integer(1), list(node.args)
        for k in positions:
            c, array = self.split(args[k])
            if array is None:
                return sp.Integer(1), self.rebuilt(node)
            coef, args[k] = coef * c, array
        return coef, ast.Call(func=node.func, args=args, keywords=node.keywords)


def _np_name(func):
    """``name`` for ``np.name``, else None."""
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "np":
        return func.attr
    return None


def _is_ones(node):
    return isinstance(node, ast.Call) and _np_name(node.func) == "ones"
