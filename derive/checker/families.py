"""Shape families of a case, so that a failure is reported on the most ordinary case first.

A backward that is wrong everywhere is often first caught, and shrunk, on an edge
case (a 0-d input, ``axis=()``, a 1-D matmul operand).  The verifier asks for a
failure again with those families left out, reports the most ordinary failing
case first and lists the other families it also fails on.
"""

from __future__ import annotations

__all__ = ["families", "ordinariness"]


def families(case):
    """The unusual families ``case`` belongs to (empty for a plain 2-D case)."""
    shapes = [tuple(s) for s in case.shapes]
    ranks = {len(s) for s in shapes}
    found = []
    if any(len(s) == 0 for s in shapes):
        found.append("0-d input")
    if any(len(s) == 1 for s in shapes):
        found.append("1-D input")
    if any(len(s) >= 3 for s in shapes):
        found.append("3-D or batched input")
    if any(0 in s for s in shapes):
        found.append("empty array")
    axis = case.params.get("axis", "unset")
    if axis == ():
        found.append("empty axis=()")
    elif axis is None and "axis" in case.params:
        found.append("axis=None")
    elif isinstance(axis, tuple) and len(axis) > 1:
        found.append("several axes")
    if isinstance(axis, int) and axis < 0 or isinstance(axis, tuple) and any(a < 0 for a in axis):
        found.append("negative axis")
    if case.params.get("keepdims"):
        found.append("keepdims=True")
    if len(shapes) > 1 and len(ranks) > 1:
        found.append("inputs of different ranks")
    return found


def ordinariness(case):
    """A sort key: fewer unusual families first, then smaller cases."""
    size = sum(len(s) for s in case.shapes)
    return (len(families(case)), size)
